package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// varsConf logs variables the access log takes from the request, the
// response and the upstream; PORT and UP are replaced, LOG is the log
// file.
const varsConf = `
http {
    log_format v '$status|$remote_user|$binary_remote_addr|$request_length|$sent_http_content_type|$sent_http_content_length|$sent_http_x_own|$sent_http_location|$upstream_cookie_sid|$upstream_cookie_none|$sent_http_connection';
    access_log LOG v;
    server {
        listen 127.0.0.1:PORT;
        location / { add_header X-Own own; return 200 "ok\n"; }
        location /redirect { return 302 /elsewhere; }
        location /up/ { proxy_pass http://127.0.0.1:UP; }
    }
}
`

// varsRequests are sent to nginx and gatehouse; each closes its
// connection.
var varsRequests = []string{
	"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dXNlcjpwYXNz\r\nConnection: close\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dXNlcg==\r\nContent-Length: 5\r\nConnection: close\r\n\r\n12345",
	"GET /redirect HTTP/1.0\r\n\r\n",
	"GET /up/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
}

// varsWant is the log nginx writes for varsRequests, ports and the
// redirect page's length (it names the product) replaced.
const varsWant = `200|user|\x7F\x00\x00\x01|81|text/plain|3|own|-|-|-|close
200|-|\x7F\x00\x00\x01|97|text/plain|3|own|-|-|-|close
302|-|\x7F\x00\x00\x01|26|text/html|N|-|http://127.0.0.1:PORT/elsewhere|-|-|close
200|-|\x7F\x00\x00\x01|50|-|2|-|-|abc|-|close`

// varsLog sends varsRequests to port and returns the log, normalised.
// Both servers write a request's line before they close its connection.
func varsLog(t *testing.T, port int, logPath string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, raw := range varsRequests {
		exchange(t, addr, raw)
	}
	b, _ := os.ReadFile(logPath)
	s := strings.ReplaceAll(strings.TrimSuffix(string(b), "\n"), fmt.Sprintf(":%d/", port), ":PORT/")
	page := regexp.MustCompile(`^(302(\|[^|]*){4}\|)\d+`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = page.ReplaceAllString(l, "${1}N")
	}
	return strings.Join(lines, "\n")
}

func varsUpstream(t *testing.T) *rawUpstream {
	return newRawUpstream(t, nil, false, func([]byte) string {
		return "HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc; Path=/\r\nContent-Length: 2\r\n\r\nup"
	})
}

func varsConfFor(port, up int, log string) string {
	return strings.NewReplacer("PORT", fmt.Sprint(port), "UP", fmt.Sprint(up), "LOG", log).Replace(varsConf)
}

// TestLogVariables: $remote_user, $binary_remote_addr, $request_length,
// $sent_http_* and $upstream_cookie_* (once always empty) log what
// nginx logs (varsWant, taken from nginx).
func TestLogVariables(t *testing.T) {
	up := varsUpstream(t)
	log, port := filepath.Join(t.TempDir(), "gh.log"), freePort(t)
	start(t, "pid DIR/logs/gatehouse.pid;\n"+varsConfFor(port, up.port(), log))
	if got := varsLog(t, port, log); got != varsWant {
		t.Errorf("gatehouse:\n%s\nwant:\n%s", got, varsWant)
	}
}

// TestLogVariablesNginx checks varsWant against nginx.
func TestLogVariablesNginx(t *testing.T) {
	up := varsUpstream(t)
	log, port := filepath.Join(t.TempDir(), "ng.log"), freePort(t)
	startNginx(t, varsConfFor(port, up.port(), log))
	if got := varsLog(t, port, log); got != varsWant {
		t.Errorf("nginx:\n%s\nwant:\n%s", got, varsWant)
	}
}
