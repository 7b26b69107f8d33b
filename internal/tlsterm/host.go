package tlsterm

// normalizeHost validates and normalises a server name the way
// ngx_http_validate_host treats SNI (nginx.md §3.3 step 4): a ":port" (or
// the part after "]" of an IPv6 literal) is dropped, one trailing dot is
// dropped, letters are lowercased; names containing "..", a path
// separator, a byte ≤ 0x20 or 0x7F, or becoming empty are refused.
func normalizeHost(h string) (string, bool) {
	const (
		usual = iota
		literal
		rest
	)
	state := usual
	dotPos := -1
	hostLen := len(h)
	upper := false
	for i := 0; i < len(h); i++ {
		ch := h[i]
		switch ch {
		case '.':
			if dotPos == i-1 && i > 0 {
				return "", false
			}
			dotPos = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		default:
			if ch == '/' || ch == '\\' || ch <= 0x20 || ch == 0x7f {
				return "", false
			}
			if ch >= 'A' && ch <= 'Z' {
				upper = true
			}
		}
	}
	if dotPos >= 0 && dotPos == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return "", false
	}
	h = h[:hostLen]
	if !upper {
		return h, true
	}
	b := []byte(h)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}
