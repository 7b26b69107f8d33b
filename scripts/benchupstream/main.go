// Command benchupstream is the upstream of scripts/bench.sh: HTTPS servers
// that require and verify a client certificate (mTLS), answer /1m with 1 MiB
// and every other path with 100 bytes, and count the TLS connections they accept, so that the
// benchmark can say how many upstream connections and full or resumed
// handshakes each proxy caused. The counts are served as plain text on a
// separate plain-HTTP control address ("conns N full N resumed N").
//
//	benchupstream -cert srv.crt -key srv.key -ca ca.crt -control 127.0.0.1:19000 127.0.0.1:19443 127.0.0.1:19444
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

type counts struct {
	conns, full, resumed atomic.Int64
}

// countingListener counts accepted TCP connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func main() {
	certFile := flag.String("cert", "", "server certificate (PEM)")
	keyFile := flag.String("key", "", "server key (PEM)")
	caFile := flag.String("ca", "", "CA that client certificates must chain to (PEM)")
	control := flag.String("control", "127.0.0.1:19000", "plain-HTTP address serving the counts")
	flag.Parse()
	if flag.NArg() == 0 || *certFile == "" || *keyFile == "" || *caFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		log.Fatalf("%s: no certificates", *caFile)
	}
	var c counts
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		// Called after every handshake, resumed ones included.
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.DidResume {
				c.resumed.Add(1)
			} else {
				c.full.Add(1)
			}
			return nil
		},
	}
	small := []byte(strings.Repeat("0123456789", 9) + "012345678\n")
	big := []byte(strings.Repeat(strings.Repeat("x", 1023)+"\n", 1024))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := small
		if r.URL.Path == "/1m" {
			body = big
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	for _, addr := range flag.Args() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatal(err)
		}
		// Proxies closing idle connections mid-handshake are no news.
		srv := &http.Server{Handler: ok, ErrorLog: log.New(io.Discard, "", 0)}
		go func() { log.Fatal(srv.Serve(tls.NewListener(countingListener{ln, &c.conns}, cfg))) }()
	}
	ctl := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "conns %d full %d resumed %d\n", c.conns.Load(), c.full.Load(), c.resumed.Load())
	})
	log.Fatal(http.ListenAndServe(*control, ctl))
}
