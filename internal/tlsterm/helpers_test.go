package tlsterm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/variables"
)

// result is what one in-process handshake produced on both sides.
type result struct {
	info      *Info
	serverErr error
	clientErr error
	client    tls.ConnectionState
}

// nameTable is a tiny stand-in for the router: exact names and "*.x"
// wildcards, enough to exercise the SNI plumbing.
func nameTable(names map[string]int) func([]byte) (int, bool) {
	return func(b []byte) (int, bool) {
		h := string(b)
		if i, ok := names[h]; ok {
			return i, true
		}
		for k, i := range names {
			if strings.HasPrefix(k, "*.") && strings.HasSuffix(h, k[1:]) {
				return i, true
			}
		}
		return 0, false
	}
}

// handshake runs one real TLS handshake over loopback TCP between l and a
// client using cfg. After a successful handshake the server writes one
// byte and the client reads it, so TLS 1.3 session tickets reach the
// client's cache before the connection is closed.
func handshake(t testing.TB, l *Listener, cfg *tls.Config) result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	type srvOut struct {
		info *Info
		err  error
	}
	done := make(chan srvOut, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- srvOut{err: err}
			return
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
		c := l.Server(raw)
		if err := c.HandshakeContext(ctx); err != nil {
			done <- srvOut{err: err}
			return
		}
		info := l.Info(c)
		if _, err := c.Write([]byte{'x'}); err != nil {
			done <- srvOut{info: info, err: err}
			return
		}
		// Wait for the client to close so that tickets are not cut off.
		var b [1]byte
		_, _ = c.Read(b[:])
		done <- srvOut{info: info}
	}()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, cfg)
	var r result
	r.clientErr = c.HandshakeContext(ctx)
	if r.clientErr == nil {
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			r.clientErr = err
		}
		r.client = c.ConnectionState()
	}
	raw.Close()
	out := <-done
	r.info, r.serverErr = out.info, out.err
	return r
}

// clientConfig trusts root and sends sni (empty: none).
func clientConfig(root *x509.CertPool, sni string) *tls.Config {
	return &tls.Config{RootCAs: root, ServerName: sni, InsecureSkipVerify: sni == ""}
}

// varString evaluates one variable for tests; a variable not found is
// empty, as nginx interpolates it into a string.
func varString(t *testing.T, i *Info, id variables.ID) string {
	t.Helper()
	if _, ok := variables.SSLIndex(id); !ok && id != variables.HTTPS {
		t.Fatalf("variable %d is not a TLS variable", id)
	}
	v, _ := i.AppendVar(nil, id)
	return string(v)
}
