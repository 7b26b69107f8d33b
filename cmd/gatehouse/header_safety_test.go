package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// injection is a request whose target decodes to CR LF sequences: through
// "proxy_set_header X-Uri $uri" sent raw it would put a second, complete
// request on the upstream connection, and through add_header or a
// Location it would split the response.
const injection = "GET /inj/%0d%0aX-A:%20b%0d%0a%0d%0aGET%20/evil HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n"

// countingUpstream accepts connections, counts them and records every
// byte it receives, answering each request with a small keep-alive
// response that carries a Location for proxy_redirect to rewrite.
type countingUpstream struct {
	ln    net.Listener
	mu    sync.Mutex
	conns int
	got   strings.Builder
	reqs  chan string
}

func newCountingUpstream(t *testing.T) *countingUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &countingUpstream{ln: ln, reqs: make(chan string, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns++
			u.mu.Unlock()
			go u.serve(c)
		}
	}()
	return u
}

func (u *countingUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := readRawRequest(br)
		if err != nil {
			return
		}
		u.mu.Lock()
		u.got.Write(req)
		u.mu.Unlock()
		u.reqs <- string(req)
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nLocation: http://u/next\r\nContent-Length: 2\r\n\r\nok"); err != nil {
			return
		}
	}
}

func (u *countingUpstream) port() int { return u.ln.Addr().(*net.TCPAddr).Port }

func (u *countingUpstream) seen() (int, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conns, u.got.String()
}

// TestInjectedCRLFNeverReachesTheWire sends the injection request to
// every place a decoded variable can land in a header: it is refused
// with 400 where the value is a plain header value, re-escaped where it
// is a URI, and the upstream sees nothing of it.
func TestInjectedCRLFNeverReachesTheWire(t *testing.T) {
	up := newCountingUpstream(t)
	port := freePort(t)
	in := start(t, frontConf("", port, fmt.Sprintf(`
    upstream b { server 127.0.0.1:%d; keepalive 4; }`, up.port()), `
        server_name example.org;
        location /inj/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Uri $uri;
            proxy_pass http://b;
        }
        location /ok/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Uri $uri;
            proxy_pass http://b;
        }
        location /add/ { add_header X $uri; return 200 "text"; }
        location /ret/ { return 302 http://x$uri; }
        location ~ "^/cap/([\s\S]*)$" { return 301 /to/$1; }
        location /mapped/ { proxy_pass http://b/up/; }
        location /redir/ {
            proxy_redirect http://u/ http://x$uri/;
            proxy_pass http://b;
        }`))
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	resp := exchange(t, addr, injection)
	if statusOf(resp) != 400 {
		t.Fatalf("proxy_set_header X-Uri $uri: got %q, want 400", resp)
	}
	assertNoSplit(t, resp)
	log := in.errorLog()
	want := `client sent a request that puts CR, LF or NUL into header "X-Uri" set by "proxy_set_header" in ` + in.dir + `/gatehouse.conf:`
	if !strings.Contains(log, want) {
		t.Errorf("error log lacks %q:\n%s", want, log)
	}
	// A later, ordinary request is the first thing the upstream sees: the
	// refused one opened no connection and sent no byte.
	if resp := exchange(t, addr, "GET /ok/1 HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n"); statusOf(resp) != 200 {
		t.Fatalf("ordinary request: %q", resp)
	}
	select {
	case <-up.reqs:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream received no request")
	}
	if conns, got := up.seen(); conns != 1 || strings.Contains(got, "evil") || strings.Contains(got, "X-A") || !strings.HasPrefix(got, "GET /ok/1 HTTP/1.1\r\n") {
		t.Errorf("upstream saw %d connections and %q", conns, got)
	}

	resp = exchange(t, addr, strings.Replace(injection, "/inj/", "/add/", 1))
	if statusOf(resp) != 400 {
		t.Errorf("add_header X $uri: got %q, want 400", resp)
	}
	assertNoSplit(t, resp)
	if !strings.Contains(in.errorLog(), `into header "X" set by "add_header" in `) {
		t.Errorf("no refusal line for add_header:\n%s", in.errorLog())
	}

	resp = exchange(t, addr, strings.Replace(injection, "/inj/", "/ret/", 1))
	assertNoSplit(t, resp)
	if head, _ := headerBlock(resp); statusOf(resp) != 302 || !strings.Contains(head+"\r\n", "\r\nLocation: http://x/ret/%0D%0AX-A:%20b%0D%0A%0D%0AGET%20/evil\r\n") {
		t.Errorf("return 302 http://x$uri: got %q", resp)
	}

	// The URI sent upstream re-escapes the decoded path (one request
	// line, one request), and proxy_redirect's $uri is escaped too.
	resp = exchange(t, addr, strings.Replace(injection, "/inj/", "/mapped/", 1))
	if statusOf(resp) != 200 {
		t.Errorf("proxy_pass with a URI part: got %q", resp)
	}
	if req := <-up.reqs; !strings.HasPrefix(req, "GET /up/%0D%0AX-A:%20b%0D%0A%0D%0AGET%20/evil HTTP/1.1\r\n") {
		t.Errorf("upstream request %q", req)
	}
	resp = exchange(t, addr, strings.Replace(injection, "/inj/", "/redir/", 1))
	assertNoSplit(t, resp)
	if head, _ := headerBlock(resp); statusOf(resp) != 200 || !strings.Contains(head+"\r\n", "\r\nLocation: http://x/redir/%0D%0AX-A:%20b%0D%0A%0D%0AGET%20/evil/next\r\n") {
		t.Errorf("proxy_redirect to $uri: got %q", resp)
	}
	<-up.reqs

	resp = exchange(t, addr, strings.Replace(injection, "/inj/", "/cap/", 1))
	assertNoSplit(t, resp)
	if head, _ := headerBlock(resp); statusOf(resp) != 301 || !strings.Contains(head+"\r\n", "/to/%0D%0AX-A:%20b%0D%0A%0D%0AGET%20/evil\r\n") {
		t.Errorf("return 301 /to/$1: got %q", resp)
	}
}

