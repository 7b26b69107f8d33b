package http1

import (
	"io"
	"net"
	"testing"
)

// TestZeroAllocs pins the allocation-free per-request path: parsing both
// ways and a keep-alive exchange through the connection loop.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are not meaningful under -race")
	}
	t.Run("ParseRequest", func(t *testing.T) {
		data := []byte(benchRequest)
		o := DefaultParseOptions()
		var r Request
		if n := testing.AllocsPerRun(100, func() { ParseRequest(&r, data, &o) }); n != 0 {
			t.Fatalf("%v allocs", n)
		}
	})
	t.Run("ParseRequest lower-casing hosts", func(t *testing.T) {
		// the lower-cased copies reuse the request's host buffer
		o := DefaultParseOptions()
		var r Request
		for _, raw := range []string{
			"GET / HTTP/1.1\r\nHost: WWW.Example.COM:8080\r\n\r\n",
			"GET http://WWW.Example.COM/x HTTP/1.1\r\nHost: Other.Example\r\n\r\n",
		} {
			data := []byte(raw)
			if n := testing.AllocsPerRun(100, func() { ParseRequest(&r, data, &o) }); n != 0 {
				t.Fatalf("%q: %v allocs", raw, n)
			}
		}
	})
	t.Run("ParseResponse", func(t *testing.T) {
		data := []byte(benchResponse)
		var r Response
		if n := testing.AllocsPerRun(100, func() { ParseResponse(&r, data, 4096) }); n != 0 {
			t.Fatalf("%v allocs", n)
		}
	})
	t.Run("Exchange", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip(err)
		}
		defer ln.Close()
		cfg := DefaultConfig()
		cfg.KeepaliveRequests = 1 << 30
		s := &Server{Config: cfg, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
			h := w.Header()
			h.ContentType = contentType
			h.ContentLength = int64(len(hello))
			w.Write(hello)
		})}
		go func() {
			c, err := ln.Accept()
			if err == nil {
				s.ServeConn(c)
			}
		}()
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		req := []byte(benchRequest)
		io.WriteString(cl, benchRequest)
		var first [4096]byte
		n, _ := cl.Read(first[:])
		buf := make([]byte, n)
		allocs := testing.AllocsPerRun(200, func() {
			cl.Write(req)
			io.ReadFull(cl, buf)
		})
		if allocs != 0 {
			t.Fatalf("%v allocs per exchange", allocs)
		}
	})
}
