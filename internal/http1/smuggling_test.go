package http1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// smuggleCase is one request-smuggling or header-injection attempt. Each is
// rejected by us with status (before the handler is called unless body is
// set: then the handler, emulating proxy_request_buffering, fails to read
// the body and forwards nothing).
type smuggleCase struct {
	name   string
	raw    string
	status int
	body   bool // detected while reading the body
	// netHTTP records whether net/http's http.ReadRequest (plus reading
	// the body to the end) accepts the same bytes; every true is a
	// deliberate difference explained in differences below.
	netHTTP bool
}

const h11 = "POST / HTTP/1.1\r\nHost: a\r\n"

var smuggleCorpus = []smuggleCase{
	// CL.TE / TE.CL: both framings present.
	{name: "CL.TE", raw: h11 + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", status: 400, netHTTP: true},
	{name: "TE.CL", raw: h11 + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n", status: 400},
	{name: "CL.TE zero", raw: h11 + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, netHTTP: true},
	// TE.TE: obfuscated Transfer-Encoding.
	{name: "TE twice", raw: h11 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", status: 400},
	{name: "TE twice same", raw: h11 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400},
	{name: "TE list chunked last", raw: h11 + "Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE list chunked first", raw: h11 + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE xchunked", raw: h11 + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE chunkedx", raw: h11 + "Transfer-Encoding: chunked-x\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE quoted", raw: h11 + "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE space before colon", raw: h11 + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", status: 400, netHTTP: true},
	{name: "TE vertical tab", raw: h11 + "Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n", status: 400},
	{name: "TE form feed", raw: h11 + "Transfer-Encoding: chunked\x0c\r\n\r\n0\r\n\r\n", status: 400},
	{name: "TE obs-fold", raw: h11 + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", status: 400, netHTTP: true},
	{name: "TE folded onto other header", raw: h11 + "X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, netHTTP: true},
	{name: "TE with NUL", raw: h11 + "Transfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n", status: 400},
	{name: "TE in HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, netHTTP: true},
	{name: "TE in HTTP/1.0 with CL", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", status: 400, netHTTP: true},
	// Content-Length ambiguity.
	{name: "double CL different", raw: h11 + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status: 400},
	{name: "double CL same", raw: h11 + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", status: 400, netHTTP: true},
	{name: "CL list", raw: h11 + "Content-Length: 5, 5\r\n\r\nhello", status: 400},
	{name: "CL plus", raw: h11 + "Content-Length: +5\r\n\r\nhello", status: 400},
	{name: "CL minus", raw: h11 + "Content-Length: -5\r\n\r\nhello", status: 400},
	{name: "CL inner space", raw: h11 + "Content-Length: 1 5\r\n\r\nhello", status: 400},
	{name: "CL hex", raw: h11 + "Content-Length: 0x5\r\n\r\nhello", status: 400},
	{name: "CL overflow", raw: h11 + "Content-Length: 18446744073709551621\r\n\r\nhello", status: 400},
	{name: "CL empty", raw: h11 + "Content-Length: \r\n\r\nhello", status: 400},
	{name: "CL space before colon", raw: h11 + "Content-Length : 5\r\n\r\nhello", status: 400, netHTTP: true},
	{name: "CL obs-fold", raw: h11 + "Content-Length:\r\n 5\r\n\r\nhello", status: 400, netHTTP: true},
	// Chunked body framing.
	{name: "chunk size overflow", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk size 2^64+1", raw: h11 + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk size negative", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk size 0x prefix", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk size leading space", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n 1\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk size trailing space", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n", status: 400, body: true, netHTTP: true},
	{name: "chunk size empty", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk ext whitespace before semicolon", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1 ;a=b\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk ext empty name", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1;\r\nx\r\n0\r\n\r\n", status: 400, body: true, netHTTP: true},
	{name: "chunk ext empty value", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1;a=\r\nx\r\n0\r\n\r\n", status: 400, body: true, netHTTP: true},
	{name: "chunk ext unterminated quote", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1;a=\"b\r\nx\r\n0\r\n\r\n", status: 400, body: true, netHTTP: true},
	{name: "chunk ext NUL", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1;a\x00\r\nx\r\n0\r\n\r\n", status: 400, body: true, netHTTP: true},
	{name: "chunk ext bare CR", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1;a\rb\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk ext too long", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1;a=" + strings.Repeat("b", 5000) + "\r\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk size bare LF", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk data bare LF", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk data too long", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n", status: 400, body: true},
	{name: "chunk data missing CRLF", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n1\r\nx0\r\n\r\n", status: 400, body: true},
	{name: "last chunk bare LF", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n0\n\r\n", status: 400, body: true},
	{name: "trailer bare LF", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", status: 400, body: true},
	{name: "trailer obs-fold", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n z\r\n\r\n", status: 400, body: true, netHTTP: true},
	{name: "trailer without colon", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n0\r\nGET / HTTP/1.1\r\n\r\n", status: 400, body: true},
	{name: "trailer NUL", raw: h11 + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: \x00\r\n\r\n", status: 400, body: true},
	// Header injection and line-ending tricks.
	{name: "bare CR in value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "bare LF in header", raw: "GET / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "bare LF everywhere", raw: "GET / HTTP/1.1\nHost: a\n\n", status: 400, netHTTP: true},
	{name: "NUL in value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", status: 400},
	{name: "NUL in name", raw: "GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: a\r\n\r\n", status: 400},
	{name: "NUL in target", raw: "GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "CR in target", raw: "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "LF in target", raw: "GET /a\nHost: b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "obs-fold", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", status: 400, netHTTP: true},
	{name: "space-prefixed first header", raw: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", status: 400},
	{name: "header without colon", raw: "GET / HTTP/1.1\r\nHost: a\r\nGET /x HTTP/1.1\r\n\r\n", status: 400},
	{name: "control byte in method", raw: "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	// Host confusion.
	{name: "double Host", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{name: "Host with slash", raw: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400, netHTTP: true},
	{name: "Host with backslash", raw: "GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", status: 400, netHTTP: true},
	{name: "Host dotdot", raw: "GET / HTTP/1.1\r\nHost: ..\r\n\r\n", status: 400, netHTTP: true},
	{name: "Host with space", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400, netHTTP: true},
	{name: "Host missing in 1.1", raw: "GET / HTTP/1.1\r\n\r\n", status: 400, netHTTP: true},
	{name: "userinfo in absolute form", raw: "GET http://a@b/ HTTP/1.1\r\nHost: b\r\n\r\n", status: 400, netHTTP: true},
	// Versions and methods.
	{name: "HTTP/0.9", raw: "GET /\r\n\r\n", status: 400},
	{name: "HTTP/2 preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 400, netHTTP: true},
	{name: "HTTP/3.0", raw: "GET / HTTP/3.0\r\nHost: a\r\n\r\n", status: 505, netHTTP: true},
	{name: "CONNECT", raw: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", status: 400, netHTTP: true},
	{name: "CONNECT origin-form", raw: "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", status: 405, netHTTP: true},
	{name: "OPTIONS asterisk", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, netHTTP: true},
	{name: "TRACE", raw: "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", status: 405, netHTTP: true},
}

// differences explains each case net/http accepts and we reject.
var differences = map[string]string{
	"CL.TE":                        "net/http drops Content-Length and trusts chunked (RFC 9112 \u00a76.3 allows it); nginx and we answer 400, because a front end that used the Content-Length would disagree about where the request ends.",
	"CL.TE zero":                   "same as CL.TE.",
	"TE space before colon":        "net/http trims the space and honours the header; RFC 9112 \u00a75.1 says such a request MUST be rejected. nginx would only drop it as an invalid name; we refuse it outright (400) so no parser can read it as framing.",
	"TE obs-fold":                  "net/http unfolds obs-fold; RFC 9112 \u00a75.2 lets a server reject it, and a folded Transfer-Encoding is a classic TE.TE vector, so we answer 400.",
	"TE folded onto other header":  "same as TE obs-fold.",
	"TE in HTTP/1.0":               "net/http accepts chunked from HTTP/1.0 clients; nginx answers 400 (\"client sent HTTP/1.0 request with Transfer-Encoding header\") and so do we.",
	"TE in HTTP/1.0 with CL":       "same as TE in HTTP/1.0.",
	"double CL same":               "net/http folds identical duplicates (RFC 9110 \u00a78.6 allows it); nginx treats Content-Length as a unique header and answers 400, and so do we.",
	"CL space before colon":        "same as TE space before colon.",
	"CL obs-fold":                  "same as TE obs-fold.",
	"chunk size trailing space":    "net/http trims whitespace around the chunk size; the grammar allows whitespace only before a ';' extension, and lenient size parsing is a TE.TE vector, so we answer 400.",
	"chunk ext empty name":         "net/http ignores extension syntax; we check RFC 9112 \u00a77.1.1 chunk-ext syntax so that a malformed extension cannot hide a size.",
	"chunk ext empty value":        "same as chunk ext empty name.",
	"chunk ext unterminated quote": "same as chunk ext empty name.",
	"chunk ext NUL":                "same as chunk ext empty name; control bytes are never accepted.",
	"trailer obs-fold":             "net/http unfolds trailers; we reject folding everywhere.",
	"bare LF everywhere":           "net/http (and nginx) accept bare LF line endings; we reject them (400) because a front end that only splits on CRLF would see different lines. What we forward is always CRLF.",
	"obs-fold":                     "net/http unfolds obs-fold; we reject it (RFC 9112 \u00a75.2 permits rejecting).",
	"Host with slash":              "http.ReadRequest does not validate Host (http.Server does, more loosely); nginx's ngx_http_validate_host rejects path separators and so do we.",
	"Host with backslash":          "same as Host with slash; the spec (§3.3) rejects '\\' too, which nginx does only on builds where it is a path separator.",
	"Host dotdot":                  "same as Host with slash; nginx rejects \"..\".",
	"Host with space":              "same as Host with slash; nginx rejects bytes <= 0x20.",
	"Host missing in 1.1":          "http.ReadRequest leaves this to http.Server (which also answers 400); nginx and we answer 400 here.",
	"userinfo in absolute form":    "net/http parses userinfo; nginx's absolute-form parser has no userinfo and answers 400, as do we.",
	"HTTP/2 preface":               "net/http parses PRI * HTTP/2.0 so that http.Server can answer it; nginx has no asterisk-form and answers 400, as we do.",
	"HTTP/3.0":                     "net/http parses any major version; nginx answers 505 for major versions above 1 and so do we.",
	"CONNECT":                      "net/http parses the authority-form; nginx has none and answers 400, as we do.",
	"CONNECT origin-form":          "net/http accepts CONNECT; nginx answers 405 (\"client sent CONNECT method\") and so do we.",
	"OPTIONS asterisk":             "net/http accepts the asterisk-form; nginx has none and answers 400, as we do.",
	"TRACE":                        "net/http accepts TRACE; nginx answers 405 (\"client sent TRACE method\") and so do we.",
}

func netHTTPAccepts(raw string) bool {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return false
	}
	_, err = io.ReadAll(req.Body)
	return err == nil
}

func TestSmugglingCorpus(t *testing.T) {
	for _, tc := range smuggleCorpus {
		t.Run(tc.name, func(t *testing.T) {
			var forwarded atomic.Int32
			var bodyErr atomic.Pointer[Error]
			p := newPeer(t, DefaultConfig(), func(w *ResponseWriter, r *Request) {
				// proxy_request_buffering on: read the whole body before
				// anything goes upstream
				_, err := io.ReadAll(r.Body)
				var e *Error
				if errors.As(err, &e) {
					bodyErr.Store(e)
					w.WriteErrorPage(e.Status)
					return
				}
				forwarded.Add(1)
				w.WriteErrorPage(404)
			})
			p.send(tc.raw)
			got := p.closed()
			want := "HTTP/1.1 " + itoa(tc.status) + " "
			if !strings.HasPrefix(got, want) {
				t.Fatalf("got %q, want status %d", got, tc.status)
			}
			if strings.Count(got, "HTTP/1.1 ") != 1 {
				t.Fatalf("more than one response: %q", got)
			}
			if forwarded.Load() != 0 {
				t.Fatal("request was forwarded")
			}
			if calls := p.calls.Load(); tc.body != (calls == 1) {
				t.Fatalf("handler calls %d, body-level %v", calls, tc.body)
			}
			if tc.body && bodyErr.Load() == nil {
				t.Fatal("body error not reported")
			}
		})
	}
}

func TestSmugglingDifferential(t *testing.T) {
	for _, tc := range smuggleCorpus {
		got := netHTTPAccepts(tc.raw)
		if got != tc.netHTTP {
			t.Errorf("%s: net/http accepts=%v, table says %v", tc.name, got, tc.netHTTP)
		}
		if got && differences[tc.name] == "" {
			t.Errorf("%s: net/http accepts it but no reason is recorded in differences", tc.name)
		}
	}
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }
