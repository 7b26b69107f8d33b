package certs

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
)

func TestProtocols(t *testing.T) {
	tests := []struct {
		words    string
		min, max uint16
		warnings int
		ok       bool
		weak     bool
	}{
		{"TLSv1.2 TLSv1.3", tls.VersionTLS12, tls.VersionTLS13, 0, true, false},
		{"TLSv1 TLSv1.1 TLSv1.2", tls.VersionTLS10, tls.VersionTLS12, 0, true, true},
		{"TLSv1 TLSv1.3", tls.VersionTLS10, tls.VersionTLS13, 1, true, true},
		{"SSLv3 TLSv1.2", tls.VersionTLS12, tls.VersionTLS12, 1, true, true},
		{"SSLv2 SSLv3", 0, 0, 2, false, true},
		{"TLSv1.3", tls.VersionTLS13, tls.VersionTLS13, 0, true, false},
	}
	for _, tt := range tests {
		s, err := ParseProtocols(strings.Fields(tt.words))
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != tt.words {
			t.Errorf("String() = %q, want %q", s.String(), tt.words)
		}
		lo, hi, w, ok := s.Range()
		if lo != tt.min || hi != tt.max || len(w) != tt.warnings || ok != tt.ok || s.Weak() != tt.weak {
			t.Errorf("%q: %x..%x %q %v weak=%v", tt.words, lo, hi, w, ok, s.Weak())
		}
	}
	_, err := ParseProtocols([]string{"TLSv1.2", "tlsv1.3"})
	var pe *UnknownProtocolError
	if !errors.As(err, &pe) || err.Error() != `invalid value "tlsv1.3"` {
		t.Errorf("got %v", err)
	}
	for v, want := range map[uint16]string{tls.VersionTLS10: "TLSv1", tls.VersionTLS11: "TLSv1.1", tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3", 0x0300: "SSLv3", 7: ""} {
		if got := VersionName(v); got != want {
			t.Errorf("VersionName(%#x) = %q", v, got)
		}
	}
}
