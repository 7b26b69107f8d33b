package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"

	"gatehouse/internal/testpki"
)

// TestDirectivesClientCertErrorPage checks that error_page and add_header
// apply to the 495 and 496 answers of ssl_verify_client, as nginx does,
// comparing status, Location and the added field with nginx. A bad URI
// is answered 400 before the certificate is looked at.
func TestDirectivesClientCertErrorPage(t *testing.T) {
	ca := testpki.NewCA(t)
	stranger := testpki.NewCA(t)
	srvCert, srvKey := ca.Leaf(testpki.WithDNS("localhost")).Files()
	conf := func(port int) string {
		return fmt.Sprintf(`http {
    access_log off;
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_client_certificate %s;
        ssl_verify_client on;
        ssl_verify_depth 1;
        error_page 495 https://example.com/bad-cert;
        error_page 496 =307 https://$host/no-cert?u=$uri;
        add_header X-Seen yes always;
        location / { return 200 "ok"; }
    }
}
`, port, srvCert, srvKey, ca.CertFile())
	}
	ghPort, ngPort := freePort(t), freePort(t)
	start(t, conf(ghPort))
	startNginx(t, conf(ngPort))
	clients := []struct {
		name   string
		target string
		cert   *tls.Certificate
		want   string // gatehouse's answer, also checked against nginx
	}{
		{"none", "/a%2Fb/./c", nil, "307 https://localhost/no-cert?u=/a/b/c yes"},
		{"none", "/../x", nil, "400  yes"},
		{"unknown CA", "/", ptr(stranger.Leaf(testpki.WithCN("mallory"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate()), "302 https://example.com/bad-cert yes"},
		{"valid", "/", ptr(ca.Leaf(testpki.WithCN("alice"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate()), "200  yes"},
	}
	fetch := func(port int, target string, cert *tls.Certificate) string {
		tc := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
		if cert != nil {
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		client := &http.Client{
			Transport:     &http.Transport{TLSClientConfig: tc},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		defer client.CloseIdleConnections()
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/", port), nil)
		req.Host = "localhost"
		req.URL.Opaque = target // sent as is, not cleaned
		resp, err := client.Do(req)
		if err != nil {
			return "error: " + err.Error()
		}
		resp.Body.Close()
		return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Seen"))
	}
	for _, c := range clients {
		got, theirs := fetch(ghPort, c.target, c.cert), fetch(ngPort, c.target, c.cert)
		if got != c.want {
			t.Errorf("client certificate %s, %s: gatehouse %q, want %q", c.name, c.target, got, c.want)
		}
		if got != theirs {
			t.Errorf("client certificate %s, %s: gatehouse %q, nginx %q", c.name, c.target, got, theirs)
		}
	}
}
