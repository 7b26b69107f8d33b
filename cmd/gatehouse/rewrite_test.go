package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rewriteConf exercises the rewrite module: set, rewrite with each flag,
// break, if with each kind of condition (file tests on system files the
// nginx workers can read). Each location answers with what the
// statements left.
const rewriteConf = `
http {
    access_log off;
    server {
        listen 127.0.0.1:PORT;
        server_name localhost;
        set $srv s1;
        rewrite ^/srv/(.*)$ /echo/$1;
        rewrite ^/srvlast/(.*)$ /echo/$1 last;
        rewrite ^/srvbreak/(.*)$ /echo/b$1 break;
        location /echo/ {
            return 200 "uri=$uri args=$args 1=$1 srv=$srv v=$v app=$app\n";
        }
        location ~ ^/named/(?<app>\w+)/(\w+)$ {
            rewrite ^/named/(\w+) /echo/$app-$1-$2;
        }
        location ~ ^/nif/(?<app>\w+)$ {
            if ($uri ~ ^/nif/(.)) {
                return 200 "app=$app 1=$1\n";
            }
        }
        location /set/ {
            set $v "a-$uri";
            set $v "$v-b";
            return 200 "v=$v\n";
        }
        location /setargs/ {
            set $args "n=1&$args";
            return 200 "args=$args n=$arg_n o=$arg_o\n";
        }
        location /unset/ {
            return 200 "v=[$v]\n";
        }
        location /cap/ {
            rewrite ^/cap/(\w+)/(\w+)$ /echo/$2/$1;
        }
        location /capnext/ {
            rewrite ^/capnext/(\w+)$ /x/$1;
            return 200 "uri=$uri 1=$1\n";
        }
        location /last/ {
            rewrite ^/last/(.*)$ /echo/$1 last;
            return 200 "not reached\n";
        }
        location /brk/ {
            rewrite ^/brk/(.*)$ /echo/$1 break;
            return 200 "not reached\n";
        }
        location /args/ {
            rewrite ^/args/keep$ /echo/k?x=1;
            rewrite ^/args/drop$ /echo/d?;
            rewrite ^/args/plain$ /echo/p;
        }
        location /red/ {
            rewrite ^/red/tmp/(.*)$ /echo/$1 redirect;
            rewrite ^/red/perm/(.*)$ /echo/$1?y=2 permanent;
            rewrite ^/red/abs/(.*)$ http://example.com/$1;
            rewrite ^/red/absperm/(.*)$ https://example.com/$1? permanent;
            rewrite ^/red/scheme/(.*)$ $scheme://example.com/$1;
        }
        location /loop/ {
            rewrite ^ /loop/again last;
        }
        location /break/ {
            set $v one;
            break;
            set $v two;
        }
        location /break2/ {
            rewrite ^/break2/(.*)$ /echo/$1;
            break;
        }
        location /if/ {
            set $v "";
            if ($arg_a) {
                set $v "a-true";
            }
            if ($arg_b = yes) {
                set $v "$v b-eq";
            }
            if ($arg_b != yes) {
                set $v "$v b-ne";
            }
            if ($uri ~ ^/if/(\d+)$) {
                set $v "$v num-$1";
            }
            if ($uri ~* ^/IF/UP(.*)$) {
                return 200 "ci 1=$1\n";
            }
            if ($uri !~ ^/if/\d) {
                set $v "$v notnum";
            }
            if ($arg_f = stop) {
                break;
            }
            return 200 "v=[$v] 1=$1\n";
        }
        location /ifbreak/ {
            if ($arg_f) {
                break;
            }
            return 200 "no break\n";
        }
        location /file/ {
            if (-f /etc/passwd) {
                set $v "$v f";
            }
            if (!-f /etc) {
                set $v "$v !f";
            }
            if (-d /etc) {
                set $v "$v d";
            }
            if (-d /etc/passwd) {
                set $v "$v d2";
            }
            if (-e /etc/gatehouse-none) {
                set $v "$v e";
            }
            if (!-e /etc/gatehouse-none) {
                set $v "$v !e";
            }
            if (-x /bin/sh) {
                set $v "$v x";
            }
            if (!-x /etc/passwd) {
                set $v "$v !x";
            }
            return 200 "v=[$v]\n";
        }
    }
}
`

// rewriteCases are the request targets both servers are asked for.
var rewriteCases = []string{
	"/srv/a?q=1", "/srvlast/b", "/srvbreak/c",
	"/named/ab/cd", "/nif/xyz", "/set/x", "/unset/", "/setargs/?o=2",
	"/cap/one/two?z=9", "/capnext/abc",
	"/last/l?q=1", "/brk/b",
	"/args/keep", "/args/keep?o=1", "/args/drop?o=1", "/args/plain?o=1",
	"/red/tmp/t?o=1", "/red/perm/p?o=1", "/red/abs/a", "/red/abs/a?o=1", "/red/absperm/p?o=1", "/red/scheme/s",
	"/red/tmp/a%20b", "/cap/a%41/b", "/srv/%7Ex?q=%20",
	"/loop/x",
	"/break/x", "/break2/z",
	"/if/12?a=1&b=yes", "/if/x?b=no", "/if/x?a=0", "/IF/UPabc", "/if/7?f=stop", "/if/x?a=1&f=stop",
	"/ifbreak/x?f=1", "/ifbreak/x",
	"/file/",
}

