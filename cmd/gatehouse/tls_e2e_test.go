package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

// TestClientCertificateModesAgainstNginx runs every ssl_verify_client
// mode against four clients (no certificate, a valid one, one from an
// unknown CA, an expired one) on gatehouse and on nginx with the same
// configuration, and compares status, page and $ssl_client_verify.
func TestClientCertificateModesAgainstNginx(t *testing.T) {
	ca := testpki.NewCA(t)
	stranger := testpki.NewCA(t)
	srv := ca.Leaf(testpki.WithDNS("localhost"))
	srvCert, srvKey := srv.Files()
	clients := []struct {
		name string
		cert *tls.Certificate
	}{
		{"none", nil},
		{"valid", ptr(ca.Leaf(testpki.WithCN("alice"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate())},
		{"unknown CA", ptr(stranger.Leaf(testpki.WithCN("mallory"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate())},
		{"expired", ptr(ca.Leaf(testpki.WithCN("bob"), testpki.Expired(), testpki.WithUsage(testpki.UsageClient)).TLSCertificate())},
	}
	modes := []string{"off", "on", "optional", "optional_no_ca"}
	config := func(ports []int) string {
		var b strings.Builder
		b.WriteString("http {\n    access_log off;\n")
		for i, m := range modes {
			fmt.Fprintf(&b, `    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_client_certificate %s;
        ssl_verify_client %s;
        ssl_verify_depth 1;
        location / { return 200 "verify=$ssl_client_verify dn=$ssl_client_s_dn\n"; }
    }
`, ports[i], srvCert, srvKey, ca.CertFile(), m)
		}
		b.WriteString("}\n")
		return b.String()
	}
	// Separate free ports, not a consecutive range: with the tests'
	// client connections about, four free neighbours can be hard to find.
	var ghPorts, ngPorts []int
	for range modes {
		ghPorts, ngPorts = append(ghPorts, freePort(t)), append(ngPorts, freePort(t))
	}
	start(t, "pid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log;\n"+config(ghPorts))
	startNginx(t, config(ngPorts))

	tail := regexp.MustCompile(`<hr><center>[^<]*</center>`)
	fetch := func(port int, cert *tls.Certificate) string {
		tc := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
		if cert != nil {
			// Present the certificate whatever CA names the server asks
			// for (Go's client would otherwise send none).
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		defer client.CloseIdleConnections()
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/", port))
		if err != nil {
			return "error: " + err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, tail.ReplaceAllString(string(body), "<hr><center>SERVER</center>"))
	}
	for i, m := range modes {
		for _, c := range clients {
			got, want := fetch(ghPorts[i], c.cert), fetch(ngPorts[i], c.cert)
			if got != want {
				t.Errorf("ssl_verify_client %s, client cert %s:\ngatehouse: %q\nnginx:     %q", m, c.name, got, want)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestPlainHTTPToTLSPort sends a plain HTTP request to an ssl port of
// gatehouse and of nginx: both answer nginx's 400 "The plain HTTP request
// was sent to HTTPS port" page.
func TestPlainHTTPToTLSPort(t *testing.T) {
	ca := testpki.NewCA(t)
	cert, key := ca.Leaf(testpki.WithDNS("localhost")).Files()
	config := func(port int) string {
		return fmt.Sprintf(`http { access_log off;
    server { listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;
        location / { return 200 "tls\n"; } } }
`, port, cert, key)
	}
	gh, ng := freePort(t), freePort(t)
	start(t, "pid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log;\n"+config(gh))
	startNginx(t, config(ng))
	tail := regexp.MustCompile(`<hr><center>[^<]*</center>`)
	fetch := func(port int) string {
		code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
		return fmt.Sprintf("%d %s", code, tail.ReplaceAllString(body, "<hr><center>SERVER</center>"))
	}
	got, want := fetch(gh), fetch(ng)
	if got != want || !strings.Contains(got, "The plain HTTP request was sent to HTTPS port") {
		t.Errorf("gatehouse: %q\nnginx:     %q", got, want)
	}
}

// TestClientCertHeaderAgainstNginx passes $ssl_client_cert upstream
// through gatehouse and through nginx to one backend whose HTTP parser
// unfolds nginx's multi-line field: the value the backend reads is the
// same, and gatehouse's arrives as one line.
func TestClientCertHeaderAgainstNginx(t *testing.T) {
	ca := testpki.NewCA(t)
	srvCert, srvKey := ca.Leaf(testpki.WithDNS("localhost")).Files()
	client := ca.Leaf(testpki.WithCN("alice"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate()
	got := make(chan string, 2)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Cert")
	}))
	t.Cleanup(backend.Close)
	config := func(port int) string {
		return fmt.Sprintf(`http { access_log off;
    server { listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;
        ssl_client_certificate %s; ssl_verify_client on;
        location / { proxy_pass %s; proxy_set_header X-Cert $ssl_client_cert; } } }
`, port, srvCert, srvKey, ca.CertFile(), backend.URL)
	}
	gh, ng := freePort(t), freePort(t)
	start(t, "pid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log;\n"+config(gh))
	startNginx(t, config(ng))
	fetch := func(port int) string {
		tc := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{client}}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("port %d: status %d", port, resp.StatusCode)
		}
		return <-got
	}
	fromGatehouse, fromNginx := fetch(gh), fetch(ng)
	if fromGatehouse != fromNginx || !strings.HasPrefix(fromGatehouse, "-----BEGIN CERTIFICATE----- ") {
		t.Errorf("backend read\nvia gatehouse: %q\nvia nginx:     %q", fromGatehouse, fromNginx)
	}
}
