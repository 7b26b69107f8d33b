package http1

import (
	"bytes"
	"errors"

	"gatehouse/internal/httphost"
)

// ErrNeedMore is returned by the parsers when the buffer does not yet hold
// a complete header block and no limit has been exceeded.
var ErrNeedMore = errors.New("http1: incomplete header")

// ParseOptions are the header-parsing settings of a server block, compiled
// once from the configuration.
type ParseOptions struct {
	// MaxLine is the size of one large_client_header_buffers buffer: a
	// request line longer than this is 414, a header line 494.
	MaxLine int
	// MaxHeader is number × size of large_client_header_buffers: a header
	// block larger than this is 494.
	MaxHeader int
	// AllowUnderscores is underscores_in_headers on.
	AllowUnderscores bool
	// KeepInvalidHeaders is ignore_invalid_headers off.
	KeepInvalidHeaders bool
}

// DefaultParseOptions are nginx's defaults (large_client_header_buffers 4 8k,
// underscores_in_headers off, ignore_invalid_headers on).
func DefaultParseOptions() ParseOptions {
	return ParseOptions{MaxLine: 8192, MaxHeader: 4 * 8192}
}

// Request is a parsed client request header. All byte slices alias the
// connection's read buffer; see the package documentation for lifetimes.
type Request struct {
	// Line is the request line without CRLF ($request). For a request
	// refused or timed out before its line was complete it is what
	// arrived, as nginx logs it: up to the first CR or LF, and for 414
	// the first ParseOptions.MaxLine bytes.
	Line []byte
	// Method is the request method, upper-case letters, '_' and '-'.
	Method []byte
	// Target is the request-target as nginx's $request_uri: the origin-form
	// path and query, or for absolute-form the path and query after the
	// authority ("/" if empty).
	Target []byte
	// Scheme is the scheme of an absolute-form target, nil otherwise.
	Scheme []byte
	// Proto is the version as sent, e.g. "HTTP/1.1" ($server_protocol).
	Proto []byte
	// Minor is the minor version: 0 for HTTP/1.0, 1 for HTTP/1.1 and later
	// 1.x versions.
	Minor int
	// Header holds the fields in arrival order with their original case,
	// minus those dropped by underscores_in_headers/ignore_invalid_headers.
	Header Headers
	// Host is the validated host ($host without its fallback): from an
	// absolute-form target, else from the Host header; lower-case, without
	// port or one trailing dot. Nil when neither is present.
	Host []byte
	// HostHeader is the Host header's raw value ($http_host), nil if absent.
	HostHeader []byte
	// ContentLength is the declared body length, -1 when absent.
	ContentLength int64
	// Chunked is true for "Transfer-Encoding: chunked".
	Chunked bool
	// KeepAlive is what the client asked for: HTTP/1.1 default, overridden
	// by "close" or "keep-alive" in Connection (nginx's substring rule).
	KeepAlive bool
	// Expect100 is true for an HTTP/1.1 request with "Expect: 100-continue".
	Expect100 bool
	// HeaderLength is the size of the request header on the wire, request
	// line and final empty line included (part of $request_length).
	HeaderLength int
	// Detail is what nginx appends to the log text of a rejection (the
	// offending header line, the duplicate and its previous value, the
	// unknown encoding), e.g. `: "X\x00..."`; empty when nginx has none.
	Detail []byte
	// Dropped counts header lines dropped as invalid (logged by nginx at
	// info as "client sent invalid header line").
	Dropped int
	// Body reads the request body; set by the connection loop.
	Body *Body

	padding bool // MSIE or Chrome: error pages get nginx's padding
	hostBuf []byte
	te      []byte // Transfer-Encoding value, for the log detail
}

func (r *Request) reset() {
	h := r.Header[:0]
	hb := r.hostBuf[:0]
	d := r.Detail[:0]
	body := r.Body
	*r = Request{Header: h, hostBuf: hb, Detail: d, Body: body, ContentLength: -1}
}

// HasBody reports whether a request body follows the header.
func (r *Request) HasBody() bool { return r.Chunked || r.ContentLength > 0 }

// indices of the unique request headers (nginx's
// ngx_http_process_unique_header_line set plus Host).
const (
	uHost = 1 << iota
	uContentLength
	uTransferEncoding
	uExpect
	uAuthorization
	uIfModifiedSince
	uIfUnmodifiedSince
	uIfMatch
	uIfNoneMatch
	uContentRange
	uIfRange
)

var slash = []byte("/")

