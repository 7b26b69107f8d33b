package variables

import (
	"io"
	"iter"
	"strconv"
	"time"
)

// Headers is a read-only view of a header block in wire order, as (name,
// value) pairs. Range-over-func keeps lookups allocation-free when the
// sequence is a closure the caller builds on its stack.
type Headers = iter.Seq2[[]byte, []byte]

// MatchHeaderName reports whether a header name matches the NAME part of
// $http_NAME (and the other header families) the way nginx compares them:
// the header's ASCII letters lowercased and "-" read as "_", against the
// already-lowercased variable name. So "X-Real-IP" matches "x_real_ip".
func MatchHeaderName(varName, header []byte) bool {
	if len(varName) != len(header) {
		return false
	}
	for i, c := range header {
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		} else if c == '-' {
			c = '_'
		}
		if varName[i] != c {
			return false
		}
	}
	return true
}

// AppendHeader appends the value of $http_NAME (or $sent_http_NAME,
// $upstream_http_NAME) to dst: every header whose name matches name (see
// MatchHeaderName), joined with ", " in order, or "; " when name is
// "cookie" (nginx ≥ 1.23). It reports false, leaving dst unchanged, when no
// header matches.
func AppendHeader(dst []byte, headers Headers, name []byte) ([]byte, bool) {
	sep := ", "
	if string(name) == "cookie" {
		sep = "; "
	}
	found := false
	for k, v := range headers {
		if !MatchHeaderName(name, k) {
			continue
		}
		if found {
			dst = append(dst, sep...)
		}
		found = true
		dst = append(dst, v...)
	}
	return dst, found
}

// LookupArg returns the raw (undecoded) value of the first query-string
// argument called name, as $arg_NAME does (ngx_http_arg): names compare
// case-insensitively, the match must start the query or follow "&", and
// "=" must follow the name ("?a&b=1" has no $arg_a). query is the part
// after "?".
func LookupArg(query, name []byte) ([]byte, bool) {
	n := len(name)
	for i := 0; i+n < len(query); i++ {
		if i > 0 && query[i-1] != '&' {
			continue
		}
		if query[i+n] == '=' && equalFoldLower(query[i:i+n], name) {
			v := query[i+n+1:]
			for j, c := range v {
				if c == '&' {
					return v[:j], true
				}
			}
			return v, true
		}
	}
	return nil, false
}

