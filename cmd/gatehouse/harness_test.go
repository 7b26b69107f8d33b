package main

import (
	"bytes"
	"context"
	"fmt"
	"gatehouse/internal/testproc"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"gatehouse/internal/server"
)

// instance is gatehouse running in-process for a test.
type instance struct {
	t       testing.TB
	dir     string
	sigs    chan os.Signal
	done    chan int
	srv     *server.Server
	stderr  *syncBuffer
	errPath string
	// reloads receives the outcome of each reload.
	reloads chan error
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testResolve maps every name to the loopback address, so configs can
// keep the seed's host names.
func testResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if strings.HasSuffix(host, ".invalid") {
		return nil, fmt.Errorf("lookup %s: no such host", host)
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int { return testproc.FreePort(t) }

// start writes conf (with DIR replaced by a temporary directory) and runs
// gatehouse on it until the test ends.
func start(t testing.TB, conf string) *instance {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	conf = strings.ReplaceAll(conf, "DIR", dir)
	path := filepath.Join(dir, "gatehouse.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, dir: dir, sigs: make(chan os.Signal, 1), done: make(chan int, 1), stderr: &syncBuffer{}, errPath: filepath.Join(dir, "logs/error.log"), reloads: make(chan error, 16)}
	ready := make(chan *server.Server, 1)
	go func() {
		in.done <- run([]string{"-p", dir + "/", "-c", path}, stdio{
			out: &syncBuffer{}, err: in.stderr, resolve: testResolve, signals: in.sigs,
			ready:    func(s *server.Server) { ready <- s },
			reloaded: func(err error) { in.reloads <- err },
		})
	}()
	select {
	case in.srv = <-ready:
	case code := <-in.done:
		t.Fatalf("gatehouse exited with %d before serving:\n%s", code, in.stderr.String())
	}
	t.Cleanup(func() { in.stop() })
	return in
}

// signal delivers sig as the process would receive it.
func (in *instance) signal(sig syscall.Signal) { in.sigs <- sig }

// reload sends HUP and waits for the reload to finish, returning its error.
func (in *instance) reload() error {
	in.sigs <- syscall.SIGHUP
	return <-in.reloads
}

func (in *instance) stop() {
	if in.srv == nil {
		return
	}
	in.sigs <- syscall.SIGQUIT
	<-in.done
	in.srv = nil
}

// errorLog returns the error log so far.
func (in *instance) errorLog() string {
	b, _ := os.ReadFile(in.errPath)
	return string(b)
}
