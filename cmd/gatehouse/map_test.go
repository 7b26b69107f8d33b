package main

import (
	"fmt"
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
