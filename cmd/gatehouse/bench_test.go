package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"testing"
)

// BenchmarkProxyKeepAlive measures one small keep-alive request through
// gatehouse's whole request path (parse, route, proxy to a pooled
// upstream connection, stream the response back) against an upstream
// served by gatehouse itself. Allocations are counted for the whole
// process, client included (which allocates nothing).
func BenchmarkProxyKeepAlive(b *testing.B) {
	front, back := freePort(b), freePort(b)
	in := start(b, fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    keepalive_requests 10000000;
    upstream app { server 127.0.0.1:%d; keepalive 16; keepalive_requests 10000000; }
    server {
        listen 127.0.0.1:%d;
        location / { proxy_pass http://app; }
    }
    server {
        listen 127.0.0.1:%[1]d;
        location / { return 200 "ok"; }
    }
}
`, back, front))
	defer in.stop()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", front))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	runKeepAlive(b, in, c)
}

// runKeepAlive sends small keep-alive requests over c, b.N of them timed
// after a warm-up, reading each response to its end. The client
// allocates nothing, so the allocations reported are gatehouse's. It also
// reports the process's CPU time per request, which varies less than wall
// time on a shared machine.
func runKeepAlive(b *testing.B, in *instance, c net.Conn) {
	req := []byte("GET /x HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n")
	br := bufio.NewReaderSize(c, 4096)
	body := make([]byte, 64)
	roundTrip := func() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		n := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatalf("%v; error log:\n%s", err, in.errorLog())
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if n < 0 || n > len(body) {
			b.Fatalf("response without a small Content-Length (%d)", n)
		}
		if _, err := readFull(br, body[:n]); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		roundTrip()
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		roundTrip()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

func readFull(r *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
