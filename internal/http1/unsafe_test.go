package http1

import (
	"errors"
	"io"
	"net"
	"testing"
)

// TestWriteHeaderRefusesUnsafeFields proves the response writer never puts
// a CR, LF or NUL inside a field on the wire, whichever part of the
// header carries it: nothing is sent and the connection is dropped.
func TestWriteHeaderRefusesUnsafeFields(t *testing.T) {
	bad := []byte("a\r\nX-Injected: 1")
	cases := []struct {
		name string
		set  func(h *ResponseHeader)
	}{
		{"value", func(h *ResponseHeader) { h.Header = append(h.Header, Header{Name: []byte("X"), Value: bad}) }},
		{"name", func(h *ResponseHeader) { h.Header = append(h.Header, Header{Name: bad, Value: []byte("v")}) }},
		{"lone LF", func(h *ResponseHeader) { h.Header = append(h.Header, Header{Name: []byte("X"), Value: []byte("a\nb")}) }},
		{"lone CR", func(h *ResponseHeader) { h.Header = append(h.Header, Header{Name: []byte("X"), Value: []byte("a\rb")}) }},
		{"NUL", func(h *ResponseHeader) {
			h.Header = append(h.Header, Header{Name: []byte("X"), Value: []byte("a\x00b")})
		}},
		{"location", func(h *ResponseHeader) { h.Status = 302; h.Location = bad }},
		{"content type", func(h *ResponseHeader) { h.ContentType = bad }},
		{"reason", func(h *ResponseHeader) { h.Reason = bad }},
		{"server", func(h *ResponseHeader) { h.Server = bad }},
		{"date", func(h *ResponseHeader) { h.Date = bad }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := make(chan error, 1)
			p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
				c.set(w.Header())
				err := w.WriteHeader()
				if err == nil {
					_, err = w.Write([]byte("body"))
				}
				errs <- err
			})
			p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			if got := p.closed(); got != "" {
				t.Errorf("sent %q", got)
			}
			if err := <-errs; !errors.Is(err, ErrUnsafeHeader) {
				t.Errorf("WriteHeader: %v, want ErrUnsafeHeader", err)
			}
		})
	}
	t.Run("clean header passes", func(t *testing.T) {
		p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
			h := w.Header()
			h.Status, h.Location, h.ContentLength = 302, []byte("http://a/b"), 0
			h.Header = append(h.Header, Header{Name: []byte("X"), Value: []byte("tab\tok")})
			_ = w.WriteHeader()
		})
		p.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, _ := p.response("GET")
		if resp.StatusCode != 302 || resp.Header.Get("X") != "tab\tok" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header)
		}
	})
}

// TestUpstreamRequestRefusesUnsafeFields proves the upstream request
// writer sends nothing when the request line or a field carries CR, LF
// or NUL, and that the request fails with ErrUnsafeHeader.
func TestUpstreamRequestRefusesUnsafeFields(t *testing.T) {
	cases := []struct {
		name       string
		uri, value string
	}{
		{"value", "/x", "v\r\n\r\nGET /evil HTTP/1.1"},
		{"uri", "/x\r\nX: 1", "v"},
		{"NUL", "/x", "v\x00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := net.Pipe()
			o := &UpstreamOptions{BufferSize: 4096}
			u := o.Conn(a)
			got := make(chan string, 1)
			go func() {
				all, _ := io.ReadAll(b)
				got <- string(all)
			}()
			u.StartRequest([]byte("GET"), []byte(c.uri), true)
			u.AddHeaderString("Host", "backend")
			u.AddHeader([]byte("X-Uri"), []byte(c.value))
			if err := u.EndHeader(4, false); !errors.Is(err, ErrUnsafeHeader) {
				t.Errorf("EndHeader: %v", err)
			}
			if _, err := u.Write([]byte("body")); !errors.Is(err, ErrUnsafeHeader) {
				t.Errorf("Write: %v", err)
			}
			if err := u.FinishRequest(); !errors.Is(err, ErrUnsafeHeader) {
				t.Errorf("FinishRequest: %v", err)
			}
			if u.Reusable() {
				t.Error("connection reusable after a refused request")
			}
			u.Release()
			if s := <-got; s != "" {
				t.Errorf("upstream received %q", s)
			}
		})
	}
}
