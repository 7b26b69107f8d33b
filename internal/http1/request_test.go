package http1

import (
	"errors"
	"strings"
	"testing"
)

func parseString(t *testing.T, raw string, o *ParseOptions) (*Request, int, error) {
	t.Helper()
	var r Request
	if o == nil {
		d := DefaultParseOptions()
		o = &d
	}
	n, err := ParseRequest(&r, []byte(raw), o)
	return &r, n, err
}

func TestParseRequestValid(t *testing.T) {
	tests := []struct {
		name, raw               string
		method, target, host    string
		minor                   int
		cl                      int64
		chunked, keepAlive, exp bool
		headers                 int
		scheme                  string
	}{
		{name: "simple", raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "http10 no host", raw: "GET /x?y HTTP/1.0\r\n\r\n", method: "GET", target: "/x?y", minor: 0, cl: -1},
		{name: "http10 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", method: "GET", target: "/", cl: -1, keepAlive: true, headers: 1},
		{name: "close wins over keep-alive", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, headers: 2},
		{name: "last connection header wins", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 3},
		{name: "host lowercased port and dot stripped", raw: "GET / HTTP/1.1\r\nHost: WWW.Example.COM.:8080\r\n\r\n", method: "GET", target: "/", host: "www.example.com", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "ipv6 host", raw: "GET / HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", method: "GET", target: "/", host: "[::1]", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "content-length", raw: "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", method: "POST", target: "/p", host: "a", minor: 1, cl: 10, keepAlive: true, headers: 2},
		{name: "content-length with OWS", raw: "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: \t10 \r\n\r\n", method: "POST", target: "/p", host: "a", minor: 1, cl: 10, keepAlive: true, headers: 2},
		{name: "chunked any case", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n", method: "POST", target: "/", host: "a", minor: 1, cl: -1, chunked: true, keepAlive: true, headers: 2},
		{name: "expect", raw: "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", method: "POST", target: "/", host: "a", minor: 1, cl: 1, keepAlive: true, exp: true, headers: 3},
		{name: "expect ignored in 1.0", raw: "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", method: "POST", target: "/", cl: 1, headers: 2},
		{name: "absolute form wins over Host", raw: "GET http://Origin.example:81/x?q HTTP/1.1\r\nHost: other\r\n\r\n", method: "GET", target: "/x?q", host: "origin.example", minor: 1, cl: -1, keepAlive: true, headers: 1, scheme: "http"},
		{name: "absolute form and Host both upper-case", raw: "GET http://ORIGIN/ HTTP/1.1\r\nHost: OTHER\r\n\r\n", method: "GET", target: "/", host: "origin", minor: 1, cl: -1, keepAlive: true, headers: 1, scheme: "http"},
		{name: "absolute form without path", raw: "GET https://h HTTP/1.1\r\nHost: h\r\n\r\n", method: "GET", target: "/", host: "h", minor: 1, cl: -1, keepAlive: true, headers: 1, scheme: "https"},
		{name: "leading empty lines", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "http/1.2 is 1.x", raw: "GET / HTTP/1.2\r\nHost: a\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "underscore dropped", raw: "GET / HTTP/1.1\r\nHost: a\r\nX_Y: 1\r\nX-Z: 2\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 2},
		{name: "invalid name dropped", raw: "GET / HTTP/1.1\r\nHost: a\r\nX.Y: 1\r\nX(Z: 2\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "method with underscore", raw: "MY_METHOD-X / HTTP/1.1\r\nHost: a\r\n\r\n", method: "MY_METHOD-X", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 1},
		{name: "obs-text in value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 2},
		{name: "empty value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", method: "GET", target: "/", host: "a", minor: 1, cl: -1, keepAlive: true, headers: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, n, err := parseString(t, tt.raw+"TRAILING", nil)
			if err != nil {
				t.Fatalf("err %v", err)
			}
			if n != len(tt.raw) {
				t.Errorf("n = %d, want %d", n, len(tt.raw))
			}
			if string(r.Method) != tt.method || string(r.Target) != tt.target || string(r.Host) != tt.host {
				t.Errorf("method %q target %q host %q", r.Method, r.Target, r.Host)
			}
			if r.Minor != tt.minor || r.ContentLength != tt.cl || r.Chunked != tt.chunked || r.KeepAlive != tt.keepAlive || r.Expect100 != tt.exp {
				t.Errorf("minor %d cl %d chunked %v keepalive %v expect %v", r.Minor, r.ContentLength, r.Chunked, r.KeepAlive, r.Expect100)
			}
			if len(r.Header) != tt.headers {
				t.Errorf("headers %d, want %d: %q", len(r.Header), tt.headers, r.Header)
			}
			if string(r.Scheme) != tt.scheme {
				t.Errorf("scheme %q", r.Scheme)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	long := strings.Repeat("a", 9000)
	tests := []struct {
		name, raw string
		want      *Error
	}{
		{"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidMethod},
		{"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidMethod},
		{"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"http/0.9", "GET /\r\n\r\n", ErrInvalidRequest},
		{"version 0.9", "GET / HTTP/0.9\r\n\r\n", ErrInvalidRequest},
		{"version 2", "GET / HTTP/2.0\r\n\r\n", ErrInvalidVersion},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ErrInvalidRequest},
		{"options asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"lowercase http", "GET / http/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"NUL in target", "GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"tab in target", "GET /\t HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"bare CR in request line", "GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"bare LF header", "GET / HTTP/1.1\r\nHost: a\n\r\n", ErrInvalidHeader},
		{"bare LF end", "GET / HTTP/1.1\r\nHost: a\r\n\n", ErrInvalidHeader},
		{"asterisk", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"userinfo", "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidRequest},
		{"ftp scheme", "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidRequest},
		{"absolute bad port", "GET http://h:8x/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidRequest},
		{"absolute dotdot", "GET http://a..b/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidHost},
		{"missing host", "GET / HTTP/1.1\r\n\r\n", ErrMissingHost},
		{"absolute still needs Host", "GET http://h/ HTTP/1.1\r\n\r\n", ErrMissingHost},
		{"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", ErrDuplicateHost},
		{"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", ErrInvalidHost},
		{"host slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ErrInvalidHost},
		{"host backslash", "GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", ErrInvalidHost},
		{"host dotdot", "GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", ErrInvalidHost},
		{"host space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ErrInvalidHost},
		{"host only port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", ErrInvalidHost},
		{"host only dot", "GET / HTTP/1.1\r\nHost: .\r\n\r\n", ErrInvalidHost},
		{"host DEL", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", ErrInvalidHeader}, // control bytes are refused before Host validation
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", ErrObsFold},
		{"obs-fold tab", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", ErrObsFold},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ErrInvalidHeader},
		{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", ErrInvalidHeader},
		{"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", ErrInvalidHeader},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", ErrInvalidHeader},
		{"CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", ErrInvalidHeader},
		{"VT in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n", ErrInvalidHeader},
		{"NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x00: a\r\n\r\n", ErrInvalidHeader},
		{"duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", ErrDuplicateHeader},
		{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n", ErrInvalidContentLength},
		{"CL plus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", ErrInvalidContentLength},
		{"CL minus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", ErrInvalidContentLength},
		{"CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", ErrInvalidContentLength},
		{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", ErrInvalidContentLength},
		{"CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", ErrInvalidContentLength},
		{"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", ErrInvalidContentLength},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", ErrTEAndCL},
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTEAndCL},
		{"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTEWithHTTP10},
		{"TE duplicate", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrDuplicateHeader},
		{"TE list", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", ErrUnknownTE},
		{"TE gzip chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ErrUnknownTE},
		{"TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", ErrUnknownTE},
		{"TE quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", ErrUnknownTE},
		{"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", ErrUnknownTE},
		{"TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", ErrUnknownTE},
		{"duplicate expect", "POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nExpect: y\r\n\r\n", ErrDuplicateHeader},
		{"duplicate authorization", "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\nAuthorization: y\r\n\r\n", ErrDuplicateHeader},
		{"connect authority-form", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", ErrInvalidRequest},
		{"connect origin-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", ErrConnectMethod},
		{"connect absolute-form", "CONNECT http://a:443/ HTTP/1.1\r\nHost: a\r\n\r\n", ErrConnectMethod},
		{"connect without host", "CONNECT / HTTP/1.1\r\n\r\n", ErrMissingHost},
		{"trace", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", ErrTraceMethod},
		{"endless empty lines", strings.Repeat("\r\n", 5000), ErrInvalidRequest},
		{"too long uri", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", ErrTooLongURI},
		{"too long uri incomplete", "GET /" + long, ErrTooLongURI},
		{"too long header", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long + "\r\n\r\n", ErrTooLongHeader},
		{"too long header incomplete", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long, ErrTooLongHeader},
		{"too large request", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+strings.Repeat("b", 8000)+"\r\n", 5) + "\r\n", ErrTooLargeRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseString(t, tt.raw, nil)
			if err != tt.want {
				t.Fatalf("err = %v (%T), want %v (status %d)", err, err, tt.want, tt.want.Status)
			}
		})
	}
}

func TestParseRequestNeedMore(t *testing.T) {
	full := "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
	for i := 0; i < len(full); i++ {
		_, _, err := parseString(t, full[:i], nil)
		if !errors.Is(err, ErrNeedMore) {
			t.Fatalf("prefix %d %q: err %v", i, full[:i], err)
		}
	}
}

func TestParseOptions(t *testing.T) {
	raw := "GET / HTTP/1.1\r\nHost: a\r\nX_Y: 1\r\nX.Z: 2\r\n\r\n"
	tests := []struct {
		name  string
		o     ParseOptions
		names []string
	}{
		{"defaults", DefaultParseOptions(), []string{"Host"}},
		{"underscores on", ParseOptions{MaxLine: 8192, MaxHeader: 32768, AllowUnderscores: true}, []string{"Host", "X_Y"}},
		{"ignore_invalid_headers off", ParseOptions{MaxLine: 8192, MaxHeader: 32768, KeepInvalidHeaders: true}, []string{"Host", "X_Y", "X.Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := parseString(t, raw, &tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range r.Header {
				got = append(got, string(h.Name))
			}
			if strings.Join(got, ",") != strings.Join(tt.names, ",") {
				t.Fatalf("headers %v, want %v", got, tt.names)
			}
			if r.Dropped != 3-len(tt.names) {
				t.Fatalf("dropped %d", r.Dropped)
			}
		})
	}
}

func TestValidateHost(t *testing.T) {
	tests := []struct{ in, out string }{
		{"example.com", "example.com"},
		{"Example.COM", "example.com"},
		{"example.com.", "example.com"},
		{"example.com.:80", "example.com"},
		{"example.com:", "example.com"},
		{"[::1]", "[::1]"},
		{"[::1]:8080", "[::1]"},
		{"[FE80::1]", "[fe80::1]"},
		{"1.2.3.4:5", "1.2.3.4"},
		{"a_b", "a_b"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"", "!"},
		{".", "!"},
		{"..", "!"},
		{"a..b", "!"},
		{"a/b", "!"},
		{"a\\b", "!"},
		{"a b", "!"},
		{"a\x00", "!"},
		{"a\x7f", "!"},
		{":80", "!"},
		{"a.:80x/", "!"},
	}
	for _, tt := range tests {
		// through the Host header
		r, _, err := parseString(t, "GET / HTTP/1.1\r\nHost: "+tt.in+"\r\n\r\n", nil)
		g := string(r.Host)
		if err != nil {
			g = "!"
			if strings.ContainsAny(tt.in, "\x00\x7f") {
				// refused as a control byte in the field first
				continue
			}
			if err != ErrInvalidHost {
				t.Errorf("Host: %q: %v, want %v", tt.in, err, ErrInvalidHost)
			}
		}
		if g != tt.out {
			t.Errorf("Host: %q = %q, want %q", tt.in, g, tt.out)
		}
	}
}

// TestHostBufferReuse checks that a lower-cased absolute-form host kept in
// the request's buffer survives the validation of a Host header that also
// needs lower-casing, whatever the buffer's capacity, and that the
// buffer is reused by the next request.
func TestHostBufferReuse(t *testing.T) {
	o := DefaultParseOptions()
	var r Request
	for _, tt := range []struct{ uri, host, want string }{
		{"http://ABC.example/x", "DEF.example", "abc.example"},
		{"http://A" + strings.Repeat("b", 300) + "/", "C" + strings.Repeat("d", 900), "a" + strings.Repeat("b", 300)},
		{"http://X/", "Y", "x"},
		{"/", "Q.Example.:8080", "q.example"},
		{"http://lower/", "UPPER", "lower"},
	} {
		raw := "GET " + tt.uri + " HTTP/1.1\r\nHost: " + tt.host + "\r\n\r\n"
		if _, err := ParseRequest(&r, []byte(raw), &o); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if string(r.Host) != tt.want {
			t.Errorf("%q: Host %q, want %q", raw, r.Host, tt.want)
		}
		if string(r.HostHeader) != tt.host {
			t.Errorf("%q: HostHeader %q", raw, r.HostHeader)
		}
	}
}

func TestParseContentLength(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"00012", 12, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false}, {"+1", 0, false}, {"-1", 0, false}, {"1 ", 0, false}, {"1,1", 0, false}, {"0x1", 0, false}, {"1e3", 0, false},
	}
	for _, tt := range tests {
		n, ok := parseContentLength([]byte(tt.in))
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseContentLength(%q) = %d, %v", tt.in, n, ok)
		}
	}
}

func TestUserAgentPadding(t *testing.T) {
	tests := []struct {
		ua   string
		want bool
	}{
		{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", true},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", false},
		{"Opera/9.80 (MSIE 6.0)", false},
		{"curl/8.5.0", false},
		{"MSIE 6", false},
	}
	for _, tt := range tests {
		if got := userAgentPadding([]byte(tt.ua)); got != tt.want {
			t.Errorf("%q: %v", tt.ua, got)
		}
	}
}

// TestRequestLineErrors pins nginx's error and the logged request line
// ($request, and the error log's `request: "..."`) for request lines that
// are refused or incomplete. Checked against nginx 1.22: "GARBAGE" and
// "GET" are invalid methods, and a 414 logs the first 8192 bytes of the
// line (after leading empty lines), up to a CR included.
func TestRequestLineErrors(t *testing.T) {
	long := "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n"
	exact := "GET /" + strings.Repeat("a", 8187)
	tests := []struct {
		name, raw, line string
		err             error
	}{
		{"no space", "GARBAGE\r\n\r\n", "GARBAGE", ErrInvalidMethod},
		{"no space bare LF", "GARBAGE\n\n", "GARBAGE", ErrInvalidMethod},
		{"method only", "GET\r\n", "GET", ErrInvalidMethod},
		{"CR ends the method", "GARBAGE\r", "GARBAGE", ErrInvalidMethod},
		{"lower-case before CRLF", "get / HTTP/1.1", "get / HTTP/1.1", ErrInvalidMethod},
		{"control byte", "\x16\x03\x01 abc", "\x16\x03\x01 abc", ErrInvalidMethod},
		{"empty method", " / HTTP/1.1\r\n\r\n", " / HTTP/1.1", ErrInvalidMethod},
		{"partial method", "GARBAGE", "GARBAGE", ErrNeedMore},
		{"partial leading empty line", "\r", "", ErrNeedMore},
		{"partial leading empty lines", "\r\n\r", "", ErrNeedMore},
		{"nothing yet", "", "", ErrNeedMore},
		{"partial line", "GET /abc HTT", "GET /abc HTT", ErrNeedMore},
		{"bare LF after method", "GET / HTTP/1.1\n\n", "GET / HTTP/1.1", ErrInvalidRequest},
		{"HTTP/0.9", "GET /\r\n\r\n", "GET /", ErrInvalidRequest},
		{"too long", long, long[:8192], ErrTooLongURI},
		{"too long partial", long[:9000], long[:8192], ErrTooLongURI},
		{"too long with CRLF", "\r\n\r\n" + exact + "\r\n", exact, ErrTooLongURI},
		{"too long up to CR", exact[:8191] + "\r\n", exact[:8191] + "\r", ErrTooLongURI},
		{"method fills the line", strings.Repeat("A", 9000), strings.Repeat("A", 8192), ErrTooLongURI},
		{"method then CR at the limit", strings.Repeat("A", 8192) + "\r\n", strings.Repeat("A", 8192), ErrTooLongURI},
		{"method then CR inside the limit", strings.Repeat("A", 8191) + "\r\n", strings.Repeat("A", 8191), ErrInvalidMethod},
		{"lower-case long", "g" + long, ("g" + long)[:8192], ErrInvalidMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := parseString(t, tt.raw, nil)
			if err != tt.err {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if string(r.Line) != tt.line {
				t.Fatalf("Line %q (%d bytes), want %q (%d bytes)", r.Line, len(r.Line), tt.line, len(tt.line))
			}
		})
	}
}