// ParseRequest parses the request header at the start of b into r. It
// returns the header's length including the final empty line, ErrNeedMore
// when b holds only part of a valid header, or an *Error naming nginx's
// status for a malformed one.
func ParseRequest(r *Request, b []byte, o *ParseOptions) (int, error) {
	r.reset()
	// Leading empty lines are ignored (RFC 9112 §2.2, as nginx does).
	start := 0
	for start+1 < len(b) && b[start] == '\r' && b[start+1] == '\n' {
		start += 2
		if start > o.MaxLine {
			return 0, ErrInvalidRequest
		}
	}
	if start < len(b) && b[start] == '\n' {
		return 0, ErrInvalidRequest
	}
	nl := bytes.IndexByte(b[start:], '\n')
	if nl < 0 || nl+1 > o.MaxLine {
		// r.Line is what arrived of the request line, for the logs. For
		// 414 it is the first MaxLine bytes, as nginx logs the full
		// buffer; otherwise it ends before the first CR, as nginx's
		// error-log context does.
		if start == len(b)-1 && b[start] == '\r' {
			return 0, ErrNeedMore // the CR of a leading empty line
		}
		r.Line = untilCR(b[start:])
		// a CR or LF that fits in nginx's buffer ends the method
		ended := len(r.Line) < len(b)-start && len(r.Line) < o.MaxLine
		if len(r.Line) > o.MaxLine {
			r.Line = r.Line[:o.MaxLine]
		}
		if badMethod(r.Line, ended) {
			// nginx parses the method as it arrives
			return 0, ErrInvalidMethod
		}
		if len(b)-start > o.MaxLine || nl >= 0 {
			r.Line = b[start : start+o.MaxLine]
			return 0, ErrTooLongURI
		}
		return 0, ErrNeedMore
	}
	if nl == 0 || b[start+nl-1] != '\r' {
		// bare LF: refused; like nginx, an LF still inside the method
		// is an invalid method
		r.Line = untilCR(b[start : start+nl])
		if badMethod(r.Line, true) {
			return 0, ErrInvalidMethod
		}
		return 0, ErrInvalidRequest
	}
	if err := parseRequestLine(r, b[start:start+nl-1], o); err != nil {
		return 0, err
	}
	pos := start + nl + 1
	var seen uint
	for {
		if pos-start > o.MaxHeader {
			return 0, ErrTooLargeRequest
		}
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			if len(b)-pos > o.MaxLine {
				r.Detail = appendTruncated(r.Detail, b[pos:])
				return 0, ErrTooLongHeader
			}
			if len(b)-start > o.MaxHeader {
				return 0, ErrTooLargeRequest
			}
			return 0, ErrNeedMore
		}
		if nl+1 > o.MaxLine {
			r.Detail = appendTruncated(r.Detail, b[pos:pos+nl])
			return 0, ErrTooLongHeader
		}
		if nl == 0 || b[pos+nl-1] != '\r' {
			r.Detail = appendBadByte(r.Detail, b[pos:pos+nl], '\n')
			return 0, ErrInvalidHeader // bare LF
		}
		line := b[pos : pos+nl-1]
		pos += nl + 1
		if pos-start > o.MaxHeader {
			return 0, ErrTooLargeRequest
		}
		if len(line) == 0 {
			break
		}
		if err := r.headerLine(line, o, &seen); err != nil {
			return 0, err
		}
	}
	if err := r.finish(seen); err != nil {
		return 0, err
	}
	r.HeaderLength = pos
	return pos, nil
}

