package proxy

import (
	"strings"
	"testing"
	"time"

	"gatehouse/internal/http1"
	"gatehouse/internal/request"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/variables"
)

// compile builds a Location for a location named name with proxy_pass
// raw (its URI part uri) and the given proxy_redirect rules.
func compile(t *testing.T, name, raw, uri string, redirects ...Redirect) *Location {
	t.Helper()
	reg, err := variables.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Location: name, Pass: Pass{Raw: raw, URI: uri, HasURI: uri != ""}, Redirects: redirects}
	l, err := Compile(nil, o, nil, nil, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// exchangeFor is a request context for target, as the server fills it in.
func exchangeFor(t *testing.T, target, host string, tls bool, port string) *request.Ctx {
	t.Helper()
	r := &http1.Request{Target: []byte(target)}
	if host != "" {
		r.Host = []byte(host)
	}
	c := &request.Conn{RemoteIP: []byte("192.0.2.1"), ServerAddr: []byte("10.0.0.5"), ServerPort: []byte(port)}
	if tls {
		c.TLS = &tlsterm.Info{}
	}
	x := &request.Ctx{Conn: c, Env: &request.Env{Now: time.Now}, Host: r.Host}
	x.Req.FromHTTP1(r)
	if !x.Normalize(true) {
		t.Fatalf("%q does not normalise", target)
	}
	return x
}

// TestAppendURI covers nginx.md §5.1's mapping of the request URI.
func TestAppendURI(t *testing.T) {
	cases := []struct {
		name, raw, uri, target, want string
	}{
		{"/name/", "http://b/remote/", "/remote/", "/name/x?y=1", "/remote/x?y=1"},
		{"/name/", "http://b/remote", "/remote", "/name/x", "/remotex"},
		{"/name", "http://b/remote/", "/remote/", "/name/x", "/remote//x"},
		{"/api/", "http://b/", "/", "/api/v1", "/v1"},
		{"/name/", "http://b/remote/", "/remote/", "/name/a%20b%3f%c3%a9?q=%20", "/remote/a%20b%3F%C3%A9?q=%20"},
		{"/name/", "http://b/remote/", "/remote/", "/name/a%2Fb", "/remote/a/b"},
		{"/name/", "http://b/remote/", "/remote/", "/name/%22%23%3C%3E%5C%5E%60%7B%7C%7D%7F", "/remote/%22%23%3C%3E%5C%5E%60%7B%7C%7D%7F"},
		{"/name/", "http://b/remote/", "/remote/", "/name/a b", "/remote/a b"}, // not quoted: copied as is
		{"/", "http://b", "", "/a//b/%7e/../c?x=%41", "/a//b/%7e/../c?x=%41"},
		{"= /exact", "http://b/e", "/e", "/exact?q", "/e?q"},
	}
	for _, tc := range cases {
		name := strings.TrimPrefix(tc.name, "= ")
		l := compile(t, name, tc.raw, tc.uri)
		x := exchangeFor(t, tc.target, "front", false, "80")
		if got := string(l.appendURI(nil, x)); got != tc.want {
			t.Errorf("location %s, proxy_pass %s, %s: sent %q, want %q", tc.name, tc.raw, tc.target, got, tc.want)
		}
	}
}

// TestRewriteLocation covers proxy_redirect default and literal rules
// and the absolute URL made of a rewritten path (nginx.md §5.6).
func TestRewriteLocation(t *testing.T) {
	def := Redirect{Default: true}
	cases := []struct {
		name          string
		loc, raw, uri string
		rules         []Redirect
		host          string
		tls           bool
		port          string
		in            string
		want          string // "" when no rule applies
		absolute      bool
	}{
		{"default with URI part", "/one/", "http://b/two/", "/two/", []Redirect{def}, "front", false, "8080",
			"http://b/two/x?y", "http://front:8080/one/x?y", true},
		{"default without URI part", "/one/", "http://b", "", []Redirect{def}, "front", false, "80",
			"http://b/x", "http://front/x", true},
		{"default over TLS on 443", "/", "https://b:8443", "", []Redirect{def}, "front", true, "443",
			"https://b:8443/x", "https://front/x", true},
		{"TLS on another port", "/", "https://b:8443", "", []Redirect{def}, "front", true, "80",
			"https://b:8443/x", "https://front:80/x", true},
		{"no host: the local address", "/", "http://b", "", []Redirect{def}, "", false, "81",
			"http://b/x", "http://10.0.0.5:81/x", true},
		{"match is case-sensitive", "/", "http://b", "", []Redirect{def}, "front", false, "80",
			"HTTP://b/x", "", false},
		{"relative Location untouched", "/one/", "http://b/two/", "/two/", []Redirect{def}, "front", false, "80",
			"/two/x", "", false},
		{"first matching rule wins", "/", "http://b", "", []Redirect{
			{Pattern: "http://b/a/", Replacement: "http://c/"},
			{Pattern: "http://b/", Replacement: "/d/"},
		}, "front", false, "80", "http://b/a/x", "http://c/x", false},
		{"second rule", "/", "http://b", "", []Redirect{
			{Pattern: "http://b/a/", Replacement: "http://c/"},
			{Pattern: "http://b/", Replacement: "/d/"},
		}, "front", false, "80", "http://b/e", "http://front/d/e", true},
		{"replacement with variables", "/", "http://b", "", []Redirect{
			{Pattern: "http://b/", Replacement: "$scheme://$host/p/"},
		}, "front", false, "80", "http://b/e", "http://front/p/e", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := compile(t, tc.loc, tc.raw, tc.uri, tc.rules...)
			x := exchangeFor(t, "/", tc.host, tc.tls, tc.port)
			got, ok, abs := l.rewriteLocation(x, []byte(tc.in), true)
			if !ok {
				if tc.want != "" {
					t.Fatalf("no rule applied to %q, want %q", tc.in, tc.want)
				}
				return
			}
			if string(got) != tc.want || abs != tc.absolute {
				t.Errorf("%q -> %q (absolute %v), want %q (%v)", tc.in, got, abs, tc.want, tc.absolute)
			}
		})
	}
}

