package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// wsUpstream is a WebSocket-style upstream: it answers an Upgrade request
// with 101 and then echoes bytes (path /ws/echo) or says "bye" and closes
// (/ws/bye). Each request's bytes go to reqs; ended receives once the
// upstream side of a tunnel saw its end (EOF or error).
type wsUpstream struct {
	ln    net.Listener
	reqs  chan string
	ended chan struct{}
}

func newWSUpstream(t *testing.T) *wsUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &wsUpstream{ln: ln, reqs: make(chan string, 16), ended: make(chan struct{}, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	return u
}

func (u *wsUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := readRawRequest(br)
	if err != nil {
		return
	}
	u.reqs <- string(req)
	if !strings.Contains(string(req), "\r\nUpgrade: websocket\r\n") {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		return
	}
	io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
	if strings.HasPrefix(string(req), "GET /ws/bye ") {
		io.WriteString(c, "bye")
		return
	}
	io.Copy(c, br) // echo, including bytes that came with the header
	u.ended <- struct{}{}
}

const wsLocation = `
        location /ws/ {
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 500ms;
            proxy_pass http://b;
        }
        location /plain/ { proxy_pass http://b; }
`

const wsRequest = "GET /ws/echo HTTP/1.1\r\nHost: front.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// wsOpen sends req plus early bytes and reads the response header.
func wsOpen(t *testing.T, addr, req, early string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req+early); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the response header: %v (%q)", err, head.String())
		}
		if line == "\r\n" {
			return c, br, head.String()
		}
		head.WriteString(line)
	}
}

func readN(t *testing.T, br *bufio.Reader, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatalf("reading %d tunnelled bytes: %v (got %q)", n, err, b)
	}
	return string(b)
}

// checkTunnel drives the echo and close cases against a front proxy.
func checkTunnel(t *testing.T, u *wsUpstream, addr string) {
	t.Run("echo both ways, client closes", func(t *testing.T) {
		c, br, head := wsOpen(t, addr, wsRequest, "early")
		for _, want := range []string{"HTTP/1.1 101 Switching Protocols\r\n", "\r\nUpgrade: websocket\r\n", "\r\nConnection: upgrade\r\n", "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"} {
			if !strings.Contains(head, want) {
				t.Errorf("101 header lacks %q:\n%s", want, head)
			}
		}
		if strings.Contains(head, "Content-Length") || strings.Contains(head, "Transfer-Encoding") {
			t.Errorf("101 header with body framing:\n%s", head)
		}
		got := <-u.reqs
		if want := "GET /ws/echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nHost: b\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"; got != want {
			t.Errorf("upstream received\n%q\nwant\n%q", got, want)
		}
		if got := readN(t, br, 5); got != "early" {
			t.Errorf("bytes sent with the request header came back as %q", got)
		}
		for _, msg := range []string{"ping", strings.Repeat("x", 100000)} {
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatal(err)
			}
			if got := readN(t, br, len(msg)); got != msg {
				t.Errorf("echo of %d bytes differs", len(msg))
			}
		}
		c.(*net.TCPConn).CloseWrite()
		select {
		case <-u.ended:
		case <-time.After(5 * time.Second):
			t.Fatal("the upstream side stayed open after the client closed")
		}
		if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
			t.Errorf("after the client's close: %q, %v; want EOF", rest, err)
		}
	})
	t.Run("upstream closes", func(t *testing.T) {
		_, br, head := wsOpen(t, addr, strings.Replace(wsRequest, "/ws/echo", "/ws/bye", 1), "")
		<-u.reqs
		if !strings.HasPrefix(head, "HTTP/1.1 101 ") {
			t.Fatalf("response %q", head)
		}
		if rest, err := io.ReadAll(br); err != nil || string(rest) != "bye" {
			t.Errorf("client read %q, %v; want \"bye\" then EOF", rest, err)
		}
	})
	t.Run("without proxy_set_header Upgrade", func(t *testing.T) {
		// The location does not pass Upgrade: the upstream sees an
		// ordinary request and answers it.
		_, _, head := wsOpen(t, addr, strings.Replace(wsRequest, "/ws/echo", "/plain/echo", 1), "")
		if got := <-u.reqs; strings.Contains(got, "Upgrade") {
			t.Errorf("Upgrade forwarded by a location that does not set it:\n%q", got)
		}
		if !strings.HasPrefix(head, "HTTP/1.1 400 ") {
			t.Errorf("response %q", head)
		}
	})
}

