package httphost

import (
	"bytes"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"example.com", "example.com", true},
		{"Example.COM", "example.com", true},
		{"example.com:8080", "example.com", true},
		{"example.com.", "example.com", true},
		{"example.com.:443", "example.com", true},
		{"EXAMPLE.com.:443", "example.com", true},
		{"example.com..", "", false},
		{"a..b", "", false},
		{"a.b:1..2", "", false}, // ".." is checked in the port too
		{"", "", false},
		{".", "", false},
		{":80", "", false},
		{"[::1]", "[::1]", true},
		{"[::1]:443", "[::1]", true},
		{"[::1]:", "[::1]", true},
		{"[FE80::1]", "[fe80::1]", true},
		{"[::1", "[::1", true}, // nginx accepts an unterminated literal
		{"a:b:c", "a", true},
		{"a/b", "", false},
		{"a\\b", "", false},
		{"a b", "", false},
		{"a\tb", "", false},
		{"a\x00b", "", false},
		{"a\x7fb", "", false},
		{"a\x1fb", "", false},
		{"a:80/x", "", false}, // the port is scanned too
		{"a:8 0", "", false},
		{"host_name", "host_name", true},
		{"h\xc3\xa9.example", "h\xc3\xa9.example", true},
		{".example.com", ".example.com", true},
		{"localhost:ABC", "localhost", true},
		{"x.", "x", true},
	}
	for _, c := range cases {
		buf := make([]byte, 0, 64)
		got, ok := Validate(buf, []byte(c.in))
		if ok != c.ok || string(got) != c.want {
			t.Errorf("Validate(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestValidateAliasesWhenLowercase(t *testing.T) {
	in := []byte("example.com:80")
	got, ok := Validate(nil, in)
	if !ok || &got[0] != &in[0] {
		t.Error("lowercase host was copied")
	}
	in = []byte("Example.com")
	got, _ = Validate(nil, in)
	if &got[0] == &in[0] || string(in) != "Example.com" {
		t.Error("input was modified or aliased")
	}
}

func TestValidateInPlace(t *testing.T) {
	in := []byte("WWW.Example.COM.:8443")
	got, ok := Validate(in, in)
	if !ok || string(got) != "www.example.com" || &got[0] != &in[0] {
		t.Errorf("in place: %q %v", got, ok)
	}
}

func TestValidateNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	host := []byte("WWW.Example.COM.:443")
	n := testing.AllocsPerRun(100, func() {
		if _, ok := Validate(buf, host); !ok {
			t.Fatal("invalid")
		}
	})
	if n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"example.com", "Example.COM.:80", "[::1]:443", "a..b", "", ".", "a/b", "[x", "é.EXAMPLE"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		got, ok := Validate(nil, in)
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		if !ok {
			return
		}
		if len(got) == 0 || len(got) > len(in) {
			t.Fatalf("bad length %q -> %q", in, got)
		}
		if bytes.Contains(got, []byte("..")) || bytes.ContainsAny(got, "/\\") {
			t.Fatalf("%q -> %q", in, got)
		}
		for _, c := range got {
			if c <= 0x20 || c == 0x7f || ('A' <= c && c <= 'Z') {
				t.Fatalf("%q -> %q has %#x", in, got, c)
			}
		}
		if !bytes.EqualFold(got, in[:len(got)]) {
			t.Fatalf("%q -> %q is not a prefix", in, got)
		}
		// A validated host without port or trailing dot is stable.
		if got[len(got)-1] != '.' && !bytes.ContainsAny(got, ":") {
			again, ok := Validate(nil, got)
			if !ok || !bytes.Equal(again, got) {
				t.Fatalf("not stable: %q -> %q -> %q %v", in, got, again, ok)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	buf := make([]byte, 0, 64)
	host := []byte("WWW.Example.COM:443")
	b.ReportAllocs()
	for b.Loop() {
		Validate(buf, host)
	}
}

func TestInetAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", "010.0.0.1": "10.0.0.1", "1..2.3": "1.0.2.3", "255.255.255.255": "255.255.255.255",
		"256.0.0.1": "", "1.2.3": "", "1.2.3.4.5": "", "1.2.3.x": "", "": "", "::1": "",
	} {
		a, ok := InetAddr(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("InetAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
