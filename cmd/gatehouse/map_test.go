package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mapConf exercises map: exact keys (without regard to case), the empty
// key, hostnames wildcards, regexes in order with numbered and named
// captures (which stay set for the request), results with variables, a
// complex source, a map of a map and volatile; PORT is replaced.
const mapConf = `
http {
    access_log off;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    map $arg_a $m {
        default "d:$uri";
        Foo     exact;
        \default escaped;
        ~^x(?<num>\d+)$ "re:$1:$num";
        ~*^Y(\d)        "ci:$1";
        ~^x             "second";
    }
    map $http_x_host $h {
        hostnames;
        default none;
        .example.com    dot;
        *.b.example.com star;
        www.example.*   tail;
        www.example.co.* tailer;
    }
    map "$request_method:$arg_b" $c {
        "GET:1" get1;
        ~^(?<meth>[A-Z]+):  "other-$meth";
    }
    map $m $mm {
        exact "from-m";
        default "m=$m";
    }
    map $uri $v {
        volatile;
        default "$uri";
    }
    server {
        listen 127.0.0.1:PORT;
        location / {
            add_header X-Conn $connection_upgrade;
            return 200 "m=$m h=$h c=$c mm=$mm v=$v one=$1\n";
        }
    }
}
`

// TestMapNginx sends the same requests to nginx and to gatehouse and
// compares the bodies and the X-Conn field map values make.
func TestMapNginx(t *testing.T) {
	ngPort, ghPort := freePort(t), freePort(t)
	startNginx(t, strings.ReplaceAll(mapConf, "PORT", strconv.Itoa(ngPort)))
	start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\n"+strings.ReplaceAll(mapConf, "PORT", strconv.Itoa(ghPort)))
	cases := []struct{ target, headers string }{
		{"/", ""},
		{"/p?a=foo", ""},
		{"/p?a=FOO", ""},
		{"/p?a=default", ""},
		{"/p?a=x12", ""},
		{"/p?a=X12", ""},
		{"/p?a=y7", ""},
		{"/p?a=xy", ""},
		{"/p?a=", "Upgrade: websocket\r\n"},
		{"/", "Upgrade: h2c\r\n"},
		{"/", "X-Host: example.com\r\n"},
		{"/", "X-Host: A.Example.COM.\r\n"},
		{"/", "X-Host: q.b.example.com\r\n"},
		{"/", "X-Host: www.example.org\r\n"},
		{"/", "X-Host: www.example.co.uk\r\n"},
		{"/", "X-Host: example.org\r\n"},
		{"/?b=1", ""},
		{"/?b=2", ""},
		{"/%41b", ""},
	}
	for _, c := range cases {
		raw := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n", c.target, c.headers)
		theirs := mapAnswer(exchange(t, "127.0.0.1:"+strconv.Itoa(ngPort), raw))
		ours := mapAnswer(exchange(t, "127.0.0.1:"+strconv.Itoa(ghPort), raw))
		if ours != theirs {
			t.Errorf("%s %q:\ngatehouse: %s\nnginx:     %s", c.target, c.headers, ours, theirs)
		}
		if !strings.HasPrefix(theirs, "200 ") {
			t.Errorf("%s: nginx answered %s", c.target, theirs)
		}
	}
}

// mapAnswer is the status, the X-Conn field and the body of resp.
func mapAnswer(resp string) string {
	head, body := headerBlock(resp)
	conn := ""
	for _, l := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(l, "X-Conn: "); ok {
			conn = v
		}
	}
	return strconv.Itoa(statusOf(resp)) + " conn=" + conn + " " + body
}

