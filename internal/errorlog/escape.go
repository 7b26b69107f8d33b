package errorlog

// NeedsEscape reports whether AppendEscaped rewrites c: control bytes,
// '"', '\\', DEL and every byte >= 0x80. These are the bytes the access
// log's escape=default rewrites (ngx_http_log_escape), so both logs show
// client bytes the same way.
func NeedsEscape(c byte) bool {
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x7f
}

const hexUpper = "0123456789ABCDEF"

// AppendEscaped appends v to dst with every byte NeedsEscape names written
// as \xHH (uppercase hex). Client bytes in a log line go through it, so
// that a CR, LF or quote a client sends cannot end the line or the quoted
// field early and forge what follows.
func AppendEscaped(dst, v []byte) []byte {
	for _, c := range v {
		if NeedsEscape(c) {
			dst = append(dst, '\\', 'x', hexUpper[c>>4], hexUpper[c&0xf])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// appendMessage appends a message, whose text gatehouse composed (client
// bytes in it already escaped), with any control byte still in it written
// as \xHH: whatever went wrong upstream of the logger, one message stays
// one line.
func appendMessage(dst []byte, msg string) []byte {
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c < 0x20 || c == 0x7f {
			dst = append(dst, '\\', 'x', hexUpper[c>>4], hexUpper[c&0xf])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}
