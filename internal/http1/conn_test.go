package http1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testEpoch = time.Date(2025, 10, 10, 13, 55, 36, 0, time.UTC)

// clock is an injected clock for Date and keepalive_time.
type clock struct{ ns atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.ns.Store(testEpoch.UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// peer is a client connected to a Server over an in-memory pipe.
type peer struct {
	t       *testing.T
	s       *Server
	c       net.Conn
	br      *bufio.Reader
	done    chan struct{}
	calls   atomic.Int32
	rejects chan *Error
	lines   chan [2]string // Line and HostHeader of each rejected request
	idle    chan struct{}  // a value each time the connection waits for a request
}

func newPeer(t *testing.T, cfg Config, h HandlerFunc) *peer {
	return newPeerClock(t, cfg, h, newClock())
}

func newPeerClock(t *testing.T, cfg Config, h HandlerFunc, clk *clock) *peer {
	t.Helper()
	p := &peer{t: t, done: make(chan struct{}), rejects: make(chan *Error, 16), lines: make(chan [2]string, 16), idle: make(chan struct{}, 16)}
	p.s = &Server{Config: cfg, Now: clk.Now,
		Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
			p.calls.Add(1)
			h(w, r)
		}),
		OnReject: func(_ net.Conn, r *Request, e *Error) {
			p.lines <- [2]string{string(r.Line), string(r.HostHeader)}
			p.rejects <- e
		},
		idleNotify: p.idle,
	}
	cl, sv := net.Pipe()
	p.c = cl
	p.br = bufio.NewReader(cl)
	go func() { p.s.ServeConn(sv); close(p.done) }()
	t.Cleanup(func() {
		cl.Close()
		<-p.done
	})
	return p
}

// send writes raw asynchronously (net.Pipe writes block until read).
func (p *peer) send(raw string) {
	go func() { _, _ = io.WriteString(p.c, raw) }()
}

// response reads one response, with its body.
func (p *peer) response(method string) (*http.Response, string) {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(p.br, &http.Request{Method: method})
	if err != nil {
		p.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

// closed waits until the server closed the connection and reports what
// was still sent.
func (p *peer) closed() string {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(p.br)
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		p.t.Fatalf("waiting for close: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.t.Fatal("server goroutine did not finish")
	}
	return string(b)
}

func echo(w *ResponseWriter, r *Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			w.WriteErrorPage(e.Status)
			return
		}
	}
	h := w.Header()
	h.Status = 200
	h.ContentType = []byte("text/plain")
	out := string(r.Method) + " " + string(r.Target) + " " + string(body)
	h.ContentLength = int64(len(out))
	io.WriteString(w, out)
}

