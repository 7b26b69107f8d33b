package variables

// uriEscape marks the bytes nginx's ngx_escape_uri escapes with
// NGX_ESCAPE_URI, the set it uses for a path it sends on: controls, space,
// DEL and every byte >= 0x80, and " # % < > ? \ ^ ` { | }.
var uriEscape = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c <= 0x20 || c >= 0x7f
	}
	for _, c := range []byte(`"#%<>?\^` + "`{|}") {
		t[c] = true
	}
	return t
}()

const hexUpper = "0123456789ABCDEF"

// AppendEscapedURI appends s with the bytes of nginx's NGX_ESCAPE_URI set
// written as %XX: the inverse of route.NormalizeURI's decoding for a path. A
// decoded path put back into a URI (the one sent upstream, a Location)
// goes through it, so that a decoded CR or LF can never reach a header.
func AppendEscapedURI(dst, s []byte) []byte {
	for _, c := range s {
		if uriEscape[c] {
			dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// EscapeURI escapes b[from:] in place as AppendEscapedURI does and
// returns b, grown if needed; with nothing to escape it returns b as is.
func EscapeURI(b []byte, from int) []byte {
	extra := 0
	for _, c := range b[from:] {
		if uriEscape[c] {
			extra += 2
		}
	}
	if extra == 0 {
		return b
	}
	end := len(b)
	if cap(b)-end >= extra {
		b = b[:end+extra]
	} else {
		nb := make([]byte, end+extra, 2*cap(b)+extra)
		copy(nb, b)
		b = nb
	}
	w := len(b)
	for r := end - 1; r >= from; r-- {
		c := b[r]
		if uriEscape[c] {
			w -= 3
			b[w], b[w+1], b[w+2] = '%', hexUpper[c>>4], hexUpper[c&15]
		} else {
			w--
			b[w] = c
		}
	}
	return b
}
