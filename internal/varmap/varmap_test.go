package varmap

import (
	"errors"
	"regexp"
	"testing"
)

// TestFindOrder checks ngx_http_map_find's order: exact (any case), the
// longest "*.x" wildcard, the longest "x.*" wildcard, then the regexes in
// the order given, and no regex for an empty value.
func TestFindOrder(t *testing.T) {
	tb := NewTable()
	keys := []struct {
		key  string
		v    int
		wild bool
	}{
		{"Exact.Example.com", 0, true},
		{".example.com", 1, true},
		{"*.b.example.com", 2, true},
		{"www.example.*", 3, true},
		{"www.example.co.*", 4, true},
		{"", 5, false},
	}
	for _, k := range keys {
		if err := tb.Add(k.key, k.v, k.wild); err != nil {
			t.Fatalf("%q: %v", k.key, err)
		}
	}
	tb.AddRegex(regexp.MustCompile(`^(x)(\d+)`), 6)
	tb.AddRegex(regexp.MustCompile(`^x`), 7)
	tb.AddRegex(regexp.MustCompile(`example`), 8)
	tests := []struct {
		in    string
		want  int
		group bool
	}{
		{"exact.example.COM", 0, false},
		{"example.com", 1, false},
		{"a.example.com", 1, false},
		{"a.b.c.example.com", 1, false},
		{"c.b.example.com", 2, false},
		{"b.example.com", 1, false},
		{"www.example.org", 3, false},
		{"www.example.co.uk", 4, false},
		{"www.example.com", 1, false}, // head wildcards come first
		{"", 5, false},
		{"x12", 6, true},
		{"xa", 7, false},
		{"sub.example.org", 8, false},
		{"X12", -1, false}, // regexes keep their case
		{"nothing", -1, false},
	}
	var low []byte
	for _, tt := range tests {
		var m Match
		m, low = tb.Find([]byte(tt.in), low)
		if m.Value != tt.want || (m.Regexp != nil) != tt.group {
			t.Errorf("%q: got %d (regex %v), want %d (regex %v)", tt.in, m.Value, m.Regexp != nil, tt.want, tt.group)
		}
	}
	m, _ := tb.Find([]byte("x42"), nil)
	if got := string([]byte("x42")[m.Index[4]:m.Index[5]]); got != "42" {
		t.Errorf("$2 of x42 = %q", got)
	}
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		keys []string
		wild bool
		want error
	}{
		{[]string{"a", "A"}, false, ErrConflict},
		{[]string{"", ""}, false, ErrConflict},
		{[]string{"*.a"}, false, nil}, // a plain key without hostnames
		{[]string{"*a.com"}, true, ErrWildcard},
		{[]string{"a*.com"}, true, ErrWildcard},
		{[]string{"*.a.*"}, true, ErrWildcard},
		{[]string{"a..b"}, true, ErrWildcard},
		{[]string{".a.com", "a.com"}, true, ErrConflict},
		{[]string{"a.com", ".a.com"}, true, ErrConflict},
		{[]string{"*.a.com", ".a.com"}, true, ErrConflict},
		{[]string{"a.*", "A.*"}, true, ErrConflict},
		{[]string{"*.a.com", "a.*", "a.com"}, true, nil},
	}
	for _, tt := range tests {
		tb := NewTable()
		var err error
		for i, k := range tt.keys {
			if err = tb.Add(k, i, tt.wild); err != nil {
				break
			}
		}
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("%q: got %v, want %v", tt.keys, err, tt.want)
		}
	}
}

func TestFindAllocs(t *testing.T) {
	tb := NewTable()
	tb.Add(".example.com", 0, true)
	tb.Add("www.example.*", 1, true)
	tb.AddRegex(regexp.MustCompile(`^nocap`), 2)
	low := make([]byte, 0, 64)
	in := [][]byte{[]byte("A.Example.com"), []byte("www.example.org"), []byte("nocapture"), []byte("none")}
	n := testing.AllocsPerRun(100, func() {
		for _, v := range in {
			_, low = tb.Find(v, low)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
