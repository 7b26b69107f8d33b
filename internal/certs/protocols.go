package certs

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// ProtocolSet is a set of OpenSSL protocol words as ssl_protocols and
// proxy_ssl_protocols take them.
type ProtocolSet uint8

// The protocol bits, in nginx's NGX_SSL_* order.
const (
	SSLv2 ProtocolSet = 1 << iota
	SSLv3
	TLSv1
	TLSv1_1
	TLSv1_2
	TLSv1_3
)

// DefaultProtocols is nginx 1.28's default: TLSv1.2 TLSv1.3.
const DefaultProtocols = TLSv1_2 | TLSv1_3

var protocolWords = []struct {
	word    string
	bit     ProtocolSet
	version uint16 // 0: not supported by crypto/tls
}{
	{"SSLv2", SSLv2, 0},
	{"SSLv3", SSLv3, 0},
	{"TLSv1", TLSv1, tls.VersionTLS10},
	{"TLSv1.1", TLSv1_1, tls.VersionTLS11},
	{"TLSv1.2", TLSv1_2, tls.VersionTLS12},
	{"TLSv1.3", TLSv1_3, tls.VersionTLS13},
}

// UnknownProtocolError is a word that is not an OpenSSL protocol name; nginx
// reports it as `invalid value "WORD"`.
type UnknownProtocolError struct{ Word string }

// Error returns nginx's `invalid value "WORD"` text.
func (e *UnknownProtocolError) Error() string { return `invalid value "` + e.Word + `"` }

// ParseProtocols parses protocol words (case-sensitive, as nginx's bitmask
// slot compares them).
func ParseProtocols(words []string) (ProtocolSet, error) {
	var s ProtocolSet
	for _, w := range words {
		found := false
		for _, p := range protocolWords {
			if p.word == w {
				s |= p.bit
				found = true
				break
			}
		}
		if !found {
			return 0, &UnknownProtocolError{Word: w}
		}
	}
	return s, nil
}

// String returns the set as space-separated OpenSSL words.
func (s ProtocolSet) String() string {
	var parts []string
	for _, p := range protocolWords {
		if s&p.bit != 0 {
			parts = append(parts, p.word)
		}
	}
	return strings.Join(parts, " ")
}

// Range converts the set to crypto/tls's MinVersion..MaxVersion. crypto/tls
// supports only a contiguous range, so a set with a hole gets the hole
// filled; SSLv2 and SSLv3 are not supported and are dropped. Each such
// change is described in warnings. ok is false when no supported protocol
// remains.
func (s ProtocolSet) Range() (minVersion, maxVersion uint16, warnings []string, ok bool) {
	var added []string
	for _, p := range protocolWords {
		if s&p.bit == 0 {
			continue
		}
		if p.version == 0 {
			warnings = append(warnings, p.word+" is not supported and is ignored")
			continue
		}
		if minVersion == 0 {
			minVersion = p.version
		}
		maxVersion = p.version
	}
	if minVersion == 0 {
		return 0, 0, warnings, false
	}
	for _, p := range protocolWords {
		if p.version > minVersion && p.version < maxVersion && s&p.bit == 0 {
			added = append(added, p.word)
		}
	}
	if len(added) > 0 {
		warnings = append(warnings, fmt.Sprintf("only a contiguous range of protocols is supported, so %s is enabled too", strings.Join(added, " and ")))
	}
	return minVersion, maxVersion, warnings, true
}

// Weak reports whether the set enables a protocol older than TLSv1.2.
func (s ProtocolSet) Weak() bool { return s&(SSLv2|SSLv3|TLSv1|TLSv1_1) != 0 }

// VersionName returns OpenSSL's name of a TLS version ("TLSv1.2"), as
// $ssl_protocol shows it; "" for an unknown version.
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	case 0x0300:
		return "SSLv3"
	}
	return ""
}
