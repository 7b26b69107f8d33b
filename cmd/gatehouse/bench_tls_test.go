package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// BenchmarkProxyKeepAliveTLS is BenchmarkProxyKeepAlive with TLS on both
// hops, as scripts/bench.sh runs it: the client talks TLS to gatehouse,
// which forwards over a pooled, verified TLS connection to an upstream
// served by gatehouse itself. One request per iteration on one client
// connection, so the figure is the latency of the whole path (both TLS
// hops' records, syscalls and the proxying); allocations and CPU time
// (cpu-ns/op) are counted for the whole process, client included.
func BenchmarkProxyKeepAliveTLS(b *testing.B) {
	ca := testpki.NewCA(b)
	cert, key := ca.Leaf(testpki.WithDNS("localhost"), testpki.WithIP("127.0.0.1")).Files()
	front, back := freePort(b), freePort(b)
	in := start(b, fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    keepalive_requests 10000000;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    upstream app { server 127.0.0.1:%[1]d; keepalive 16; keepalive_requests 10000000; }
    server {
        listen 127.0.0.1:%[2]d ssl;
        location / {
            proxy_pass https://app;
            proxy_ssl_trusted_certificate %[5]s;
            proxy_ssl_name localhost;
            proxy_ssl_session_reuse on;
        }
    }
    server {
        listen 127.0.0.1:%[1]d ssl;
        location / { return 200 "ok"; }
    }
}
`, back, front, cert, key, ca.CertFile()))
	defer in.stop()
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", front), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
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

// cpuTime is the user and system CPU time of the whole process so far
// (gatehouse's three sides and the client): on a shared machine it varies
// less than wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
