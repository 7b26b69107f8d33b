package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// respHTTP is the http block of the response tests; the upstream answers
// by the last path segment it is asked for.
const respHTTP = `
    upstream b { server 127.0.0.1:UP; }
    server {
        listen 127.0.0.1:FRONT;
        location /r/ { proxy_pass http://b; }
        location /hide/ {
            proxy_hide_header X-Kept;
            proxy_pass_header Server;
            proxy_pass_header Date;
            proxy_pass_header X-Accel-Expires;
            proxy_pass http://b;
        }
        location /one/ { proxy_pass http://b/two/; }
        location /rules/ {
            proxy_redirect http://b/elsewhere/ http://other.example/;
            proxy_redirect http://b/path/ /three/;
            proxy_pass http://b;
        }
        location /off/ { proxy_redirect off; proxy_pass http://b/two/; }
    }
`

const upstreamDate = "Mon, 01 Jan 2001 00:00:00 GMT"

// respCases map the name the upstream is asked for to its answer and
// the header block and body the client must see (Server and Date masked
// unless they came from the upstream; FRONT is the listening port).
var respCases = []struct {
	name, path, method, upstream, head, body string
}{
	{"hidden headers", "/r/hidden", "GET",
		"HTTP/1.1 200 OK\r\nDate: " + upstreamDate + "\r\nServer: up/1\r\nX-Pad: avoid browser bug\r\nX-Accel-Expires: 10\r\nX-Accel-Limit-Rate: 100000\r\nX-Accel-Buffering: no\r\nX-Accel-Charset: utf-8\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\nUpgrade: h2c\r\nTrailer: X-T\r\nContent-Type: text/plain\r\nX-Kept: 1\r\nContent-Length: 2\r\n\r\nok",
		"Server: SERVER\r\nDate: DATE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\nUpgrade: h2c\r\nTrailer: X-T\r\nX-Kept: 1", "ok"},
	{"proxy_hide_header and proxy_pass_header", "/hide/x", "GET",
		"HTTP/1.1 200 OK\r\nDate: " + upstreamDate + "\r\nServer: up/1\r\nX-Accel-Expires: 10\r\nX-Kept: 1\r\nX-Other: 2\r\nContent-Length: 2\r\n\r\nok",
		"Server: up/1\r\nDate: " + upstreamDate + "\r\nContent-Length: 2\r\nConnection: close\r\nX-Accel-Expires: 10\r\nX-Other: 2", "ok"},
	{"proxy_redirect default", "/one/redir", "GET",
		"HTTP/1.1 302 Found\r\nX-Before: 1\r\nLocation: http://b/two/x?y=1\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nLocation: http://front.test:FRONT/one/x?y=1\r\nConnection: close\r\nX-Before: 1", ""},
	{"proxy_redirect applies to Refresh", "/one/refresh", "GET",
		"HTTP/1.1 200 OK\r\nRefresh: 5; url=http://b/two/x\r\nLocation: http://b/two/y\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nLocation: http://front.test:FRONT/one/y\r\nConnection: close\r\nRefresh: 5; url=/one/x", ""},
	{"a Location no rule matches stays as sent", "/one/relative", "GET",
		"HTTP/1.1 301 Moved Permanently\r\nLocation: /two/x\r\nX-After: 1\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nConnection: close\r\nLocation: /two/x\r\nX-After: 1", ""},
	{"proxy_redirect to another absolute URL stays in place", "/rules/elsewhere", "GET",
		"HTTP/1.1 302 Found\r\nX-Before: 1\r\nLocation: http://b/elsewhere/x\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nConnection: close\r\nX-Before: 1\r\nLocation: http://other.example/x", ""},
	{"proxy_redirect to a path is made absolute", "/rules/path", "GET",
		"HTTP/1.1 302 Found\r\nLocation: http://b/path/x\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nLocation: http://front.test:FRONT/three/x\r\nConnection: close", ""},
	{"proxy_redirect off", "/off/noredir", "GET",
		"HTTP/1.1 302 Found\r\nLocation: http://b/two/x\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nConnection: close\r\nLocation: http://b/two/x", ""},
	{"HEAD keeps the length and sends no body", "/r/head", "HEAD",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 10\r\nConnection: close", ""},
	{"204", "/r/nocontent", "GET",
		"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nConnection: close\r\nX-A: 1", ""},
	{"304", "/r/notmodified", "GET",
		"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nConnection: close\r\nETag: \"x\"", ""},
	{"chunked upstream response", "/r/chunked", "GET",
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close", "abcde"},
	{"close-delimited upstream response", "/r/close", "GET",
		"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body",
		"Server: SERVER\r\nDate: DATE\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close", "close-delimited body"},
	{"status line reason is kept", "/r/reason", "GET",
		"HTTP/1.1 299 Custom Reason\r\nContent-Length: 0\r\n\r\n",
		"Server: SERVER\r\nDate: DATE\r\nContent-Length: 0\r\nConnection: close", ""},
}

// unordered names the cases whose header lines are compared as a set.
var unordered = map[string]bool{"proxy_hide_header and proxy_pass_header": true}

func sortLines(s string) string {
	l := strings.Split(s, "\r\n")
	sort.Strings(l)
	return strings.Join(l, "\r\n")
}

var (
	maskServer = regexp.MustCompile(`(?m)^Server: (gatehouse|nginx)[^\r]*`)
	maskDate   = regexp.MustCompile(`(?m)^Date: [A-Z][a-z][a-z], \d\d [A-Z][a-z][a-z] 20[2-9]\d [^\r]*`)
)

// respondByName answers with the respCases entry whose path ends like
// the request's.
func respondByName(req []byte) string {
	line, _, _ := strings.Cut(string(req), "\r\n")
	for _, tc := range respCases {
		name := tc.path[strings.LastIndexByte(tc.path, '/'):]
		if strings.Contains(line, name+" ") {
			return tc.upstream
		}
	}
	return "HTTP/1.1 500 Unknown\r\nContent-Length: 0\r\n\r\n"
}

// checkResponses runs respCases against a front proxy on port.
func checkResponses(t *testing.T, port int) {
	for _, tc := range respCases {
		t.Run(tc.name, func(t *testing.T) {
			raw := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), tc.method+" "+tc.path+" HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
			head, _ := headerBlock(raw)
			head = maskServer.ReplaceAllString(head, "Server: SERVER")
			head = maskDate.ReplaceAllString(head, "Date: DATE")
			want := strings.ReplaceAll(tc.head, "FRONT", fmt.Sprint(port))
			if unordered[tc.name] {
				// gatehouse writes a passed Server or Date where its own
				// goes; nginx keeps the upstream's order
				head, want = sortLines(head), sortLines(want)
			}
			if head != want {
				t.Errorf("client got header\n%q\nwant\n%q", head, want)
			}
			if status, want := raw[:12], "HTTP/1.1 "+tc.upstream[9:12]; status != want {
				t.Errorf("status line %q, want %q", status, want)
			}
			if tc.name == "status line reason is kept" && !strings.HasPrefix(raw, "HTTP/1.1 299 Custom Reason\r\n") {
				t.Errorf("status line %q", raw[:strings.Index(raw, "\r\n")])
			}
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), &http.Request{Method: tc.method})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != tc.body {
				t.Errorf("body %q (%v), want %q", body, err, tc.body)
			}
		})
	}
}

