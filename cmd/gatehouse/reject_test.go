package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// rejectConf logs every request of two servers on one port in one
// access log; PORT is replaced.
const rejectConf = `
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log info;
http {
    log_format st '$status $body_bytes_sent $bytes_sent "$request" "$host" $server_name';
    # every variable that needs the response, for a refused request too
    log_format all '$status $body_bytes_sent $bytes_sent $connection $connection_requests $sent_http_content_type $request_time $request_length $upstream_status';
    access_log DIR/logs/access.log st;
    access_log DIR/logs/all.log all;
    server {
        listen 127.0.0.1:PORT;
        server_name one.example;
        location / { return 200 "ok\n"; }
        location /close { return 444; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name two.example;
        location / { return 200 "two\n"; }
    }
}
`

// TestRejectedRequestsLogged: requests the codec refuses get an access
// log line (nginx writes one) with the status and sizes of the error
// response, in the log of the server their Host names, and an error log
// line with nginx's context; a request answered by closing the
// connection is logged with its status, not 000.
func TestRejectedRequestsLogged(t *testing.T) {
	port := freePort(t)
	in := start(t, strings.ReplaceAll(rejectConf, "PORT", strconv.Itoa(port)))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	tests := []struct {
		raw     string
		request string // $request and "$host" $server_name as logged
		errLine string // the error log must have this
	}{
		{"get / HTTP/1.1\r\n\r\n", `"get / HTTP/1.1" "one.example" one.example`,
			`client sent invalid method while reading client request line, client: 127.0.0.1, server: one.example, request: "get / HTTP/1.1"`},
		{"GET / HTTP/1.1\r\nHost: two.example\r\nHost: b\r\n\r\n", `"GET / HTTP/1.1" "two.example" two.example`,
			`client sent duplicate host header: "Host: b", previous value: "Host: two.example" while reading client request headers, client: 127.0.0.1, server: two.example, request: "GET / HTTP/1.1", host: "two.example"`},
		{"GET / HTTP/1.1\r\n\r\n", `"GET / HTTP/1.1" "one.example" one.example`,
			`client sent HTTP/1.1 request without "Host" header while reading client request headers`},
		{"TRACE / HTTP/1.1\r\nHost: two.example\r\n\r\n", `"TRACE / HTTP/1.1" "two.example" two.example`,
			`client sent TRACE method while reading client request headers`},
		{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", `"GET / HTTP/2.0" "one.example" one.example`,
			`client sent invalid version while reading client request line`},
		{"HEAD / HTTP/1.1\r\nHost: two.example\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", `"HEAD / HTTP/1.1" "two.example" two.example`,
			`client sent too long header line: "X: aaaaaaaa`},
		{"GET /close HTTP/1.1\r\nHost: one.example\r\n\r\n", `"GET /close HTTP/1.1" "one.example" one.example`, ""},
	}
	for i, tt := range tests {
		resp := exchange(t, addr, tt.raw)
		status := statusOf(resp)
		if tt.errLine == "" {
			status = 444
			if resp != "" {
				t.Errorf("%q: return 444 sent %q", tt.raw, resp)
			}
		}
		_, body := headerBlock(resp)
		want := fmt.Sprintf("%d %d %d %s", status, len(body), len(resp), tt.request)
		// The connection closes after the line is written.
		b, _ := os.ReadFile(filepath.Join(in.dir, "logs/access.log"))
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != i+1 || lines[i] != want {
			t.Errorf("%q: access log line %d is %q, want %q (log: %q)", tt.raw, i+1, lines[len(lines)-1], want, b)
		}
		if tt.errLine != "" && !strings.Contains(in.errorLog(), tt.errLine) {
			t.Errorf("%q: error log lacks %q:\n%s", tt.raw, tt.errLine, in.errorLog())
		}
	}
}

// TestPlainHTTPToTLSPortErrorPage: the 497 answer to plain HTTP on an
// ssl port comes from the server Host names, through its error_page
// 497 (the usual redirect to https), and is logged in its access log.
func TestPlainHTTPToTLSPortErrorPage(t *testing.T) {
	ca := testpki.NewCA(t)
	cert, key := ca.Leaf(testpki.WithDNS("localhost")).Files()
	port := freePort(t)
	in := start(t, fmt.Sprintf(`pid DIR/logs/gatehouse.pid;
http {
    log_format st '$status "$request" $server_name';
    access_log DIR/logs/access.log st;
    ssl_certificate %s;
    ssl_certificate_key %s;
    server { listen 127.0.0.1:%d ssl; server_name one.example; location / { return 200; } }
    server { listen 127.0.0.1:%[3]d ssl; server_name two.example;
        error_page 497 =301 https://$host:$server_port$request_uri;
        location / { return 200; } }
}
`, cert, key, port))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	resp := exchange(t, addr, "GET /x?y=1 HTTP/1.1\r\nHost: two.example\r\nConnection: close\r\n\r\n")
	if statusOf(resp) != 301 || !strings.Contains(resp, fmt.Sprintf("\r\nLocation: https://two.example:%d/x?y=1\r\n", port)) {
		t.Errorf("error_page 497 not applied:\n%s", resp)
	}
	resp = exchange(t, addr, "GET / HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n")
	if statusOf(resp) != 400 || !strings.Contains(resp, "The plain HTTP request was sent to HTTPS port") {
		t.Errorf("plain request without error_page 497:\n%s", resp)
	}
	b, _ := os.ReadFile(filepath.Join(in.dir, "logs/access.log"))
	if want := "301 \"GET /x?y=1 HTTP/1.1\" two.example\n400 \"GET / HTTP/1.1\" one.example\n"; string(b) != want {
		t.Errorf("access log %q, want %q", b, want)
	}
}

