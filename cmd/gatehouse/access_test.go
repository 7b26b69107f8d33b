package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// accessConf has four servers: allow and deny (order, inheritance,
// satisfy any), realip from X-Forwarded-For without and with recursion,
// and realip at location level with X-Real-IP judged by deny. A location
// without content answers 404 (a file that is not there), so 404 means
// "let through".
const accessConf = `
http {
    access_log off;
    error_log DIR/logs/access-error.log error;
    server {
        listen 127.0.0.1:PORT1;
        location / {
            deny 127.0.0.3;
            allow 127.0.0.0/30;
            deny all;
            location /inner/ {
                allow 127.0.0.4;
                deny all;
            }
            location /inherit/ {
            }
        }
        location /any/ {
            satisfy any;
            deny 127.0.0.2;
            allow all;
        }
        location /open/ {
        }
    }
    server {
        listen 127.0.0.1:PORT2;
        set_real_ip_from 127.0.0.1;
        set_real_ip_from 127.0.0.2/32;
        real_ip_header X-Forwarded-For;
        location / {
            return 200 "ra=$remote_addr rra=$realip_remote_addr xff=$proxy_add_x_forwarded_for\n";
        }
        location /acl/ {
            deny 192.0.2.1;
        }
    }
    server {
        listen 127.0.0.1:PORT3;
        set_real_ip_from 127.0.0.0/31;
        set_real_ip_from 127.0.0.2;
        real_ip_header x-forwarded-for;
        real_ip_recursive on;
        location / {
            return 200 "ra=$remote_addr rra=$realip_remote_addr\n";
        }
    }
    server {
        listen 127.0.0.1:PORT4;
        location / {
            set_real_ip_from 127.0.0.1;
            deny 192.0.2.1;
            allow 192.0.2.0/24;
            deny all;
        }
    }
}
`

type accessCase struct {
	name   string
	server int    // 1..4
	src    string // the client's loopback address
	path   string
	header string // extra header lines, each ending in CRLF
	status int
	body   string // compared when status is 200
}

