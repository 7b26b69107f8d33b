// Package httphost reads host names and addresses as nginx does: the Host
// header and the absolute-form authority (the HTTP/1 codec) and the TLS
// server name (TLS termination) go through one validation, so the server
// a request is routed to is named the same way on every path; and a
// dotted IPv4 address is read with nginx's leniency wherever one is
// configured or arrives in a header (allow, deny, real IP).
package httphost

import "net/netip"

// Validate validates and normalises a Host header value (or a TLS SNI
// name) exactly like nginx's ngx_http_validate_host: the port (":..." after
// the host, or after "]" for an IPv6 literal) is removed, one trailing dot is
// removed and ASCII letters are lowercased. It reports false, meaning
// "client sent invalid host header" (400), if the value contains "/", "\",
// a NUL, a byte <= 0x20, 0x7F, two consecutive dots anywhere (the port
// included), or becomes empty.
//
// The result aliases host when host has no uppercase letters; otherwise the
// lowercased name is appended to dst[:0] (so pass a buffer with enough
// capacity to avoid an allocation). dst may be host itself to lowercase in
// place.
func Validate(dst, host []byte) ([]byte, bool) {
	const none = -2
	dotPos := none
	hostLen := len(host)
	upper := false

	const (
		usual = iota
		literal
		rest
	)
	state := usual

	for i, ch := range host {
		switch ch {
		case '.':
			if dotPos == i-1 {
				return nil, false
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
		case '/', '\\', 0:
			// nginx on Unix only treats '/' as a path separator; the
			// backslash is rejected here as well, as on Windows builds,
			// because a backend may treat it as one.
			return nil, false
		default:
			if ch <= 0x20 || ch == 0x7f {
				return nil, false
			}
			if 'A' <= ch && ch <= 'Z' {
				upper = true
			}
		}
	}

	if dotPos == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return nil, false
	}
	if upper {
		upper = false
		for _, ch := range host[:hostLen] {
			if 'A' <= ch && ch <= 'Z' {
				upper = true
				break
			}
		}
	}
	if !upper {
		return host[:hostLen], true
	}
	out := dst[:0]
	for _, ch := range host[:hostLen] {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out = append(out, ch)
	}
	return out, true
}

// InetAddr is ngx_inet_addr: a dotted IPv4 address whose octets are
// decimal numbers up to 255, leading zeros and empty octets (0) allowed;
// nginx reads "010.0.0.1" as 10.0.0.1 where netip refuses it.
func InetAddr[T ~string | ~[]byte](s T) (netip.Addr, bool) {
	var b [4]byte
	n, octet := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			octet = octet*10 + int(c-'0')
			if octet > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && n < 3:
			b[n] = byte(octet)
			n, octet = n+1, 0
		default:
			return netip.Addr{}, false
		}
	}
	if n != 3 {
		return netip.Addr{}, false
	}
	b[3] = byte(octet)
	return netip.AddrFrom4(b), true
}
