package main

import (
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vhostConf exercises virtual-server selection, $host and $server_name,
// server-level return, the trailing-slash redirect and
// client_max_body_size; PORT is the front port, DEAD a port nothing
// listens on (the redirect and 413 come before any upstream is tried).
const vhostConf = `
http {
    access_log off;
    default_type text/plain;
    server {
        listen 127.0.0.1:PORT;
        server_name first.example;
        location /dir/ { proxy_pass http://127.0.0.1:DEAD; }
        location /vars { return 200 "host=$host server_name=$server_name\n"; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name ~^(?<sub>[a-z]+)\.rx\.example$ rx.example;
        location / { return 200 "sub=$sub 1=$1 host=$host server_name=$server_name\n"; }
        location ~ ^/cap/(?<part>[a-z]+)(?<opt>-x)? { return 200 "sub=$sub part=$part opt=$opt 1=$1\n"; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name .dot.example;
        location / { return 200 "host=$host server_name=$server_name\n"; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name srvret.example;
        return 403;
        location / { return 200 "location\n"; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name srvret2.example;
        return 200 "server $uri\n";
        location /x { proxy_pass http://127.0.0.1:DEAD; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name small.example;
        client_max_body_size 10;
        location /dir/ { proxy_pass http://127.0.0.1:DEAD; }
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name ep400.example;
        merge_slashes off;
        error_page 400 =301 http://example.com/bad;
        location / { return 200 "$uri\n"; }
    }
    server {
        listen 127.0.0.1:PORT;
        server_name ret.example;
        location /r301 { return 301; }
        location /r302text { return 302 text; }
        location /r307 { return 307 /seven; }
        location /r204 { return 204; }
        location /r204text { return 204 "no"; }
        location /r304 { return 304; }
        location /r200 { return 200 "two hundred\n"; }
        location /r499 { return 499; }
        location /r400text { return 400 "bad\n"; }
    }
}
`

// vhostCases are raw requests; HOST stands for nothing, the Host field is
// written out.
var vhostCases = []string{
	"GET /dir HTTP/1.0\r\n\r\n",
	"GET /dir?a=b HTTP/1.0\r\nHost: FIRST.example:PORT\r\n\r\n",
	"GET /vars HTTP/1.0\r\n\r\n",
	"GET /vars HTTP/1.1\r\nHost: Unknown.Example.\r\nConnection: close\r\n\r\n",
	"GET http://first.example:1/vars HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: abc.RX.example\r\nConnection: close\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: rx.example\r\nConnection: close\r\n\r\n",
	"GET /cap/abc HTTP/1.1\r\nHost: q.rx.example\r\nConnection: close\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: dot.example\r\nConnection: close\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: www.dot.example\r\nConnection: close\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: srvret.example\r\nConnection: close\r\n\r\n",
	"GET /x/y HTTP/1.1\r\nHost: srvret2.example\r\nConnection: close\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: srvret2.example\r\nConnection: close\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: small.example\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890",
	"POST /dir HTTP/1.1\r\nHost: small.example\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890",
	"POST /a HTTP/1.1\r\nHost: small.example\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
	"GET /r301 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	// The URI is checked and normalised with the connection's server
	// (default or SNI), before Host is read.
	"GET /../x HTTP/1.1\r\nHost: ep400.example\r\nConnection: close\r\n\r\n",
	"GET //a//b HTTP/1.1\r\nHost: ep400.example\r\nConnection: close\r\n\r\n",
	"GET /r302text HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"GET /r307 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"GET /r204 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"GET /r204text HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"GET /r304 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"HEAD /r200 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"GET /r499 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
	"GET /r400text HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n",
}

// rawFetch sends raw (PORT replaced) and returns the response with
// Server, Date and ports normalised, for comparison with nginx.
func rawFetch(t *testing.T, port int, raw string) string {
	t.Helper()
	p := strconv.Itoa(port)
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, strings.ReplaceAll(raw, "PORT", p))
	b, _ := io.ReadAll(c)
	s := strings.ReplaceAll(string(b), ":"+p, ":PORT")
	s = regexp.MustCompile(`(?m)^(Server|Date): .*\r\n`).ReplaceAllString(s, "")
	head, body, _ := strings.Cut(s, "\r\n\r\n")
	for _, prod := range []string{"gatehouse/0.1.0", "gatehouse", "nginx/1.22.1", "nginx"} {
		body = strings.ReplaceAll(body, prod, "PRODUCT")
	}
	head = regexp.MustCompile(`Content-Length: \d+`).ReplaceAllString(head, "Content-Length: N")
	return head + "\r\n\r\n" + body
}

func vhostConfFor(port, dead int) string {
	return strings.NewReplacer("PORT", strconv.Itoa(port), "DEAD", strconv.Itoa(dead)).Replace(vhostConf)
}

// TestVirtualServersNginx sends the same raw requests to nginx and to
// gatehouse and compares the answers byte for byte (Server and Date
// aside).
func TestVirtualServersNginx(t *testing.T) {
	dead := freePort(t)
	ngPort, ghPort := freePort(t), freePort(t)
	startNginx(t, vhostConfFor(ngPort, dead))
	start(t, vhostConfFor(ghPort, dead))
	for _, raw := range vhostCases {
		theirs := rawFetch(t, ngPort, raw)
		ours := rawFetch(t, ghPort, raw)
		if ours != theirs {
			t.Errorf("%q:\ngatehouse:\n%s\nnginx:\n%s", raw, ours, theirs)
		}
	}
}

