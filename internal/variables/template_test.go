package variables

import (
	"errors"
	"strings"
	"testing"
)

// mapSource answers from a map keyed by the variable's lowercased name as
// written; names absent from the map are not found.
type mapSource map[string]string

func (m mapSource) Var(id ID, arg []byte, dst []byte) ([]byte, bool) {
	key := id.String()
	switch {
	case id.IsPrefix():
		key = strings.TrimSuffix(key, "*") + string(arg)
	case id == Capture:
		key = string(arg)
	case id >= FirstDefined:
		key = string(arg)
	}
	v, ok := m[key]
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

func mustRegistry(t testing.TB, defined ...string) *Registry {
	t.Helper()
	r, err := NewRegistry(defined...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompile(t *testing.T) {
	src := mapSource{
		"host":             "example.com",
		"remote_addr":      "203.0.113.7",
		"uri":              "/p",
		"1":                "one",
		"2":                "two",
		"http_x_real_ip":   "198.51.100.1",
		"arg_q":            "v",
		"cookie_sid":       "abc",
		"upstream_http_x":  "u",
		"sent_http_server": "gh",
		"mine":             "defined",
		"request_uri":      "/p?q=v",
		"server_port":      "443",
	}
	tests := []struct {
		name, in, want string
		constant       bool
	}{
		{"literal", "plain text", "plain text", true},
		{"empty", "", "", true},
		{"simple", "$host", "example.com", false},
		{"abutting text", "$host:$server_port", "example.com:443", false},
		{"braces", "${host}x", "example.comx", false},
		{"braces mid", "a${uri}b", "a/pb", false},
		{"name stops at dash", "$host-x", "example.com-x", false},
		{"name stops at dot", "$host.", "example.com.", false},
		{"uppercase name", "$HOST", "example.com", false},
		{"mixed case family", "$http_X_Real_IP", "198.51.100.1", false},
		{"capture", "$1", "one", false},
		{"capture one digit only", "$10", "one0", false},
		{"captures adjacent", "$1$2", "onetwo", false},
		{"arg family", "$arg_q", "v", false},
		{"cookie family", "$cookie_sid", "abc", false},
		{"upstream header family", "$upstream_http_x", "u", false},
		{"sent header family", "$sent_http_server", "gh", false},
		{"not found is empty", "[$http_missing]", "[]", false},
		{"defined", "$mine", "defined", false},
		{"alias document_uri", "$document_uri", "/p", false},
		{"dollar dollar", "a$host$uri", "aexample.com/p", false},
		{"question mark is literal", "$request_uri?x", "/p?q=v?x", false},
	}
	r := mustRegistry(t, "mine")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := r.Compile(tc.in)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.in, err)
			}
			if got := string(tmpl.Append(nil, src)); got != tc.want {
				t.Errorf("Append = %q, want %q", got, tc.want)
			}
			if tmpl.IsConstant() != tc.constant {
				t.Errorf("IsConstant = %v, want %v", tmpl.IsConstant(), tc.constant)
			}
			if tmpl.String() != tc.in {
				t.Errorf("String = %q", tmpl.String())
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		in, want string
		kind     error
		offset   int
	}{
		{"$", "invalid variable name", ErrInvalidName, 0},
		{"abc$", "invalid variable name", ErrInvalidName, 3},
		{"${}", "invalid variable name", ErrInvalidName, 0},
		{"${", "invalid variable name", ErrInvalidName, 0},
		{"a$-b", "invalid variable name", ErrInvalidName, 1},
		{"$ x", "invalid variable name", ErrInvalidName, 0},
		{"x$/", "invalid variable name", ErrInvalidName, 1},
		{"$host$", "invalid variable name", ErrInvalidName, 5},
		{"${host", `the closing bracket in "host" variable is missing`, ErrMissingBracket, 0},
		{"${ho-st}", `the closing bracket in "ho" variable is missing`, ErrMissingBracket, 0},
		{"${-}", `the closing bracket in "" variable is missing`, ErrMissingBracket, 0},
		{"${0", `the closing bracket in "0" variable is missing`, ErrMissingBracket, 0},
		{"$foo", `unknown "foo" variable`, ErrUnknown, 0},
		{"$Foo_Bar", `unknown "foo_bar" variable`, ErrUnknown, 0},
		{"${1}", `unknown "1" variable`, ErrUnknown, 0},
		{"$0", `unknown "0" variable`, ErrUnknown, 0},
		{"$http", `unknown "http" variable`, ErrUnknown, 0},
		{"$ssl_foo", `unknown "ssl_foo" variable`, ErrUnknown, 0},
	}
	r := mustRegistry(t)
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := r.Compile(tc.in)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded", tc.in)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.kind)
			}
			var se *SyntaxError
			if errors.As(err, &se) && se.Offset != tc.offset {
				t.Errorf("offset %d, want %d", se.Offset, tc.offset)
			}
		})
	}
}