// TestProxyResponse checks what the client receives for various upstream
// responses: hidden and passed headers, redirect rewriting, bodiless
// responses and each body framing.
func TestProxyResponse(t *testing.T) {
	up := newRawUpstream(t, nil, false, respondByName)
	port := freePort(t)
	conf := "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\nhttp {\n    access_log off;\n" + respHTTP + "}\n"
	start(t, strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port)).Replace(conf))
	checkResponses(t, port)
}

// TestProxyResponseNginx runs the same cases through nginx.
func TestProxyResponseNginx(t *testing.T) {
	nginxBinary(t)
	up := newRawUpstream(t, nil, false, respondByName)
	port := freePort(t)
	conf := "http {\n    access_log off;\n" + respHTTP + "}\n"
	startNginx(t, strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port)).Replace(conf))
	checkResponses(t, port)
}

// TestProxyUpstreamFailures checks the status, the one error-log line
// and $upstream_addr / $upstream_status for each way an upstream fails,
// alone and followed by a working peer.
func TestProxyUpstreamFailures(t *testing.T) {
	good := newRawUpstream(t, nil, false, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	refused := freePort(t)
	cases := []struct {
		name    string
		respond func([]byte) string
		status  int
		message string // the error-log message, before " while "
		action  string
		upState string // $upstream_status alone
	}{
		{"read timeout", func([]byte) string { return holdForever }, 504,
			"upstream timed out (110: Connection timed out)", "reading response header from upstream", "504"},
		{"premature close", func([]byte) string { return "" }, 502,
			"upstream prematurely closed connection", "reading response header from upstream", "502"},
		{"invalid header", func([]byte) string { return "HTTP/1.1 200 OK\r\nX\x01Y: 1\r\n\r\n" }, 502,
			`upstream sent invalid header: "X\x01..."`, "reading response header from upstream", "502"},
		{"invalid header value", func([]byte) string { return "HTTP/1.1 200 OK\r\nX-Y: a\x00b\r\n\r\n" }, 502,
			`upstream sent invalid header: "X-Y: a\x00..."`, "reading response header from upstream", "502"},
		{"duplicate Content-Length", func([]byte) string {
			return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok"
		}, 502, `upstream sent duplicate header line: "Content-Length: 2", previous value: "Content-Length: 1"`, "reading response header from upstream", "502"},
		{"unknown Transfer-Encoding", func([]byte) string {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"
		}, 502, `upstream sent unknown "Transfer-Encoding": "gzip"`, "reading response header from upstream", "502"},
		{"101 without Upgrade", func([]byte) string { return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" }, 502,
			`upstream sent "101 Switching Protocols" to a request without "Upgrade"`, "reading response header from upstream", "502"},
		{"connection refused", nil, 502,
			"connect() failed (111: Connection refused)", "connecting to upstream", "502"},
	}
	for _, tc := range cases {
		for _, withGood := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/good peer %v", tc.name, withGood), func(t *testing.T) {
				badPort := refused
				if tc.respond != nil {
					badPort = newRawUpstream(t, nil, false, tc.respond).port()
				}
				servers := fmt.Sprintf("server 127.0.0.1:%d;", badPort)
				if withGood {
					servers += fmt.Sprintf(" server 127.0.0.1:%d;", good.port())
				}
				port := freePort(t)
				in := start(t, fmt.Sprintf(`
events {}
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    log_format up '$status|$upstream_addr|$upstream_status';
    access_log DIR/logs/up.log up;
    upstream b { %s }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_read_timeout 300ms;
            proxy_next_upstream error timeout invalid_header;
            proxy_pass http://b;
        }
    }
}
`, servers, port))
				// The second request is answered after the first one's
				// log line was written.
				addr := fmt.Sprintf("127.0.0.1:%d", port)
				raw := exchange(t, addr, "GET /x HTTP/1.1\r\nHost: front.test\r\n\r\nGET /x HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
				want := tc.status
				wantUp := fmt.Sprintf("%d|127.0.0.1:%d|%s", want, badPort, tc.upState)
				if withGood {
					want = 200
					wantUp = fmt.Sprintf("200|127.0.0.1:%d, 127.0.0.1:%d|%s, 200", badPort, good.port(), tc.upState)
				}
				if got := statusOf(raw); got != want {
					t.Fatalf("status %d, want %d:\n%s\n%s", got, want, raw, in.errorLog())
				}
				log := in.errorLog()
				lines := regexp.MustCompile(`(?m)^.* \[error\] .*$`).FindAllString(log, -1)
				if len(lines) < 1 {
					t.Fatalf("no [error] line:\n%s", log)
				}
				re := regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#\d+: \*\d+ ` + regexp.QuoteMeta(tc.message) +
					` while ` + tc.action + `, client: 127\.0\.0\.1, server: , request: "GET /x HTTP/1\.1", upstream: "http://127\.0\.0\.1:` + fmt.Sprint(badPort) + `/x", host: "front\.test"$`)
				if !re.MatchString(lines[0]) {
					t.Errorf("log line\n%q\ndoes not match\n%s", lines[0], re)
				}
				acc, _ := os.ReadFile(filepath.Join(in.dir, "logs/up.log"))
				if first, _, _ := strings.Cut(string(acc), "\n"); first != wantUp {
					t.Errorf("access log %q, want %q", first, wantUp)
				}
			})
		}
	}
}

// TestProxyBodyReadTimeout: a timeout while the body streams truncates
// the response and logs "while reading upstream".
func TestProxyBodyReadTimeout(t *testing.T) {
	// The upstream keeps the connection open after the partial body.
	up := newRawUpstream(t, nil, true, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab" })
	port := freePort(t)
	in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", up.port()),
		`location / { proxy_read_timeout 300ms; proxy_pass http://b; }`))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /x HTTP/1.1\r\nHost: front.test\r\n\r\n")
	raw, _ := io.ReadAll(c)
	head, body := headerBlock(string(raw))
	if !strings.Contains(head, "Content-Length: 10") || body != "ab" {
		t.Errorf("client got %q, want the header and 2 of 10 bytes, then a close", raw)
	}
	re := regexp.MustCompile(`\[error\] .* upstream timed out \(110: Connection timed out\) while reading upstream, client: 127\.0\.0\.1, server: , request: "GET /x HTTP/1\.1", upstream: "http://127\.0\.0\.1:\d+/x", host: "front\.test"\n`)
	if log := in.errorLog(); !re.MatchString(log) {
		t.Errorf("error log lacks the body timeout line:\n%s", log)
	}
}
