package certs

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
)

func TestParseCiphers(t *testing.T) {
	high := "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:" +
		"ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:" +
		"AES256-GCM-SHA384:AES128-GCM-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA"
	tests := []struct {
		in   string
		want string // OpenSSL names joined by ':'; "" means an error
		err  string
	}{
		{"HIGH:!aNULL:!MD5", high, ""},
		{"DEFAULT", high, ""},
		{"ALL", strings.Replace(high, "ECDHE-RSA-AES128-SHA:", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-DES-CBC3-SHA:", 1) + ":DES-CBC3-SHA", ""},
		{"ECDHE+AESGCM", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", ""},
		{"EECDH+AESGCM:EDH+AESGCM", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", ""},
		{"kEECDH+aRSA+CHACHA20", "ECDHE-RSA-CHACHA20-POLY1305", ""},
		{"aECDSA+SHA256", "ECDHE-ECDSA-AES128-SHA256", ""},
		{"!ECDHE", "", `SSL_CTX_set_cipher_list("!ECDHE") failed (SSL: error:0A0000B9:SSL routines::no cipher match)`},
		{"RC4", "", `SSL_CTX_set_cipher_list("RC4") failed (SSL: error:0A0000B9:SSL routines::no cipher match)`},
		{"NOSUCH", "", `SSL_CTX_set_cipher_list("NOSUCH") failed (SSL: error:0A0000B9:SSL routines::no cipher match)`},
		{"ALL:!ECDHE:!3DES", "AES256-GCM-SHA384:AES128-GCM-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA", ""},
		{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", ""},
		{"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", ""},
		{"AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256", ""},
		{"AES128-SHA:AES256-SHA:@STRENGTH", "AES256-SHA:AES128-SHA", ""},
		{"NOSUCH:AES128-SHA foo,AES256-SHA;x", "AES128-SHA:AES256-SHA", ""},
		{"ECDHE-RSA-AES128-GCM-SHA256:-ALL:AES128-SHA", "AES128-SHA", ""},
		{"AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:-ALL:ECDHE+AESGCM", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256", ""},
		{"AESGCM:+kRSA:+AES128", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256", ""},
		{"!AES128:AESGCM", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:AES256-GCM-SHA384", ""},
		{"DEFAULT:!kRSA", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA", ""},
		{"HIGH:@SECLEVEL=2", high, ""},
		{"HIGH:@FOO", "", `SSL_CTX_set_cipher_list("HIGH:@FOO") failed (SSL: error:0A000118:SSL routines::invalid command)`},
		{"HIGH:*", "", `SSL_CTX_set_cipher_list("HIGH:*") failed (SSL: error:0A000118:SSL routines::invalid command)`},
		{"@", "", `SSL_CTX_set_cipher_list("@") failed (SSL: error:0A000118:SSL routines::invalid command)`},
		{"3DES", "ECDHE-RSA-DES-CBC3-SHA:DES-CBC3-SHA", ""},
		{"TLS_AES_128_GCM_SHA256", "", `SSL_CTX_set_cipher_list("TLS_AES_128_GCM_SHA256") failed (SSL: error:0A0000B9:SSL routines::no cipher match)`},
		{"", "", `SSL_CTX_set_cipher_list("") failed (SSL: error:0A0000B9:SSL routines::no cipher match)`},
	}
	for _, tt := range tests {
		cl, err := ParseCiphers(tt.in)
		if tt.err != "" {
			var ce *CipherError
			if !errors.As(err, &ce) || err.Error() != tt.err {
				t.Errorf("%q: err %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := strings.Join(cl.Names(), ":"); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestCipherWeak(t *testing.T) {
	for in, want := range map[string]int{"HIGH:!aNULL:!MD5": 1, "ECDHE+AESGCM": 0, "ALL": 2, "3DES:!kRSA": 1} {
		cl, err := ParseCiphers(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(cl.Weak()); got != want {
			t.Errorf("%q: %d weaknesses (%q), want %d", in, got, cl.Weak(), want)
		}
	}
}

func TestCipherName(t *testing.T) {
	for id, want := range map[uint16]string{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
		tls.TLS_AES_128_GCM_SHA256:                        "TLS_AES_128_GCM_SHA256",
		tls.TLS_CHACHA20_POLY1305_SHA256:                  "TLS_CHACHA20_POLY1305_SHA256",
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:                 "DES-CBC3-SHA",
		tls.TLS_RSA_WITH_RC4_128_SHA:                      "RC4-SHA",
		0x1234:                                            "",
	} {
		if got := CipherName(id); got != want {
			t.Errorf("CipherName(%#x) = %q, want %q", id, got, want)
		}
	}
	// Every suite crypto/tls implements has a name.
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if CipherName(s.ID) == "" {
			t.Errorf("no OpenSSL name for %s", s.Name)
		}
	}
}

func FuzzParseCiphers(f *testing.F) {
	for _, s := range []string{"HIGH:!aNULL:!MD5", "DEFAULT", "ECDHE+AESGCM", "!ECDHE", "RC4", "@STRENGTH", "-ALL:+AES:!3DES", "A+B+C:@SECLEVEL=9", ":::", "+", "DEFAULTX", "@", "!", "HIGH:@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cl, err := ParseCiphers(s)
		if err == nil && len(cl.IDs) == 0 {
			t.Fatalf("%q: no error but no suite", s)
		}
		if err == nil {
			seen := map[uint16]bool{}
			for _, id := range cl.IDs {
				if seen[id] || CipherName(id) == "" {
					t.Fatalf("%q: duplicate or unknown suite %#x", s, id)
				}
				seen[id] = true
			}
		}
	})
}

func BenchmarkParseCiphers(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCiphers("HIGH:!aNULL:!MD5"); err != nil {
			b.Fatal(err)
		}
	}
}