// TestProxyWebSocket tunnels a WebSocket-style upgrade through gatehouse.
func TestProxyWebSocket(t *testing.T) {
	u := newWSUpstream(t)
	port := freePort(t)
	in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", u.ln.Addr().(*net.TCPAddr).Port), wsLocation))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	checkTunnel(t, u, addr)

	t.Run("traffic keeps the tunnel open past proxy_read_timeout", func(t *testing.T) {
		c, br, _ := wsOpen(t, addr, wsRequest, "")
		<-u.reqs
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		begin := time.Now()
		for i := 0; i < 6; i++ {
			<-tick.C
			if _, err := io.WriteString(c, "m"); err != nil {
				t.Fatal(err)
			}
			if got := readN(t, br, 1); got != "m" {
				t.Fatalf("message %d came back as %q", i, got)
			}
		}
		if time.Since(begin) < 500*time.Millisecond {
			t.Fatal("the exchange was shorter than proxy_read_timeout; the test proves nothing")
		}
		c.Close()
		<-u.ended
	})
	t.Run("idle tunnel is closed after proxy_read_timeout", func(t *testing.T) {
		_, br, _ := wsOpen(t, addr, wsRequest, "")
		<-u.reqs
		begin := time.Now()
		if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
			t.Errorf("idle tunnel: %q, %v; want EOF", rest, err)
		}
		if d := time.Since(begin); d < 400*time.Millisecond {
			t.Errorf("closed after %v, before proxy_read_timeout (500ms)", d)
		}
		select {
		case <-u.ended:
		case <-time.After(5 * time.Second):
			t.Fatal("the upstream side stayed open")
		}
		re := regexp.MustCompile(`\[error\] \d+#\d+: \*\d+ upstream timed out \(110: Connection timed out\) while proxying upgraded connection, client: 127\.0\.0\.1, server: , request: "GET /ws/echo HTTP/1\.1", upstream: "http://127\.0\.0\.1:\d+/ws/echo", host: "front\.test"\n`)
		if log := in.errorLog(); !re.MatchString(log) {
			t.Errorf("error log lacks the tunnel timeout line:\n%s", log)
		}
	})
	t.Run("101 to a request without Upgrade is 502", func(t *testing.T) {
		// The location passes Upgrade from the client; this client sends
		// none but the upstream (wrongly) switches anyway.
		bad := newRawUpstream(t, nil, false, func([]byte) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		})
		port := freePort(t)
		in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", bad.port()), wsLocation))
		raw := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), "GET /ws/x HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
		if statusOf(raw) != 502 {
			t.Errorf("client got %q, want 502", raw)
		}
		if log := in.errorLog(); !strings.Contains(log, `upstream sent "101 Switching Protocols" to a request without "Upgrade" while reading response header from upstream`) {
			t.Errorf("error log:\n%s", log)
		}
	})
}

// TestProxyWebSocketNginx runs the tunnel cases through nginx.
func TestProxyWebSocketNginx(t *testing.T) {
	nginxBinary(t)
	u := newWSUpstream(t)
	port := freePort(t)
	startNginx(t, fmt.Sprintf(`
http {
    access_log off;
    upstream b { server 127.0.0.1:%d; }
    server {
        listen 127.0.0.1:%d;
        %s
    }
}
`, u.ln.Addr().(*net.TCPAddr).Port, port, wsLocation))
	checkTunnel(t, u, fmt.Sprintf("127.0.0.1:%d", port))
}
