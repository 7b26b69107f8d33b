package http1

import "bytes"

// Header is one header field as received (original name case, value with
// surrounding whitespace removed) or to be sent.
type Header struct {
	Name  []byte
	Value []byte
}

// Headers is an ordered header list. It is reused between messages
// (reset with h = h[:0]); lookups compare names ASCII case-insensitively
// without allocating.
type Headers []Header

// Get returns the value of the first field named name, or nil.
func (h Headers) Get(name string) []byte {
	for i := range h {
		if equalFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return nil
}

// Has reports whether a field named name is present.
func (h Headers) Has(name string) bool {
	for i := range h {
		if equalFold(h[i].Name, name) {
			return true
		}
	}
	return false
}

// Count returns how many fields are named name.
func (h Headers) Count(name string) int {
	n := 0
	for i := range h {
		if equalFold(h[i].Name, name) {
			n++
		}
	}
	return n
}

// equalFold compares an ASCII byte string with a string, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// containsFold reports whether s contains the lower-case ASCII sub,
// ignoring case (nginx's ngx_strcasestrn).
func containsFold(s []byte, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n && lower(s[i+j]) == sub[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// contains reports whether s contains sub (case-sensitive).
func contains(s []byte, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if string(s[i:i+n]) == sub {
			return i
		}
	}
	return -1
}

// Character classes.
const (
	cTchar   = 1 << iota // RFC 9110 tchar
	cNginx               // nginx's valid header-name byte: [A-Za-z0-9-]
	cCtl                 // control byte other than HTAB, or DEL
	cHex                 // hexadecimal digit
	cURI                 // byte allowed in a request-target (printable, > 0x20, not DEL)
	cHostChr             // byte allowed in an absolute-form host: [A-Za-z0-9.-]
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
			t[c] |= cTchar | cNginx | cHostChr
		}
		switch b {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '.', '^', '_', '`', '|', '~':
			t[c] |= cTchar
		case '-':
			t[c] |= cTchar | cNginx | cHostChr
		}
		if b == '.' {
			t[c] |= cHostChr
		}
		if (b < 0x20 && b != '\t') || b == 0x7f {
			t[c] |= cCtl
		}
		if (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			t[c] |= cHex
		}
		if b > 0x20 && b != 0x7f {
			t[c] |= cURI
		}
	}
	return t
}()

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseContentLength parses a Content-Length value the way nginx's
// ngx_atoof does: one or more decimal digits, nothing else, no overflow.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ErrUnsafeHeader is the error of a header block that would carry a CR,
// LF or NUL inside a field name or value (a split header or a smuggled
// request): WriteHeader and the upstream request refuse to send it.
var ErrUnsafeHeader = &Error{500, "header field with CR, LF or NUL"}

// SafeFieldValue reports whether v has no CR, LF or NUL, so it can go
// into a header line as is. It is one pass over v and does not allocate.
func SafeFieldValue(v []byte) bool {
	for _, c := range v {
		if c <= '\r' && (c == '\r' || c == '\n' || c == 0) {
			return false
		}
	}
	return true
}

// cleanHeader reports whether the header block b, which the writer built
// from lines CRLF-terminated lines, has no other CR or LF and no NUL: no
// field carried one inside its name or value. The counts take three
// vectorised passes, however many fields there are.
func cleanHeader(b []byte, lines int) bool {
	return bytes.Count(b, lf) == lines && bytes.Count(b, cr) == lines && bytes.IndexByte(b, 0) < 0
}

var cr, lf = []byte{'\r'}, []byte{'\n'}

// AppendHeader appends "name: value\r\n" to dst. It does not check name
// and value: the writers check the whole block they built (cleanHeader).
func AppendHeader[N, V ~string | ~[]byte](dst []byte, name N, value V) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

// appendInt appends the decimal form of a non-negative n.
func appendInt(dst []byte, n int64) []byte {
	var tmp [20]byte
	i := len(tmp)
	if n == 0 {
		return append(dst, '0')
	}
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, tmp[i:]...)
}

func appendHex(dst []byte, n int64) []byte {
	const digits = "0123456789abcdef"
	var tmp [16]byte
	i := len(tmp)
	if n == 0 {
		return append(dst, '0')
	}
	for n > 0 {
		i--
		tmp[i] = digits[n&15]
		n >>= 4
	}
	return append(dst, tmp[i:]...)
}

// validFieldValue reports whether v (already trimmed) has no control
// bytes other than HTAB.
func validFieldValue(v []byte) bool {
	for _, c := range v {
		if charClass[c]&cCtl != 0 {
			return false
		}
	}
	return true
}