func TestKeepAliveRules(t *testing.T) {
	tests := []struct {
		name      string
		limits    func(*Config)
		reqs      string
		conn      []string // Connection header of each response
		keepAlive string   // Keep-Alive header of the first response
		stillOpen bool
	}{
		{name: "1.1 default", reqs: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", conn: []string{"keep-alive"}, stillOpen: true},
		{name: "1.1 close", reqs: "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", conn: []string{"close"}},
		{name: "1.0 default", reqs: "GET / HTTP/1.0\r\n\r\n", conn: []string{"close"}},
		{name: "1.0 keep-alive", reqs: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", conn: []string{"keep-alive"}, stillOpen: true},
		{name: "keepalive_timeout 0", limits: func(c *Config) { c.KeepaliveTimeout = 0 }, reqs: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", conn: []string{"close"}},
		{name: "keepalive_timeout header", limits: func(c *Config) { c.KeepaliveHeaderTimeout = 60 * time.Second }, reqs: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", conn: []string{"keep-alive"}, keepAlive: "timeout=60", stillOpen: true},
		{name: "keepalive_requests 2", limits: func(c *Config) { c.KeepaliveRequests = 2 }, reqs: "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", conn: []string{"keep-alive", "close"}},
		{name: "pipelined then close", reqs: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", conn: []string{"keep-alive", "close"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.limits != nil {
				tt.limits(&cfg)
			}
			p := newPeer(t, cfg, echo)
			p.send(tt.reqs)
			for i, want := range tt.conn {
				resp, _ := p.response("GET")
				if got := connHeader(resp); got != want {
					t.Fatalf("response %d: Connection %q, want %q", i, got, want)
				}
				if i == 0 && resp.Header.Get("Keep-Alive") != tt.keepAlive {
					t.Fatalf("Keep-Alive %q", resp.Header.Get("Keep-Alive"))
				}
			}
			if tt.stillOpen {
				p.send("GET /again HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
				_, body := p.response("GET")
				if body != "GET /again " {
					t.Fatalf("body %q", body)
				}
			}
			if rest := p.closed(); rest != "" {
				t.Fatalf("unexpected bytes after last response: %q", rest)
			}
		})
	}
}

func TestKeepaliveTime(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeepaliveTime = time.Minute
	clk := newClock()
	p := newPeerClock(t, cfg, func(w *ResponseWriter, r *Request) { clk.Add(2 * time.Minute); echo(w, r) }, clk)
	p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, _ := p.response("GET")
	if connHeader(resp) != "close" {
		t.Fatalf("Connection %q after keepalive_time", connHeader(resp))
	}
	p.closed()
}

func TestPipelining(t *testing.T) {
	p := newPeer(t, DefaultConfig(), echo)
	// two requests, the first with a body, in one write; then a third
	// arriving later
	p.send("POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /two HTTP/1.1\r\nHost: a\r\n\r\n")
	_, b1 := p.response("POST")
	_, b2 := p.response("GET")
	if b1 != "POST /one hello" || b2 != "GET /two " {
		t.Fatalf("responses out of order or wrong: %q %q", b1, b2)
	}
	p.send("POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	_, b3 := p.response("POST")
	if b3 != "POST /three abc" {
		t.Fatalf("third: %q", b3)
	}
}

func TestPipelinedRequestsAreNotReadAsBody(t *testing.T) {
	// a handler that ignores a small body: the codec drains it and the
	// following request is parsed from the right offset
	p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
		w.Header().ContentLength = int64(len(r.Target))
		w.Write(r.Target)
	})
	p.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	_, b1 := p.response("POST")
	_, b2 := p.response("GET")
	if b1 != "/a" || b2 != "/b" {
		t.Fatalf("got %q, %q", b1, b2)
	}
	if n := p.calls.Load(); n != 2 {
		t.Fatalf("handler calls %d", n)
	}
}

func TestUnreadBodyBeyondDrainLimitCloses(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDrain = 10
	p := newPeer(t, cfg, func(w *ResponseWriter, r *Request) {
		w.Header().ContentLength = 2
		w.Write([]byte("ok"))
	})
	p.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 100) + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	p.response("POST")
	p.closed()
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("handler calls %d", n)
	}
}

func TestExpectContinue(t *testing.T) {
	t.Run("sent on first body read", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), echo)
		p.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := p.br.ReadString('\n')
		if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
			t.Fatalf("got %q, %v", line, err)
		}
		if blank, _ := p.br.ReadString('\n'); blank != "\r\n" {
			t.Fatalf("got %q", blank)
		}
		p.send("body")
		resp, body := p.response("POST")
		if resp.StatusCode != 200 || body != "POST /e body" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
	t.Run("not sent when the handler answers first", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
			w.WriteErrorPage(403)
		})
		p.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		resp, _ := p.response("POST")
		if resp.StatusCode != 403 || connHeader(resp) != "close" {
			t.Fatalf("%d %q", resp.StatusCode, connHeader(resp))
		}
		if rest := p.closed(); strings.Contains(rest, "100 Continue") {
			t.Fatalf("100 Continue after the final response: %q", rest)
		}
	})
	t.Run("not sent for HTTP/1.0", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), echo)
		p.send("POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
		resp, body := p.response("POST")
		if resp.StatusCode != 200 || body != "POST /e hi" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
}