func TestLogFormatMode(t *testing.T) {
	r := mustRegistry(t)
	if _, err := r.CompileMode("$1", LogFormat); !errors.Is(err, ErrUnknown) || err.Error() != `unknown "1" variable` {
		t.Errorf("log mode $1: %v", err)
	}
	tmpl, err := r.CompileMode("$status$host", LogFormat)
	if err != nil {
		t.Fatal(err)
	}
	got := tmpl.Append(nil, mapSource{"status": "200", "host": "h"})
	if string(got) != "200h" {
		t.Errorf("got %q", got)
	}
}

func TestLookup(t *testing.T) {
	r := mustRegistry(t, "MyVar", "http_special", "myvar")
	tests := []struct {
		name string
		id   ID
		arg  string
	}{
		{"host", Host, ""},
		{"Query_String", Args, ""},
		{"http_x_forwarded_for", HTTP, "x_forwarded_for"},
		{"http_", HTTP, ""},
		{"sent_http_content_type", SentHTTP, "content_type"},
		{"sent_trailer_grpc", SentTrailer, "grpc"},
		{"cookie_SID", Cookie, "sid"},
		{"arg_page", Arg, "page"},
		{"upstream_http_location", UpstreamHTTP, "location"},
		{"upstream_trailer_t", UpstreamTrailer, "t"},
		{"upstream_cookie_c", UpstreamCookie, "c"},
		{"upstream_addr", UpstreamAddr, ""},
		{"ssl_client_s_dn", SSLClientSDN, ""},
		{"myvar", FirstDefined, "myvar"},
		{"MYVAR", FirstDefined, "myvar"},
		// an exact defined name wins over the prefix family
		{"http_special", FirstDefined + 1, "http_special"},
	}
	for _, tc := range tests {
		id, arg, err := r.Lookup(tc.name)
		if err != nil || id != tc.id || string(arg) != tc.arg {
			t.Errorf("Lookup(%q) = %v %q %v, want %v %q", tc.name, id, arg, err, tc.id, tc.arg)
		}
	}
	if r.NumDefined() != 2 {
		t.Errorf("NumDefined = %d", r.NumDefined())
	}
	if n, ok := r.DefinedName(FirstDefined + 1); !ok || n != "http_special" {
		t.Errorf("DefinedName = %q %v", n, ok)
	}
	if _, ok := r.DefinedName(FirstDefined + 2); ok {
		t.Error("DefinedName out of range succeeded")
	}
}

func TestNewRegistryDuplicate(t *testing.T) {
	_, err := NewRegistry("Host")
	var de *DuplicateError
	if !errors.As(err, &de) || err.Error() != `the duplicate "host" variable` {
		t.Fatalf("err = %v", err)
	}
	r := mustRegistry(t, "args")
	if id, _, _ := r.Lookup("args"); id != Args {
		t.Errorf("args resolved to %v", id)
	}
}

