package http1

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeUpstream returns an UpstreamConn connected to a goroutine that
// records each request it reads with net/http and answers with the next
// canned reply (written as is; "" means close the connection).
func fakeUpstream(t *testing.T, o *UpstreamOptions, replies ...string) (*UpstreamConn, chan string) {
	t.Helper()
	a, b := net.Pipe()
	got := make(chan string, len(replies)+1)
	go func() {
		defer b.Close()
		br := bufio.NewReader(b)
		for _, reply := range replies {
			req, err := http.ReadRequest(br)
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			body, _ := io.ReadAll(req.Body)
			got <- req.Method + " " + req.RequestURI + " " + req.Proto + " " + string(body)
			if reply == "" {
				return
			}
			if _, err := io.WriteString(b, reply); err != nil {
				return
			}
		}
	}()
	u := o.Conn(a)
	t.Cleanup(u.Release)
	return u, got
}

func simpleGet(t *testing.T, u *UpstreamConn, method string) {
	t.Helper()
	u.StartRequest([]byte(method), []byte("/x"), true)
	u.AddHeaderString("Host", "backend")
	u.EndHeader(0, false)
	if err := u.FinishRequest(); err != nil {
		t.Fatal(err)
	}
}

func TestUpstreamRequestWire(t *testing.T) {
	// the example of spec §5.3, byte for byte
	a, b := net.Pipe()
	o := &UpstreamOptions{BufferSize: 4096}
	u := o.Conn(a)
	defer u.Release()
	got := make(chan string, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- string(all)
	}()
	u.StartRequest([]byte("POST"), []byte("/upstream/x?a=1"), false)
	u.AddHeaderString("X-Forwarded-For", "10.1.1.1, 203.0.113.7")
	u.AddHeaderString("Host", "backend.example.com")
	u.AddHeaderString("Connection", "close")
	u.AddHeaderString("Content-Length", "5")
	u.AddHeaderString("TE", "")
	u.AddHeader([]byte("Keep-Alive"), nil)
	u.AddHeader([]byte("User-Agent"), []byte("curl/8.5.0"))
	u.EndHeader(5, false)
	if _, err := u.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("!")); !errors.Is(err, ErrTooMuchBody) {
		t.Fatalf("write past Content-Length: %v", err)
	}
	if err := u.FinishRequest(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	want := "POST /upstream/x?a=1 HTTP/1.0\r\n" +
		"X-Forwarded-For: 10.1.1.1, 203.0.113.7\r\n" +
		"Host: backend.example.com\r\n" +
		"Connection: close\r\n" +
		"Content-Length: 5\r\n" +
		"User-Agent: curl/8.5.0\r\n" +
		"\r\n" +
		"hello"
	if g := <-got; g != want {
		t.Fatalf("got\n%q\nwant\n%q", g, want)
	}
}

func TestUpstreamChunkedRequestBody(t *testing.T) {
	o := &UpstreamOptions{BufferSize: 4096}
	u, got := fakeUpstream(t, o, "HTTP/1.1 204 No Content\r\n\r\n")
	u.StartRequest([]byte("PUT"), []byte("/c"), true)
	u.AddHeaderString("Host", "b")
	u.AddHeaderString("Transfer-Encoding", "chunked")
	u.EndHeader(-1, true)
	u.Write([]byte("abc"))
	u.Write([]byte(strings.Repeat("z", 10000)))
	if err := u.FinishRequest(); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "PUT /c HTTP/1.1 abc"+strings.Repeat("z", 10000) {
		t.Fatalf("%.80q", g)
	}
	resp, err := u.ReadResponse()
	if err != nil || resp.Status != 204 {
		t.Fatal(err, resp)
	}
	if !u.Reusable() {
		t.Fatal("204 should leave the connection reusable")
	}
}

