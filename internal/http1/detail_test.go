package http1

import (
	"errors"
	"strings"
	"testing"
)

// TestLogDetails pins the full log texts nginx writes for rejections.
func TestLogDetails(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01c\r\n\r\n", `client sent invalid header line: "X-A: b\x01..."`},
		{"GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", `client sent invalid header line: "X\x20..."`},
		{"GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", `client sent invalid header line: "Junk\x0D..."`},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\n\r\n", `client sent invalid header line: "X: a\x0A..."`},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", `client sent invalid header line: "\x20..."`},
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", `client sent duplicate host header: "Host: b", previous value: "Host: a"`},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n", `client sent duplicate header line: "content-length: 2", previous value: "content-length: 1"`},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", `client sent unknown "Transfer-Encoding": "gzip"`},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", `client sent too long header line: "X: ` + strings.Repeat("a", maxLogLine-3) + `..."`},
		{"GET / HTTP/1.1\r\n\r\n", `client sent HTTP/1.1 request without "Host" header`},
	}
	for _, tt := range tests {
		r, _, err := parseString(t, tt.raw, nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: %v", tt.raw, err)
		}
		if got := e.Msg + string(r.Detail); got != tt.want {
			t.Errorf("%q:\ngot  %s\nwant %s", tt.raw, got, tt.want)
		}
	}
}

func TestUpstreamLogDetails(t *testing.T) {
	tests := []struct {
		raw  string
		kind *Error
		want string
	}{
		{"HTTP/1.1 200 OK\r\nX-A: b\x00c\r\n\r\n", ErrUpstreamInvalidHeader, `upstream sent invalid header: "X-A: b\x00..."`},
		{"HTTP/1.1 200 OK\r\nX(A: b\r\n\r\n", ErrUpstreamInvalidHeader, `upstream sent invalid header: "X\x28..."`},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", ErrUpstreamDuplicateCL,
			`upstream sent duplicate header line: "Content-Length: 2", previous value: "Content-Length: 1"`},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", ErrUpstreamInvalidCL, `upstream sent invalid "Content-Length" header: "Content-Length: x"`},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: br\r\n\r\n", ErrUpstreamUnknownTE, `upstream sent unknown "Transfer-Encoding": "br"`},
	}
	for _, tt := range tests {
		var r Response
		_, err := ParseResponse(&r, []byte(tt.raw), 4096)
		if !errors.Is(err, tt.kind) {
			t.Fatalf("%q: %v", tt.raw, err)
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\ngot  %s\nwant %s", tt.raw, err.Error(), tt.want)
		}
	}
}

// TestStatusLine pins nginx's status lines: its reason table has no 1xx
// entries, so "return 100" sends "HTTP/1.1 100 " as nginx 1.22 does (and
// so for 103, 199, 203, 250, 299); a reason given (an upstream's) is kept.
func TestStatusLine(t *testing.T) {
	tests := []struct {
		code   int
		reason []byte
		want   string
	}{
		{100, nil, "100 \r\n"},
		{101, nil, "101 \r\n"},
		{101, []byte("Switching Protocols"), "101 Switching Protocols\r\n"},
		{103, nil, "103 \r\n"},
		{199, nil, "199 \r\n"},
		{200, nil, "200 OK\r\n"},
		{203, nil, "203 \r\n"},
		{250, nil, "250 \r\n"},
		{299, nil, "299 \r\n"},
		{200, []byte(""), "200 \r\n"},
		{404, nil, "404 Not Found\r\n"},
	}
	for _, tt := range tests {
		if got := string(appendStatus(nil, tt.code, tt.reason)); got != tt.want {
			t.Errorf("%d %q: %q, want %q", tt.code, tt.reason, got, tt.want)
		}
	}
}
