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
	return strings.EqualFold(pattern, name)
}

// validStar returns the index of a wildcard OpenSSL would honour in p, or
// -1: a single '*' in the left-most label, at least two labels after it,
// no empty labels, and not inside an IDNA ("xn--") label.
func validStar(p string) int {
	star := -1
	dots := 0
	labelStart := true
	idna := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*':
			if star >= 0 || idna || dots > 0 {
				return -1
			}
			star = i
			labelStart = false
		case c == '.':
			if labelStart {
				return -1 // empty label
			}
			dots++
			labelStart = true
			idna = false
		default:
			if labelStart && len(p)-i >= 4 && strings.EqualFold(p[i:i+4], "xn--") {
				idna = true
			}
			if !isAlnum(c) && c != '-' && c != '_' {
				return -1
			}
			labelStart = false
		}
	}
	if star < 0 || dots < 2 || labelStart {
		return -1
	}
	return star
}

// wildcardMatch is OpenSSL's wildcard_match with flags 0.
func wildcardMatch(prefix, suffix, subject string) bool {
	if len(subject) < len(prefix)+len(suffix) {
		return false
	}
	if !strings.EqualFold(prefix, subject[:len(prefix)]) {
		return false
	}
	wStart := len(prefix)
	wEnd := len(subject) - len(suffix)
	if !strings.EqualFold(subject[wEnd:], suffix) {
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
	if !allowIDNA && len(subject) >= 4 && strings.EqualFold(subject[:4], "xn--") {
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
	if strings.EqualFold(pattern, name) {
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
	return strings.EqualFold(name[i+1:], rest)
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
