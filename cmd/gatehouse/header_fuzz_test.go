package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/variables"
)

// fuzzVarNames returns one name for every variable the registry knows:
// each built-in, a member of each prefix family, the capture $1 and the
// named capture $name that the fuzz configuration's regex defines.
func fuzzVarNames() []string {
	family := map[string]string{
		"http_*": "http_x_f", "sent_http_*": "sent_http_location", "sent_trailer_*": "sent_trailer_x",
		"cookie_*": "cookie_c", "arg_*": "arg_a", "upstream_http_*": "upstream_http_location",
		"upstream_trailer_*": "upstream_trailer_x", "upstream_cookie_*": "upstream_cookie_c",
	}
	var names []string
	for id := variables.ID(1); id < variables.FirstDefined; id++ {
		n := id.String()
		switch {
		case id == variables.Capture:
			n = "1"
		case id.IsPrefix():
			n = family[n]
		}
		names = append(names, n)
	}
	return append(names, "name")
}

// The places a variable can land in a header line, one location each.
var fuzzPlaces = []string{
	`proxy_set_header X-T "a$V"; proxy_pass http://b;`,
	`add_header X-T "a$V" always; return 200 "t";`,
	`return 302 "http://x/$V";`,
	`proxy_redirect http://u/ "http://x/$V/"; proxy_pass http://b;`,
	`error_page 404 "http://x/$V"; return 404;`,
	`rewrite "^/v[0-9]+p[0-9]+/(?<name>[\s\S]*)$" "http://x/$V" redirect;`,
	`set $s "a$V"; rewrite "^/v[0-9]+p[0-9]+/(?<name>[\s\S]*)$" "/r/$s" permanent;`,
	`set $s "a$V"; add_header X-T "$s" always; return 200 "t";`,
	"", // /uri/: proxy_pass with a URI part, the decoded path re-escaped
}

// fuzzUpstream answers every request with the X-Id it carried, so that a
// response delivered to the wrong client shows, and records the requests.
type fuzzUpstream struct {
	ln   net.Listener
	mu   sync.Mutex
	reqs []string
}

func (u *fuzzUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := readRawRequest(br)
		if err != nil {
			return
		}
		u.mu.Lock()
		u.reqs = append(u.reqs, string(req))
		u.mu.Unlock()
		id := ""
		for _, l := range strings.Split(string(req), "\r\n") {
			if v, ok := strings.CutPrefix(l, "X-Id: "); ok {
				id = v
			}
		}
		resp := "HTTP/1.1 200 OK\r\nLocation: http://u/next\r\nSet-Cookie: c=v\r\nX-Echo-Id: " + id + "\r\nContent-Length: 2\r\n\r\nok"
		if _, err := io.WriteString(c, resp); err != nil {
			return
		}
	}
}

func (u *fuzzUpstream) take() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.reqs
	u.reqs = nil
	return r
}

// FuzzHeaderInjection puts every variable into every place it can land
// in a header line and fuzzes the request (a path whose bytes all arrive
// percent-encoded, so that any byte can come out of the decoding, the
// query and a header value): no header line gatehouse writes to the
// client or to the upstream carries CR, LF or NUL inside it, every
// upstream request is the one its client sent, and every proxied
// response goes to the client that asked for it.
func FuzzHeaderInjection(f *testing.F) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	up := &fuzzUpstream{ln: ln}
	f.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go up.serve(c)
		}
	}()
	names := fuzzVarNames()
	var locs strings.Builder
	locs.WriteString("        location /uri/ { proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_pass http://b/up/; }\n")
	for v, name := range names {
		for p, place := range fuzzPlaces {
			if p == len(fuzzPlaces)-1 && v > 0 {
				continue
			}
			fmt.Fprintf(&locs, "        location ~ \"^/v%dp%d/(?<name>[\\s\\S]*)$\" { proxy_http_version 1.1; proxy_set_header Connection \"\"; %s }\n",
				v, p, strings.ReplaceAll(place, "$V", "$"+name))
		}
	}
	port := freePort(f)
	start(f, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; keepalive 8; }", ln.Addr().(*net.TCPAddr).Port),
		"server_name example.org;\n"+locs.String()))
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	for v, name := range names {
		if name == "uri" || name == "1" || name == "name" {
			for p := range fuzzPlaces {
				f.Add(uint16(v+p*len(names)), []byte("\r\nX-A: b\r\n\r\nGET /evil HTTP/1.1"), "a=%0d%0a", "v")
			}
		}
	}
	f.Add(uint16(2), []byte("x\ny"), "a=1", "c\x01")
	f.Add(uint16(3), []byte("\x00"), "", "")
	f.Add(uint16(5), []byte("é \"#%?"), "a=%00&b", "x y")
	id := 0
	f.Fuzz(func(t *testing.T, sel uint16, path []byte, query, hv string) {
		v := int(sel) % len(names)
		p := int(sel/uint16(len(names))) % len(fuzzPlaces)
		if p == len(fuzzPlaces)-1 {
			v = 0
		}
		id++
		var target strings.Builder
		if p == len(fuzzPlaces)-1 {
			target.WriteString("/uri/")
		} else {
			fmt.Fprintf(&target, "/v%dp%d/", v, p)
		}
		for _, c := range path {
			fmt.Fprintf(&target, "%%%02X", c)
		}
		if query != "" {
			target.WriteString("?" + query)
		}
		req := "GET " + target.String() + " HTTP/1.1\r\nHost: example.org\r\nX-F: " + hv + "\r\nCookie: c=" + hv +
			"\r\nX-Id: " + strconv.Itoa(id) + "\r\nConnection: close\r\n\r\n"
		resp := exchange(t, addr, req)
		checkHeaderBlock(t, "response", resp)
		head, _, _ := strings.Cut(resp, "\r\n\r\n")
		if statusOf(resp) == 200 && strings.Contains(head, "X-Echo-Id:") && !strings.Contains(head+"\r\n", "\r\nX-Echo-Id: "+strconv.Itoa(id)+"\r\n") {
			t.Fatalf("response for another request: %q", resp)
		}
		reqs := up.take()
		if len(reqs) > 1 {
			t.Fatalf("one client request became %d upstream requests: %q", len(reqs), reqs)
		}
		for _, r := range reqs {
			checkHeaderBlock(t, "upstream request", r)
			if !strings.Contains(r, "\r\nX-Id: "+strconv.Itoa(id)+"\r\n") {
				t.Fatalf("upstream request is not request %d: %q", id, r)
			}
		}
	})
}

// checkHeaderBlock fails unless msg starts with a header block whose
// every line after the first is "Name: value" with a token name and no
// CR, LF or NUL: nothing was split or smuggled. A connection closed
// without a response (the writers' last line of defence) fails too.
func checkHeaderBlock(t *testing.T, what, msg string) {
	t.Helper()
	head, _, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok {
		t.Fatalf("%s without a complete header: %q", what, msg)
	}
	lines := strings.Split(head, "\r\n")
	if strings.ContainsAny(lines[0], "\r\n\x00") {
		t.Fatalf("%s: bad first line %q", what, lines[0])
	}
	for _, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(l, "\r\n\x00") || strings.ContainsAny(name, " \t\"(),/;<=>?@[\\]{}") {
			t.Fatalf("%s: split header line %q in %q", what, l, msg)
		}
	}
}