func TestBodilessResponses(t *testing.T) {
	tests := []struct {
		name, method string
		status       int
		clen         int64
		wantHeader   string // expected header block (after Date)
	}{
		{"HEAD keeps length", "HEAD", 200, 5, "Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"},
		{"HEAD unknown length not chunked", "HEAD", 200, -1, "Content-Type: text/plain\r\nConnection: keep-alive\r\n\r\n"},
		{"204 drops type and length", "GET", 204, 5, "Connection: keep-alive\r\n\r\n"},
		{"304 keeps length", "GET", 304, 5, "Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"},
		{"304 unknown length", "GET", 304, -1, "Content-Type: text/plain\r\nConnection: keep-alive\r\n\r\n"},
		{"200 unknown length is chunked", "GET", 200, -1, "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
				h := w.Header()
				h.Status = tt.status
				h.ContentType = []byte("text/plain")
				h.ContentLength = tt.clen
				w.Write([]byte("hello"))
			})
			p.send(tt.method + " / HTTP/1.1\r\nHost: a\r\n\r\n" + tt.method + " / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			all := p.closed()
			first, _, _ := strings.Cut(all, "HTTP/1.1 "+fmt.Sprint(tt.status)+" "+statusText(tt.status)+"\r\nServer: nginx/1.28.3\r\nDate: Fri, 10 Oct 2025 13:55:36 GMT\r\n")
			_ = first
			want := "HTTP/1.1 " + fmt.Sprint(tt.status) + " " + statusText(tt.status) + "\r\nServer: nginx/1.28.3\r\nDate: Fri, 10 Oct 2025 13:55:36 GMT\r\n" + tt.wantHeader
			if !strings.HasPrefix(all, want) {
				t.Fatalf("got\n%q\nwant prefix\n%q", all, want)
			}
			// the second response follows immediately: no stray body bytes
			if strings.Count(all, "HTTP/1.1 ") != 2 || !strings.HasPrefix(all[len(want):], "HTTP/1.1 ") {
				t.Fatalf("stray bytes after first response: %q", all[len(want):])
			}
		})
	}
}

func TestChunkedRoundTrip(t *testing.T) {
	p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
		var buf [3]byte
		for {
			n, err := r.Body.Read(buf[:])
			w.Write(buf[:n])
			w.Flush()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Errorf("body: %v", err)
				return
			}
		}
	})
	p.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"4;name=value;q=\"quoted \\\" x\"\r\nabcd\r\n" +
		"A\r\n0123456789\r\n" +
		"0\r\nX-Trailer: dropped\r\n\r\n")
	resp, body := p.response("POST")
	if body != "abcd0123456789" || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("%q %v", body, resp.TransferEncoding)
	}
}

