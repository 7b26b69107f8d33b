package main

import (
	"crypto/tls"
	"fmt"
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
	runKeepAlive(b, in, c)
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
