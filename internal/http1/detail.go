package http1

import "gatehouse/internal/errorlog"

// DetailError is an *Error with the detail nginx appends to its log text,
// such as the offending header line. errors.Is and errors.As see the
// *Error; Error() is nginx's complete text.
type DetailError struct {
	Err    *Error
	Detail string
}

func (e *DetailError) Error() string { return e.Err.Msg + e.Detail }

// Unwrap returns the classified *Error.
func (e *DetailError) Unwrap() error { return e.Err }

// maxLogLine bounds how much of a line goes into a log detail (nginx's
// NGX_MAX_ERROR_STR minus its own overhead).
const maxLogLine = 1748

// The details below quote bytes a client or upstream sent; they are
// escaped with errorlog.AppendEscaped (nginx logs them raw), so that a CR
// or a quote in them cannot forge the rest of the error-log line.

// appendBadByte appends nginx's `: "<line up to the bad byte>\xHH..."`.
func appendBadByte(dst, prefix []byte, bad byte) []byte {
	const hex = "0123456789ABCDEF"
	if len(prefix) > maxLogLine {
		prefix = prefix[:maxLogLine]
	}
	dst = append(dst, `: "`...)
	dst = errorlog.AppendEscaped(dst, prefix)
	dst = append(dst, '\\', 'x', hex[bad>>4], hex[bad&15])
	return append(dst, `..."`...)
}

// appendTruncated appends nginx's `: "<start of line>..."`.
func appendTruncated(dst, line []byte) []byte {
	if len(line) > maxLogLine {
		line = line[:maxLogLine]
	}
	dst = append(dst, `: "`...)
	dst = errorlog.AppendEscaped(dst, line)
	return append(dst, `..."`...)
}

// appendField appends `"Name: value"`.
func appendField(dst, name, value []byte) []byte {
	dst = append(dst, '"')
	dst = errorlog.AppendEscaped(dst, name)
	dst = append(dst, ':', ' ')
	dst = errorlog.AppendEscaped(dst, value)
	return append(dst, '"')
}

// appendDuplicate appends `: "N: v", previous value: "N: p"`.
func appendDuplicate(dst, name, value, prev []byte) []byte {
	dst = append(dst, ": "...)
	dst = appendField(dst, name, value)
	dst = append(dst, ", previous value: "...)
	return appendField(dst, name, prev)
}

// appendQuoted appends `: "v"`.
func appendQuoted(dst, v []byte) []byte {
	dst = append(dst, `: "`...)
	dst = errorlog.AppendEscaped(dst, v)
	return append(dst, '"')
}

// firstCtl returns the index of the first control byte (not HTAB) in b,
// or -1.
func firstCtl(b []byte) int {
	for i, c := range b {
		if charClass[c]&cCtl != 0 {
			return i
		}
	}
	return -1
}
