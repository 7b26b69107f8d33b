package accesslog

import "gatehouse/internal/errorlog"

// needsDefault reports whether escape=default rewrites c as \xHH: control
// bytes, '"', '\\', DEL and every byte >= 0x80 (ngx_http_log_escape). The
// error log escapes client bytes with the same rule, which it owns.
func needsDefault(c byte) bool { return errorlog.NeedsEscape(c) }

const hexUpper = "0123456789ABCDEF"

// AppendEscapeDefault appends v to dst with escape=default rules.
func AppendEscapeDefault(dst, v []byte) []byte { return errorlog.AppendEscaped(dst, v) }

// AppendEscapeJSON appends v to dst with escape=json rules
// (ngx_escape_json): '"' and '\\' get a backslash, \n \r \t \b \f their
// short forms, other bytes below 0x20 \u00XX with uppercase hex; every
// other byte, including DEL and non-ASCII, stays as is.
func AppendEscapeJSON(dst, v []byte) []byte {
	for _, c := range v {
		dst = appendJSONByte(dst, c)
	}
	return dst
}

func appendJSONByte(dst []byte, c byte) []byte {
	if c > 0x1f {
		if c == '"' || c == '\\' {
			return append(dst, '\\', c)
		}
		return append(dst, c)
	}
	switch c {
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', '0'+c>>4, hexUpper[c&0xf])
}

func jsonExtra(c byte) int {
	if c > 0x1f {
		if c == '"' || c == '\\' {
			return 1
		}
		return 0
	}
	switch c {
	case '\n', '\r', '\t', '\b', '\f':
		return 1
	}
	return 5
}

// escapeDefaultInPlace escapes b[from:] in place, growing b as needed.
func escapeDefaultInPlace(b []byte, from int) []byte {
	extra := 0
	for _, c := range b[from:] {
		if needsDefault(c) {
			extra += 3
		}
	}
	if extra == 0 {
		return b
	}
	end := len(b)
	b = grow(b, extra)
	w := len(b)
	for r := end - 1; r >= from; r-- {
		c := b[r]
		if needsDefault(c) {
			w -= 4
			b[w], b[w+1], b[w+2], b[w+3] = '\\', 'x', hexUpper[c>>4], hexUpper[c&0xf]
		} else {
			w--
			b[w] = c
		}
	}
	return b
}

// escapeJSONInPlace escapes b[from:] in place with JSON rules.
func escapeJSONInPlace(b []byte, from int) []byte {
	extra := 0
	for _, c := range b[from:] {
		extra += jsonExtra(c)
	}
	if extra == 0 {
		return b
	}
	end := len(b)
	b = grow(b, extra)
	w := len(b)
	var tmp [6]byte
	for r := end - 1; r >= from; r-- {
		e := appendJSONByte(tmp[:0], b[r])
		w -= len(e)
		copy(b[w:], e)
	}
	return b
}

// grow extends b by n bytes (contents of the new tail unspecified).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}