// AppendArg appends $arg_NAME (see LookupArg) to dst.
func AppendArg(dst, query, name []byte) ([]byte, bool) {
	v, ok := LookupArg(query, name)
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

// LookupCookie returns the value of the first cookie called name in a
// Cookie header value, as $cookie_NAME does
// (ngx_http_parse_multi_header_lines): names compare case-insensitively;
// spaces around "=" are skipped; the value runs to the next ";" (it may
// contain "," and trailing spaces); pairs are separated by ";" or ",".
func LookupCookie(header, name []byte) ([]byte, bool) {
	if len(name) > len(header) {
		return nil, false
	}
	p, end := 0, len(header)
	for p < end {
		if end-p >= len(name) && equalFoldLower(header[p:p+len(name)], name) {
			q := p + len(name)
			for q < end && header[q] == ' ' {
				q++
			}
			if q < end && header[q] == '=' {
				q++
				for q < end && header[q] == ' ' {
					q++
				}
				last := q
				for last < end && header[last] != ';' {
					last++
				}
				return header[q:last], true
			}
			p = q
		}
		// skip to the next pair
		for p < end {
			c := header[p]
			p++
			if c == ';' || c == ',' {
				break
			}
		}
		for p < end && header[p] == ' ' {
			p++
		}
	}
	return nil, false
}

// AppendCookie appends $cookie_NAME to dst, searching every Cookie header
// in order (nginx looks at each Cookie header line separately).
func AppendCookie(dst []byte, headers Headers, name []byte) ([]byte, bool) {
	for k, v := range headers {
		if !MatchHeaderName([]byte("cookie"), k) {
			continue
		}
		if val, ok := LookupCookie(v, name); ok {
			return append(dst, val...), true
		}
	}
	return dst, false
}

// AppendProxyAddXForwardedFor appends $proxy_add_x_forwarded_for: the
// client's X-Forwarded-For header values, each followed by ", ", then
// remoteAddr; just remoteAddr when the request has no such header. A
// present but empty header still contributes its ", " as in nginx.
func AppendProxyAddXForwardedFor(dst []byte, headers Headers, remoteAddr []byte) []byte {
	for k, v := range headers {
		if MatchHeaderName([]byte("x_forwarded_for"), k) {
			dst = append(dst, v...)
			dst = append(dst, ", "...)
		}
	}
	return append(dst, remoteAddr...)
}

// equalFoldLower compares s case-insensitively (ASCII) against lower,
// which is already lowercase.
func equalFoldLower(s, lower []byte) bool {
	if len(s) != len(lower) {
		return false
	}
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// AppendMsec appends $msec for t: Unix seconds, ".", milliseconds
// ("1760104536.123").
func AppendMsec(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	return appendMillis(dst, ms)
}

// AppendSeconds appends a duration in nginx's seconds-with-milliseconds
// form ("1.234", "0.004"), the format of $request_time and the
// $upstream_*_time values. Negative durations print as "0.000" (nginx
// clamps $request_time at zero); sub-millisecond parts are truncated.
func AppendSeconds(dst []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	if ms < 0 {
		ms = 0
	}
	return appendMillis(dst, ms)
}

func appendMillis(dst []byte, ms int64) []byte {
	neg := ms < 0
	if neg {
		dst = append(dst, '-')
		ms = -ms
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	frac := ms % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

var monthAbbr = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// AppendTimeLocal appends $time_local for t in t's location:
// "10/Oct/2025:13:55:36 +0000". The caller passes local time.
func AppendTimeLocal(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append2(dst, d)
	dst = append(dst, '/')
	dst = append(dst, monthAbbr[mo-1]...)
	dst = append(dst, '/')
	dst = append4(dst, y)
	dst = append(dst, ':')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	dst = append(dst, ' ')
	return appendZone(dst, t, false)
}

// AppendTimeISO8601 appends $time_iso8601 for t in t's location:
// "2025-10-10T13:55:36+00:00".
func AppendTimeISO8601(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(mo))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	return appendZone(dst, t, true)
}

// appendZone writes the UTC offset as "+hhmm", or "+hh:mm" with colon.
func appendZone(dst []byte, t time.Time, colon bool) []byte {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign = '-'
		off = -off
	}
	off /= 60
	dst = append(dst, sign)
	dst = append2(dst, off/60)
	if colon {
		dst = append(dst, ':')
	}
	return append2(dst, off%60)
}

func append2(dst []byte, n int) []byte {
	if n < 0 || n > 99 {
		return strconv.AppendInt(dst, int64(n), 10)
	}
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

func append4(dst []byte, n int) []byte {
	if n < 0 || n > 9999 {
		return strconv.AppendInt(dst, int64(n), 10)
	}
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// AppendStatus appends $status: the status code with at least three digits
// ("000" when no response was sent, as nginx prints it).
func AppendStatus(dst []byte, status int) []byte {
	if status >= 0 && status < 1000 {
		return append(dst, byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10))
	}
	return strconv.AppendInt(dst, int64(status), 10)
}

const hexLower = "0123456789abcdef"

// AppendRequestID appends a new $request_id: 16 bytes from random
// (crypto/rand.Reader in production, a fixed reader in tests) as 32
// lowercase hex digits. It reads directly into dst's spare capacity, so it
// allocates only if dst lacks 32 bytes of room.
func AppendRequestID(dst []byte, random io.Reader) ([]byte, error) {
	n := len(dst)
	dst = append(dst, make([]byte, 32)...)
	out := dst[n : n+32]
	if _, err := io.ReadFull(random, out[16:]); err != nil {
		return dst[:n], err
	}
	// Expand in place from the front: output bytes 2i and 2i+1 never pass
	// the unread input at 16+i.
	for i := 0; i < 16; i++ {
		b := out[16+i]
		out[2*i] = hexLower[b>>4]
		out[2*i+1] = hexLower[b&0x0f]
	}
	return dst, nil
}
