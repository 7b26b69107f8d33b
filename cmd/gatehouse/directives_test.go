package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// directivesConf exercises types, default_type, add_header and
// error_page on responses gatehouse makes itself; PORT is replaced.
const directivesConf = `
http {
    access_log off;
    types {
        text/html html htm;
        application/json json;
    }
    default_type application/octet-stream;
    add_header X-Http "h $uri";
    add_header X-Always a always;
    server {
        listen 127.0.0.1:PORT;
        server_name localhost;
        location /text { return 200 "text"; }
        location /empty { return 200; }
        location /nocontent { return 204; }
        location /notfound { return 404; }
        location /notfoundtext { return 404 "gone"; }
        location /rel { return 301 /elsewhere; }
        location /abs { return 302 https://example.com/abs; }
        location /own/ {
            add_header X-Own "$request_method" always;
            add_header X-Empty "";
            default_type text/plain;
            return 200 "own";
        }
        location /ep/ {
            error_page 404 http://example.com/missing?u=$uri;
            error_page 500 502 =301 https://example.com/down;
            error_page 301 =308 https://example.com/moved;
            location /ep/404 { return 404; }
            location /ep/500 { return 500; }
            location /ep/text { return 404 "t"; }
            location /ep/moved { return 301 /x; }
            location /ep/nohandler { }
        }
        location /typed/ {
            types {
                text/x-one one;
            }
            return 200 "x";
        }
        location /etag {
            add_header ETag "\"e$uri\"";
            add_header Last-Modified "";
            add_header X-After z;
            return 200 "e";
        }
        location /notypes/ {
            types { }
            return 200 "n";
        }
        location /nohandler { }
    }
}
`

// directivesCases are the requests compared with nginx. Locations
// without a handler are left out: nginx looks for a file there and
// answers 403 or 404 depending on the test directory's permissions.
var directivesCases = []string{
	"/text", "/text.html", "/text.JSON", "/text.tar.gz", "/text.", "/text/.htm", "/text/..htm",
	"/empty", "/nocontent", "/notfound", "/notfoundtext", "/rel", "/rel?a=1", "/abs",
	"/own/", "/own/x.json", "/ep/404", "/ep/500", "/ep/text", "/ep/moved",
	"/typed/a.one", "/typed/a.html", "/typed/a.ONE", "/etag", "/notypes/a.html",
}

// directivesFetch sends one GET and returns the status line, the header
// lines other than Server and Date in order, and the body, with the
// product name in error pages and the port replaced so that nginx and
// gatehouse can be compared. Content-Length is checked against the body
// read and then given as the normalised body's length.
func directivesFetch(t *testing.T, port int, target string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target)
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	var hdrs []string
	clen := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ": ")
		switch strings.ToLower(name) {
		case "server", "date":
			continue
		case "content-length":
			clen, _ = strconv.Atoi(value)
		}
		hdrs = append(hdrs, line)
	}
	body, _ := io.ReadAll(br)
	if clen >= 0 && clen != len(body) {
		t.Errorf("%s: Content-Length %d, body %d bytes", target, clen, len(body))
	}
	norm := string(body)
	for _, p := range []string{"gatehouse/0.1.0", "gatehouse", "nginx/1.22.1", "nginx"} {
		norm = strings.ReplaceAll(norm, p, "PRODUCT")
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(status, "\r\n") + "\n")
	for _, h := range hdrs {
		if strings.HasPrefix(strings.ToLower(h), "content-length:") {
			h = "Content-Length: " + strconv.Itoa(len(norm))
		}
		b.WriteString(strings.ReplaceAll(h, ":"+strconv.Itoa(port)+"/", ":PORT/") + "\n")
	}
	b.WriteString("\n" + norm)
	return b.String()
}

