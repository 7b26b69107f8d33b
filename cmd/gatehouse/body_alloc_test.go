package main

import (
	"bufio"
	"fmt"
	"net"
	"testing"
)

// TestProxyBodyAlloc checks that keep-alive proxied requests allocate
// nothing per request, with no body and with bodies that fit in
// client_body_buffer_size (Content-Length or chunked), through a pooled
// upstream connection to gatehouse itself. Allocations are counted for
// the whole process, the client's included.
func TestProxyBodyAlloc(t *testing.T) {
	if directivesRace {
		t.Skip("allocation counts are meaningless under -race; the test script reruns *Alloc* tests without it")
	}
	front, back := freePort(t), freePort(t)
	start(t, fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_buffer_size 16k;
    upstream app { server 127.0.0.1:%d; keepalive 16; keepalive_requests 10000000; }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
    server {
        listen 127.0.0.1:%[1]d;
        location / { return 200 "ok"; }
    }
}
`, back, front))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", front))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	resp := make([]byte, 64)
	small, full := bodyOf(100, 1), bodyOf(16<<10, 2)
	cases := []struct {
		name string
		req  string
	}{
		{"no body", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"100 bytes", "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + string(small)},
		{"buffer size", "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 16384\r\n\r\n" + string(full)},
		{"chunked", "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + string(chunk(small, 30))},
	}
	for _, tc := range cases {
		req := []byte(tc.req)
		assertNoAllocsPerRequest(t, c, br, resp, tc.name, req, 2)
	}
}