// TestMapProxyNginx is the WebSocket idiom: proxy_set_header Connection
// takes the map of $http_upgrade; the backend echoes what it received,
// through nginx and through gatehouse.
func TestMapProxyNginx(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "connection=%q upgrade=%q", r.Header.Get("Connection"), r.Header.Get("Upgrade"))
	}))
	defer app.Close()
	config := func(port int) string {
		return fmt.Sprintf(`http { access_log off;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server { listen 127.0.0.1:%d;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_pass %s;
        }
    } }
`, port, app.URL)
	}
	gh, ng := freePort(t), freePort(t)
	in := start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log crit;\n"+config(gh))
	startNginx(t, config(ng))
	for _, hdr := range []string{"", "Upgrade: websocket\r\n"} {
		raw := "GET / HTTP/1.1\r\nHost: localhost\r\n" + hdr + "Connection: close\r\n\r\n"
		_, theirs := headerBlock(exchange(t, "127.0.0.1:"+strconv.Itoa(ng), raw))
		_, ours := headerBlock(exchange(t, "127.0.0.1:"+strconv.Itoa(gh), raw))
		if ours != theirs || !strings.HasPrefix(theirs, "connection=") {
			t.Errorf("%q: gatehouse %s, nginx %s\n%s", hdr, ours, theirs, in.errorLog())
		}
	}
}

// TestMapAlloc: answering with map values (exact, wildcard, default with
// a variable, a map of a map, volatile) allocates nothing per request. A
// regex key with capture groups that matches allocates its offsets, as a
// regex location does, so the targets avoid one ($c's "GET:1").
func TestMapAlloc(t *testing.T) {
	if directivesRace {
		t.Skip("allocation counts are meaningless under -race; the test script reruns *Alloc* tests without it")
	}
	port := freePort(t)
	conf := strings.ReplaceAll(mapConf, "PORT", strconv.Itoa(port))
	conf = strings.Replace(conf, "access_log off;", "access_log off;\n    keepalive_requests 10000000;", 1)
	start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log crit;\n"+conf)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	body := make([]byte, 512)
	for _, target := range []string{"/p?a=foo&b=1", "/q?a=zz&b=1"} {
		req := []byte("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nX-Host: a.example.com\r\nUpgrade: websocket\r\n\r\n")
		assertNoAllocsPerRequest(t, c, br, body, target, req, -1)
	}
}

// TestMapConfigTestNginx: -t reports what nginx -t reports for map
// blocks that need the whole configuration (an unknown variable in a
// result or a source) and accepts an include inside a map.
func TestMapConfigTestNginx(t *testing.T) {
	bin := nginxBinary(t)
	tests := []struct{ name, maps, want string }{
		{"include", "map $uri $x { include DIR/entries.map; default d; }", ""},
		{"unknown-result", "map $uri $x { k $nosuch; }", `unknown "nosuch" variable`},
		{"unknown-source", "map $nosuch $x { k v; }", `unknown "nosuch" variable`},
		{"include-conflict", "map $uri $x { include DIR/entries.map; /A b; }", `conflicting parameter "/a" in DIR/nginx.conf:3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
			if err := os.WriteFile(filepath.Join(dir, "entries.map"), []byte("/a a;\n~^/r(\\d) r$1;\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, "nginx.conf")
			src := "events {}\nhttp { access_log off;\n" + strings.ReplaceAll(tt.maps, "DIR", dir) + "\n}\n"
			if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(bin, "-t", "-p", dir+"/", "-c", conf, "-e", "stderr").CombinedOutput()
			code, _, stderr := runCLI(t, "-t", "-p", dir+"/", "-c", conf)
			want := strings.ReplaceAll(tt.want, "DIR", dir)
			if want == "" {
				if code != 0 || !strings.Contains(string(out), "test is successful") {
					t.Fatalf("gatehouse exit %d:\n%s\nnginx:\n%s", code, stderr, out)
				}
				return
			}
			if code == 0 || !strings.Contains(stderr, "[emerg] "+want+"\n") || !strings.Contains(string(out), "[emerg] ") || !strings.Contains(string(out), want+"\n") {
				t.Fatalf("want %q\ngatehouse exit %d:\n%s\nnginx:\n%s", want, code, stderr, out)
			}
		})
	}
}