// TestDirectivesResponses checks, end to end, the headers and types of
// return, error_page and add_header responses.
func TestDirectivesResponses(t *testing.T) {
	port := freePort(t)
	start(t, strings.ReplaceAll(directivesConf, "PORT", strconv.Itoa(port)))
	tests := []struct {
		target string
		want   []string // lines the response must have, in this order
		not    []string // lines it must not have
	}{
		{"/text", []string{"HTTP/1.1 200 OK", "Content-Type: application/octet-stream", "Content-Length: 4", "X-Http: h /text", "X-Always: a", "\ntext"}, nil},
		{"/text.html", []string{"Content-Type: text/html", "X-Http: h /text.html"}, nil},
		{"/text.JSON", []string{"Content-Type: application/json"}, nil},
		{"/text.tar.gz", []string{"Content-Type: application/octet-stream"}, nil},
		{"/text/.htm", []string{"Content-Type: application/octet-stream"}, nil},
		{"/empty", []string{"HTTP/1.1 200 OK", "Content-Type: application/octet-stream", "Content-Length: 0", "X-Http: h /empty"}, nil},
		{"/nocontent", []string{"HTTP/1.1 204 No Content", "X-Http: h /nocontent"}, []string{"Content-Type"}},
		{"/notfound", []string{"HTTP/1.1 404 Not Found", "Content-Type: text/html", "X-Always: a"}, []string{"X-Http"}},
		{"/notfoundtext", []string{"HTTP/1.1 404 Not Found", "Content-Type: application/octet-stream", "X-Always: a", "\ngone"}, []string{"X-Http"}},
		{"/rel", []string{"HTTP/1.1 301 Moved Permanently", "Location: http://localhost:PORT/elsewhere", "Connection: close", "X-Http: h /rel"}, nil},
		{"/abs", []string{"HTTP/1.1 302 Moved Temporarily", "Connection: close", "Location: https://example.com/abs", "X-Http: h /abs"}, nil},
		{"/own/x.json", []string{"Content-Type: application/json", "X-Own: GET", "\nown"}, []string{"X-Http", "X-Always", "X-Empty"}},
		{"/own/", []string{"Content-Type: text/plain"}, nil},
		{"/ep/404", []string{"HTTP/1.1 302 Moved Temporarily", "Location: http://example.com/missing?u=/ep/404", "X-Http: h /ep/404", "X-Always: a"}, nil},
		{"/ep/500", []string{"HTTP/1.1 301 Moved Permanently", "Location: https://example.com/down", "X-Http: h /ep/500"}, nil},
		{"/ep/text", []string{"HTTP/1.1 404 Not Found", "\nt"}, []string{"Location"}},
		{"/ep/moved", []string{"HTTP/1.1 308 Permanent Redirect", "Location: https://example.com/moved", "X-Http: h /ep/moved"}, []string{"/x"}},
		{"/ep/nohandler", []string{"HTTP/1.1 302 Moved Temporarily", "Location: http://example.com/missing?u=/ep/nohandler"}, nil},
		{"/typed/a.one", []string{"Content-Type: text/x-one"}, nil},
		{"/typed/a.html", []string{"Content-Type: application/octet-stream"}, nil},
		{"/etag", []string{"Content-Type: application/octet-stream", "ETag: \"e/etag\"", "X-After: z"}, []string{"Last-Modified", "X-Http"}},
		{"/notypes/a.html", []string{"Content-Type: application/octet-stream"}, nil},
		{"/nohandler", []string{"HTTP/1.1 404 Not Found", "X-Always: a"}, []string{"X-Http"}},
	}
	for _, tt := range tests {
		got := directivesFetch(t, port, tt.target)
		at := 0
		for _, w := range tt.want {
			i := strings.Index(got[at:], w)
			if i < 0 {
				t.Errorf("%s: %q missing or out of order in\n%s", tt.target, w, got)
				break
			}
			at += i + len(w)
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: unexpected %q in\n%s", tt.target, n, got)
			}
		}
	}
}

// TestDirectivesResponsesNginx sends the same requests to nginx and to
// gatehouse and compares status lines, header fields in order (Server and
// Date aside) and bodies (product names aside).
func TestDirectivesResponsesNginx(t *testing.T) {
	ngPort, ghPort := freePort(t), freePort(t)
	startNginx(t, strings.ReplaceAll(directivesConf, "PORT", strconv.Itoa(ngPort)))
	start(t, strings.ReplaceAll(directivesConf, "PORT", strconv.Itoa(ghPort)))
	for _, target := range directivesCases {
		theirs := directivesFetch(t, ngPort, target)
		ours := directivesFetch(t, ghPort, target)
		if ours != theirs {
			t.Errorf("%s:\ngatehouse:\n%s\nnginx:\n%s", target, ours, theirs)
		}
	}
}
