package http1

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
)

func TestSmokeExchange(t *testing.T) {
	s := &Server{Config: DefaultConfig(), Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		body, _ := io.ReadAll(r.Body)
		h := w.Header()
		h.Status = 200
		h.ContentLength = int64(len(body) + len(r.Target))
		w.Write(r.Target)
		w.Write(body)
	})}
	cl, sv := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeConn(sv); close(done) }()
	go io.WriteString(cl, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(cl)
	var sb strings.Builder
	io.Copy(&sb, br)
	<-done
	out := sb.String()
	if !strings.Contains(out, "/aabc") || !strings.Contains(out, "\r\n\r\n/b") || strings.Count(out, "HTTP/1.1 200 OK") != 2 {
		t.Fatalf("got %q", out)
	}
	t.Log(out)
}
