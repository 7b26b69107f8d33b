// Command benchclient is the handshake load client of scripts/bench.sh: a
// fixed number of workers each open a new TLS connection per request, send
// one "GET / HTTP/1.1" with "Connection: close", read the response to its
// end and close, for a fixed time. With -resume the workers share a
// tls.ClientSessionCache, so that every connection after the first offers a
// session ticket (resumption, as a browser reconnecting); without it every
// connection is a full handshake. wrk cannot resume sessions, and openssl
// s_time is single-threaded, hence this client; the benchmark uses it for
// every proxy alike. The client offers X25519 and P-256 only, as an OpenSSL
// 3.0 client does, so that no proxy is charged for a hybrid post-quantum key
// exchange that another cannot negotiate, and it checks no certificate chain
// (as wrk does not), so that its own CPU time stays small.
//
// It prints one line: "requests N errors N resumed N seconds S rps R".
//
//	benchclient -c 64 -d 5s -resume 127.0.0.1:18443
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	conns := flag.Int("c", 64, "concurrent workers, each with one connection at a time")
	duration := flag.Duration("d", 5*time.Second, "how long to send requests")
	resume := flag.Bool("resume", false, "share a session cache so that connections resume")
	host := flag.String("host", "localhost", "TLS server name and Host header")
	path := flag.String("path", "/", "request path")
	flag.Parse()
	if flag.NArg() != 1 || *conns < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "usage: benchclient [-c N] [-d DURATION] [-resume] HOST:PORT")
		os.Exit(2)
	}
	addr := flag.Arg(0)
	cfg := &tls.Config{
		ServerName:         *host,
		InsecureSkipVerify: true,
		CurvePreferences:   []tls.CurveID{tls.X25519, tls.CurveP256},
	}
	if *resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1024)
	}
	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: " + *host + "\r\nConnection: close\r\n\r\n")
	var requests, errs, resumed atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, 16<<10)
			for time.Now().Before(deadline) {
				did, err := one(addr, cfg, req, br, deadline)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				requests.Add(1)
				if did {
					resumed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if e := firstErr.Load(); e != nil {
		log.Printf("first error: %v", e)
	}
	fmt.Printf("requests %d errors %d resumed %d seconds %.2f rps %.0f\n",
		requests.Load(), errs.Load(), resumed.Load(), secs, float64(requests.Load())/secs)
}

// one sends one request on a new connection and reads the whole response;
// it reports whether the handshake resumed a session.
func one(addr string, cfg *tls.Config, req []byte, br *bufio.Reader, deadline time.Time) (bool, error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false, err
	}
	c := tls.Client(raw, cfg)
	defer c.Close()
	c.SetDeadline(deadline.Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		return false, err
	}
	if _, err := c.Write(req); err != nil {
		return false, err
	}
	br.Reset(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	// Read on to the server's close so that TLS 1.3 session tickets sent
	// after the response reach the cache.
	io.Copy(io.Discard, br)
	return c.ConnectionState().DidResume, nil
}