// rewriteFetch asks for target and returns the status, Location and,
// for a 200, the body.
func rewriteFetch(t *testing.T, port int, target string) string {
	t.Helper()
	resp := exchange(t, "127.0.0.1:"+strconv.Itoa(port), "GET "+target+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	out := strconv.Itoa(statusOf(resp))
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Location: "); ok {
			out += " Location: " + v
		}
	}
	if statusOf(resp) == 403 {
		// nginx's static module refuses a directory it cannot read;
		// gatehouse serves no files: both find nothing to send.
		out = "404"
	}
	if statusOf(resp) == 200 {
		out += " " + body
	}
	return strings.ReplaceAll(out, ":"+strconv.Itoa(port)+"/", ":PORT/")
}

// TestRewriteNginx sends the same requests to nginx and gatehouse and
// compares status, Location and body.
func TestRewriteNginx(t *testing.T) {
	conf := rewriteConf
	ngPort, ghPort := freePort(t), freePort(t)
	startNginx(t, strings.ReplaceAll(conf, "PORT", strconv.Itoa(ngPort)))
	start(t, strings.ReplaceAll(conf, "PORT", strconv.Itoa(ghPort)))
	for _, target := range rewriteCases {
		theirs := rewriteFetch(t, ngPort, target)
		ours := rewriteFetch(t, ghPort, target)
		if ours != theirs {
			t.Errorf("%s:\ngatehouse: %q\nnginx:     %q", target, ours, theirs)
		}
	}
}

// TestRewriteLogs checks what the rewrite module writes to the error
// log: rewrite_log's notices and uninitialized_variable_warn's warning
// (on by default, off where turned off), and -f on a file made after
// start.
func TestRewriteLogs(t *testing.T) {
	port := freePort(t)
	in := start(t, frontConf("", port, "", `
        location /r/ {
            rewrite_log on;
            rewrite ^/r/(\w+)$ /r/done/$1;
            rewrite ^/nomatch /x;
            return 200 "$uri\n";
        }
        location /u/ {
            return 200 "[$v]\n";
        }
        location /quiet/ {
            uninitialized_variable_warn off;
            return 200 "[$w]\n";
        }
        location /f/ {
            if (-f DIR/made) {
                return 200 "file\n";
            }
            if (!-e DIR/made) {
                return 200 "none\n";
            }
            return 200 "other\n";
        }
        location /red/ {
            rewrite ^/red/([^/]+)$ http://example.com/$1;
        }
        location /s/ {
            set $v 1;
            set $w 1;
        }`))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	get := func(target string) string {
		resp := exchange(t, addr, "GET "+target+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		_, body := headerBlock(resp)
		return strconv.Itoa(statusOf(resp)) + " " + body
	}
	for _, tt := range []struct{ target, want string }{
		{"/r/abc", "200 /r/done/abc\n"},
		{"/u/", "200 []\n"},
		{"/quiet/", "200 []\n"},
		{"/f/", "200 none\n"},
	} {
		if got := get(tt.target); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.target, got, tt.want)
		}
	}
	// A decoded capture is escaped again in Location (nginx writes it
	// decoded: "%0D%0A" would split the header).
	resp := exchange(t, addr, "GET /red/a%0D%0Ab%3F HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	if head, _ := headerBlock(resp); statusOf(resp) != 302 || !strings.Contains(head+"\r\n", "\r\nLocation: http://example.com/a%0D%0Ab%3F\r\n") {
		t.Errorf("redirect with CR LF in a capture:\n%s", resp)
	}
	if err := os.WriteFile(filepath.Join(in.dir, "made"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := get("/f/"); got != "200 file\n" {
		t.Errorf("/f/ with the file: got %q", got)
	}
	log := in.errorLog()
	for _, w := range []string{
		`[notice] `, `"^/r/(\w+)$" matches "/r/abc", client: 127.0.0.1, server: , request: "GET /r/abc HTTP/1.1", host: "localhost"`,
		`"^/nomatch" does not match "/r/done/abc"`,
		`[warn] `, `using uninitialized "v" variable, client: 127.0.0.1`,
	} {
		if !strings.Contains(log, w) {
			t.Errorf("error log lacks %q:\n%s", w, log)
		}
	}
	if strings.Contains(log, `uninitialized "w"`) {
		t.Errorf("uninitialized_variable_warn off still warns:\n%s", log)
	}
}

// TestRewriteAlloc checks that set and a return of set variables
// allocate nothing per request once the buffers have grown (a regex
// match does: Go's regexp returns new submatch offsets).
func TestRewriteAlloc(t *testing.T) {
	if directivesRace {
		t.Skip("allocation counts are meaningless under -race; the test script reruns *Alloc* tests without it")
	}
	port := freePort(t)
	conf := strings.ReplaceAll(rewriteConf, "PORT", strconv.Itoa(port))
	conf = strings.Replace(conf, "access_log off;", "access_log off;\n    keepalive_requests 10000000;", 1)
	start(t, conf)
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	body := make([]byte, 512)
	for _, target := range []string{"/set/x", "/setargs/?o=2", "/break/x?a=1"} {
		req := []byte("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
		assertNoAllocsPerRequest(t, c, br, body, target, req, -1)
	}
}
