package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/testpki"
)

// backend is an in-process HTTPS upstream that requires and verifies
// client certificates and records what it saw.
type backend struct {
	srv *httptest.Server
	mu  sync.Mutex
	// clients are the subjects of the client certificates presented.
	clients []string
	resumed int
	hosts   []string
	// closeConns makes every response close its connection.
	closeConns bool
}

func newBackend(t *testing.T, cert tls.Certificate, clientCA *testpki.CA, closeConns bool) *backend {
	b := newBackendUnstarted(t, cert)
	b.closeConns = closeConns
	if clientCA != nil {
		b.srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		b.srv.TLS.ClientCAs = clientCA.Pool()
	}
	b.srv.StartTLS()
	t.Cleanup(b.srv.Close)
	return b
}

func newBackendUnstarted(t *testing.T, cert tls.Certificate) *backend {
	b := &backend{}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		if len(r.TLS.PeerCertificates) > 0 {
			b.clients = append(b.clients, r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		if r.TLS.DidResume {
			b.resumed++
		}
		b.hosts = append(b.hosts, r.Host)
		b.mu.Unlock()
		if b.closeConns {
			w.Header().Set("Connection", "close")
		}
		fmt.Fprintf(w, "hello from %s %s", r.URL.Path, b.srv.Listener.Addr())
	}))
	b.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	// Refused handshakes are what several tests provoke; keep them out
	// of the test output.
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return b
}

func (b *backend) port() string {
	a := b.srv.Listener.Addr().String()
	return a[strings.LastIndexByte(a, ':')+1:]
}

func (b *backend) seen() (clients []string, resumed int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.clients...), b.resumed
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSeedFrontOverMutualTLS runs the seed's front server shape in front
// of two backends that require client certificates.
func TestSeedFrontOverMutualTLS(t *testing.T) {
	ca := testpki.NewCA(t)
	srvCert := ca.Leaf(testpki.WithDNS("backend.example.com")).TLSCertificate()
	client := ca.Leaf(testpki.WithCN("front.example.com"), testpki.WithUsage(testpki.UsageClient))
	clientCert, clientKey := client.Files()
	b1 := newBackend(t, srvCert, ca, true)
	b2 := newBackend(t, srvCert, ca, true)
	port := freePort(t)

	in := start(t, fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log info;
http {
    access_log DIR/logs/access.log;
    upstream backend.example.com {
        server backend1.example.com:%s;
        server backend2.example.com:%s;
    }
    server {
        listen      127.0.0.1:%d;
        server_name www.example.com;
        location /upstream {
            proxy_pass                    https://backend.example.com;
            proxy_ssl_certificate         %s;
            proxy_ssl_certificate_key     %s;
            proxy_ssl_protocols           TLSv1.2 TLSv1.3;
            proxy_ssl_ciphers             HIGH:!aNULL:!MD5;
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_verify              on;
            proxy_ssl_verify_depth        2;
            proxy_ssl_session_reuse       on;
        }
    }
}
`, b1.port(), b2.port(), port, clientCert, clientKey, ca.CertFile()))

	for i := 0; i < 6; i++ {
		code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/upstream/x%d", port, i))
		if code != 200 || !strings.HasPrefix(body, fmt.Sprintf("hello from /upstream/x%d", i)) {
			t.Fatalf("request %d: %d %q\nerror log:\n%s", i, code, body, in.errorLog())
		}
	}
	for i, b := range []*backend{b1, b2} {
		clients, resumed := b.seen()
		if len(clients) != 3 {
			t.Errorf("backend %d got %d requests, want 3 (round robin)", i+1, len(clients))
		}
		for _, c := range clients {
			if c != "front.example.com" {
				t.Errorf("backend %d saw client certificate %q", i+1, c)
			}
		}
		if resumed < 2 {
			t.Errorf("backend %d: %d resumed TLS sessions of 3 connections, want 2", i+1, resumed)
		}
	}
}

// TestVerifiesByDefault: without any proxy_ssl_* line a self-signed
// upstream is refused with 502 and a line that explains it; "defaults
// nginx;" restores nginx's unverified behaviour, with a warning.
func TestVerifiesByDefault(t *testing.T) {
	self := testpki.SelfSigned(t, testpki.WithDNS("backend.example.com")).TLSCertificate()
	b := newBackend(t, self, nil, false)
	for _, tc := range []struct {
		name, defaults string
		status         int
		logWant        []string
	}{
		{"secure", "", 502, []string{
			"[error]",
			"upstream SSL certificate verify error: (18:self-signed certificate)",
			"proxy_ssl_trusted_certificate",
			`upstream: "https://127.0.0.1:` + b.port() + `/upstream"`,
			"while SSL handshaking to upstream",
		}},
		{"nginx", "defaults nginx;", 200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			in := start(t, fmt.Sprintf(`
%s
events {}
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log info;
http {
    upstream backend.example.com { server 127.0.0.1:%s; }
    server {
        listen 127.0.0.1:%d;
        location /upstream { proxy_pass https://backend.example.com; }
    }
}
`, tc.defaults, b.port(), port))
			code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/upstream", port))
			if code != tc.status {
				t.Fatalf("status %d (%q), want %d\n%s", code, body, tc.status, in.errorLog())
			}
			log := in.errorLog()
			for _, w := range tc.logWant {
				if !strings.Contains(log, w) {
					t.Errorf("error log lacks %q:\n%s", w, log)
				}
			}
			if n := strings.Count(log, "[error]"); tc.status == 502 && n != 1 {
				t.Errorf("%d [error] lines for one failed request, want 1:\n%s", n, log)
			}
			if tc.defaults != "" && !strings.Contains(in.stderr.String(), "[warn]") {
				t.Errorf("no [warn] at start with %q:\n%s", tc.defaults, in.stderr.String())
			}
		})
	}
}
