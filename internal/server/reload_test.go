package server

import (
	"bufio"
	"fmt"
	"gatehouse/internal/testproc"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) int { return testproc.FreePort(t) }

// generation builds a Runtime whose servers answer "text" on each port.
func generation(t *testing.T, dir, text string, ports ...int) *Runtime {
	t.Helper()
	var b strings.Builder
	b.WriteString("http {\n    access_log off;\n")
	for _, p := range ports {
		fmt.Fprintf(&b, "    server { listen 127.0.0.1:%d; location / { return 200 \"%s\"; } }\n", p, text)
	}
	b.WriteString("}\n")
	rt, err := load(t, dir, b.String())
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// get sends one request on c and returns the body ("" on any failure).
func get(c net.Conn, br *bufio.Reader, close bool) string {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	conn := ""
	if close {
		conn = "Connection: close\r\n"
	}
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", conn); err != nil {
		return ""
	}
	n := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return ""
		}
		if line == "\r\n" {
			break
		}
		fmt.Sscanf(line, "Content-Length: %d", &n)
	}
	if n < 0 {
		return ""
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return ""
	}
	return string(body)
}

func dialGet(t *testing.T, port int) string {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "refused"
	}
	defer c.Close()
	return get(c, bufio.NewReader(c), true)
}

// TestReloadKeepsListeners: a reload swaps the generation without closing
// the sockets both use: connections made before, during and after the
// swap are all served; an idle keep-alive connection of the old
// generation still gets an answer to a request sent right after the
// swap; a removed address stops listening and an added one starts.
func TestReloadKeepsListeners(t *testing.T) {
	dir := t.TempDir()
	p1, p2, p3 := freePort(t), freePort(t), freePort(t)
	s := New(testDeps(t).Log)
	if err := s.Start(generation(t, dir, "g0", p1, p2)); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(false)
	before := s.Addrs()

	idle, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p1))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idleR := bufio.NewReader(idle)
	if got := get(idle, idleR, false); got != "g0" {
		t.Fatalf("first generation answered %q", got)
	}

	// Clients connect and ask all through the reloads; none may fail.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	var served int
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := dialGet(t, p1)
				mu.Lock()
				served++
				if !strings.HasPrefix(got, "g") {
					failures = append(failures, got)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 1; i <= 10; i++ {
		if err := s.Reload(generation(t, dir, fmt.Sprintf("g%d", i), p1, p2)); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			// The idle connection belongs to g0, which is retiring.
			if got := get(idle, idleR, true); got != "g0" {
				t.Errorf("request on the old generation's idle connection got %q, want g0", got)
			}
		}
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests during reloads failed: %q", len(failures), served, failures)
	}
	after := s.Addrs()
	for k, a := range before {
		if after[k] == nil || after[k].String() != a.String() {
			t.Errorf("socket %s changed across reloads: %v -> %v", k, a, after[k])
		}
	}
	if got := dialGet(t, p1); got != "g10" {
		t.Errorf("after the reloads %q, want g10", got)
	}

	// Remove p2, add p3.
	if err := s.Reload(generation(t, dir, "g11", p1, p3)); err != nil {
		t.Fatal(err)
	}
	if got := dialGet(t, p2); got != "refused" {
		t.Errorf("removed address still answers: %q", got)
	}
	if got := dialGet(t, p3); got != "g11" {
		t.Errorf("added address answers %q, want g11", got)
	}
}

// TestReloadBindFailure: a reload that cannot bind a new address fails
// with nginx's message, keeps the running generation, and leaves no
// half-opened socket behind.
func TestReloadBindFailure(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p3 := busy.Addr().(*net.TCPAddr).Port
	// p2 is bound before p3 whether sockets go in configuration or
	// address order.
	p1, p2 := freePort(t), freePort(t)
	for p2 > p3 {
		p2 = freePort(t)
	}
	s := New(testDeps(t).Log)
	if err := s.Start(generation(t, dir, "g0", p1)); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(false)

	next := generation(t, dir, "g1", p1, p2, p3)
	err = s.Reload(next)
	next.Close()
	want := fmt.Sprintf("bind() to 127.0.0.1:%d failed (98: Address already in use)", p3)
	if err == nil || err.Error() != want {
		t.Fatalf("Reload error %v, want %q", err, want)
	}
	if got := dialGet(t, p1); got != "g0" {
		t.Errorf("after the failed reload %q, want g0", got)
	}
	if got := dialGet(t, p2); got != "refused" {
		t.Errorf("the failed reload left 127.0.0.1:%d listening (%q)", p2, got)
	}
	if _, ok := s.Addrs()[fmt.Sprintf("127.0.0.1:%d", p2)]; ok {
		t.Errorf("the failed reload left 127.0.0.1:%d in the server's sockets", p2)
	}
}
