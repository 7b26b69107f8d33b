package route

import (
	"bytes"
	"errors"
	"testing"

	"gatehouse/internal/variables"
)

func TestNormalizeURI(t *testing.T) {
	const bad = "\x00bad"
	cases := []struct {
		in     string
		merge  bool
		path   string
		args   string // "-" for none
		quoted bool
	}{
		{in: "/", merge: true, path: "/", args: "-"},
		{in: "/a/b", merge: true, path: "/a/b", args: "-"},
		{in: "/a/b?x=1", merge: true, path: "/a/b", args: "x=1"},
		{in: "/a/b?", merge: true, path: "/a/b", args: "-"},
		{in: "/a/b?#", merge: true, path: "/a/b", args: ""},
		{in: "/a/b/.?#", merge: true, path: "/a/b/", args: ""},
		{in: "/a?x#frag", merge: true, path: "/a", args: "x"},
		{in: "/a#frag?x", merge: true, path: "/a", args: "-"},
		{in: "/a%2Fb", merge: true, path: "/a/b", args: "-", quoted: true},
		{in: "/a%2fb", merge: true, path: "/a/b", args: "-", quoted: true},
		{in: "/a%2F%2Fb", merge: true, path: "/a/b", args: "-", quoted: true},
		{in: "/a%2F%2Fb", merge: false, path: "/a//b", args: "-", quoted: true},
		{in: "/%41%42c", merge: true, path: "/ABc", args: "-", quoted: true},
		{in: "/a%20b", merge: true, path: "/a b", args: "-", quoted: true},
		{in: "/a%3Fb?c", merge: true, path: "/a?b", args: "c", quoted: true},
		{in: "/a%23b", merge: true, path: "/a#b", args: "-", quoted: true},
		{in: "/a%25b", merge: true, path: "/a%b", args: "-", quoted: true},
		{in: "/a%252e%252e", merge: true, path: "/a%2e%2e", args: "-", quoted: true},
		{in: "/a/./b", merge: true, path: "/a/b", args: "-"},
		{in: "/a/.", merge: true, path: "/a/", args: "-"},
		{in: "/a/.?q", merge: true, path: "/a/", args: "q"},
		{in: "/a/.#f", merge: true, path: "/a/", args: "-"},
		{in: "/./", merge: true, path: "/", args: "-"},
		{in: "/a/%2E/b", merge: true, path: "/a/b", args: "-", quoted: true},
		{in: "/a/b/../c", merge: true, path: "/a/c", args: "-"},
		{in: "/a/b/..", merge: true, path: "/a/", args: "-"},
		{in: "/a/b/..?q", merge: true, path: "/a/", args: "q"},
		{in: "/a/b/..#f", merge: true, path: "/a/", args: "-"},
		{in: "/a/b/%2e%2E/c", merge: true, path: "/a/c", args: "-", quoted: true},
		{in: "/a/b%2F..%2Fc", merge: true, path: "/a/c", args: "-", quoted: true},
		{in: "/a/..", merge: true, path: "/", args: "-"},
		{in: "/a/../..", merge: true, path: bad},
		{in: "/..", merge: true, path: bad},
		{in: "/../a", merge: true, path: bad},
		{in: "/%2e%2e/a", merge: true, path: bad},
		{in: "/..?x", merge: true, path: bad},
		{in: "/a/..b", merge: true, path: "/a/..b", args: "-"},
		{in: "/a/...", merge: true, path: "/a/...", args: "-"},
		{in: "/a/.b", merge: true, path: "/a/.b", args: "-"},
		{in: "/a.", merge: true, path: "/a.", args: "-"},
		{in: "/a/..%3F", merge: true, path: "/a/..?", args: "-", quoted: true},
		{in: "//a///b", merge: true, path: "/a/b", args: "-"},
		{in: "//a///b", merge: false, path: "//a///b", args: "-"},
		{in: "/a//../b", merge: false, path: "/a/b", args: "-"},
		{in: "/a//./b", merge: false, path: "/a//b", args: "-"},
		{in: "/a/b//..", merge: true, path: "/a/", args: "-"},
		{in: "/a%00b", merge: true, path: bad},
		{in: "/a%", merge: true, path: bad},
		{in: "/a%4", merge: true, path: bad},
		{in: "/a%zz", merge: true, path: bad},
		{in: "/a%4g", merge: true, path: bad},
		{in: "/a%?x", merge: true, path: bad},
		{in: "/a?%zz", merge: true, path: "/a", args: "%zz"}, // args are not decoded
		{in: "", merge: true, path: "/", args: "-"},
		{in: "?a=b", merge: true, path: "/", args: "a=b"},
		{in: "a/b", merge: true, path: bad},
		{in: "*", merge: true, path: bad},
		{in: "/a+b%2B", merge: true, path: "/a+b+", args: "-", quoted: true},
		{in: "/\xc3\xa9%C3%A9", merge: true, path: "/\xc3\xa9\xc3\xa9", args: "-", quoted: true},
	}
	for _, c := range cases {
		buf := make([]byte, 0, len(c.in)+1)
		u, err := NormalizeURI(buf, []byte(c.in), c.merge)
		if c.path == bad {
			if !errors.Is(err, ErrInvalidURI) {
				t.Errorf("NormalizeURI(%q) = %q, %v; want ErrInvalidURI", c.in, u.Path, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NormalizeURI(%q): %v", c.in, err)
			continue
		}
		args := "-"
		if u.Args != nil {
			args = string(u.Args)
		}
		if string(u.Path) != c.path || args != c.args || u.Quoted != c.quoted {
			t.Errorf("NormalizeURI(%q, merge=%v) = %q args %q quoted %v; want %q args %q quoted %v",
				c.in, c.merge, u.Path, args, u.Quoted, c.path, c.args, c.quoted)
		}
	}
}

func TestNormalizeURIPlus(t *testing.T) {
	for in, want := range map[string]bool{"/a+b": true, "/a%2Bb": true, "/a?b+c": false, "/ab": false, "/+": true, "/.+": true} {
		u, err := NormalizeURI(nil, []byte(in), true)
		if err != nil || u.Plus != want {
			t.Errorf("%q: plus %v err %v, want %v", in, u.Plus, err, want)
		}
	}
}

func TestNormalizeURIKeepsTarget(t *testing.T) {
	in := []byte("/a/./b/../%63//d?x=%20")
	orig := bytes.Clone(in)
	buf := make([]byte, 0, len(in)+1)
	u, err := NormalizeURI(buf, in, true)
	if err != nil || string(u.Path) != "/a/c/d" {
		t.Fatalf("%q %v", u.Path, err)
	}
	if !bytes.Equal(in, orig) {
		t.Error("target modified")
	}
	if &u.Path[0] != &buf[:1][0] {
		t.Error("path not written into the caller's buffer")
	}
	if n := testing.AllocsPerRun(100, func() { NormalizeURI(buf, in, true) }); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{"/", "/a/./b/../c", "/%2e%2E/", "//a//b?x#y", "/a%2F..%2Fb", "/%00", "?q", "/a/..", "/.%3F/", "/a%25/../b", "/a//..//b"} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, merge bool) {
		orig := bytes.Clone(in)
		u, err := NormalizeURI(nil, in, merge)
		if !bytes.Equal(in, orig) {
			t.Fatal("target modified")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		p := u.Path
		if len(p) == 0 || p[0] != '/' {
			t.Fatalf("%q -> %q does not start with /", in, p)
		}
		if len(p) > len(in)+1 {
			t.Fatalf("%q -> %q grew", in, p)
		}
		for _, seg := range [][]byte{[]byte("/../"), []byte("/./")} {
			if bytes.Contains(p, seg) {
				t.Fatalf("%q -> %q contains %q", in, p, seg)
			}
		}
		if bytes.HasSuffix(p, []byte("/..")) || bytes.HasSuffix(p, []byte("/.")) {
			t.Fatalf("%q -> %q ends in a dot segment", in, p)
		}
		if merge && bytes.Contains(p, []byte("//")) {
			t.Fatalf("%q -> %q has //", in, p)
		}
		if u.Args != nil && (len(u.Args) > len(in) || bytes.IndexByte(u.Args, '#') >= 0) {
			t.Fatalf("%q -> args %q", in, u.Args)
		}
		// A normalised path is a fixed point unless decoding produced
		// bytes that are special to the parser again.
		if bytes.ContainsAny(p, "%?#") {
			return
		}
		u2, err := NormalizeURI(nil, p, merge)
		if err != nil || !bytes.Equal(u2.Path, p) {
			t.Fatalf("not stable: %q -> %q -> %q (%v)", in, p, u2.Path, err)
		}
	})
}

func TestEscapeURIRoundTrip(t *testing.T) {
	// every byte, escaped, decodes back to itself through NormalizeURI
	var all []byte
	for c := 1; c < 256; c++ {
		if c != '/' && c != '.' {
			all = append(all, byte(c))
		}
	}
	target := variables.AppendEscapedURI([]byte("/"), all)
	u, err := NormalizeURI(make([]byte, 0, len(target)+1), target, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(u.Path) != "/"+string(all) {
		t.Errorf("round trip lost bytes: %q", u.Path)
	}
}
