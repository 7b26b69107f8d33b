package main

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"testing"

	"gatehouse/internal/testpki"
)

// TestUpstreamTLSFailures covers each way the TLS hop to an upstream can
// fail: the client gets 502 when no other peer is left, the request is
// retried on the next peer when there is one, and one [error] line names
// the upstream, the failed check, what the peer presented and the fix.
func TestUpstreamTLSFailures(t *testing.T) {
	ca := testpki.NewCA(t)
	other := testpki.NewCA(t)
	deep := ca.Intermediate().Intermediate()
	client := ca.Leaf(testpki.WithCN("front"), testpki.WithUsage(testpki.UsageClient))
	clientCert, clientKey := client.Files()
	good := ca.Leaf(testpki.WithDNS("backend.example.com")).TLSCertificate()
	cases := []struct {
		name    string
		cert    tls.Certificate
		tweak   func(*tls.Config)
		extra   string // directives added to the location
		message string // the log line's message, up to " while "
	}{
		{"unknown authority", other.Leaf(testpki.WithDNS("backend.example.com")).TLSCertificate(), nil, "",
			`upstream SSL certificate verify error: \(21:unable to verify the first certificate\); peer presented subject "CN=backend.example.com", .*fix: .*proxy_ssl_trusted_certificate`},
		{"name mismatch", ca.Leaf(testpki.WithDNS("other.example.com")).TLSCertificate(), nil, "",
			`upstream SSL certificate does not match "backend.example.com"; peer presented .*SANs "DNS:other.example.com".*fix: .*proxy_ssl_name`},
		{"expired", ca.Leaf(testpki.WithDNS("backend.example.com"), testpki.Expired()).TLSCertificate(), nil, "",
			`upstream SSL certificate verify error: \(10:certificate has expired\); peer presented .*valid .*fix: `},
		{"not yet valid", ca.Leaf(testpki.WithDNS("backend.example.com"), testpki.NotYetValid()).TLSCertificate(), nil, "",
			`upstream SSL certificate verify error: \(9:certificate is not yet valid\); peer presented .*fix: `},
		{"chain longer than the depth", deep.Intermediate().Leaf(testpki.WithDNS("backend.example.com")).TLSCertificate(), nil, "proxy_ssl_verify_depth 2;",
			`upstream SSL certificate verify error: \(22:certificate chain too long\); peer presented .*fix: .*proxy_ssl_verify_depth`},
		{"wrong key usage", ca.Leaf(testpki.WithDNS("backend.example.com"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate(), nil, "",
			`upstream SSL certificate verify error: \(26:unsuitable certificate purpose\); peer presented .*fix: `},
		{"client certificate rejected", good, func(c *tls.Config) {
			c.ClientAuth = tls.RequireAndVerifyClientCert
			c.ClientCAs = other.Pool()
		}, "", `.*(certificate|alert).*; .*fix: .*proxy_ssl_certificate`},
		{"no common protocol", good, func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS13 }, "proxy_ssl_protocols TLSv1.2;",
			`.*protocol.*; .*fix: .*proxy_ssl_protocols`},
		{"no common cipher", good, func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
		}, "proxy_ssl_ciphers AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256; proxy_ssl_protocols TLSv1.2;",
			`.*; .*fix: .*proxy_ssl_ciphers`},
	}
	goodBackend := newBackend(t, good, nil, false)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tweak := tc.tweak
			if tweak == nil {
				tweak = func(*tls.Config) {}
			}
			bad := newBackendWith(t, tc.cert, tweak)
			for _, withGood := range []bool{false, true} {
				servers := fmt.Sprintf("server 127.0.0.1:%s;", bad.port())
				want := 502
				if withGood {
					servers += fmt.Sprintf(" server 127.0.0.1:%s;", goodBackend.port())
					want = 200
				}
				port := freePort(t)
				in := start(t, fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    upstream backend.example.com { %s }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass https://backend.example.com;
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_certificate %s;
            proxy_ssl_certificate_key %s;
            %s
        }
    }
}
`, servers, port, ca.CertFile(), clientCert, clientKey, tc.extra))
				code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/x", port))
				if code != want {
					t.Errorf("with good peer %v: status %d, want %d\n%s", withGood, code, want, in.errorLog())
				}
				log := in.errorLog()
				lines := regexp.MustCompile(`(?m)^.* \[error\] .*$`).FindAllString(log, -1)
				if len(lines) != 1 {
					t.Fatalf("with good peer %v: %d [error] lines, want 1:\n%s", withGood, len(lines), log)
				}
				re := regexp.MustCompile(`\[error\] \d+#\d+: \*\d+ ` + tc.message + `.* while (SSL handshaking to upstream|reading response header from upstream), client: 127\.0\.0\.1, server: , request: "GET /x HTTP/1\.1", upstream: "https://127\.0\.0\.1:` + bad.port() + `/x", host: "127\.0\.0\.1:\d+"$`)
				if !re.MatchString(lines[0]) {
					t.Errorf("with good peer %v, log line:\n%s\ndoes not match\n%s", withGood, lines[0], re)
				}
				in.stop()
			}
		})
	}
}

// newBackendWith is newBackend with the server's TLS settings adjusted.
func newBackendWith(t *testing.T, cert tls.Certificate, tweak func(*tls.Config)) *backend {
	b := newBackendUnstarted(t, cert)
	tweak(b.srv.TLS)
	b.srv.StartTLS()
	t.Cleanup(b.srv.Close)
	return b
}
