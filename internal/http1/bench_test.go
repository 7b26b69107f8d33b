package http1

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
)

const benchRequest = "GET /static/app.js?v=42 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n" +
	"Accept: */*\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Referer: https://www.example.com/\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

const benchResponse = "HTTP/1.1 200 OK\r\n" +
	"Server: backend\r\n" +
	"Date: Fri, 10 Oct 2025 13:55:36 GMT\r\n" +
	"Content-Type: application/javascript\r\n" +
	"Content-Length: 5\r\n" +
	"Last-Modified: Thu, 09 Oct 2025 10:00:00 GMT\r\n" +
	"ETag: \"abc123\"\r\n" +
	"Cache-Control: max-age=3600\r\n" +
	"\r\n" +
	"hello"

func BenchmarkParseRequest(b *testing.B) {
	data := []byte(benchRequest)
	o := DefaultParseOptions()
	var r Request
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseRequest(&r, data, &o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNetHTTPReadRequest(b *testing.B) {
	data := []byte(benchRequest)
	rd := bytes.NewReader(data)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd.Reset(data)
		br.Reset(rd)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponse(b *testing.B) {
	data := []byte(benchResponse)
	var r Response
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseResponse(&r, data, 4096); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNetHTTPReadResponse(b *testing.B) {
	data := []byte(benchResponse)
	rd := bytes.NewReader(data)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd.Reset(data)
		br.Reset(rd)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// loopbackPair returns a connected TCP pair: client side, server side.
func loopbackPair(b *testing.B) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skip("no loopback:", err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return cl, <-ch
}

// runClient sends benchRequest and reads one response of known size per
// iteration, without allocating.
func runClient(b *testing.B, cl net.Conn, respLen int) {
	req := []byte(benchRequest)
	buf := make([]byte, respLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cl.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(cl, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if !bytes.HasSuffix(buf, []byte("hello")) {
		b.Fatalf("bad response %q", buf)
	}
}

var (
	contentType = []byte("application/javascript")
	hello       = []byte("hello")
)

// BenchmarkExchange is a full keep-alive request/response over loopback TCP
// through the connection loop.
func BenchmarkExchange(b *testing.B) {
	cl, sv := loopbackPair(b)
	defer cl.Close()
	cfg := DefaultConfig()
	cfg.KeepaliveRequests = 1 << 30 // net/http has no such limit
	s := &Server{Config: cfg, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		h := w.Header()
		h.Status = 200
		h.ContentType = contentType
		h.ContentLength = int64(len(hello))
		w.Write(hello)
	})}
	done := make(chan struct{})
	go func() { s.ServeConn(sv); close(done) }()
	// measure the response size once
	n := exchangeSize(b, cl)
	runClient(b, cl, n)
	cl.Close()
	<-done
}

func exchangeSize(b *testing.B, cl net.Conn) int {
	if _, err := io.WriteString(cl, benchRequest); err != nil {
		b.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(got, hello) {
		n, err := cl.Read(buf)
		if err != nil {
			b.Fatalf("%v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
	return len(got)
}

// BenchmarkNetHTTPExchange is the same exchange served by net/http.
func BenchmarkNetHTTPExchange(b *testing.B) {
	cl, sv := loopbackPair(b)
	defer cl.Close()
	ln := &oneConnListener{c: sv, done: make(chan struct{})}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/javascript"}
		h["Content-Length"] = []string{"5"}
		w.Write(hello)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	n := exchangeSize(b, cl)
	runClient(b, cl, n)
}

type oneConnListener struct {
	c    net.Conn
	done chan struct{}
	used bool
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if !l.used {
		l.used = true
		return l.c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}
func (l *oneConnListener) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

// fakeBackend answers every request header it reads on c with reply,
// without allocating.
func fakeBackend(c net.Conn, reply []byte) {
	buf := make([]byte, 8192)
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			if _, err := c.Write(reply); err != nil {
				return
			}
			n = copy(buf, buf[i+4:n])
		}
	}
}

// BenchmarkProxyExchange is a keep-alive request proxied to a keep-alive
// upstream: client → connection loop → handler → UpstreamConn → backend
// and back, all over loopback TCP.
func BenchmarkProxyExchange(b *testing.B) {
	bc, bs := loopbackPair(b)
	defer bc.Close()
	go fakeBackend(bs, []byte(benchResponse))
	o := &UpstreamOptions{BufferSize: 4096}
	u := o.Conn(bc)
	defer u.Release()
	var copyBuf [16384]byte
	cl, sv := loopbackPair(b)
	defer cl.Close()
	cfg := DefaultConfig()
	cfg.KeepaliveRequests = 1 << 30
	s := &Server{Config: cfg, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		u.StartRequest(r.Method, r.Target, true)
		u.AddHeaderString("Host", "backend")
		for _, h := range r.Header {
			if equalFold(h.Name, "host") || equalFold(h.Name, "connection") {
				continue
			}
			u.AddHeader(h.Name, h.Value)
		}
		u.EndHeader(0, false)
		if err := u.FinishRequest(); err != nil {
			w.WriteErrorPage(502)
			return
		}
		resp, err := u.ReadResponse()
		if err != nil {
			w.WriteErrorPage(502)
			return
		}
		h := w.Header()
		h.Status = resp.Status
		h.Reason = resp.Reason
		h.ContentLength = resp.ContentLength
		for _, f := range resp.Header {
			switch {
			case equalFold(f.Name, "content-length"), equalFold(f.Name, "connection"),
				equalFold(f.Name, "date"), equalFold(f.Name, "server"):
			case equalFold(f.Name, "content-type"):
				h.ContentType = f.Value
			default:
				h.Header = append(h.Header, f)
			}
		}
		if _, err := io.CopyBuffer(w, u.Body(), copyBuf[:]); err != nil {
			w.Abort()
		}
		if !u.Reusable() {
			b.Error("upstream connection not reusable")
		}
	})}
	done := make(chan struct{})
	go func() { s.ServeConn(sv); close(done) }()
	n := exchangeSize(b, cl)
	runClient(b, cl, n)
	cl.Close()
	<-done
}