// TestChunkedTooLargeText pins nginx's log text for a chunked body over
// client_max_body_size: the body so far plus the chunk that breaks the
// limit (nginx 1.22 logs "16+96 bytes" and "0+101 bytes" for the first
// two with client_max_body_size 100).
func TestChunkedTooLargeText(t *testing.T) {
	tests := []struct {
		chunks string
		limit  int64
		want   string
	}{
		{"10\r\n0123456789abcdef\r\n60\r\nx", 100, "16+96"},
		{"65\r\nx", 100, "0+101"},
		{"6\r\n012345\r\n5\r\n67890\r\n0\r\n\r\n", 10, "6+5"},
		{"5\r\n01234\r\n5\r\n56789\r\n1\r\nx\r\n0\r\n\r\n", 10, "10+1"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.ClientMaxBodySize = tt.limit
		errc := make(chan error, 1)
		p := newPeer(t, cfg, func(w *ResponseWriter, r *Request) {
			_, err := io.ReadAll(r.Body)
			errc <- err
			w.WriteErrorPage(413)
		})
		p.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + tt.chunks)
		err := <-errc
		if !errors.Is(err, ErrChunkedBodyTooLarge) {
			t.Fatalf("%q: %v, want %v", tt.chunks, err, ErrChunkedBodyTooLarge)
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != 413 {
			t.Fatalf("%q: %v is not a 413 *Error", tt.chunks, err)
		}
		if want := "client intended to send too large chunked body: " + tt.want + " bytes"; err.Error() != want {
			t.Errorf("%q: %q, want %q", tt.chunks, err.Error(), want)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	tests := []struct {
		name, raw string
		limit     int64
		status    int
	}{
		{"content-length over limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", 10, 413},
		{"content-length at limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", 10, 200},
		{"chunked over limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n67890\r\n0\r\n\r\n", 10, 413},
		{"chunked at limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", 10, 200},
		{"unlimited", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", 0, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ClientMaxBodySize = 1 << 20
			loc := cfg.Limits
			loc.ClientMaxBodySize = tt.limit
			p := newPeer(t, cfg, func(w *ResponseWriter, r *Request) {
				if err := w.Apply(&loc); err != nil {
					w.WriteErrorPage(err.(*Error).Status)
					return
				}
				echo(w, r)
			})
			p.send(tt.raw)
			resp, _ := p.response("POST")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("client_header_timeout sends nothing", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.ClientHeaderTimeout = 30 * time.Millisecond
		p := newPeer(t, cfg, echo)
		p.send("GET / HTTP/1.1\r\nHo")
		if rest := p.closed(); rest != "" {
			t.Fatalf("sent %q", rest)
		}
		if e := <-p.rejects; e != ErrClientHeaderTimeout {
			t.Fatalf("reject %v", e)
		}
		if p.calls.Load() != 0 {
			t.Fatal("handler called")
		}
	})
	// nginx logs what arrived of the request at a header timeout (checked
	// against nginx 1.22: `client timed out ... request: "GET /abc HTT"`,
	// and $request is the same), and answers then an error that nginx's
	// incremental parser would have found before the header was complete.
	for _, tt := range []struct {
		name, raw, line, host string
		err                   *Error
		status                string
	}{
		{"partial request line", "GET /abc HTT", "GET /abc HTT", "", ErrClientHeaderTimeout, ""},
		{"partial header", "GET / HTTP/1.1\r\nHost: a\r\nX: y", "GET / HTTP/1.1", "a", ErrClientHeaderTimeout, ""},
		{"partial method", "GARBAGE", "GARBAGE", "", ErrClientHeaderTimeout, ""},
		{"invalid header before the end", "GET / HTTP/1.1\r\nHost: b\r\nJunk\r\n", "GET / HTTP/1.1", "b", ErrInvalidHeader, "HTTP/1.1 400 Bad Request\r\n"},
	} {
		t.Run("client_header_timeout "+tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ClientHeaderTimeout = 30 * time.Millisecond
			p := newPeer(t, cfg, echo)
			p.send(tt.raw)
			rest := p.closed()
			if !strings.HasPrefix(rest, tt.status) || (tt.status == "") != (rest == "") {
				t.Fatalf("sent %q, want %q...", rest, tt.status)
			}
			if e := <-p.rejects; e != tt.err {
				t.Fatalf("reject %v, want %v", e, tt.err)
			}
			if got := <-p.lines; got != [2]string{tt.line, tt.host} {
				t.Fatalf("Line, HostHeader = %q, want %q, %q", got, tt.line, tt.host)
			}
		})
	}
	// nginx parses the method as it arrives: a bad one is answered at
	// once, not at the timeout.
	for _, raw := range []string{"get / HTTP/1.1", "GARBAGE\r", "GET\n", " / HTTP/1.1", "\x16\x03\x01\x02\x00"} {
		t.Run(fmt.Sprintf("invalid method %q answered at once", raw), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ClientHeaderTimeout = time.Hour
			p := newPeer(t, cfg, echo)
			p.send(raw)
			resp, _ := p.response("GET")
			if resp.StatusCode != 400 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if e := <-p.rejects; e != ErrInvalidMethod {
				t.Fatalf("reject %v", e)
			}
		})
	}
	t.Run("idle first connection closes silently", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.ClientHeaderTimeout = 30 * time.Millisecond
		p := newPeer(t, cfg, echo)
		if rest := p.closed(); rest != "" {
			t.Fatalf("sent %q", rest)
		}
		select {
		case e := <-p.rejects:
			t.Fatalf("reject %v for a connection that sent nothing", e)
		default:
		}
	})
	t.Run("keepalive_timeout", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.KeepaliveTimeout = 30 * time.Millisecond
		p := newPeer(t, cfg, echo)
		p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, _ := p.response("GET")
		if connHeader(resp) != "keep-alive" {
			t.Fatal("not keep-alive")
		}
		if rest := p.closed(); rest != "" {
			t.Fatalf("sent %q", rest)
		}
	})
	t.Run("client_body_timeout", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.ClientBodyTimeout = 30 * time.Millisecond
		errc := make(chan error, 1)
		p := newPeer(t, cfg, func(w *ResponseWriter, r *Request) {
			_, err := io.ReadAll(r.Body)
			errc <- err
			w.WriteErrorPage(err.(*Error).Status)
		})
		p.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		if err := <-errc; err != ErrClientBodyTimeout {
			t.Fatalf("err %v", err)
		}
		// nginx sends nothing for 408; it closes
		if rest := p.closed(); rest != "" {
			t.Fatalf("sent %q", rest)
		}
	})
	t.Run("send_timeout", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.SendTimeout = 30 * time.Millisecond
		errc := make(chan error, 1)
		p := newPeer(t, cfg, func(w *ResponseWriter, r *Request) {
			w.Header().ContentLength = 1 << 20
			_, err := w.Write(make([]byte, 1<<20))
			errc <- err
		})
		p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		// the client never reads
		if err := <-errc; !isTimeout(err) {
			t.Fatalf("err %v", err)
		}
		<-p.done
	})
}