// TestRewriteRefresh: the URL after "url=" (any case) is rewritten and
// not made absolute; both rewrites of one response keep their values.
func TestRewriteRefresh(t *testing.T) {
	l := compile(t, "/one/", "http://b/two/", "/two/", Redirect{Default: true})
	x := exchangeFor(t, "/one/x", "front", false, "8080")
	loc, _, _ := l.rewriteLocation(x, []byte("http://b/two/loc"), true)
	for in, want := range map[string]string{
		"5; url=http://b/two/x": "5; url=/one/x",
		"0;URL=http://b/two/":   "0;URL=/one/",
		"5; url=http://c/x":     "5; url=http://c/x",
		"5":                     "5",
	} {
		if got := string(l.rewriteRefresh(x, []byte(in))); got != want {
			t.Errorf("Refresh %q -> %q, want %q", in, got, want)
		}
	}
	if string(loc) != "http://front:8080/one/loc" {
		t.Errorf("the Location rewritten first became %q", loc)
	}
}

// TestCompileRejects: rules gatehouse cannot apply are load errors, never
// silently ignored.
func TestCompileRejects(t *testing.T) {
	reg, err := variables.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range []Redirect{
		{Pattern: "^http://b/(.*)", Replacement: "/$1", Regex: true},
		{Pattern: "http://$host/", Replacement: "/"},
	} {
		o := &Options{Location: "/", Pass: Pass{Raw: "http://b"}, Redirects: []Redirect{rd}}
		if _, err := Compile(nil, o, nil, nil, nil, reg); err == nil || !strings.Contains(err.Error(), "proxy_redirect") {
			t.Errorf("rule %+v: error %v, want a proxy_redirect error", rd, err)
		}
	}
}

// TestHideList: nginx hides Date, Server, X-Pad and X-Accel-* besides
// the framing headers; proxy_pass_header un-hides all but the framing.
func TestHideList(t *testing.T) {
	reg, _ := variables.NewRegistry()
	o := &Options{Location: "/", Pass: Pass{Raw: "http://b"},
		HideHeaders: []string{"x-secret"}, PassHeaders: []string{"server", "connection"}}
	l, err := Compile(nil, o, nil, nil, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	for name, hidden := range map[string]bool{
		"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true,
		"Date": true, "Server": false, "X-Pad": true, "X-Accel-Expires": true, "X-Accel-Redirect": true,
		"X-Accel-Limit-Rate": true, "X-Accel-Buffering": true, "X-Accel-Charset": true, "X-SECRET": true,
		"Upgrade": false, "TE": false, "Trailer": false, "Set-Cookie": false,
	} {
		if got := hasName(l.hide, []byte(name)); got != hidden {
			t.Errorf("%s hidden = %v, want %v", name, got, hidden)
		}
	}
}

// TestAppendSeconds: $upstream_*_time values are seconds with
// milliseconds, ", "-separated per attempt.
func TestAppendSeconds(t *testing.T) {
	var b []byte
	b = appendSeconds(b, 1234567*time.Microsecond)
	b = appendSeconds(b, 5*time.Millisecond)
	b = appendSeconds(b, -time.Second)
	if got, want := string(b), "1.234, 0.005, 0.000"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestRewriteLocationAllocs: rewriting reuses the exchange's buffer.
func TestRewriteLocationAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	l := compile(t, "/one/", "http://b/two/", "/two/", Redirect{Default: true})
	x := exchangeFor(t, "/one/x", "front", false, "8080")
	v := []byte("http://b/two/some/longer/path?with=args")
	r := []byte("5; URL=http://b/two/x")
	rewrite := func() {
		x.KeepScratch(x.Scratch())
		l.rewriteLocation(x, v, true)
		l.rewriteRefresh(x, r)
	}
	rewrite()
	if n := testing.AllocsPerRun(100, rewrite); n != 0 {
		t.Errorf("%v allocations per rewrite, want 0", n)
	}
}
