package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/testpki"
)

// sniBackend is an HTTPS upstream that records, per request, the SNI of
// its connection and whether the connection was new (a pooled one is not)
// and the session resumed.
type sniBackend struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // "SNI new|pooled resumed|full"
}

func newSNIBackend(t *testing.T, cert tls.Certificate) *sniBackend {
	b := &sniBackend{}
	var conns sync.Map
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := "pooled"
		if _, loaded := conns.LoadOrStore(r.RemoteAddr, true); !loaded {
			state = "new"
		}
		res := "full"
		if r.TLS.DidResume {
			res = "resumed"
		}
		b.mu.Lock()
		b.seen = append(b.seen, r.TLS.ServerName+" "+state+" "+res)
		b.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	b.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	b.srv.StartTLS()
	t.Cleanup(b.srv.Close)
	return b
}

func (b *sniBackend) addr() string { return b.srv.Listener.Addr().String() }

func (b *sniBackend) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seen
	b.seen = nil
	return s
}

func getHeader(t *testing.T, url, name, value string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if name != "" {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestUpstreamReuseNeverChangesAnAnswer: a pooled upstream connection or
// a resumed TLS session is used only where a fresh handshake would have
// been made with the same name, certificate and trust, and would have
// succeeded. Each step is what a fresh handshake answers; the backend's
// record shows when a connection was reused.
func TestUpstreamReuseNeverChangesAnAnswer(t *testing.T) {
	ca := testpki.NewCA(t)
	leaf := ca.Leaf(testpki.WithDNS("a.test"))
	b := newSNIBackend(t, leaf.TLSCertificate())
	dir := t.TempDir()
	crl := filepath.Join(dir, "revoked.crl")
	if err := os.WriteFile(crl, ca.CRL(leaf.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	in := start(t, fmt.Sprintf(`
error_log DIR/logs/error.log info;
http {
    access_log off;
    upstream be {
        server %s;
        keepalive 8;
    }
    proxy_ssl_trusted_certificate %s;
    proxy_ssl_session_reuse on;
    server {
        listen 127.0.0.1:%d;
        location /a    { proxy_pass https://be; proxy_ssl_name a.test; }
        location /b    { proxy_pass https://be; proxy_ssl_name b.test; }
        location /crl  { proxy_pass https://be; proxy_ssl_name a.test; proxy_ssl_crl %s; }
        location /var  { proxy_pass https://be; proxy_ssl_name $http_x_name; }
    }
}
`, b.addr(), ca.CertFile(), port, crl))
	url := func(p string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", port, p) }
	steps := []struct {
		path, name string
		want       int
		seen       string // the backend's record; "" for none
	}{
		{"/a", "", 200, "a.test new full"},
		{"/a", "", 200, "a.test pooled full"},
		// Same address, another proxy_ssl_name: no pooled connection nor
		// session of /a may be used, and the name check fails.
		{"/b", "", 502, ""},
		// Same address and name, another CRL: a fresh handshake finds the
		// certificate revoked.
		{"/crl", "", 502, ""},
		{"/a", "", 200, "a.test pooled full"},
		// proxy_ssl_name with variables: evaluated per request, port
		// stripped, and part of the pool and session keys.
		{"/var", "a.test:8443", 200, "a.test new full"},
		{"/var", "a.test", 200, "a.test pooled full"},
		{"/var", "b.test", 502, ""},
		{"/var", "a.test", 200, "a.test pooled full"},
	}
	for i, s := range steps {
		code := getHeader(t, url(s.path), "X-Name", s.name)
		got := strings.Join(b.take(), ",")
		if code != s.want || got != s.seen {
			t.Errorf("step %d %s %q: %d, backend saw %q; want %d, %q\n%s", i, s.path, s.name, code, got, s.want, s.seen, in.errorLog())
		}
	}
	log := in.errorLog()
	for _, want := range []string{
		`upstream SSL certificate does not match "b.test"`,
		`(23:certificate revoked)`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("error log lacks %q:\n%s", want, log)
		}
	}
}