func TestGracefulShutdown(t *testing.T) {
	t.Run("idle connection closes", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), echo)
		<-p.idle // waiting for the first request
		p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		p.response("GET")
		<-p.idle // idle between requests
		p.s.Shutdown()
		if rest := p.closed(); rest != "" {
			t.Fatalf("sent %q", rest)
		}
	})
	t.Run("active connection closes after its response", func(t *testing.T) {
		inHandler := make(chan struct{})
		release := make(chan struct{})
		p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
			close(inHandler)
			<-release
			echo(w, r)
		})
		p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		<-inHandler
		p.s.Shutdown()
		close(release)
		resp, _ := p.response("GET")
		if connHeader(resp) != "close" {
			t.Fatalf("Connection %q", connHeader(resp))
		}
		p.closed()
	})
}

func TestErrorPages(t *testing.T) {
	page := func(title, h1, extra, tail string) string {
		s := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + h1 + "</h1></center>\r\n"
		if extra != "" {
			s += "<center>" + extra + "</center>\r\n"
		}
		return s + "<hr><center>" + tail + "</center>\r\n</body>\r\n</html>\r\n"
	}
	pad := strings.Repeat("<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n", 6)
	tests := []struct {
		name   string
		tokens bool
		raw    string
		status string
		body   string
		conn   string
	}{
		{"400 tokens on", true, "GET / HTTP/1.1\r\n\r\n", "400 Bad Request", page("400 Bad Request", "400 Bad Request", "", "nginx/1.28.3"), "close"},
		{"400 tokens off", false, "GET / HTTP/1.1\r\n\r\n", "400 Bad Request", page("400 Bad Request", "400 Bad Request", "", "nginx"), "close"},
		{"400 chrome padding", true, "GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0 Chrome/120.0\r\n\r\n", "400 Bad Request",
			page("400 Bad Request", "400 Bad Request", "", "nginx/1.28.3") + pad, "close"},
		{"494", true, "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", "400 Bad Request",
			page("400 Request Header Or Cookie Too Large", "400 Bad Request", "Request Header Or Cookie Too Large", "nginx/1.28.3"), "close"},
		{"414", true, "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", "414 Request-URI Too Large",
			page("414 Request-URI Too Large", "414 Request-URI Too Large", "", "nginx/1.28.3"), "close"},
		{"501", true, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented",
			page("501 Not Implemented", "501 Not Implemented", "", "nginx/1.28.3"), "close"},
		{"505", true, "GET / HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported",
			page("505 HTTP Version Not Supported", "505 HTTP Version Not Supported", "", "nginx/1.28.3"), "close"},
		{"405 connect", true, "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", "405 Not Allowed",
			page("405 Not Allowed", "405 Not Allowed", "", "nginx/1.28.3"), "close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ServerTokens = tt.tokens
			p := newPeer(t, cfg, echo)
			p.send(tt.raw)
			got := p.closed()
			server := "nginx/1.28.3"
			if !tt.tokens {
				server = "nginx"
			}
			want := "HTTP/1.1 " + tt.status + "\r\nServer: " + server + "\r\nDate: Fri, 10 Oct 2025 13:55:36 GMT\r\n" +
				"Content-Type: text/html\r\nContent-Length: " + fmt.Sprint(len(tt.body)) + "\r\nConnection: " + tt.conn + "\r\n\r\n" + tt.body
			if got != want {
				t.Fatalf("got\n%q\nwant\n%q", got, want)
			}
			if p.calls.Load() != 0 {
				t.Fatal("handler called")
			}
		})
	}
	t.Run("404 keeps the connection", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) { w.WriteErrorPage(404) })
		p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, body := p.response("GET")
		if resp.StatusCode != 404 || connHeader(resp) != "keep-alive" || body != page("404 Not Found", "404 Not Found", "", "nginx/1.28.3") {
			t.Fatalf("%d %q %q", resp.StatusCode, connHeader(resp), body)
		}
	})
	t.Run("301 keeps Location and extra headers", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
			h := w.Header()
			h.Location = []byte("http://a/dir/")
			h.Header = append(h.Header, Header{Name: []byte("X-Extra"), Value: []byte("1")})
			w.WriteErrorPage(301)
		})
		p.send("GET /dir HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		body := page("301 Moved Permanently", "301 Moved Permanently", "", "nginx/1.28.3")
		want := "HTTP/1.1 301 Moved Permanently\r\nServer: nginx/1.28.3\r\nDate: Fri, 10 Oct 2025 13:55:36 GMT\r\n" +
			"Content-Type: text/html\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\nLocation: http://a/dir/\r\nConnection: close\r\nX-Extra: 1\r\n\r\n" + body
		if got := p.closed(); got != want {
			t.Fatalf("got\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("ErrorPage matches the spec example", func(t *testing.T) {
		want := "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.28.3</center>\r\n</body>\r\n</html>\r\n"
		if got := ErrorPage(502, "nginx/1.28.3", false); got != want {
			t.Fatalf("%q", got)
		}
		if ErrorPage(499, "nginx", true) != "" {
			t.Fatal("499 has no page")
		}
	})
}

