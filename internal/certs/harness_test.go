package certs

import (
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// dates matches the dates and times in messages, which change with every
// run because certificates are made at test time.
var dates = regexp.MustCompile(`\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?`)

// checkGolden compares got (dates normalised) with testdata/name, or
// rewrites the file with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	got = dates.ReplaceAllStringFunc(got, func(s string) string {
		if len(s) > 10 {
			return "YYYY-MM-DD hh:mm:ss"
		}
		return "YYYY-MM-DD"
	})
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// backend is an in-process TLS upstream on loopback. Each accepted
// connection is handshaken, answered with "ok" and closed; the server-side
// handshake results are sent on results.
type backend struct {
	addr    string
	results chan serverResult
}

type serverResult struct {
	err   error
	state tls.ConnectionState
}

func startBackend(t *testing.T, cfg *tls.Config) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{addr: ln.Addr().String(), results: make(chan serverResult, 16)}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s := tls.Server(c, cfg)
			_ = s.SetDeadline(time.Now().Add(10 * time.Second))
			err = s.Handshake()
			if err == nil {
				_, err = s.Write([]byte("ok"))
			}
			b.results <- serverResult{err: err, state: s.ConnectionState()}
			s.Close()
		}
	}()
	return b
}

// dial connects to b and runs u's handshake; on success it reads the
// backend's "ok" (so TLS 1.3 session tickets arrive) and returns the
// connection state.
func dial(t *testing.T, u *Upstream, b *backend) (tls.ConnectionState, error) {
	t.Helper()
	return dialAs(t, u, b, b.addr)
}

func dialAs(t *testing.T, u *Upstream, b *backend, peer string) (tls.ConnectionState, error) {
	t.Helper()
	c, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tc, err := u.Handshake(ctx, c, peer)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer tc.Close()
	buf := make([]byte, 2)
	if _, err := io.ReadFull(tc, buf); err != nil {
		return tc.ConnectionState(), u.ReadError(err, tc)
	}
	return tc.ConnectionState(), nil
}

func newUpstream(t *testing.T, o UpstreamOptions) *Upstream {
	t.Helper()
	u, err := NewUpstream(o, NewStore(nil))
	if err != nil {
		t.Fatal(err)
	}
	return u
}