func parseRequestLine(r *Request, line []byte, o *ParseOptions) error {
	r.Line = line
	// The line ends with CR here, which nginx's method parser refuses:
	// a line without a space ("GARBAGE") is an invalid method.
	if badMethod(line, true) {
		return ErrInvalidMethod
	}
	sp := bytes.IndexByte(line, ' ')
	method := line[:sp]
	rest := line[sp+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 0 {
		// HTTP/0.9 simple request, or garbage.
		return ErrInvalidRequest
	}
	target, proto := rest[:sp2], rest[sp2+1:]
	r.Method = method
	// The target is checked before the version, as nginx does: the HTTP/2
	// preface "PRI * HTTP/2.0" is 400, not 505. nginx has no asterisk-form
	// ("OPTIONS *" is 400) and no authority-form (CONNECT host:port is
	// 400; CONNECT with another form is 405 once the header is read).
	if len(target) == 0 {
		return ErrInvalidRequest
	}
	for _, c := range target {
		if charClass[c]&cURI == 0 {
			return ErrInvalidRequest
		}
	}
	if target[0] == '/' {
		r.Target = target
	} else if err := r.absoluteForm(target); err != nil {
		return err
	}
	if len(proto) != 8 || string(proto[:5]) != "HTTP/" || proto[6] != '.' ||
		proto[5] < '0' || proto[5] > '9' || proto[7] < '0' || proto[7] > '9' {
		return ErrInvalidRequest
	}
	switch {
	case proto[5] == '0':
		return ErrInvalidRequest
	case proto[5] > '1':
		return ErrInvalidVersion
	}
	r.Proto = proto
	if proto[7] > '0' {
		r.Minor = 1
	}
	return nil
}

// badMethod reports whether nginx's request-line parser refuses the
// method at the start of b as "client sent invalid method": a byte other
// than A-Z, '_' and '-' before the first space, an empty method, or (when
// more follows b, such as the CR of a complete line) no space at all.
func badMethod(b []byte, more bool) bool {
	for i, c := range b {
		if c == ' ' {
			return i == 0
		}
		if (c < 'A' || c > 'Z') && c != '_' && c != '-' {
			return true
		}
	}
	return more
}

// untilCR returns b up to its first CR or LF.
func untilCR(b []byte) []byte {
	for i, c := range b {
		if c == '\r' || c == '\n' {
			return b[:i]
		}
	}
	return b
}

// absoluteForm parses "http://host[:port][/path]".
func (r *Request) absoluteForm(t []byte) error {
	i := bytes.Index(t, []byte("://"))
	if i <= 0 {
		return ErrInvalidRequest
	}
	scheme := t[:i]
	if !equalFold(scheme, "http") && !equalFold(scheme, "https") {
		return ErrInvalidRequest
	}
	rest := t[i+3:]
	end := bytes.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	if len(auth) == 0 {
		return ErrInvalidRequest
	}
	// host chars: [A-Za-z0-9.-] or an IPv6 literal; then optional :digits.
	j := 0
	if auth[0] == '[' {
		k := bytes.IndexByte(auth, ']')
		if k < 2 {
			return ErrInvalidRequest
		}
		for _, c := range auth[1:k] {
			if charClass[c]&cHex == 0 && c != ':' && c != '.' {
				return ErrInvalidRequest
			}
		}
		j = k + 1
	} else {
		for j < len(auth) && charClass[auth[j]]&cHostChr != 0 {
			j++
		}
		if j == 0 {
			return ErrInvalidRequest
		}
	}
	if j < len(auth) {
		if auth[j] != ':' {
			return ErrInvalidRequest
		}
		for _, c := range auth[j+1:] {
			if c < '0' || c > '9' {
				return ErrInvalidRequest
			}
		}
	}
	host, ok := r.validHost(auth)
	if !ok {
		return ErrInvalidHost
	}
	r.Scheme = scheme
	r.Host = host
	if end == len(rest) {
		r.Target = slash
	} else {
		r.Target = rest[end:]
	}
	return nil
}

// validHost validates and normalises h with httphost.Validate (nginx's
// ngx_http_validate_host). A lower-cased copy, when one is needed, is
// written after what r.hostBuf already holds, so that a host kept there
// from an absolute-form target stays intact; r.hostBuf keeps the storage
// for later requests. Otherwise the result aliases h.
func (r *Request) validHost(h []byte) ([]byte, bool) {
	n := len(r.hostBuf)
	out, ok := httphost.Validate(r.hostBuf[n:], h)
	if !ok || &out[0] == &h[0] {
		return out, ok
	}
	switch {
	case cap(r.hostBuf)-n >= len(out):
		// written in place, after r.hostBuf[:n]
		r.hostBuf = r.hostBuf[:n+len(out)]
	case n == 0:
		r.hostBuf = out
	default:
		// append grew a new array that lacks r.hostBuf[:n] (r.Host):
		// move both into it so the storage is kept.
		nb := make([]byte, 0, 2*(n+len(out)))
		nb = append(append(nb, r.hostBuf...), out...)
		if len(r.Host) == n {
			r.Host = nb[:n]
		}
		r.hostBuf = nb
		out = nb[n:]
	}
	return out, true
}

func (r *Request) headerLine(line []byte, o *ParseOptions, seen *uint) error {
	if line[0] == ' ' || line[0] == '\t' {
		r.Detail = appendBadByte(r.Detail, nil, line[0])
		return ErrObsFold
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		if i := firstCtl(line); i >= 0 {
			r.Detail = appendBadByte(r.Detail, line[:i], line[i])
		} else if colon < 0 {
			r.Detail = appendBadByte(r.Detail, line, '\r')
		} else {
			r.Detail = appendBadByte(r.Detail, nil, ':')
		}
		return ErrInvalidHeader
	}
	name := line[:colon]
	invalid, underscore := false, false
	for i, c := range name {
		cl := charClass[c]
		if cl&cNginx != 0 {
			continue
		}
		if c == ' ' || c == '\t' || cl&cCtl != 0 {
			r.Detail = appendBadByte(r.Detail, line[:i], c)
			return ErrInvalidHeader
		}
		if c == '_' {
			underscore = true
		} else {
			invalid = true
		}
	}
	value := trimOWS(line[colon+1:])
	if i := firstCtl(line[colon+1:]); i >= 0 {
		i += colon + 1
		r.Detail = appendBadByte(r.Detail, line[:i], line[i])
		return ErrInvalidHeader
	}
	if invalid || (underscore && !o.AllowUnderscores) {
		if !o.KeepInvalidHeaders {
			r.Dropped++
			return nil
		}
		r.Header = append(r.Header, Header{Name: name, Value: value})
		return nil
	}
	r.Header = append(r.Header, Header{Name: name, Value: value})
	var bit uint
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			if *seen&uHost != 0 {
				r.Detail = appendDuplicate(r.Detail, name, value, r.HostHeader)
				return ErrDuplicateHost
			}
			*seen |= uHost
			r.HostHeader = value
			// An absolute-form host (validated first) wins; this one is
			// only validated then.
			h, ok := r.validHost(value)
			if !ok {
				return ErrInvalidHost
			}
			if r.Host == nil {
				r.Host = h
			}
			return nil
		}
	case 6:
		if equalFold(name, "expect") {
			bit = uExpect
			r.Expect100 = r.Minor >= 1 && equalFold(value, "100-continue")
		}
	case 8:
		if equalFold(name, "if-match") {
			bit = uIfMatch
		} else if equalFold(name, "if-range") {
			bit = uIfRange
		}
	case 10:
		if equalFold(name, "connection") {
			if containsFold(value, "close") {
				*seen |= 1 << 30
				*seen &^= 1 << 31
			} else if containsFold(value, "keep-alive") {
				*seen |= 1 << 31
				*seen &^= 1 << 30
			}
		} else if equalFold(name, "user-agent") {
			r.padding = userAgentPadding(value)
		}
	case 13:
		if equalFold(name, "authorization") {
			bit = uAuthorization
		} else if equalFold(name, "if-none-match") {
			bit = uIfNoneMatch
		} else if equalFold(name, "content-range") {
			bit = uContentRange
		}
	case 14:
		if equalFold(name, "content-length") {
			bit = uContentLength
			if *seen&bit == 0 {
				n, ok := parseContentLength(value)
				if !ok {
					// reported after the whole header, as nginx does;
					// remember with a sentinel
					r.ContentLength = -2
				} else {
					r.ContentLength = n
				}
			}
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			bit = uTransferEncoding
			if *seen&bit == 0 {
				r.te = value
				if equalFold(value, "chunked") {
					r.Chunked = true
				} else {
					*seen |= 1 << 29 // unknown encoding
				}
			}
		} else if equalFold(name, "if-modified-since") {
			bit = uIfModifiedSince
		}
	case 19:
		if equalFold(name, "if-unmodified-since") {
			bit = uIfUnmodifiedSince
		}
	}
	if bit != 0 {
		if *seen&bit != 0 {
			for _, h := range r.Header[:len(r.Header)-1] {
				if len(h.Name) == len(name) && equalFold(h.Name, string(name)) {
					r.Detail = appendDuplicate(r.Detail, name, value, h.Value)
					break
				}
			}
			return ErrDuplicateHeader
		}
		*seen |= bit
	}
	return nil
}

