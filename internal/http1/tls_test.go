package http1

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// TestOverTLS serves keep-alive requests and a lingering-close error over
// a real TLS connection, as the proxy does for https listeners.
func TestOverTLS(t *testing.T) {
	ca := testpki.NewCA(t)
	leaf := ca.Leaf(testpki.WithDNS("localhost"))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
	if err != nil {
		t.Skip("no loopback:", err)
	}
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.ClientMaxBodySize = 100
	s := &Server{Config: cfg, Handler: HandlerFunc(echo)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.ServeConn(c)
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i, want := range []string{"POST /1 abc", "GET /2 "} {
		if i == 0 {
			io.WriteString(c, "POST /1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc")
		} else {
			io.WriteString(c, "GET /2 HTTP/1.1\r\nHost: localhost\r\n\r\n")
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != want || resp.Close {
			t.Fatalf("%d: %q close=%v", i, body, resp.Close)
		}
	}
	// too large: 413, then lingering close while the client keeps sending
	go func() {
		io.WriteString(c, "POST /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n")
		io.WriteString(c, strings.Repeat("x", 100000))
	}()
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 413 || !resp.Close {
		t.Fatalf("%v %+v", err, resp)
	}
	c.Close()
	<-done
}
