package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// slowUpstream answers each request once release is closed; got receives
// a value when a request has arrived.
type slowUpstream struct {
	ln      net.Listener
	got     chan struct{}
	release chan struct{}
}

func newSlowUpstream(t *testing.T) *slowUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &slowUpstream{ln: ln, got: make(chan struct{}, 8), release: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				u.got <- struct{}{}
				<-u.release
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow")
			}()
		}
	}()
	return u
}

func (u *slowUpstream) port() int { return u.ln.Addr().(*net.TCPAddr).Port }

// shutdownServer starts a Server with "/" answered at once and "/slow/"
// proxied to up.
func shutdownServer(t *testing.T, up *slowUpstream) (*Server, int) {
	port := freePort(t)
	rt, err := load(t, t.TempDir(), fmt.Sprintf(`http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "fast"; }
        location /slow/ { proxy_pass http://127.0.0.1:%d; }
    }
}
`, port, up.port()))
	if err != nil {
		t.Fatal(err)
	}
	s := New(testDeps(t).Log)
	if err := s.Start(rt); err != nil {
		t.Fatal(err)
	}
	return s, port
}

// TestShutdownGraceful is QUIT: the sockets close at once, idle
// keep-alive connections are closed, the request in flight is answered
// in full (with Connection: close), and Shutdown returns after it.
func TestShutdownGraceful(t *testing.T) {
	up := newSlowUpstream(t)
	s, port := shutdownServer(t, up)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idleR := bufio.NewReader(idle)
	if got := get(idle, idleR, false); got != "fast" {
		t.Fatalf("keep-alive request got %q", got)
	}

	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busy.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(busy, "GET /slow/x HTTP/1.1\r\nHost: a\r\n\r\n")
	<-up.got

	done := make(chan struct{})
	go func() {
		s.Shutdown(true)
		close(done)
	}()
	// The idle connection is closed without an answer.
	idle.SetDeadline(time.Now().Add(10 * time.Second))
	if b, err := idleR.ReadByte(); err == nil {
		t.Errorf("idle keep-alive connection got %q instead of a close", b)
	}
	select {
	case <-done:
		t.Fatal("Shutdown(true) returned with a request in flight")
	default:
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the socket still accepts after QUIT")
	}
	close(up.release)
	resp, err := io.ReadAll(busy)
	if err != nil {
		t.Fatalf("in-flight request: %v (%q)", err, resp)
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(resp), "\r\n\r\nslow") || !strings.Contains(string(resp), "\r\nConnection: close\r\n") {
		t.Errorf("in-flight response:\n%s", resp)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown(true) did not return after the last request")
	}
}

// TestShutdownFast is TERM: Shutdown returns at once, in flight or not,
// and the sockets are closed.
func TestShutdownFast(t *testing.T) {
	up := newSlowUpstream(t)
	defer close(up.release)
	s, port := shutdownServer(t, up)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	io.WriteString(busy, "GET /slow/x HTTP/1.1\r\nHost: a\r\n\r\n")
	<-up.got
	done := make(chan struct{})
	go func() {
		s.Shutdown(false)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown(false) waited for the request in flight")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the socket still accepts after TERM")
	}
}