// TestVirtualServers checks, without nginx, what TestVirtualServersNginx
// compares: lines each answer must contain.
func TestVirtualServers(t *testing.T) {
	port := freePort(t)
	start(t, vhostConfFor(port, freePort(t)))
	tests := []struct{ raw, want string }{
		// Without a Host the redirect names the local address, not $host's fallback.
		{"GET /dir HTTP/1.0\r\n\r\n", "\r\nLocation: http://127.0.0.1:PORT/dir/\r\n"},
		{"GET /vars HTTP/1.0\r\n\r\n", "\r\n\r\nhost=first.example server_name=first.example\n"},
		{"GET /a HTTP/1.1\r\nHost: abc.RX.example\r\nConnection: close\r\n\r\n", "\r\n\r\nsub=abc 1=abc host=abc.rx.example server_name=~^(?<sub>[a-z]+)\\.rx\\.example$\n"},
		{"GET /cap/abc HTTP/1.1\r\nHost: q.rx.example\r\nConnection: close\r\n\r\n", "\r\n\r\nsub=q part=abc opt= 1=abc\n"},
		{"GET /a HTTP/1.1\r\nHost: www.dot.example\r\nConnection: close\r\n\r\n", "server_name=dot.example\n"},
		// A server-level return comes before any location.
		{"GET /a HTTP/1.1\r\nHost: srvret.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 403 Forbidden\r\n"},
		{"GET /x/y HTTP/1.1\r\nHost: srvret2.example\r\nConnection: close\r\n\r\n", "\r\n\r\nserver /x/y\n"},
		// client_max_body_size is checked before the trailing-slash redirect.
		{"POST /dir HTTP/1.1\r\nHost: small.example\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890", "HTTP/1.1 413 Request Entity Too Large\r\n"},
		{"GET /r301 HTTP/1.1\r\nHost: ret.example\r\nConnection: close\r\n\r\n", "\r\nLocation: \r\n"},
		// The URI belongs to the connection's server, not to Host's.
		{"GET /../x HTTP/1.1\r\nHost: ep400.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
		{"GET //a//b HTTP/1.1\r\nHost: ep400.example\r\nConnection: close\r\n\r\n", "\r\n\r\n/a/b\n"},
	}
	for _, tt := range tests {
		if got := rawFetch(t, port, tt.raw); !strings.Contains(got, tt.want) {
			t.Errorf("%q: want %q in\n%s", tt.raw, tt.want, got)
		}
	}
}

// unixConf listens on a UNIX socket (SOCK); DEAD is a port nothing
// listens on.
const unixConf = `
http {
    access_log off;
    server {
        listen unix:SOCK;
        location /dir/ { proxy_pass http://127.0.0.1:DEAD; }
        location /vars { return 200 "addr=$server_addr port=$server_port remote=$remote_addr\n"; }
    }
}
`

var unixCases = []string{
	"GET /dir HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"GET /dir HTTP/1.0\r\n\r\n",
	"GET /vars HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
}

// unixFetch sends raw to the socket and returns the answer without
// Server, Date, the socket's path and the page's length.
func unixFetch(t *testing.T, sock, raw string) string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	b, _ := io.ReadAll(c)
	s := strings.ReplaceAll(string(b), sock, "SOCK")
	s = regexp.MustCompile(`(?m)^(Server|Date): .*\r\n`).ReplaceAllString(s, "")
	head, _, _ := strings.Cut(s, "\r\n\r\n")
	head = regexp.MustCompile(`Content-Length: \d+`).ReplaceAllString(head, "Content-Length: N")
	if strings.Contains(head, "200 OK") {
		return s
	}
	return head
}

// TestUnixSocketRedirectNginx: on a UNIX socket the redirect has no
// port and $server_addr is "unix:PATH", as in nginx.
func TestUnixSocketRedirectNginx(t *testing.T) {
	dead := strconv.Itoa(freePort(t))
	ngSock := filepath.Join(t.TempDir(), "ng.sock")
	ghSock := filepath.Join(t.TempDir(), "gh.sock")
	startNginx(t, strings.NewReplacer("SOCK", ngSock, "DEAD", dead).Replace(unixConf))
	start(t, "pid DIR/logs/gatehouse.pid;\n"+strings.NewReplacer("SOCK", ghSock, "DEAD", dead).Replace(unixConf))
	for _, raw := range unixCases {
		theirs, ours := unixFetch(t, ngSock, raw), unixFetch(t, ghSock, raw)
		if ours != theirs {
			t.Errorf("%q:\ngatehouse:\n%s\nnginx:\n%s", raw, ours, theirs)
		}
	}
}

// TestUnixSocketRedirect checks without nginx what
// TestUnixSocketRedirectNginx compares.
func TestUnixSocketRedirect(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "gh.sock")
	start(t, "pid DIR/logs/gatehouse.pid;\n"+strings.NewReplacer("SOCK", sock, "DEAD", strconv.Itoa(freePort(t))).Replace(unixConf))
	want := []string{
		"\r\nLocation: http://a/dir/\r\n",
		"\r\nLocation: http://unix:SOCK/dir/\r\n",
		"\r\n\r\naddr=unix:SOCK port= remote=unix:\n",
	}
	for i, raw := range unixCases {
		if got := unixFetch(t, sock, raw); !strings.Contains(got+"\r\n", want[i]) {
			t.Errorf("%q: want %q in\n%s", raw, want[i], got)
		}
	}
}
