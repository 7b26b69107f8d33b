package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// roundBarrier holds every request of a round until all of the round's
// requests have arrived, so that each round needs as many upstream
// connections at once as it has requests.
type roundBarrier struct {
	mu   sync.Mutex
	size int
	n    int
	ch   chan struct{}
}

func (b *roundBarrier) wait() {
	b.mu.Lock()
	ch := b.ch
	b.n++
	if b.n == b.size {
		close(ch)
		b.ch, b.n = make(chan struct{}), 0
	}
	b.mu.Unlock()
	<-ch
}

// TestUpstreamKeepaliveIsPerWorker checks that "keepalive N" keeps N idle
// connections per worker process that worker_processes stands for, as in
// nginx, where each worker has its own cache of N: with worker_processes 2
// and keepalive 8, rounds of 12 concurrent requests (more than 8, at most
// 16) run over the same 12 upstream connections once the first round has
// made them. A pool of 8 would close 4 connections after every round and
// open 4 new ones in the next.
func TestUpstreamKeepaliveIsPerWorker(t *testing.T) {
	const (
		keepalive = 8
		workers   = 2
		clients   = 12 // in (keepalive, keepalive×workers], even: as many to each backend
		rounds    = 20
	)
	ca := testpki.NewCA(t)
	srvCert := ca.Leaf(testpki.WithDNS("localhost")).TLSCertificate()
	bar := &roundBarrier{size: clients, ch: make(chan struct{})}
	var accepted atomic.Int64
	backend := func() int {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			bar.wait()
			io.WriteString(w, "ok")
		}))
		s.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}}
		s.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				accepted.Add(1)
			}
		}
		s.StartTLS()
		t.Cleanup(s.Close)
		return s.Listener.Addr().(*net.TCPAddr).Port
	}
	b1, b2 := backend(), backend()
	front := freePort(t)
	in := start(t, fmt.Sprintf(`
worker_processes %d;
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    upstream app {
        server 127.0.0.1:%d;
        server 127.0.0.1:%d;
        keepalive %d;
        keepalive_requests 100000;
    }
    server {
        listen 127.0.0.1:%d;
        keepalive_requests 100000;
        location / {
            proxy_pass https://app;
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_name localhost;
        }
    }
}
`, workers, b1, b2, keepalive, front, ca.CertFile()))
	pool := in.srv.Current().Group("app").Pool()
	if got := pool.MaxIdle(); got != keepalive*workers {
		t.Fatalf("pool keeps %d idle connections, want keepalive × worker_processes = %d", got, keepalive*workers)
	}

	type client struct {
		c  net.Conn
		br *bufio.Reader
	}
	cs := make([]client, clients)
	for i := range cs {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", front))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs[i] = client{c, bufio.NewReader(c)}
	}
	req, _ := http.NewRequest("GET", "http://front/x", nil)
	round := func(r int) {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for i := range cs {
			wg.Go(func() {
				if err := req.Write(cs[i].c); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(cs[i].br, req)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(body) != "ok" {
					errs <- fmt.Errorf("status %d, body %q, %v", resp.StatusCode, body, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v\n%s", r, err, in.errorLog())
		}
		// A client has its response a moment before the proxy offers
		// the connection back to the pool; wait for all of the round's
		// connections to be offered, so that the next round finds them.
		want := int64(clients * (r + 1))
		deadline := time.Now().Add(10 * time.Second)
		for pool.Stats().Kept+pool.Stats().Renewed+pool.Stats().Discarded < want {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: connections not offered back: %+v", r, pool.Stats())
			}
			runtime.Gosched()
		}
	}
	round(0)
	if n := accepted.Load(); n != clients {
		t.Fatalf("first round: backends accepted %d connections, want %d", n, clients)
	}
	for r := 1; r < rounds; r++ {
		round(r)
	}
	st := pool.Stats()
	if n := accepted.Load(); n != clients || st.New != clients || st.Evicted != 0 {
		t.Errorf("after %d rounds of %d concurrent requests: backends accepted %d connections, pool %+v; want %d connections made and none evicted",
			rounds, clients, n, st, clients)
	}
	if want := int64(clients * (rounds - 1)); st.Reused != want {
		t.Errorf("pool reused %d idle connections, want %d", st.Reused, want)
	}
}