func TestIDs(t *testing.T) {
	for name, id := range builtinNames {
		if id == None || id >= HTTP {
			t.Errorf("%s has id %d outside the built-in range", name, id)
		}
		if got, _, _ := mustRegistry(t).Lookup(id.String()); got != id {
			t.Errorf("String of %s = %q does not look up to itself", name, id.String())
		}
	}
	if n, ok := SSLIndex(SSLProtocol); !ok || n != 0 {
		t.Error("SSLIndex(SSLProtocol)")
	}
	if n, ok := SSLIndex(SSLClientVRemain); !ok || n != 22 {
		t.Errorf("SSLIndex(SSLClientVRemain) = %d", n)
	}
	if _, ok := SSLIndex(Host); ok {
		t.Error("SSLIndex(Host) ok")
	}
	if CaptureIndex([]byte("7")) != 7 || CaptureIndex([]byte("0")) != 0 || CaptureIndex(nil) != 0 {
		t.Error("CaptureIndex")
	}
}

func TestTemplateHelpers(t *testing.T) {
	r := mustRegistry(t)
	tmpl, err := r.Compile("$scheme://$host$request_uri")
	if err != nil {
		t.Fatal(err)
	}
	if !tmpl.Uses(Host) || tmpl.Uses(RemoteAddr) {
		t.Error("Uses")
	}
	if len(tmpl.Segments()) != 4 {
		t.Errorf("segments: %d", len(tmpl.Segments()))
	}
	c := Constant("x$y")
	if !c.IsConstant() || string(c.Append(nil, nil)) != "x$y" || c.Value() != "x$y" {
		t.Error("Constant")
	}
	if !HasVariables("a$b") || HasVariables("ab") {
		t.Error("HasVariables")
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"", "$", "${", "${}", "${host", "$host", "a${uri}b", "$1$2x", "$10",
		"$http_X_Y", "${ho-st}", "$$", "x$-", "$arg_", "$Foo", "${1}"} {
		f.Add(s)
	}
	r := mustRegistry(f, "defined_var")
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := r.Compile(s)
		if err != nil {
			var se *SyntaxError
			var ue *UnknownError
			if !errors.As(err, &se) && !errors.As(err, &ue) {
				t.Fatalf("unclassified error %T %v", err, err)
			}
			if se != nil && (se.Offset < 0 || se.Offset >= len(s) || s[se.Offset] != '$') {
				t.Fatalf("offset %d does not point at a $ in %q", se.Offset, s)
			}
			return
		}
		if tmpl.IsConstant() != !strings.Contains(s, "$") {
			t.Fatalf("IsConstant=%v for %q", tmpl.IsConstant(), s)
		}
		// Rendering with every variable empty leaves exactly the literal
		// text, which must be a subsequence-free rewrite of s: no byte
		// of output can be invented.
		out := tmpl.Append(nil, mapSource{})
		if len(out) > len(s) {
			t.Fatalf("output %q longer than input %q", out, s)
		}
		_, _ = r.CompileMode(s, LogFormat)
	})
}

// sloppySource appends even when it reports not found.
type sloppySource struct{}

func (sloppySource) Var(id ID, arg []byte, dst []byte) ([]byte, bool) {
	return append(dst, "garbage"...), false
}

func TestAppendIgnoresNotFoundBytes(t *testing.T) {
	tmpl, err := mustRegistry(t).Compile("[$host]")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(tmpl.Append(nil, sloppySource{})); got != "[]" {
		t.Errorf("got %q", got)
	}
}

func TestAppendEscaping(t *testing.T) {
	r, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := r.Compile("http://x$uri?$args#$1")
	if err != nil {
		t.Fatal(err)
	}
	if !tpl.AnyByte() {
		t.Error("a template with $uri is not AnyByte")
	}
	src := mapSource{"uri": "/a\r\nb", "args": "q=%0d", "1": "c d"}
	upper := func(b []byte, from int) []byte {
		for i := from; i < len(b); i++ {
			if b[i] == '\r' || b[i] == '\n' || b[i] == ' ' {
				b[i] = '_'
			}
		}
		return b
	}
	// $uri and the capture are rewritten, the raw $args is not
	if got, want := string(tpl.AppendEscaping([]byte(">"), src, upper)), ">http://x/a__b?q=%0d#c_d"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	safe, _ := r.Compile("$host$request_uri$args$http_x")
	if safe.AnyByte() {
		t.Error("validated variables reported as AnyByte")
	}
}
