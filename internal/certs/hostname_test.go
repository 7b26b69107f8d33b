package certs

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"
)

func certWith(cn string, dns []string, ips ...string) *x509.Certificate {
	c := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}
	c.Subject.Names = []pkix.AttributeTypeAndValue{{Type: []int{2, 5, 4, 3}, Value: cn}}
	for _, ip := range ips {
		c.IPAddresses = append(c.IPAddresses, net.ParseIP(ip))
	}
	return c
}

func TestMatchName(t *testing.T) {
	tests := []struct {
		cert          *x509.Certificate
		name          string
		nginx, secure bool
	}{
		{certWith("", []string{"b1.test"}), "b1.test", true, true},
		{certWith("", []string{"B1.Test"}), "b1.TEST", true, true},
		{certWith("", []string{"b1.test"}), "", false, false},
		{certWith("", []string{"b1.test"}), "b2.test", false, false},
		// CN only when there is no DNS SAN (nginx); never (secure).
		{certWith("b1.test", nil), "b1.test", true, false},
		{certWith("b1.test", []string{"other.test"}), "b1.test", false, false},
		// Wildcards.
		{certWith("", []string{"*.example.com"}), "a.example.com", true, true},
		{certWith("", []string{"*.example.com"}), "example.com", false, false},
		{certWith("", []string{"*.example.com"}), "a.b.example.com", false, false},
		{certWith("", []string{"*.com"}), "example.com", false, false},
		{certWith("", []string{"f*.example.com"}), "foo.example.com", true, false},
		{certWith("", []string{"*o.example.com"}), "foo.example.com", true, false},
		{certWith("", []string{"f*o.example.com"}), "foo.example.com", false, false},
		{certWith("", []string{"f*o.example.com"}), "f*o.example.com", true, true},
		{certWith("", []string{"*-.example.com"}), "a-.example.com", false, false},
		{certWith("", []string{"\u212a.example.com"}), "k.example.com", false, false},
		{certWith("", []string{"a.*.example.com"}), "a.b.example.com", false, false},
		{certWith("", []string{"**.example.com"}), "a.example.com", false, false},
		{certWith("", []string{"*.example.com"}), "xn--bcher-kva.example.com", true, true},
		{certWith("", []string{"x*.example.com"}), "xn--bcher-kva.example.com", false, false},
		{certWith("", []string{"*.example.com"}), "a_b.example.com", false, true},
		{certWith("*.example.com", nil), "a.example.com", true, false},
		// IP literals: nginx never looks at IP SANs, only at DNS SAN/CN text.
		{certWith("", nil, "10.0.0.1"), "10.0.0.1", false, true},
		{certWith("", []string{"10.0.0.1"}), "10.0.0.1", true, false},
		{certWith("10.0.0.1", nil), "10.0.0.1", true, false},
		{certWith("", []string{"b1.test"}, "10.0.0.1"), "10.0.0.1", false, true},
		{certWith("", nil, "::1"), "[::1]", false, true},
		{certWith("", nil, "::1"), "::1", false, true},
	}
	for _, tt := range tests {
		if got := MatchName(tt.cert, tt.name, NginxNames); got != tt.nginx {
			t.Errorf("nginx: %v %v %v vs %q: %v, want %v", tt.cert.Subject.CommonName, tt.cert.DNSNames, tt.cert.IPAddresses, tt.name, got, tt.nginx)
		}
		if got := MatchName(tt.cert, tt.name, SecureNames); got != tt.secure {
			t.Errorf("secure: %v %v %v vs %q: %v, want %v", tt.cert.Subject.CommonName, tt.cert.DNSNames, tt.cert.IPAddresses, tt.name, got, tt.secure)
		}
	}
}

func TestStripPortAndIPLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"b1.test": "b1.test", "b1.test:443": "b1.test", "10.0.0.1:8443": "10.0.0.1",
		"[::1]:443": "[::1]", "[::1]": "[::1]", "": "",
	} {
		if got := StripPort(in); got != want {
			t.Errorf("StripPort(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{"10.0.0.1": true, "[::1]": true, "b1.test": false, "": false, "1.2.3": false} {
		if got := IsIPLiteral(in); got != want {
			t.Errorf("IsIPLiteral(%q) = %v", in, got)
		}
	}
}

func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{"*.example.com|a.example.com", "f*o.x.y|foo.x.y", "*|a", "xn--*.a.b|xn--q.a.b", ".a.b|x.a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i < len(s); i++ {
			if s[i] == '|' {
				c := certWith(s[:i], []string{s[:i]})
				MatchName(c, s[i+1:], NginxNames)
				MatchName(c, s[i+1:], SecureNames)
				return
			}
		}
		CheckHost(certWith(s, nil), s)
	})
}
