package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/http1"
	"gatehouse/internal/request"
	"gatehouse/internal/upstream"
	"gatehouse/internal/variables"
)

// stepClock is a clock that moves one millisecond each time it is read,
// so the upstream times an attempt logs tell which readings it took.
type stepClock struct {
	mu sync.Mutex
	n  int
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return time.Unix(1700000000, 0).Add(time.Duration(c.n) * time.Millisecond)
}

func (c *stepClock) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// keepAliveUpstream answers every request on every connection with a
// small keep-alive 200.
func keepAliveUpstream(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go func() {
				br := bufio.NewReader(c)
				for {
					n := 0
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(bytes.TrimSpace(line)) == 0 {
							break
						}
						if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
							n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
						}
					}
					if _, err := br.Discard(n); err != nil {
						return
					}
					if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
						return
					}
				}
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// keepAliveLocation is "location / { proxy_pass http://app; }" with
// keep-alive upstream connections to addr, and the clock now.
func keepAliveLocation(t *testing.T, addr netip.AddrPort, now func() time.Time) *Location {
	t.Helper()
	reg, err := variables.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	g, err := upstream.NewGroup(upstream.Options{
		Name:      "app",
		Servers:   []upstream.Server{{Address: addr.String(), Addrs: []netip.AddrPort{addr}, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second}},
		Keepalive: upstream.Keepalive{MaxIdle: 4},
	}, upstream.Env{})
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{
		Location:           "/",
		Pass:               Pass{Raw: "http://app", ProxyHost: "app", ProxyPort: "80"},
		SetHeaders:         []Header{{Name: "Host", Value: "$proxy_host"}, {Name: "Connection", Value: ""}},
		HTTP11:             true,
		ConnectTimeout:     10 * time.Second,
		ReadTimeout:        10 * time.Second,
		SendTimeout:        10 * time.Second,
		NextUpstream:       upstream.NextError | upstream.NextTimeout,
		PassRequestHeaders: true,
		PassRequestBody:    true,
		BufferSize:         4096,
	}
	env := &request.Env{Now: now}
	l, err := Compile(env, o, g, nil, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if !l.keepalive {
		t.Fatal("the location does not keep upstream connections alive")
	}
	return l
}

// TestAttemptClockReads: a request without a body on a new upstream
// connection reads the clock four times (the request's start, which is
// also the attempt's, connected, header, end); one on a pooled connection
// three, its connect time 0 as nginx logs it; a request with a body reads
// the clock again when the attempt starts, after the body. The times
// logged are the differences of those readings.
func TestAttemptClockReads(t *testing.T) {
	var clock stepClock
	l := keepAliveLocation(t, keepAliveUpstream(t), clock.now)

	type result struct {
		connect, header, response string
		reads                     int
	}
	cases := []struct {
		req  string
		want result
	}{
		{"GET /x HTTP/1.1\r\nHost: front\r\n\r\n", result{connect: "0.001", header: "0.002", response: "0.003", reads: 4}},
		{"GET /x HTTP/1.1\r\nHost: front\r\n\r\n", result{connect: "0.000", header: "0.001", response: "0.002", reads: 3}},
		{"POST /x HTTP/1.1\r\nHost: front\r\nContent-Length: 2\r\n\r\nab", result{connect: "0.000", header: "0.001", response: "0.002", reads: 4}},
	}
	results := make(chan result, len(cases))
	srv := &http1.Server{Config: http1.DefaultConfig(), Handler: http1.HandlerFunc(func(w *http1.ResponseWriter, r *http1.Request) {
		before := clock.reads()
		x := &request.Ctx{Env: l.env, Conn: w.Conn().(*request.Conn)}
		x.Reset(w)
		x.Req.FromHTTP1(r)
		x.Host = r.Host
		if !x.Normalize(true) {
			t.Errorf("%q does not normalise", r.Target)
			w.Abort()
			return
		}
		l.Serve(x)
		results <- result{string(x.Upstream.Connect), string(x.Upstream.Header), string(x.Upstream.Response), clock.reads() - before}
	})}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		srv.ServeConn(request.NewConn(c, c, nil))
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)

	for i, tc := range cases {
		w := tc.want
		if _, err := io.WriteString(c, tc.req); err != nil {
			t.Fatal(err)
		}
		n := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
			if len(bytes.TrimSpace(line)) == 0 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if n != 2 {
			t.Fatalf("request %d: Content-Length %d, want 2", i+1, n)
		}
		if _, err := io.ReadFull(br, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		if got := <-results; got != w {
			t.Errorf("request %d: connect %s, header %s, response %s with %d clock readings; want %s, %s, %s with %d",
				i+1, got.connect, got.header, got.response, got.reads, w.connect, w.header, w.response, w.reads)
		}
	}
}
