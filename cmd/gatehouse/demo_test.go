package main

import (
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"gatehouse/internal/server"
)

// TestDemo runs "gatehouse demo" and follows its first suggestion: a
// request to the front reaches the app through a backend that verified
// the front's client certificate.
func TestDemo(t *testing.T) {
	out := &syncBuffer{}
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	ready := make(chan *server.Server, 1)
	go func() {
		done <- runDemo(nil, stdio{out: out, err: &syncBuffer{}, signals: sigs, ready: func(s *server.Server) { ready <- s }})
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("demo exited with %d:\n%s", code, out.String())
	}
	defer func() {
		sigs <- syscall.SIGINT
		if code := <-done; code != 0 {
			t.Errorf("demo exit status %d after SIGINT", code)
		}
	}()
	m := regexp.MustCompile(`curl -s (http://127\.0\.0\.1:\d+/upstream/hello)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("demo printed no front URL:\n%s", out.String())
	}
	code, body := get(t, m[1])
	for _, want := range []string{"app received: GET /yourapp/hello", "X-Ssl-Client-Verify: SUCCESS", "X-Ssl-Client-S-Dn: CN=www.example.com,O=gatehouse demo"} {
		if !strings.Contains(body, want) {
			t.Errorf("response lacks %q:\n%d %s", want, code, body)
		}
	}
	if code != 200 {
		t.Errorf("status %d, want 200", code)
	}
}