var accessCases = []accessCase{
	{"first allow", 1, "127.0.0.1", "/", "", 404, ""},
	{"deny before allow", 1, "127.0.0.3", "/", "", 403, ""},
	{"allow cidr", 1, "127.0.0.2", "/", "", 404, ""},
	{"deny all", 1, "127.0.0.4", "/", "", 403, ""},
	{"own rules replace", 1, "127.0.0.1", "/inner/", "", 403, ""},
	{"own rules allow", 1, "127.0.0.4", "/inner/", "", 404, ""},
	{"inherited deny", 1, "127.0.0.3", "/inherit/", "", 403, ""},
	{"inherited allow", 1, "127.0.0.2", "/inherit/", "", 404, ""},
	{"satisfy any deny", 1, "127.0.0.2", "/any/", "", 403, ""},
	{"satisfy any allow", 1, "127.0.0.5", "/any/", "", 404, ""},
	{"no rules", 1, "127.0.0.5", "/open/", "", 404, ""},

	{"untrusted keeps address", 2, "127.0.0.3", "/", "X-Forwarded-For: 192.0.2.9\r\n", 200,
		"ra=127.0.0.3 rra=127.0.0.3 xff=192.0.2.9, 127.0.0.3\n"},
	{"no header", 2, "127.0.0.1", "/", "", 200, "ra=127.0.0.1 rra=127.0.0.1 xff=127.0.0.1\n"},
	{"last address", 2, "127.0.0.1", "/", "X-Forwarded-For: 192.0.2.9, 127.0.0.2\r\n", 200,
		"ra=127.0.0.2 rra=127.0.0.1 xff=192.0.2.9, 127.0.0.2, 127.0.0.2\n"},
	{"trailing separators", 2, "127.0.0.2", "/", "X-Forwarded-For: 192.0.2.9 ,, \r\n", 200,
		"ra=192.0.2.9 rra=127.0.0.2 xff=192.0.2.9 ,,, 192.0.2.9\n"},
	{"last field", 2, "127.0.0.1", "/", "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-For: 192.0.2.8\r\n", 200,
		"ra=192.0.2.8 rra=127.0.0.1 xff=192.0.2.7, 192.0.2.8, 192.0.2.8\n"},
	{"with port", 2, "127.0.0.1", "/", "X-Forwarded-For: 192.0.2.5:8080\r\n", 200,
		"ra=192.0.2.5 rra=127.0.0.1 xff=192.0.2.5:8080, 192.0.2.5\n"},
	{"ipv6 with port", 2, "127.0.0.1", "/", "X-Forwarded-For: [2001:db8::1]:80\r\n", 200,
		"ra=2001:db8::1 rra=127.0.0.1 xff=[2001:db8::1]:80, 2001:db8::1\n"},
	{"decimal octets", 2, "127.0.0.1", "/", "X-Forwarded-For: 010.0.0.1\r\n", 200,
		"ra=10.0.0.1 rra=127.0.0.1 xff=010.0.0.1, 10.0.0.1\n"},
	{"not an address", 2, "127.0.0.1", "/", "X-Forwarded-For: junk\r\n", 200,
		"ra=127.0.0.1 rra=127.0.0.1 xff=junk, 127.0.0.1\n"},
	{"realip then deny", 2, "127.0.0.1", "/acl/", "X-Forwarded-For: 192.0.2.1\r\n", 403, ""},
	{"untrusted not denied", 2, "127.0.0.3", "/acl/", "X-Forwarded-For: 192.0.2.1\r\n", 404, ""},

	{"recursive", 3, "127.0.0.1", "/", "X-Forwarded-For: 192.0.2.9, 127.0.0.2\r\n", 200, "ra=192.0.2.9 rra=127.0.0.1\n"},
	{"recursive stops at untrusted", 3, "127.0.0.1", "/", "X-Forwarded-For: 192.0.2.9, 198.51.100.1, 127.0.0.2\r\n", 200,
		"ra=198.51.100.1 rra=127.0.0.1\n"},
	{"recursive across fields", 3, "127.0.0.2", "/", "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-For: 127.0.0.1, 127.0.0.0\r\n", 200,
		"ra=192.0.2.7 rra=127.0.0.2\n"},
	{"recursive all trusted", 3, "127.0.0.1", "/", "X-Forwarded-For: 127.0.0.2, 127.0.0.1\r\n", 200, "ra=127.0.0.2 rra=127.0.0.1\n"},
	{"recursive bad left", 3, "127.0.0.1", "/", "X-Forwarded-For: junk, 127.0.0.2\r\n", 200, "ra=127.0.0.2 rra=127.0.0.1\n"},
	{"recursive untrusted source", 3, "127.0.0.3", "/", "X-Forwarded-For: 192.0.2.9\r\n", 200, "ra=127.0.0.3 rra=127.0.0.3\n"},

	{"location realip deny", 4, "127.0.0.1", "/", "X-Real-IP: 192.0.2.1\r\n", 403, ""},
	{"location realip allow", 4, "127.0.0.1", "/", "X-Real-IP: 192.0.2.2\r\n", 404, ""},
	{"location realip untrusted", 4, "127.0.0.3", "/", "X-Real-IP: 192.0.2.2\r\n", 403, ""},
	{"location realip first field", 4, "127.0.0.1", "/", "X-Real-IP: 192.0.2.1\r\nX-Real-IP: 192.0.2.2\r\n", 403, ""},
}

func accessPorts(t *testing.T, conf string) (string, [5]int) {
	var ports [5]int
	for i := 1; i <= 4; i++ {
		ports[i] = freePort(t)
		conf = strings.ReplaceAll(conf, fmt.Sprintf("PORT%d", i), fmt.Sprint(ports[i]))
	}
	return conf, ports
}

// runAccessCases checks every case against a server on ports.
func runAccessCases(t *testing.T, who string, ports [5]int) {
	for _, c := range accessCases {
		req := "GET " + c.path + "f HTTP/1.1\r\nHost: localhost\r\n" + c.header + "Connection: close\r\n\r\n"
		resp := exchangeFrom(t, c.src, fmt.Sprintf("127.0.0.1:%d", ports[c.server]), req)
		if got := statusOf(resp); got != c.status {
			t.Errorf("%s: %s: status %d, want %d\n%s", who, c.name, got, c.status, resp)
			continue
		}
		_, body := headerBlock(resp)
		switch {
		case c.status == 200 && body != c.body:
			t.Errorf("%s: %s: body %q, want %q", who, c.name, body, c.body)
		case c.status == 403 && !strings.Contains(body, "<title>403 Forbidden</title>"):
			t.Errorf("%s: %s: not the 403 page:\n%s", who, c.name, body)
		}
	}
}