// TestServerAndLocationErrorLog: error_log inside a server or location
// receives that server's or location's messages at its own level; the
// main error log keeps the rest.
func TestServerAndLocationErrorLog(t *testing.T) {
	port, dead := freePort(t), freePort(t)
	in := start(t, fmt.Sprintf(`pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log error;
http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        server_name one.example;
        error_log DIR/logs/srv.log info;
        location / { return 200; }
        location /up/ {
            error_log DIR/logs/loc.log warn;
            proxy_pass http://127.0.0.1:%d;
        }
    }
}
`, port, dead))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	exchange(t, addr, "GET /../x HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n")
	exchange(t, addr, "GET / HTTP/1.1\r\nHost: one.example\r\nHost: b\r\n\r\n")
	if got := statusOf(exchange(t, addr, "GET /up/x HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n")); got != 502 {
		t.Fatalf("status %d, want 502", got)
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(in.dir, "logs", name))
		return string(b)
	}
	srv, loc, main := read("srv.log"), read("loc.log"), read("error.log")
	for _, want := range []string{
		`[info] `, `client sent invalid request while reading client request line, client: 127.0.0.1, server: one.example, request: "GET /../x HTTP/1.1"` + "\n",
		`client sent duplicate host header: "Host: b", previous value: "Host: one.example" while reading client request headers`,
	} {
		if !strings.Contains(srv, want) {
			t.Errorf("srv.log lacks %q:\n%s", want, srv)
		}
	}
	if !strings.Contains(loc, `[error] `) || !strings.Contains(loc, `connect() failed (111: Connection refused) while connecting to upstream`) {
		t.Errorf("loc.log lacks the upstream error:\n%s", loc)
	}
	if strings.Contains(srv, "connect() failed") || strings.Contains(main, "connect() failed") || strings.Contains(main, "client sent") {
		t.Errorf("messages went to other logs:\nsrv.log:\n%s\nerror.log:\n%s", srv, main)
	}
}

// TestHandshakeFailureLogged: a failed TLS handshake is logged at info
// in the default server's error_log, naming the listening address as
// nginx does.
func TestHandshakeFailureLogged(t *testing.T) {
	ca := testpki.NewCA(t)
	cert, key := ca.Leaf(testpki.WithDNS("localhost")).Files()
	port := freePort(t)
	in := start(t, fmt.Sprintf(`pid DIR/logs/gatehouse.pid;
http {
    access_log off;
    server { listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;
        error_log DIR/logs/tls.log info;
        location / { return 200; } }
}
`, port, cert, key))
	// A TLS record header announcing a handshake, then nonsense; then
	// a first byte with the high bit set, which nginx also takes for TLS
	// (an SSLv2-style ClientHello) and so answers with no HTTP page.
	exchange(t, fmt.Sprintf("127.0.0.1:%d", port), "\x16\x03\x01\x00\x05hello")
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "\x80\x2e\x01\x00\x02GET / HTTP/1.1\r\n\r\n")
	resp, _ := io.ReadAll(c) // a TLS alert, then a reset
	c.Close()
	if strings.Contains(string(resp), "HTTP/") {
		t.Errorf("a first byte with the high bit set was answered as plain HTTP: %q", resp)
	}
	b, _ := os.ReadFile(filepath.Join(in.dir, "logs/tls.log"))
	want := fmt.Sprintf(") while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:%d\n", port)
	if !strings.Contains(string(b), "[info] ") || !strings.Contains(string(b), "SSL_do_handshake() failed (") || !strings.Contains(string(b), want) {
		t.Errorf("tls.log lacks the handshake failure ending %q:\n%s", want, b)
	}
}

// TestRejectedRequestsLoggedNginx compares the access log lines of
// refused requests ($status, $request, $host, $server_name) with
// nginx's.
func TestRejectedRequestsLoggedNginx(t *testing.T) {
	conf := func(port int, dir string) string {
		return strings.NewReplacer("PORT", strconv.Itoa(port), "DIR/logs/error.log", dir+"/error.log", "DIR", dir,
			"$status $body_bytes_sent $bytes_sent", "$status").Replace(strings.TrimPrefix(rejectConf, "\npid DIR/logs/gatehouse.pid;\n"))
	}
	ngDir, ghDir := t.TempDir(), t.TempDir()
	os.MkdirAll(ngDir+"/logs", 0o755)
	os.MkdirAll(ghDir+"/logs", 0o755)
	ng, gh := freePort(t), freePort(t)
	startNginx(t, conf(ng, ngDir))
	start(t, "pid DIR/logs/gatehouse.pid;\n"+conf(gh, ghDir))
	reqs := []string{
		"get / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: two.example\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
		"TRACE / HTTP/1.1\r\nHost: two.example\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: two.example\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: two.example\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n",
		"GET /close HTTP/1.1\r\nHost: one.example\r\n\r\n",
	}
	for _, raw := range reqs {
		exchange(t, fmt.Sprintf("127.0.0.1:%d", ng), raw)
		exchange(t, fmt.Sprintf("127.0.0.1:%d", gh), raw)
	}
	theirs, _ := os.ReadFile(ngDir + "/logs/access.log")
	ours, _ := os.ReadFile(ghDir + "/logs/access.log")
	if string(ours) != string(theirs) || strings.Count(string(ours), "\n") != len(reqs) {
		t.Errorf("gatehouse:\n%s\nnginx:\n%s", ours, theirs)
	}
}