func TestHijackUpgrade(t *testing.T) {
	p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
		h := w.Header()
		h.Status = 101
		h.Header = append(h.Header, Header{Name: []byte("Upgrade"), Value: []byte("websocket")})
		w.WriteHeader()
		nc, buffered, err := w.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		go func() {
			defer nc.Close()
			nc.Write(bytes.ToUpper(buffered))
			var b [64]byte
			n, _ := nc.Read(b[:])
			nc.Write(bytes.ToUpper(b[:n]))
		}()
	})
	p.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nearly")
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil || resp.StatusCode != 101 || connHeader(resp) != "upgrade" || resp.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("%v %+v", err, resp)
	}
	var b [5]byte
	io.ReadFull(p.br, b[:])
	if string(b[:]) != "EARLY" {
		t.Fatalf("%q", b)
	}
	p.send("later")
	io.ReadFull(p.br, b[:])
	if string(b[:]) != "LATER" {
		t.Fatalf("%q", b)
	}
}

func TestHandlerWithoutResponseSends500(t *testing.T) {
	p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {})
	p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, _ := p.response("GET")
	if resp.StatusCode != 500 || connHeader(resp) != "close" {
		t.Fatalf("%d %q", resp.StatusCode, connHeader(resp))
	}
}

func TestContentLengthEnforced(t *testing.T) {
	var mu sync.Mutex
	var werr error
	p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
		w.Header().ContentLength = 3
		_, err := w.Write([]byte("abcdef"))
		mu.Lock()
		werr = err
		mu.Unlock()
	})
	p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	_, b := p.response("GET")
	p.response("GET")
	mu.Lock()
	defer mu.Unlock()
	if b != "abc" || werr != ErrTooMuchBody {
		t.Fatalf("%q %v", b, werr)
	}
}