var forbiddenLine = regexp.MustCompile(`\[error\] \d+#\d+: \*\d+ (access forbidden by rule, client: .*)`)

// forbiddenLines returns the "access forbidden" lines of an error log,
// without time, process and connection numbers.
func forbiddenLines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if m := forbiddenLine.FindStringSubmatch(l); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// TestAccessRealIP runs the table on gatehouse: allow and deny in order
// with inheritance, the 403 page and its error log line, realip with
// trusted and untrusted clients, with and without recursion.
func TestAccessRealIP(t *testing.T) {
	conf, ports := accessPorts(t, accessConf)
	in := start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\n"+conf)
	runAccessCases(t, "gatehouse", ports)
	lines := forbiddenLines(t, filepath.Join(in.dir, "logs/access-error.log"))
	want := []string{
		`access forbidden by rule, client: 127.0.0.3, server: , request: "GET /f HTTP/1.1", host: "localhost"`,
		`access forbidden by rule, client: 192.0.2.1, server: , request: "GET /acl/f HTTP/1.1", host: "localhost"`,
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || l == w
		}
		if !found {
			t.Errorf("error log lacks %q; has:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	if len(lines) != countStatus(403) {
		t.Errorf("%d forbidden lines for %d denied requests", len(lines), countStatus(403))
	}
}

func countStatus(s int) int {
	n := 0
	for _, c := range accessCases {
		if c.status == s {
			n++
		}
	}
	return n
}

// TestAccessRealIPNginx runs the same table on nginx, so that the
// expectations are nginx's, and compares the error log lines.
func TestAccessRealIPNginx(t *testing.T) {
	conf, ports := accessPorts(t, accessConf)
	if os.Geteuid() == 0 {
		// Workers of a root master would run as nobody and could not
		// look into the test's directory: 403 instead of 404.
		conf = "user root;\n" + conf
	}
	dir := startNginx(t, conf)
	runAccessCases(t, "nginx", ports)
	theirs := forbiddenLines(t, filepath.Join(dir, "logs/access-error.log"))

	conf, ports = accessPorts(t, accessConf)
	in := start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\n"+conf)
	runAccessCases(t, "gatehouse", ports)
	ours := forbiddenLines(t, filepath.Join(in.dir, "logs/access-error.log"))
	if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Errorf("error log lines differ:\ngatehouse:\n%s\nnginx:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
	}
}

// TestAccessRealIPAlloc checks that realip from X-Forwarded-For, allow
// and deny, and $remote_addr in a response allocate nothing per
// keep-alive request.
func TestAccessRealIPAlloc(t *testing.T) {
	if directivesRace {
		t.Skip("allocation counts are meaningless under -race; the test script reruns *Alloc* tests without it")
	}
	conf, ports := accessPorts(t, strings.Replace(accessConf, "access_log off;", "access_log off;\n    keepalive_requests 10000000;", 1))
	start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\n"+conf)
	for _, target := range []struct {
		port int
		req  string
		want string
		src  string
	}{
		{ports[2], "GET / HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 192.0.2.9, [2001:db8::7]:80\r\n\r\n", "HTTP/1.1 200 ", "127.0.0.1"},
		{ports[2], "GET /acl/f HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 192.0.2.9\r\n\r\n", "HTTP/1.1 404 ", "127.0.0.1"},
		{ports[1], "GET /inner/f HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 404 ", "127.0.0.4"},
	} {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(target.src)}}
		c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", target.port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReaderSize(c, 4096)
		body := make([]byte, 512)
		req := []byte(target.req)
		roundTrip := func() {
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			n := -1
			first := true
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					t.Fatal(err)
				}
				if first && !bytes.HasPrefix(line, []byte(target.want)) {
					t.Fatalf("%q: %q", target.req, line)
				}
				first = false
				if len(line) <= 2 {
					break
				}
				if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
					n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
				}
			}
			if n < 0 || n > len(body) {
				t.Fatalf("response without a small Content-Length (%d)", n)
			}
			if _, err := readFull(br, body[:n]); err != nil {
				t.Fatal(err)
			}
		}
		for range 50 {
			roundTrip()
		}
		if a := testing.AllocsPerRun(200, roundTrip); a > 0.1 {
			t.Errorf("%q: %.2f allocations per request, want 0", target.req, a)
		}
	}
}
