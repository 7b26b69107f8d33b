package http1

import "bytes"

// Response is a parsed upstream response header. Byte slices alias the
// UpstreamConn's read buffer and stay valid until the next ReadResponse
// or Release.
type Response struct {
	// Status is the status code.
	Status int
	// Reason is the reason phrase (possibly empty).
	Reason []byte
	// StatusLine is "NNN Reason" as nginx forwards it ($upstream_status
	// comes from Status).
	StatusLine []byte
	// Minor is the minor version of "HTTP/1.x" (0 or 1; higher counts as 1).
	Minor int
	// Header holds the fields in order with their original case.
	Header Headers
	// ContentLength is the declared length, -1 when absent.
	ContentLength int64
	// Chunked is true for "Transfer-Encoding: chunked".
	Chunked bool
	// ConnectionClose is true when the upstream sent "Connection: close".
	ConnectionClose bool
}

func (r *Response) reset() {
	h := r.Header[:0]
	*r = Response{Header: h, ContentLength: -1}
}

// ParseResponse parses an upstream response header at the start of b. It
// returns the header length, ErrNeedMore when b holds only part of a valid
// header no longer than maxHeader, or an *Error (nginx's 502 reasons).
func ParseResponse(r *Response, b []byte, maxHeader int) (int, error) {
	r.reset()
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		if len(b) >= 8 && string(b[:7]) != "HTTP/1." || len(b) < 8 && string(b) != "HTTP/1."[:len(b)] {
			return 0, ErrUpstreamNoValidHeader
		}
		if len(b) >= maxHeader {
			return 0, ErrUpstreamTooBigHeader
		}
		return 0, ErrNeedMore
	}
	if nl == 0 || b[nl-1] != '\r' {
		return 0, ErrUpstreamNoValidHeader
	}
	if err := parseStatusLine(r, b[:nl-1]); err != nil {
		return 0, err
	}
	pos := nl + 1
	seenCL, seenTE := false, false
	for {
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			if len(b) >= maxHeader {
				return 0, ErrUpstreamTooBigHeader
			}
			return 0, ErrNeedMore
		}
		if nl == 0 || b[pos+nl-1] != '\r' {
			return 0, detail(ErrUpstreamInvalidHeader, appendBadByte(nil, b[pos:pos+nl], '\n'))
		}
		line := b[pos : pos+nl-1]
		pos += nl + 1
		if pos > maxHeader {
			return 0, ErrUpstreamTooBigHeader
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return 0, detail(ErrUpstreamInvalidHeader, appendBadByte(nil, nil, line[0]))
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			colon = len(line)
		}
		name := line[:colon]
		for i, c := range name {
			if charClass[c]&cTchar == 0 {
				return 0, detail(ErrUpstreamInvalidHeader, appendBadByte(nil, line[:i], c))
			}
		}
		if colon == 0 || colon == len(line) {
			bad := byte('\r')
			if colon == 0 {
				bad = ':'
			}
			return 0, detail(ErrUpstreamInvalidHeader, appendBadByte(nil, line[:colon], bad))
		}
		if i := firstCtl(line[colon+1:]); i >= 0 {
			i += colon + 1
			return 0, detail(ErrUpstreamInvalidHeader, appendBadByte(nil, line[:i], line[i]))
		}
		value := trimOWS(line[colon+1:])
		r.Header = append(r.Header, Header{Name: name, Value: value})
		switch len(name) {
		case 10:
			if equalFold(name, "connection") && containsFold(value, "close") {
				r.ConnectionClose = true
			}
		case 14:
			if equalFold(name, "content-length") {
				if seenCL {
					return 0, detail(ErrUpstreamDuplicateCL, appendDuplicate(nil, name, value, r.Header.Get("Content-Length")))
				}
				seenCL = true
				n, ok := parseContentLength(value)
				if !ok {
					return 0, detail(ErrUpstreamInvalidCL, append([]byte(": "), appendField(nil, name, value)...))
				}
				r.ContentLength = n
			}
		case 17:
			if equalFold(name, "transfer-encoding") {
				if seenTE {
					return 0, detail(ErrUpstreamDuplicateCL, appendDuplicate(nil, name, value, r.Header.Get("Transfer-Encoding")))
				}
				seenTE = true
				if !equalFold(value, "chunked") || r.Minor == 0 {
					return 0, detail(ErrUpstreamUnknownTE, appendQuoted(nil, value))
				}
				r.Chunked = true
			}
		}
	}
	if seenCL && seenTE {
		return 0, ErrUpstreamTEAndCL
	}
	return pos, nil
}

func detail(e *Error, d []byte) error { return &DetailError{Err: e, Detail: string(d)} }

// parseStatusLine parses "HTTP/1.x NNN[ reason]".
func parseStatusLine(r *Response, l []byte) error {
	if len(l) < 12 || string(l[:7]) != "HTTP/1." || l[7] < '0' || l[7] > '9' || l[8] != ' ' {
		return ErrUpstreamNoValidHeader
	}
	if l[7] > '0' {
		r.Minor = 1
	}
	code := 0
	for _, c := range l[9:12] {
		if c < '0' || c > '9' {
			return ErrUpstreamNoValidHeader
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return ErrUpstreamNoValidHeader
	}
	r.Status = code
	r.StatusLine = l[9:]
	if len(l) > 12 {
		if l[12] != ' ' {
			return ErrUpstreamNoValidHeader
		}
		r.Reason = l[13:]
		if !validFieldValue(r.Reason) {
			return ErrUpstreamNoValidHeader
		}
	} else {
		r.Reason = l[12:]
	}
	return nil
}
