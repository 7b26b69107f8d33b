package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestLingeringClose: a 413 sent while the client is still uploading
// reaches the client, because the connection is half-closed and the rest
// of the body read and dropped (nginx's lingering close) instead of being
// closed with unread data, which resets it.
func TestLingeringClose(t *testing.T) {
	port := freePort(t)
	start(t, fmt.Sprintf(`pid DIR/logs/gatehouse.pid;
http {
    access_log off;
    client_max_body_size 10;
    server { listen 127.0.0.1:%d; location / { return 200 "ok"; } }
}
`, port))
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		body := strings.Repeat("x", 256<<10)
		go func() {
			io.WriteString(c, fmt.Sprintf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", len(body)))
			io.WriteString(c, body)
			c.(*net.TCPConn).CloseWrite()
		}()
		resp, err := io.ReadAll(c)
		c.Close()
		if err != nil || !strings.HasPrefix(string(resp), "HTTP/1.1 413 ") {
			t.Fatalf("attempt %d: %v after %q", i, err, resp)
		}
	}
}
