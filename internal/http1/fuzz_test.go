package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"testing"
	"time"
)

// byteConn is an in-memory deadlineReader.
type byteConn struct{ r io.Reader }

func (c *byteConn) Read(p []byte) (int, error)      { return c.r.Read(p) }
func (c *byteConn) SetReadDeadline(time.Time) error { return nil }

func serializeRequest(r *Request) []byte {
	b := append([]byte(nil), r.Line...)
	b = append(b, '\r', '\n')
	for _, h := range r.Header {
		b = AppendHeader(b, h.Name, h.Value)
	}
	return append(b, '\r', '\n')
}

func sameRequest(a, b *Request) bool {
	if string(a.Method) != string(b.Method) || string(a.Target) != string(b.Target) ||
		string(a.Host) != string(b.Host) || a.Minor != b.Minor || a.ContentLength != b.ContentLength ||
		a.Chunked != b.Chunked || a.KeepAlive != b.KeepAlive || a.Expect100 != b.Expect100 ||
		len(a.Header) != len(b.Header) {
		return false
	}
	for i := range a.Header {
		if string(a.Header[i].Name) != string(b.Header[i].Name) || string(a.Header[i].Value) != string(b.Header[i].Value) {
			return false
		}
	}
	return true
}

func FuzzRequest(f *testing.F) {
	for _, c := range smuggleCorpus {
		f.Add([]byte(c.raw))
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("GET http://H.example:8/p?q HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"))
	f.Add([]byte("POST /u HTTP/1.0\r\nContent-Length: 3\r\nX_Y: z\r\n\r\nabc"))
	f.Add([]byte("\r\nOPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\nExpect: 100-continue\r\n\r\n"))
	small := ParseOptions{MaxLine: 64, MaxHeader: 256}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, o := range []*ParseOptions{{MaxLine: 8192, MaxHeader: 32768}, &small, {MaxLine: 8192, MaxHeader: 32768, AllowUnderscores: true, KeepInvalidHeaders: true}} {
			var r Request
			n, err := ParseRequest(&r, data, o)
			if err != nil {
				var e *Error
				if !errors.Is(err, ErrNeedMore) && !errors.As(err, &e) {
					t.Fatalf("unclassified error %v", err)
				}
				continue
			}
			if n <= 0 || n > len(data) {
				t.Fatalf("n = %d of %d", n, len(data))
			}
			again := serializeRequest(&r)
			var r2 Request
			n2, err := ParseRequest(&r2, again, &ParseOptions{MaxLine: 1 << 20, MaxHeader: 1 << 20, AllowUnderscores: o.AllowUnderscores, KeepInvalidHeaders: o.KeepInvalidHeaders})
			if err != nil || n2 != len(again) {
				t.Fatalf("re-serialised request rejected: %v\n%q\n%q", err, data, again)
			}
			if !sameRequest(&r, &r2) {
				t.Fatalf("re-serialised request differs:\n%q\n%q", data[:n], again)
			}
			// where net/http also accepts the header, both agree on the
			// body framing (the smuggling-relevant part)
			if ref, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:n]))); err == nil {
				refChunked := len(ref.TransferEncoding) > 0
				refCL := ref.ContentLength
				if refChunked {
					refCL = -1
				}
				ourCL := r.ContentLength
				if ourCL == 0 {
					ourCL = -1
				}
				if refCL == 0 {
					refCL = -1
				}
				if refChunked != r.Chunked || refCL != ourCL {
					t.Fatalf("framing differs from net/http on %q: chunked %v/%v length %d/%d", data[:n], r.Chunked, refChunked, r.ContentLength, ref.ContentLength)
				}
			}
		}
	})
}

func serializeResponse(r *Response) []byte {
	b := []byte("HTTP/1.")
	b = append(b, byte('0'+r.Minor), ' ')
	b = append(b, r.StatusLine...)
	b = append(b, '\r', '\n')
	for _, h := range r.Header {
		b = AppendHeader(b, h.Name, h.Value)
	}
	return append(b, '\r', '\n')
}

func FuzzResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.0 404\r\nConnection: close\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Response
		n, err := ParseResponse(&r, data, 4096)
		if err != nil {
			var e *Error
			if !errors.Is(err, ErrNeedMore) && !errors.As(err, &e) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if n <= 0 || n > len(data) || n > 4096 {
			t.Fatalf("n = %d", n)
		}
		again := serializeResponse(&r)
		var r2 Response
		if _, err := ParseResponse(&r2, again, 1<<20); err != nil {
			t.Fatalf("re-serialised response rejected: %v\n%q", err, again)
		}
		if r.Status != r2.Status || r.Minor != r2.Minor || r.ContentLength != r2.ContentLength ||
			r.Chunked != r2.Chunked || r.ConnectionClose != r2.ConnectionClose || len(r.Header) != len(r2.Header) {
			t.Fatalf("re-serialised response differs: %q", again)
		}
	})
}

// decodeChunked runs our chunked decoder over data.
func decodeChunked(data []byte) ([]byte, error) {
	br := &bufReader{nc: &byteConn{bytes.NewReader(data)}, buf: make([]byte, 8192)}
	var c chunkedReader
	c.reset(0, 4096)
	var out []byte
	var buf [512]byte
	for {
		n, err := c.read(br, buf[:])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("3;a=b;c=\"d\\\"\"\r\nabc\r\n0\r\nX: y\r\n\r\n"))
	f.Add([]byte("ffffffffffffffff\r\n"))
	f.Add([]byte("1\r\nx\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := decodeChunked(data)
		if err != nil {
			return
		}
		// anything we accept, net/http's decoder accepts with the same data
		ref, rerr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(data)))
		if rerr != nil || !bytes.Equal(ref, out) {
			t.Fatalf("net/http disagrees on %q: %q %v vs %q", data, ref, rerr, out)
		}
		// and re-encoding the data gives a body we decode to the same bytes
		var enc []byte
		if len(out) > 0 {
			enc = appendHex(enc, int64(len(out)))
			enc = append(enc, '\r', '\n')
			enc = append(enc, out...)
			enc = append(enc, '\r', '\n')
		}
		enc = append(enc, "0\r\n\r\n"...)
		again, err := decodeChunked(enc)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// memConn is an in-memory net.Conn: reads come from in, writes go to out.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzConn drives the whole connection loop (pipelining, bodies, drains,
// error pages) with arbitrary client bytes: it must not panic, every
// handler call must see a fully valid request, and the output must be a
// sequence of well-formed responses.
func FuzzConn(f *testing.F) {
	for _, c := range smuggleCorpus {
		f.Add([]byte(c.raw))
	}
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: b\r\n\r\n"))
	f.Add([]byte("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n0\r\n\r\nHEAD / HTTP/1.0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.Parse = ParseOptions{MaxLine: 512, MaxHeader: 2048}
		cfg.ClientMaxBodySize = 1024
		cfg.MaxDrain = 64
		calls := 0
		s := &Server{Config: cfg, Now: func() time.Time { return testEpoch },
			Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
				calls++
				var again Request
				o := ParseOptions{MaxLine: 1 << 20, MaxHeader: 1 << 20}
				if _, err := ParseRequest(&again, serializeRequest(r), &o); err != nil {
					t.Fatalf("handler got a request that does not re-parse: %v", err)
				}
				if len(r.Target)%2 == 0 {
					// echo the body, chunked
					var buf [64]byte
					for {
						n, err := r.Body.Read(buf[:])
						w.Write(buf[:n])
						if err != nil {
							var e *Error
							if errors.As(err, &e) && !w.wroteHeader {
								w.WriteErrorPage(e.Status)
							}
							return
						}
					}
				}
				w.WriteErrorPage(404)
			})}
		c := &memConn{in: bytes.NewReader(data)}
		s.ServeConn(c)
		br := bufio.NewReader(&c.out)
		for n := 0; ; n++ {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			// interim responses first
			line, _ := br.Peek(12)
			if bytes.HasPrefix(line, []byte("HTTP/1.1 100")) {
				br.Discard(len("HTTP/1.1 100 Continue\r\n\r\n"))
				continue
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err != nil {
				t.Fatalf("response %d unreadable: %v\n%q", n, err, c.out.String())
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n > calls+1 {
				t.Fatalf("%d responses for %d handler calls", n+1, calls)
			}
		}
	})
}