// assertNoSplit fails when a raw response has a header line that is
// not "Name: value" (a split), or carries the injected field.
func assertNoSplit(t *testing.T, resp string) {
	t.Helper()
	head, _, ok := strings.Cut(resp, "\r\n\r\n")
	if !ok {
		t.Fatalf("no complete header in %q", resp)
	}
	lines := strings.Split(head, "\r\n")
	for _, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ": ")
		if !ok || name == "" || strings.ContainsAny(l, "\r\n\x00") || strings.EqualFold(name, "X-A") {
			t.Errorf("split or injected header line %q in %q", l, resp)
		}
	}
}

// TestErrorLogEscapesRequestLine sends a request line with a CR that
// would, written raw, overwrite the visible log line with a fake
// [emerg]: the log gets one line, with the CR as \x0D.
func TestErrorLogEscapesRequestLine(t *testing.T) {
	port := freePort(t)
	in := start(t, frontConf("", port, "", `
        server_name example.org;
        location / { return 200 "ok"; }`))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	const fake = "2025/01/01 00:00:00 [emerg] 1#1: fake"
	resp := exchange(t, addr, "GET /a\r"+fake+" HTTP/1.1\r\nHost: example.org\r\n\r\n")
	if statusOf(resp) != 400 {
		t.Fatalf("got %q, want 400", resp)
	}
	var found string
	for _, l := range strings.Split(in.errorLog(), "\n") {
		if strings.Contains(l, "fake") {
			if found != "" {
				t.Errorf("two lines name the request:\n%s\n%s", found, l)
			}
			found = l
		}
		if strings.Contains(l, "\r") || strings.HasPrefix(l, fake) {
			t.Errorf("forged or raw line %q", l)
		}
	}
	if !strings.Contains(found, `\x0D`+fake) {
		t.Errorf("no escaped request in the log line %q:\n%s", found, in.errorLog())
	}
}
