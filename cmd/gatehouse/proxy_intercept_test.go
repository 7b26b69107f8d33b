package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"gatehouse/internal/testproc"
)

// interceptHTTP is the http block of the proxy_intercept_errors tests;
// the upstream answers by the path's last segment (interceptUpstream).
const interceptHTTP = `
    upstream b { server 127.0.0.1:UP; }
    server {
        listen 127.0.0.1:FRONT;
        location /i/ {
            proxy_intercept_errors on;
            error_page 404 http://err.test/404;
            error_page 401 http://err.test/login;
            error_page 503 =301 http://err.test/down;
            error_page 302 http://err.test/302;
            error_page 304 http://err.test/304;
            proxy_pass http://b;
        }
        location /n/ {
            error_page 404 http://err.test/404;
            proxy_pass http://b;
        }
    }
`

// interceptUpstream answers by name: each response carries a body the
// client must not see when the response is intercepted.
func interceptUpstream(req []byte) string {
	line, _, _ := strings.Cut(string(req), "\r\n")
	resp := func(status, extra string) string {
		return "HTTP/1.1 " + status + "\r\nX-Up: 1\r\n" + extra + "Content-Length: 13\r\n\r\nupstream body"
	}
	switch {
	case strings.Contains(line, "/notfound "):
		return resp("404 Not Found", "")
	case strings.Contains(line, "/auth "):
		return resp("401 Unauthorized", "WWW-Authenticate: Basic realm=\"a\"\r\nWWW-Authenticate: Bearer\r\n")
	case strings.Contains(line, "/down "):
		return resp("503 Service Unavailable", "")
	case strings.Contains(line, "/moved "):
		return resp("302 Found", "Location: http://up.test/elsewhere\r\n")
	case strings.Contains(line, "/notmodified "):
		return "HTTP/1.1 304 Not Modified\r\nX-Up: 1\r\n\r\n"
	case strings.Contains(line, "/boom "):
		return resp("500 Internal Server Error", "")
	}
	return resp("200 OK", "")
}

// interceptCases are what the client sees: the status, the Location and
// WWW-Authenticate fields, X-Up (set only by the upstream) and whether
// the upstream's body came through.
var interceptCases = []struct {
	name, path        string
	status            int
	location, wwwAuth string
	upstream          bool // the upstream's response passed through
}{
	{"404 with an error_page", "/i/notfound", 302, "http://err.test/404", "", false},
	{"401 keeps WWW-Authenticate", "/i/auth", 302, "http://err.test/login", `Basic realm="a"|Bearer`, false},
	{"=code", "/i/down", 301, "http://err.test/down", "", false},
	{"a redirect is intercepted too", "/i/moved", 302, "http://err.test/302", "", false},
	{"304 is a special response", "/i/notmodified", 302, "http://err.test/304", "", false},
	{"500 without an error_page passes", "/i/boom", 500, "", "", true},
	{"200 passes", "/i/ok", 200, "", "", true},
	{"not intercepted without the directive", "/n/notfound", 404, "", "", true},
}

// checkIntercept runs interceptCases against a proxy on port; with
// firstAuth only the first WWW-Authenticate of a 401 is expected.
func checkIntercept(t *testing.T, port int, firstAuth bool) {
	for _, tc := range interceptCases {
		t.Run(tc.name, func(t *testing.T) {
			raw := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), "GET "+tc.path+" HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
			if err != nil {
				t.Fatalf("%v in %q", err, raw)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Location"); got != tc.location && !(tc.upstream && tc.location == "") {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			want := tc.wwwAuth
			if firstAuth {
				want, _, _ = strings.Cut(want, "|")
			}
			if got := strings.Join(resp.Header.Values("WWW-Authenticate"), "|"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
			passed := resp.Header.Get("X-Up") == "1"
			if passed != tc.upstream || (string(body) == "upstream body") != tc.upstream {
				t.Errorf("upstream response passed: header %v, body %q; want %v", passed, body, tc.upstream)
			}
		})
	}
}

// TestProxyInterceptErrors checks proxy_intercept_errors with error_page
// end to end.
func TestProxyInterceptErrors(t *testing.T) {
	up := newRawUpstream(t, nil, false, interceptUpstream)
	port := freePort(t)
	conf := "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\nhttp {\n    access_log off;\n" + interceptHTTP + "}\n"
	start(t, strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port)).Replace(conf))
	checkIntercept(t, port, false)
}

// TestProxyInterceptErrorsNginx runs the same cases through nginx.
// nginx before 1.23 kept one WWW-Authenticate field of an upstream's
// 401 (1.23 made them a list, and 1.28 copies them all, as gatehouse).
func TestProxyInterceptErrorsNginx(t *testing.T) {
	bin := nginxBinary(t)
	version, err := testproc.CombinedOutput(t, exec.Command(bin, "-v"))
	if err != nil {
		t.Fatalf("nginx -v: %v", err)
	}
	firstAuth := strings.Contains(string(version), "nginx/1.22.") || strings.Contains(string(version), "nginx/1.21.")
	up := newRawUpstream(t, nil, false, interceptUpstream)
	port := freePort(t)
	conf := "http {\n    access_log off;\n" + interceptHTTP + "}\n"
	startNginx(t, strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port)).Replace(conf))
	checkIntercept(t, port, firstAuth)
}

// TestProxyInterceptKeepAlive checks what becomes of the upstream
// connection of an intercepted response: kept alive when the response
// had no body, closed when it had one, which the proxy did not read.
func TestProxyInterceptKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepts atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := readRawRequest(br)
					if err != nil {
						return
					}
					line, _, _ := strings.Cut(string(req), "\r\n")
					resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
					switch {
					case strings.Contains(line, "/empty "):
						resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
					case strings.Contains(line, "/notfound "):
						resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\nupstream body"
					}
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	port := freePort(t)
	start(t, frontConf("", port, fmt.Sprintf("upstream b { server %s; }", ln.Addr()),
		`location /i/ { proxy_intercept_errors on; error_page 404 http://err.test/404; proxy_pass http://b; }`))
	for i, tc := range []struct {
		path    string
		status  int
		accepts int32
	}{
		{"/i/empty", 302, 1},
		{"/i/empty", 302, 1},    // the same connection again
		{"/i/notfound", 302, 1}, // still that one, closed afterwards
		{"/i/notfound", 302, 2},
		{"/i/ok", 200, 3},
	} {
		raw := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), "GET "+tc.path+" HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
		if got := statusOf(raw); got != tc.status {
			t.Fatalf("request %d %s: status %d, want %d:\n%s", i, tc.path, got, tc.status, raw)
		}
		if got := accepts.Load(); got != tc.accepts {
			t.Errorf("request %d %s: %d upstream connections so far, want %d", i, tc.path, got, tc.accepts)
		}
	}
}
