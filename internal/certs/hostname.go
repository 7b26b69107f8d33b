package certs

import (
	"crypto/x509"
	"net/netip"
	"strings"
)

// NameRules selects how an upstream certificate is matched against the
// expected name.
type NameRules int

const (
	// NginxNames are OpenSSL's X509_check_host rules with flags 0, as nginx
	// uses them: DNS SANs; the subject CN only when there is no DNS SAN;
	// partial-label wildcards allowed; IP SANs never consulted.
	NginxNames NameRules = iota
	// SecureNames (gatehouse's "defaults secure"): DNS SANs with whole-label
	// wildcards, IP SANs for an IP-literal name, never the CN.
	SecureNames
)

// MatchName reports whether cert matches name under rules. An empty name
// never matches.
func MatchName(cert *x509.Certificate, name string, rules NameRules) bool {
	if cert == nil || name == "" {
		return false
	}
	if rules == SecureNames {
		return matchSecure(cert, name)
	}
	return CheckHost(cert, name)
}

// CheckHost is OpenSSL's X509_check_host(cert, name, 0, 0) == 1.
func CheckHost(cert *x509.Certificate, name string) bool {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return false
	}
	if len(cert.DNSNames) > 0 {
		for _, p := range cert.DNSNames {
			if matchPattern(p, name) {
				return true
			}
		}
		return false
	}
	// No DNS SAN: every CN of the subject is a candidate.
	for _, atv := range cert.Subject.Names {
		if atv.Type.String() != "2.5.4.3" {
			continue
		}
		if cn, ok := atv.Value.(string); ok && matchPattern(cn, name) {
			return true
		}
	}
	return false
}

// matchPattern compares a certificate name (possibly a wildcard) with the
// wanted name as OpenSSL's do_x509_check / equal_wildcard do.
func matchPattern(pattern, name string) bool {
	if strings.IndexByte(pattern, 0) >= 0 {
		return false
	}
	if star := validStar(pattern); star >= 0 && !strings.HasPrefix(name, ".") {
		return wildcardMatch(pattern[:star], pattern[star+1:], name)
	}
	return asciiEqualFold(pattern, name)
}

// validStar returns the index of a wildcard OpenSSL's valid_star would
// honour in p, or -1: a single '*' at the start or end of the left-most
// label (not "f*o"), not in an IDNA ("xn--") label, letters, digits and
// inner hyphens only, no empty label, and at least two dots.
func validStar(p string) int {
	const (
		labelStart = 1 << iota
		labelIDNA
		labelHyphen
	)
	star := -1
	dots := 0
	state := labelStart
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*':
			atStart := state&labelStart != 0
			atEnd := i == len(p)-1 || p[i+1] == '.'
			if star >= 0 || state&labelIDNA != 0 || dots > 0 || (!atStart && !atEnd) {
				return -1
			}
			star = i
			state &^= labelStart
		case isAlnum(c):
			if state&labelStart != 0 && len(p)-i >= 4 && asciiEqualFold(p[i:i+4], "xn--") {
				state |= labelIDNA
			}
			state &^= labelHyphen | labelStart
		case c == '.':
			if state&(labelHyphen|labelStart) != 0 {
				return -1
			}
			state = labelStart
			dots++
		case c == '-':
			if state&labelStart != 0 {
				return -1
			}
			state |= labelHyphen
		default:
			return -1
		}
	}
	if state&(labelStart|labelHyphen) != 0 || dots < 2 {
		return -1
	}
	return star
}

// asciiEqualFold is OpenSSL's equal_nocase: ASCII letters fold, nothing
// else does.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// wildcardMatch is OpenSSL's wildcard_match with flags 0.
func wildcardMatch(prefix, suffix, subject string) bool {
	if len(subject) < len(prefix)+len(suffix) {
		return false
	}
	if !asciiEqualFold(prefix, subject[:len(prefix)]) {
		return false
	}
	wStart := len(prefix)
	wEnd := len(subject) - len(suffix)
	if !asciiEqualFold(subject[wEnd:], suffix) {
		return false
	}
	allowIDNA := false
	if prefix == "" && strings.HasPrefix(suffix, ".") {
		// A wildcard that is the whole label must match at least one character.
		if wStart == wEnd {
			return false
		}
		allowIDNA = true
	}
	if !allowIDNA && len(subject) >= 4 && asciiEqualFold(subject[:4], "xn--") {
		return false
	}
	if wEnd == wStart+1 && subject[wStart] == '*' {
		return true
	}
	for i := wStart; i < wEnd; i++ {
		c := subject[i]
		if !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// matchSecure: DNS SANs (whole-label wildcard only), IP SANs for IP
// literals, no CN fallback.
func matchSecure(cert *x509.Certificate, name string) bool {
	host := strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		for _, c := range cert.IPAddresses {
			if a, ok := netip.AddrFromSlice(c); ok && a.Unmap() == ip.Unmap() {
				return true
			}
		}
		return false
	}
	name = strings.TrimSuffix(name, ".")
	for _, p := range cert.DNSNames {
		if matchWholeLabel(p, name) {
			return true
		}
	}
	return false
}

func matchWholeLabel(pattern, name string) bool {
	if asciiEqualFold(pattern, name) {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.Count(rest, ".") < 1 || strings.ContainsAny(rest, "*") {
		return false
	}
	i := strings.IndexByte(name, '.')
	if i <= 0 {
		return false
	}
	return asciiEqualFold(name[i+1:], rest)
}

// IsIPLiteral reports whether nginx treats name as an address and sends no
// SNI for it: an IPv4 literal or anything starting with "[".
func IsIPLiteral(name string) bool {
	if strings.HasPrefix(name, "[") {
		return true
	}
	a, err := netip.ParseAddr(name)
	return err == nil && (a.Is4() || a.Is6())
}

// StripPort removes a ":port" suffix from a proxy_ssl_name value as nginx's
// ngx_http_upstream_ssl_name does: after an optional "[...]" part, the name
// ends at the first colon.
func StripPort(name string) string {
	start := 0
	if strings.HasPrefix(name, "[") {
		if i := strings.IndexByte(name, ']'); i >= 0 {
			start = i
		}
	}
	if i := strings.IndexByte(name[start:], ':'); i >= 0 {
		return name[:start+i]
	}
	return name
}
