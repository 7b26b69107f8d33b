package variables

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

type hdr struct{ k, v string }

func seq(hs ...hdr) Headers {
	return func(yield func([]byte, []byte) bool) {
		for _, h := range hs {
			if !yield([]byte(h.k), []byte(h.v)) {
				return
			}
		}
	}
}

func TestMatchHeaderName(t *testing.T) {
	tests := []struct {
		varName, header string
		want            bool
	}{
		{"x_real_ip", "X-Real-IP", true},
		{"x_real_ip", "x-real-ip", true},
		{"x_real_ip", "X_Real_IP", true}, // underscores in header names match too
		{"x_real_ip", "X-Real-IPs", false},
		{"host", "Host", true},
		{"host", "Hos", false},
		{"user_agent", "User-Agent", true},
		{"", "", true},
	}
	for _, tc := range tests {
		if got := MatchHeaderName([]byte(tc.varName), []byte(tc.header)); got != tc.want {
			t.Errorf("MatchHeaderName(%q, %q) = %v", tc.varName, tc.header, got)
		}
	}
}

func TestAppendHeader(t *testing.T) {
	hs := seq(
		hdr{"Host", "example.com"},
		hdr{"X-Forwarded-For", "10.0.0.1"},
		hdr{"Cookie", "a=1"},
		hdr{"x-forwarded-for", "10.0.0.2, 10.0.0.3"},
		hdr{"Cookie", "b=2"},
		hdr{"X-Empty", ""},
	)
	tests := []struct {
		name, want string
		found      bool
	}{
		{"host", "example.com", true},
		{"x_forwarded_for", "10.0.0.1, 10.0.0.2, 10.0.0.3", true},
		{"cookie", "a=1; b=2", true},
		{"x_empty", "", true},
		{"x_missing", "", false},
	}
	for _, tc := range tests {
		got, found := AppendHeader([]byte("<"), hs, []byte(tc.name))
		if string(got) != "<"+tc.want || found != tc.found {
			t.Errorf("AppendHeader(%s) = %q %v, want %q %v", tc.name, got, found, "<"+tc.want, tc.found)
		}
	}
}

func TestLookupArg(t *testing.T) {
	tests := []struct {
		query, name, want string
		found             bool
	}{
		{"a=1&b=2", "a", "1", true},
		{"a=1&b=2", "b", "2", true},
		{"A=1", "a", "1", true}, // case-insensitive
		{"xa=1&a=2", "a", "2", true},
		{"a&b=1", "a", "", false}, // no "=" after the name
		{"a", "a", "", false},
		{"a=", "a", "", true},
		{"a=1&a=2", "a", "1", true}, // first wins
		{"a=%20x+y", "a", "%20x+y", true},
		{"ab=1", "a", "", false},
		{"b=1&ab=2&a=3", "a", "3", true},
		{"", "a", "", false},
		{"=x", "", "x", true},
		{"b=a=1", "a", "", false},
	}
	for _, tc := range tests {
		got, found := LookupArg([]byte(tc.query), []byte(tc.name))
		if string(got) != tc.want || found != tc.found {
			t.Errorf("LookupArg(%q, %q) = %q %v, want %q %v", tc.query, tc.name, got, found, tc.want, tc.found)
		}
		d, f2 := AppendArg([]byte("x"), []byte(tc.query), []byte(tc.name))
		if string(d) != "x"+tc.want || f2 != tc.found {
			t.Errorf("AppendArg(%q, %q) = %q", tc.query, tc.name, d)
		}
	}
}

func TestLookupCookie(t *testing.T) {
	tests := []struct {
		header, name, want string
		found              bool
	}{
		{"a=1; b=2", "a", "1", true},
		{"a=1; b=2", "b", "2", true},
		{"A=1", "a", "1", true},
		{"ab=1; a=2", "a", "2", true},
		{"a = 1 ; b=2", "a", "1 ", true}, // spaces around "=" skipped, trailing kept
		{"a=1,2; b=3", "a", "1,2", true}, // value runs to ";"
		{"x=1, a=2", "a", "2", true},     // "," separates pairs
		{"a", "a", "", false},
		{"a; a=5", "a", "5", true},
		{"b=2", "a", "", false},
		{"", "a", "", false},
		{"a=", "a", "", true},
		{"sid=abc;sid=def", "sid", "abc", true},
		{"c=1; sidx=2", "sid", "", false},
	}
	for _, tc := range tests {
		got, found := LookupCookie([]byte(tc.header), []byte(tc.name))
		if string(got) != tc.want || found != tc.found {
			t.Errorf("LookupCookie(%q, %q) = %q %v, want %q %v", tc.header, tc.name, got, found, tc.want, tc.found)
		}
	}
	hs := seq(hdr{"Cookie", "a=1"}, hdr{"Other", "b=9"}, hdr{"cookie", "b=2"})
	if got, ok := AppendCookie(nil, hs, []byte("b")); !ok || string(got) != "2" {
		t.Errorf("AppendCookie b = %q %v", got, ok)
	}
	if _, ok := AppendCookie(nil, hs, []byte("z")); ok {
		t.Error("AppendCookie z found")
	}
}

func TestProxyAddXForwardedFor(t *testing.T) {
	tests := []struct {
		hs   []hdr
		want string
	}{
		{nil, "203.0.113.7"},
		{[]hdr{{"X-Forwarded-For", "10.0.0.1"}}, "10.0.0.1, 203.0.113.7"},
		{[]hdr{{"X-Forwarded-For", "10.0.0.1"}, {"Host", "h"}, {"x-forwarded-for", "10.0.0.2"}}, "10.0.0.1, 10.0.0.2, 203.0.113.7"},
		{[]hdr{{"X-Forwarded-For", ""}}, ", 203.0.113.7"},
	}
	for _, tc := range tests {
		got := AppendProxyAddXForwardedFor(nil, seq(tc.hs...), []byte("203.0.113.7"))
		if string(got) != tc.want {
			t.Errorf("%v: got %q, want %q", tc.hs, got, tc.want)
		}
	}
}

