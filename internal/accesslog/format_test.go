package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"gatehouse/internal/variables"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// request is a fake variables.Source: a map from variable name (as the
// registry resolves it) to value; absent names are not found.
type request map[string]string

func (r request) Var(id variables.ID, arg []byte, dst []byte) ([]byte, bool) {
	key := id.String()
	if id.IsPrefix() {
		key = strings.TrimSuffix(key, "*") + string(arg)
	}
	v, ok := r[key]
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

func registry(t testing.TB) *variables.Registry {
	t.Helper()
	r, err := variables.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A request like the example line of nginx.md §10.1.
var curlRequest = request{
	"remote_addr":     "203.0.113.7",
	"time_local":      "10/Oct/2025:13:55:36 +0000",
	"request":         "GET /upstream/x HTTP/1.1",
	"status":          "200",
	"body_bytes_sent": "612",
	"http_user_agent": "curl/8.5.0",
}

// A hostile request: quotes, backslashes, control bytes, DEL and UTF-8 in
// values, an empty user, a missing referrer.
var hostileRequest = request{
	"remote_addr":     "2001:db8::1",
	"remote_user":     "",
	"time_local":      "10/Oct/2025:13:55:36 +0000",
	"request":         "GET /a\"b\\c\x01\x7f HTTP/1.1",
	"status":          "400",
	"body_bytes_sent": "0",
	"http_user_agent": "Mozilla \"x\"\ttab\nnewline é \x1f",
}

func TestCombinedGolden(t *testing.T) {
	reg := registry(t)
	var out bytes.Buffer
	for _, c := range []struct {
		name   string
		escape Escape
	}{{"combined", EscapeDefault}, {"combined_default", EscapeDefault}, {"combined_json", EscapeJSON}, {"combined_none", EscapeNone}} {
		name := c.name
		f, err := NewFormat(reg, name, c.escape, Combined)
		if err != nil {
			t.Fatal(err)
		}
		for i, req := range []request{curlRequest, hostileRequest} {
			fmt.Fprintf(&out, "# %s request %d\n", name, i)
			out.Write(f.Append(nil, req))
			out.WriteByte('\n')
		}
	}
	golden := filepath.Join("testdata", "combined.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if out.String() != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, out.String(), want)
	}
}

// TestCombinedExample pins nginx.md's example line without the golden file.
func TestCombinedExample(t *testing.T) {
	f, err := NewFormat(registry(t), "combined", EscapeDefault, Combined)
	if err != nil {
		t.Fatal(err)
	}
	got := string(f.Append(nil, curlRequest))
	want := `203.0.113.7 - - [10/Oct/2025:13:55:36 +0000] "GET /upstream/x HTTP/1.1" 200 612 "-" "curl/8.5.0"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRenderingRules(t *testing.T) {
	reg := registry(t)
	req := request{"host": "", "uri": "a\"b"}
	tests := []struct {
		escape Escape
		args   []string
		want   string
	}{
		// not found: "-" only with escape=default; empty prints nothing
		{EscapeDefault, []string{"[$http_x][$host][$uri]"}, `[-][][a\x22b]`},
		{EscapeJSON, []string{"[$http_x][$host][$uri]"}, `[][][a\"b]`},
		{EscapeNone, []string{"[$http_x][$host][$uri]"}, `[][][a"b]`},
		// literal text is never escaped; strings are concatenated
		{EscapeDefault, []string{`"lit\`, ` $uri`}, `"lit\ a\x22b`},
		{EscapeDefault, []string{"${uri}x"}, `a\x22bx`},
	}
	for _, tc := range tests {
		f, err := NewFormat(reg, "t", tc.escape, tc.args...)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := string(f.Append(nil, req)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.args, got, tc.want)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	reg := registry(t)
	tests := []struct {
		args []string
		want string
		is   error
	}{
		{[]string{"a $ b"}, `invalid parameter "$ b"`, variables.ErrInvalidName},
		{[]string{"ok", "x$"}, `invalid parameter "$"`, variables.ErrInvalidName},
		{[]string{"${}"}, `invalid parameter "${}"`, variables.ErrInvalidName},
		{[]string{"${uri"}, `the closing bracket in "uri" variable is missing`, variables.ErrMissingBracket},
		{[]string{"$nope"}, `unknown "nope" variable`, variables.ErrUnknown},
		{[]string{"$1"}, `unknown "1" variable`, variables.ErrUnknown},
	}
	for _, tc := range tests {
		_, err := NewFormat(reg, "t", EscapeDefault, tc.args...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: err %v, want %s", tc.args, err, tc.want)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%q: errors.Is(%v) false", tc.args, tc.is)
		}
	}
}

func TestEscapeString(t *testing.T) {
	if EscapeJSON.String() != "json" || EscapeNone.String() != "none" || EscapeDefault.String() != "default" {
		t.Error("Escape.String")
	}
}

func TestEscapers(t *testing.T) {
	in := []byte("a\"b\\c\x00\x1f\x20\x7e\x7f\x80\xff\n\r\t\b\fé")
	if got, want := string(AppendEscapeDefault(nil, in)),
		`a\x22b\x5Cc\x00\x1F ~\x7F\x80\xFF\x0A\x0D\x09\x08\x0C\xC3\xA9`; got != want {
		t.Errorf("default: %s\nwant     %s", got, want)
	}
	if got, want := string(AppendEscapeJSON(nil, in)),
		"a\\\"b\\\\c\\u0000\\u001F ~\x7f\x80\xff\\n\\r\\t\\b\\f\u00e9"; got != want {
		t.Errorf("json: %q\nwant  %q", got, want)
	}
}

func FuzzEscapers(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\", "\x00\x1f\x7f\x80\xff", "é", "\n\r\t\b\f", "a\"b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		def := AppendEscapeDefault(nil, in)
		for i, c := range def {
			if c == '"' || c >= 0x80 || c < 0x20 || c == 0x7f {
				t.Fatalf("default output has raw byte %#x at %d: %q", c, i, def)
			}
			if c == '\\' && (i+1 >= len(def) || def[i+1] != 'x') {
				t.Fatalf("default output has a bare backslash: %q", def)
			}
		}
		js := AppendEscapeJSON(nil, in)
		if utf8.Valid(in) {
			var back string
			if err := json.Unmarshal(append(append([]byte{'"'}, js...), '"'), &back); err != nil || back != string(in) {
				t.Fatalf("json output %q does not decode to the input (%v)", js, err)
			}
		}
		// In-place escaping after a prefix equals appending.
		prefix := []byte("pre")
		for _, mode := range []struct {
			inPlace func([]byte, int) []byte
			app     func([]byte, []byte) []byte
		}{{escapeDefaultInPlace, AppendEscapeDefault}, {escapeJSONInPlace, AppendEscapeJSON}} {
			b := append(append([]byte(nil), prefix...), in...)
			got := mode.inPlace(b, len(prefix))
			want := mode.app(append([]byte(nil), prefix...), in)
			if !bytes.Equal(got, want) {
				t.Fatalf("in place %q != append %q", got, want)
			}
		}
	})
}

func FuzzCompileFormat(f *testing.F) {
	for _, s := range []string{Combined, "$", "a $ b", "${uri", "${}", "$1", "escape=json", "$status$uri", "x${host}y"} {
		f.Add(s)
	}
	reg := registry(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, args := range [][]string{{s}, {s, "$uri"}, {"x", s}} {
			fm, err := NewFormat(reg, "f", EscapeJSON, args...)
			if err != nil {
				var ae *Error
				var se *variables.SyntaxError
				var ue *variables.UnknownError
				if !errors.As(err, &ae) && !errors.As(err, &se) && !errors.As(err, &ue) {
					t.Fatalf("unclassified error %T %v", err, err)
				}
				continue
			}
			_ = fm.Append(nil, hostileRequest)
		}
	})
}

// sloppy violates the Source contract: it appends even when it reports
// not found, and truncates dst for $uri.
type sloppy struct{}

func (sloppy) Var(id variables.ID, arg []byte, dst []byte) ([]byte, bool) {
	if id == variables.URI {
		return dst[:0], true
	}
	return append(dst, "garbage"...), false
}

func TestSloppySource(t *testing.T) {
	reg := registry(t)
	for _, esc := range []Escape{EscapeDefault, EscapeJSON, EscapeNone} {
		f, err := NewFormat(reg, "s", esc, "a $host b $uri c")
		if err != nil {
			t.Fatal(err)
		}
		want := "a - b - c"
		if esc != EscapeDefault {
			want = "a  b  c"
		}
		if got := string(f.Append([]byte{}, sloppy{})); got != want {
			t.Errorf("%s: got %q, want %q", esc, got, want)
		}
	}
}