// finish applies nginx's ngx_http_process_request_header checks in order.
func (r *Request) finish(seen uint) error {
	if seen&uHost == 0 && r.Minor >= 1 {
		return ErrMissingHost
	}
	if r.ContentLength == -2 {
		return ErrInvalidContentLength
	}
	if seen&uTransferEncoding != 0 {
		if r.Minor == 0 {
			return ErrTEWithHTTP10
		}
		if seen&(1<<29) != 0 {
			r.Detail = appendQuoted(r.Detail, r.te)
			return ErrUnknownTE
		}
		if seen&uContentLength != 0 {
			return ErrTEAndCL
		}
	}
	switch string(r.Method) {
	case "CONNECT":
		return ErrConnectMethod
	case "TRACE":
		return ErrTraceMethod
	}
	r.KeepAlive = r.Minor >= 1
	if seen&(1<<30) != 0 {
		r.KeepAlive = false
	} else if seen&(1<<31) != 0 {
		r.KeepAlive = true
	}
	if r.ContentLength < 0 {
		r.ContentLength = -1
	}
	return nil
}

// userAgentPadding reproduces nginx's MSIE/Chrome detection that decides
// whether error pages are padded (msie_padding).
func userAgentPadding(ua []byte) bool {
	msie := false
	if i := contains(ua, "MSIE "); i >= 0 && i+7 < len(ua) {
		msie = true
	}
	opera := contains(ua, "Opera") >= 0
	if opera {
		return false
	}
	if msie {
		return true
	}
	if contains(ua, "Gecko/") >= 0 {
		return false
	}
	return contains(ua, "Chrome/") >= 0
}