func TestUpstreamResponses(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		reply    string
		status   int
		body     string
		reusable bool
		err      error // from ReadResponse
		bodyErr  error
		header   string // a header to look up, "Name=value"
	}{
		{name: "content-length", reply: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello", status: 200, body: "hello", reusable: true, header: "X-A=1"},
		{name: "zero length", reply: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, reusable: true},
		{name: "chunked with trailers", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n", status: 200, body: "abcde", reusable: true},
		{name: "close delimited", reply: "HTTP/1.1 200 OK\r\n\r\nuntil close", status: 200, body: "until close"},
		{name: "http/1.0", reply: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "connection close", reply: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "HEAD has no body", method: "HEAD", reply: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", status: 200, reusable: true},
		{name: "304 has no body", reply: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", status: 304, reusable: true},
		{name: "100 skipped", reply: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", reusable: true},
		{name: "103 skipped", reply: "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", status: 201, reusable: true},
		{name: "no reason", reply: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: 200, reusable: true},
		{name: "extra data after body", reply: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy", status: 200, body: "x"},
		{name: "not http", reply: "SSH-2.0-OpenSSH\r\n\r\n", err: ErrUpstreamNoValidHeader},
		{name: "http/2", reply: "HTTP/2.0 200 OK\r\n\r\n", err: ErrUpstreamNoValidHeader},
		{name: "bad status", reply: "HTTP/1.1 2x0 OK\r\n\r\n", err: ErrUpstreamNoValidHeader},
		{name: "bare LF status", reply: "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", err: ErrUpstreamNoValidHeader},
		{name: "bare LF header", reply: "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", err: ErrUpstreamInvalidHeader},
		{name: "obs-fold", reply: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", err: ErrUpstreamInvalidHeader},
		{name: "space in name", reply: "HTTP/1.1 200 OK\r\nX Y: a\r\n\r\n", err: ErrUpstreamInvalidHeader},
		{name: "NUL in value", reply: "HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n", err: ErrUpstreamInvalidHeader},
		{name: "duplicate CL", reply: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", err: ErrUpstreamDuplicateCL},
		{name: "invalid CL", reply: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx", err: ErrUpstreamInvalidCL},
		{name: "unknown TE", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", err: ErrUpstreamUnknownTE},
		{name: "TE in 1.0", reply: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrUpstreamUnknownTE},
		{name: "TE and CL", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", err: ErrUpstreamTEAndCL},
		{name: "too big header", reply: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", err: ErrUpstreamTooBigHeader},
		{name: "premature close in header", reply: "HTTP/1.1 200 OK\r\nContent-Le", err: ErrUpstreamPrematureClose},
		{name: "premature close in body", reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", status: 200, body: "abc", bodyErr: ErrUpstreamPrematureClose},
		{name: "premature close in chunked body", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", status: 200, body: "ab", bodyErr: ErrUpstreamPrematureClose},
		{name: "bad chunk", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 200, bodyErr: ErrUpstreamInvalidChunked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &UpstreamOptions{BufferSize: 4096}
			a, b := net.Pipe()
			go func() {
				br := bufio.NewReader(b)
				if _, err := http.ReadRequest(br); err != nil {
					b.Close()
					return
				}
				io.WriteString(b, tt.reply)
				b.Close()
			}()
			u := o.Conn(a)
			defer u.Release()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			simpleGet(t, u, method)
			resp, err := u.ReadResponse()
			if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Fatalf("ReadResponse err %v, want %v", err, tt.err)
			}
			if err != nil {
				if u.Reusable() {
					t.Fatal("reusable after error")
				}
				return
			}
			if resp.Status != tt.status {
				t.Fatalf("status %d", resp.Status)
			}
			if tt.header != "" {
				n, v, _ := strings.Cut(tt.header, "=")
				if string(resp.Header.Get(n)) != v {
					t.Fatalf("header %s = %q", n, resp.Header.Get(n))
				}
			}
			body, err := io.ReadAll(u.Body())
			if string(body) != tt.body || !errors.Is(err, tt.bodyErr) || (err != nil) != (tt.bodyErr != nil) {
				t.Fatalf("body %q err %v, want %q %v", body, err, tt.body, tt.bodyErr)
			}
			if u.Reusable() != tt.reusable {
				t.Fatalf("reusable %v", u.Reusable())
			}
		})
	}
}

func TestUpstreamKeepAliveReuse(t *testing.T) {
	o := &UpstreamOptions{BufferSize: 4096}
	u, got := fakeUpstream(t, o,
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree")
	for i, want := range []string{"one", "two", "three"} {
		simpleGet(t, u, "GET")
		<-got
		if _, err := u.ReadResponse(); err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(u.Body())
		if err != nil || string(body) != want {
			t.Fatalf("%d: %q %v", i, body, err)
		}
		if u.Reusable() != (i < 2) {
			t.Fatalf("%d: reusable %v", i, u.Reusable())
		}
	}
}

func TestUpstreamNotReusableUntilBodyRead(t *testing.T) {
	o := &UpstreamOptions{BufferSize: 4096}
	u, _ := fakeUpstream(t, o, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
	simpleGet(t, u, "GET")
	if _, err := u.ReadResponse(); err != nil {
		t.Fatal(err)
	}
	if u.Reusable() {
		t.Fatal("reusable before the body was read")
	}
}

func TestUpstreamReadTimeout(t *testing.T) {
	o := &UpstreamOptions{BufferSize: 4096, ReadTimeout: 20 * time.Millisecond}
	a, b := net.Pipe()
	defer b.Close()
	go io.Copy(io.Discard, b)
	u := o.Conn(a)
	defer u.Release()
	simpleGet(t, u, "GET")
	_, err := u.ReadResponse()
	if !errors.Is(err, ErrUpstreamTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestUpstreamSwitchingProtocols(t *testing.T) {
	o := &UpstreamOptions{BufferSize: 4096}
	u, _ := fakeUpstream(t, o, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nframe")
	simpleGet(t, u, "GET")
	resp, err := u.ReadResponse()
	if err != nil || resp.Status != 101 {
		t.Fatal(err, resp)
	}
	nc, buffered := u.Hijack()
	defer nc.Close()
	if string(buffered) != "frame" {
		t.Fatalf("%q", buffered)
	}
	if u.Reusable() {
		t.Fatal("reusable after hijack")
	}
}

func TestUpstreamDoubleReleaseIsHarmless(t *testing.T) {
	o := &UpstreamOptions{BufferSize: 4096}
	a, _ := net.Pipe()
	u := o.Conn(a)
	u.Release()
	u.Release()
	b, _ := net.Pipe()
	c, _ := net.Pipe()
	u1, u2 := o.Conn(b), o.Conn(c)
	if u1 == u2 {
		t.Fatal("one UpstreamConn handed out twice")
	}
	u1.Release()
	u2.Release()
}

// TestUpstreamPooledConnKeepsNoStaleDeadline: a Reusable connection goes
// back to the pool with its last deadlines (Hijack does not clear them),
// so the next UpstreamConn over it must replace or clear them before any
// I/O, whatever its timeouts. The stale deadlines are stood in for by
// ones already past.
func TestUpstreamPooledConnKeepsNoStaleDeadline(t *testing.T) {
	const reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	tests := []struct {
		name       string
		read, send time.Duration
	}{
		{"both timeouts", time.Minute, time.Minute},
		{"no timeouts", 0, 0},
		{"read timeout only", time.Minute, 0},
		{"send timeout only", 0, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &UpstreamOptions{BufferSize: 4096, ReadTimeout: tt.read, SendTimeout: tt.send}
			u, got := fakeUpstream(t, o, reply, reply)
			exchange := func(u *UpstreamConn) {
				t.Helper()
				simpleGet(t, u, "GET")
				if _, err := u.ReadResponse(); err != nil {
					t.Fatal(err)
				}
				if b, err := io.ReadAll(u.Body()); err != nil || string(b) != "ok" {
					t.Fatalf("body %q, %v", b, err)
				}
				<-got
			}
			exchange(u)
			if !u.Reusable() {
				t.Fatal("not reusable")
			}
			nc, _ := u.Hijack()
			_ = nc.SetDeadline(time.Now().Add(-time.Second))
			u2 := o.Conn(nc)
			defer u2.Release()
			exchange(u2)
		})
	}
}

// keeperConn is a pooled connection that records its deadlines, as
// upstream.Conn does, and counts the deadlines actually set.
type keeperConn struct {
	net.Conn
	read, write time.Time
	sets        int
}

func (k *keeperConn) KeptDeadlines() (read, write *time.Time) { return &k.read, &k.write }
func (k *keeperConn) SetReadDeadline(t time.Time) error {
	k.sets++
	return k.Conn.SetReadDeadline(t)
}
func (k *keeperConn) SetWriteDeadline(t time.Time) error {
	k.sets++
	return k.Conn.SetWriteDeadline(t)
}
func (k *keeperConn) SetDeadline(t time.Time) error {
	k.sets++
	return k.Conn.SetDeadline(t)
}

// TestUpstreamKeptDeadlines: over a connection that records its
// deadlines, a second request right after the first sets none (they are
// still nearly right), while one whose recorded deadlines have passed
// sets both and succeeds.
func TestUpstreamKeptDeadlines(t *testing.T) {
	const reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	o := &UpstreamOptions{BufferSize: 4096, ReadTimeout: time.Minute, SendTimeout: time.Minute}
	a, b := net.Pipe()
	defer b.Close()
	go func() {
		br := bufio.NewReader(b)
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			if _, err := io.WriteString(b, reply); err != nil {
				return
			}
		}
	}()
	k := &keeperConn{Conn: a}
	exchange := func() {
		t.Helper()
		u := o.Conn(k)
		simpleGet(t, u, "GET")
		if _, err := u.ReadResponse(); err != nil {
			t.Fatal(err)
		}
		if body, err := io.ReadAll(u.Body()); err != nil || string(body) != "ok" {
			t.Fatalf("body %q, %v", body, err)
		}
		if !u.Reusable() {
			t.Fatal("not reusable")
		}
		u.Hijack()
		u.Release()
	}
	for _, tt := range []struct {
		name  string
		stale bool
		sets  int
	}{
		{"first request", false, 2},
		{"right after", false, 0},
		{"deadlines passed", true, 2},
	} {
		if tt.stale {
			past := time.Now().Add(-time.Second)
			_ = a.SetDeadline(past)
			k.read, k.write = past, past
		}
		k.sets = 0
		exchange()
		if k.sets != tt.sets {
			t.Errorf("%s: %d deadlines set, want %d", tt.name, k.sets, tt.sets)
		}
	}
	a.Close()
}