func TestTimeFormats(t *testing.T) {
	utc := time.Date(2025, time.October, 10, 13, 55, 36, 123_456_789, time.UTC)
	east := time.FixedZone("X", 5*3600+30*60)
	west := time.FixedZone("Y", -(3*3600 + 45*60))
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"time_local utc", AppendTimeLocal(nil, utc), "10/Oct/2025:13:55:36 +0000"},
		{"time_local east", AppendTimeLocal(nil, utc.In(east)), "10/Oct/2025:19:25:36 +0530"},
		{"time_local west", AppendTimeLocal(nil, utc.In(west)), "10/Oct/2025:10:10:36 -0345"},
		{"time_local padded day", AppendTimeLocal(nil, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), "02/Jan/2026:03:04:05 +0000"},
		{"iso utc", AppendTimeISO8601(nil, utc), "2025-10-10T13:55:36+00:00"},
		{"iso east", AppendTimeISO8601(nil, utc.In(east)), "2025-10-10T19:25:36+05:30"},
		{"iso west", AppendTimeISO8601(nil, utc.In(west)), "2025-10-10T10:10:36-03:45"},
		{"msec", AppendMsec(nil, utc), "1760104536.123"},
		{"msec zero frac", AppendMsec(nil, time.Unix(5, 0)), "5.000"},
		{"seconds", AppendSeconds(nil, 1234*time.Millisecond), "1.234"},
		{"seconds small", AppendSeconds(nil, 4*time.Millisecond+999*time.Microsecond), "0.004"},
		{"seconds zero", AppendSeconds(nil, 0), "0.000"},
		{"seconds negative", AppendSeconds(nil, -time.Second), "0.000"},
		{"seconds large", AppendSeconds(nil, 3725*time.Second+5*time.Millisecond), "3725.005"},
		{"status", AppendStatus(nil, 200), "200"},
		{"status none", AppendStatus(nil, 0), "000"},
		{"status 9", AppendStatus(nil, 9), "009"},
		{"status big", AppendStatus(nil, 1234), "1234"},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestAppendRequestID(t *testing.T) {
	src := bytes.NewReader([]byte{0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32})
	got, err := AppendRequestID([]byte("id="), src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "id=000123456789abcdeffedcba98765432"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got, err = AppendRequestID([]byte("x"), strings.NewReader("short"))
	if err == nil || string(got) != "x" {
		t.Errorf("short reader: %q %v", got, err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader error %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestHelpersDoNotAllocate(t *testing.T) {
	hs := []hdr{{"Host", "example.com"}, {"X-Forwarded-For", "10.0.0.1"}, {"Cookie", "a=1; sid=xyz"}}
	// Two rounds of 16 random bytes per run, plus slack for the warm-up.
	buf := make([]byte, 0, 512)
	name := []byte("x_forwarded_for")
	sid := []byte("sid")
	addr := []byte("203.0.113.7")
	rnd := bytes.NewReader(make([]byte, 1<<20))
	allocs := testing.AllocsPerRun(100, func() {
		b := buf[:0]
		b = AppendTimeLocal(b, time.Unix(1760104536, 0).UTC())
		b = AppendTimeISO8601(b, time.Unix(1760104536, 0).UTC())
		b = AppendMsec(b, time.Unix(1760104536, 0))
		b = AppendSeconds(b, time.Second)
		b, _ = AppendArg(b, []byte("a=1&sid=2"), sid)
		b, _ = AppendRequestID(b, rnd)
		_ = b
	})
	if allocs != 0 {
		t.Errorf("time/arg/request-id helpers allocate %v times", allocs)
	}
	// Header helpers with a sequence over pre-converted byte slices.
	bhs := make([][2][]byte, len(hs))
	for i, h := range hs {
		bhs[i] = [2][]byte{[]byte(h.k), []byte(h.v)}
	}
	allocs = testing.AllocsPerRun(100, func() {
		each := func(yield func([]byte, []byte) bool) {
			for i := range bhs {
				if !yield(bhs[i][0], bhs[i][1]) {
					return
				}
			}
		}
		b := buf[:0]
		b, _ = AppendHeader(b, each, name)
		b, _ = AppendCookie(b, each, sid)
		b = AppendProxyAddXForwardedFor(b, each, addr)
		_ = b
	})
	if allocs != 0 {
		t.Errorf("header helpers allocate %v times", allocs)
	}
}

// FuzzLookups runs the request-data parsers behind $arg_NAME and
// $cookie_NAME on arbitrary input: they must not panic, and a value found
// must be a subslice of the input that follows the name and "=".
func FuzzLookups(f *testing.F) {
	f.Add([]byte("a=1&b=2"), []byte("a"))
	f.Add([]byte("a = 1 ; b=2, c=3"), []byte("b"))
	f.Add([]byte("="), []byte(""))
	f.Add([]byte("aaaa"), []byte("aaaaa"))
	f.Fuzz(func(t *testing.T, data, name []byte) {
		lower := bytes.ToLower(name)
		if v, ok := LookupArg(data, lower); ok {
			if !bytes.Contains(data, v) || bytes.IndexByte(v, '&') >= 0 {
				t.Fatalf("arg %q from %q", v, data)
			}
		}
		if v, ok := LookupCookie(data, lower); ok {
			if !bytes.Contains(data, v) || bytes.IndexByte(v, ';') >= 0 {
				t.Fatalf("cookie %q from %q", v, data)
			}
		}
		_ = MatchHeaderName(lower, data)
	})
}
