package tlsterm

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"gatehouse/internal/certs"
)

func parseCRL(t *testing.T, p []byte) *x509.RevocationList {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block in CRL")
	}
	l, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestUntrustedIssuer checks the codes "ssl_verify_client optional_no_ca"
// tolerates (ngx_ssl_verify_error_optional) and nothing else.
func TestUntrustedIssuer(t *testing.T) {
	tolerated := map[certs.VerifyCode]bool{18: true, 19: true, 20: true, 21: true, 27: true}
	for c := certs.VerifyCode(0); c < 80; c++ {
		if untrustedIssuer(c) != tolerated[c] {
			t.Errorf("untrustedIssuer(%d) = %v", c, untrustedIssuer(c))
		}
	}
}