func TestTruncatedResponseCloses(t *testing.T) {
	p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
		w.Header().ContentLength = 10
		w.Write([]byte("abc"))
	})
	p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	got := p.closed()
	if !strings.HasSuffix(got, "\r\n\r\nabc") || !strings.Contains(got, "Connection: keep-alive") {
		t.Fatalf("%q", got)
	}
}

func TestLingeringCloseOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback:", err)
	}
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.ClientMaxBodySize = 10
	s := &Server{Config: cfg, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		_, err := io.ReadAll(r.Body)
		w.WriteErrorPage(err.(*Error).Status)
	})}
	done := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err == nil {
			s.ServeConn(c)
		}
		close(done)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// the client keeps sending its body after the 413; with lingering
	// close it still receives the response instead of a reset
	go func() {
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n")
		chunk := strings.Repeat("x", 1000)
		for i := 0; i < 200; i++ {
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 413 {
		t.Fatalf("%v %v", err, resp)
	}
	c.Close()
	<-done
}

// connHeader returns the response's Connection header; net/http removes
// "close" from the header map and reports it as resp.Close.
func connHeader(resp *http.Response) string {
	if v := resp.Header.Get("Connection"); v != "" {
		return v
	}
	if resp.Close {
		return "close"
	}
	return ""
}

func TestTruncatedBodies(t *testing.T) {
	for _, raw := range []string{
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	} {
		for _, read := range []bool{true, false} {
			errc := make(chan error, 1)
			s := &Server{Config: DefaultConfig(), Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
				if read {
					_, err := io.ReadAll(r.Body)
					errc <- err
				} else {
					errc <- ErrClientClosed
				}
				w.WriteErrorPage(404)
			})}
			c := &memConn{in: bytes.NewReader([]byte(raw))}
			done := make(chan struct{})
			go func() { s.ServeConn(c); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%q (read %v): connection loop hangs on a truncated body", raw, read)
			}
			if err := <-errc; err != ErrClientClosed {
				t.Fatalf("%q: body error %v, want %v", raw, err, ErrClientClosed)
			}
		}
	}
}

func TestShutdownClosesConnectionsThatSentNothing(t *testing.T) {
	p := newPeer(t, DefaultConfig(), echo)
	<-p.idle
	p.s.Shutdown()
	if rest := p.closed(); rest != "" {
		t.Fatalf("sent %q", rest)
	}
	if p.s.ActiveConns() != 0 {
		t.Fatal("connection still tracked")
	}
}

func TestHeaderArrivingByteByByte(t *testing.T) {
	p := newPeer(t, DefaultConfig(), echo)
	raw := "POST /slow HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi"
	go func() {
		for i := 0; i < len(raw); i++ {
			if _, err := p.c.Write([]byte{raw[i]}); err != nil {
				return
			}
		}
	}()
	_, body := p.response("POST")
	if body != "POST /slow hi" {
		t.Fatalf("%q", body)
	}
}

func TestTooLongLineDetectedBeforeHeaderEnds(t *testing.T) {
	for _, tc := range []struct {
		name, prefix string
		status       string
	}{
		{"request line", "GET /", "414"},
		{"header line", "GET / HTTP/1.1\r\nHost: a\r\nX: ", "400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, DefaultConfig(), echo)
			// the line never ends; the answer must not wait for it
			go func() {
				io.WriteString(p.c, tc.prefix)
				chunk := strings.Repeat("a", 1000)
				for i := 0; i < 100; i++ {
					if _, err := io.WriteString(p.c, chunk); err != nil {
						return
					}
				}
			}()
			_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := p.br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 "+tc.status+" ") {
				t.Fatalf("%q %v", line, err)
			}
		})
	}
}
