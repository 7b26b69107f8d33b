package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"gatehouse/internal/testpki"
)

// countingBackend is an HTTPS upstream that counts TLS handshakes and
// requests, and can be stopped and started again on the same address.
type countingBackend struct {
	addr       string
	cert       tls.Certificate
	srv        *httptest.Server
	handshakes atomic.Int64
	requests   atomic.Int64
	// goal, when set before any request, is a request count at which
	// reached is closed.
	goal    int64
	reached chan struct{}
}

func newCountingBackend(t *testing.T, cert tls.Certificate) *countingBackend {
	b := &countingBackend{cert: cert}
	b.start(t, "127.0.0.1:0")
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *countingBackend) start(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := b.requests.Add(1); n == b.goal {
			close(b.reached)
		}
		io.WriteString(w, "ok")
	}))
	b.srv.Listener.Close()
	b.srv.Listener = ln
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	b.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{b.cert},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			b.handshakes.Add(1)
			return nil, nil
		},
	}
	b.srv.StartTLS()
}

// groupConfig proxies to an upstream group of the given backends.
func groupConfig(port int, caFile string, extra string, backends ...*countingBackend) string {
	servers := ""
	for _, b := range backends {
		servers += fmt.Sprintf("        server %s max_fails=1 fail_timeout=1s;\n", b.addr)
	}
	return fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    upstream backend.example.com {
%s        %s
    }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass https://backend.example.com;
            proxy_ssl_trusted_certificate %s;
        }
    }
}
`, servers, extra, port, caFile)
}

// hammer sends GETs over n keep-alive client connections until stop is
// closed, and reports how many were sent and how many failed.
func hammer(url string, n int, stop <-chan struct{}, fail func(error)) (sent *atomic.Int64, wait func()) {
	sent = &atomic.Int64{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := client.Get(url)
				if err != nil {
					fail(err)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "ok" {
					fail(fmt.Errorf("status %d body %q", resp.StatusCode, body))
				}
			}
		}()
	}
	return sent, wg.Wait
}

// TestBackendDeathCostsNoRequest kills one of two backends under load:
// every request still succeeds (retried on the other), and the backend
// is back in rotation after fail_timeout once it returns.
func TestBackendDeathCostsNoRequest(t *testing.T) {
	ca := testpki.NewCA(t)
	cert := ca.Leaf(testpki.WithDNS("backend.example.com")).TLSCertificate()
	b1, b2 := newCountingBackend(t, cert), newCountingBackend(t, cert)
	port := freePort(t)
	in := start(t, groupConfig(port, ca.CertFile(), "", b1, b2))
	url := fmt.Sprintf("http://127.0.0.1:%d/x", port)

	var failures atomic.Int64
	stop := make(chan struct{})
	sent, wait := hammer(url, 4, stop, func(err error) {
		failures.Add(1)
		t.Errorf("request failed: %v", err)
	})
	// Let both backends serve, then kill the second one.
	for b2.requests.Load() < 50 || b1.requests.Load() < 50 {
	}
	b2.srv.Close()
	before := b1.requests.Load()
	for b1.requests.Load() < before+200 {
	}
	// Bring it back on the same address: after fail_timeout (1s) it gets
	// requests again.
	b2.start(t, b2.addr)
	back := b2.requests.Load()
	for b2.requests.Load() < back+10 {
		if failures.Load() > 0 {
			break
		}
	}
	close(stop)
	wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d requests failed; error log:\n%s", failures.Load(), sent.Load(), in.errorLog())
	}
}

// TestUpstreamKeepalive: 10,000 requests over four client connections
// open no more upstream TLS connections than the pool keeps (32 by
// default; keepalive_requests 1000 retires each after 1000 requests).
func TestUpstreamKeepalive(t *testing.T) {
	ca := testpki.NewCA(t)
	cert := ca.Leaf(testpki.WithDNS("backend.example.com")).TLSCertificate()
	b := newCountingBackend(t, cert)
	b.goal, b.reached = 10000, make(chan struct{})
	port := freePort(t)
	start(t, groupConfig(port, ca.CertFile(), "", b))
	url := fmt.Sprintf("http://127.0.0.1:%d/x", port)
	failed := make(chan struct{})
	var once sync.Once
	stop := make(chan struct{})
	_, wait := hammer(url, 4, stop, func(err error) {
		once.Do(func() { close(failed) })
		t.Errorf("request failed: %v", err)
	})
	// Blocking, not spinning: a busy loop here takes a core from the
	// proxy under test.
	select {
	case <-b.reached:
	case <-failed:
	}
	close(stop)
	wait()
	h := b.handshakes.Load()
	if h > 32 {
		t.Fatalf("%d upstream TLS handshakes for %d requests, want at most 32 (the default keepalive)", h, b.requests.Load())
	}
	t.Logf("%d upstream TLS handshakes for %d requests", h, b.requests.Load())
}
