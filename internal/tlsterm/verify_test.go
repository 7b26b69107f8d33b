package tlsterm

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"gatehouse/internal/testpki"
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

func TestVerifyChains(t *testing.T) {
	root := testpki.NewCA(t)
	int1 := root.Intermediate()
	int2 := int1.Intermediate()
	stranger := testpki.NewCA(t)
	notCA := root.Intermediate(testpki.NotCA())

	l0 := root.Leaf(testpki.WithCN("l0"))
	l1 := int1.Leaf(testpki.WithCN("l1"))
	l2 := int2.Leaf(testpki.WithCN("l2"))
	self := testpki.SelfSigned(t, testpki.WithCN("self"))
	foreign := stranger.Leaf(testpki.WithCN("foreign"))
	strangerInt := stranger.Intermediate()
	foreignViaInt := strangerInt.Leaf(testpki.WithCN("foreign2"))

	certs := func(cs ...*x509.Certificate) []*x509.Certificate { return cs }
	tests := []struct {
		name  string
		peer  []*x509.Certificate
		cas   []*x509.Certificate
		crls  []*x509.RevocationList
		depth int
		want  VerifyCode
	}{
		{"leaf from root, depth 0", certs(l0.Cert), certs(root.Cert), nil, 0, CodeOK},
		{"leaf from root, depth 1", certs(l0.Cert), certs(root.Cert), nil, 1, CodeOK},
		// Too long for the depth: OpenSSL reports 22, then (nginx's callback
		// accepting it) the untrusted-issuer error of the truncated chain,
		// which is the result nginx shows.
		{"one intermediate sent, depth 0", certs(l1.Cert, int1.Cert), certs(root.Cert), nil, 0, CodeUnableToGetIssuerLocally},
		{"one intermediate sent, depth 1", certs(l1.Cert, int1.Cert), certs(root.Cert), nil, 1, CodeOK},
		{"one intermediate in trusted file, depth 1", certs(l1.Cert), certs(root.Cert, int1.Cert), nil, 1, CodeOK},
		{"one intermediate in trusted file, depth 0", certs(l1.Cert), certs(root.Cert, int1.Cert), nil, 0, CodeUnableToGetIssuerCert},
		{"intermediate missing everywhere", certs(l1.Cert), certs(root.Cert), nil, 1, CodeUnableToVerifyLeafSig},
		{"two intermediates sent, depth 1", certs(l2.Cert, int2.Cert, int1.Cert), certs(root.Cert), nil, 1, CodeUnableToGetIssuerLocally},
		{"two intermediates and root sent, depth 0", certs(l2.Cert, int2.Cert, int1.Cert, root.Cert), certs(root.Cert), nil, 0, CodeUnableToGetIssuerLocally},
		{"too long with an untrusted root at the cut", certs(l1.Cert, int1.Cert, root.Cert), certs(stranger.Cert), nil, 1, CodeSelfSignedCertInChain},
		{"two intermediates sent, depth 2", certs(l2.Cert, int2.Cert, int1.Cert), certs(root.Cert), nil, 2, CodeOK},
		{"two intermediates, one sent one trusted, depth 2", certs(l2.Cert, int2.Cert), certs(root.Cert, int1.Cert), nil, 2, CodeOK},
		{"self-signed leaf", certs(self.Cert), certs(root.Cert), nil, 1, CodeDepthZeroSelfSignedCert},
		{"self-signed leaf that is itself trusted", certs(self.Cert), certs(self.Cert), nil, 1, CodeOK},
		{"leaf only from unknown CA", certs(foreign.Cert), certs(root.Cert), nil, 1, CodeUnableToVerifyLeafSig},
		{"leaf and intermediate from unknown CA", certs(foreignViaInt.Cert, strangerInt.Cert), certs(root.Cert), nil, 2, CodeUnableToGetIssuerLocally},
		{"unknown root sent along", certs(foreign.Cert, stranger.Cert), certs(root.Cert), nil, 1, CodeSelfSignedCertInChain},
		{"no CA configured (optional_no_ca)", certs(l0.Cert), nil, nil, 1, CodeUnableToVerifyLeafSig},
		// 24 from check_extensions, then 32 from internal_verify (its key
		// usage lacks keyCertSign); the later one is the result.
		{"intermediate without CA flag", certs(notCA.Leaf().Cert, notCA.Cert), certs(root.Cert), nil, 1, CodeKeyUsageNoCertSign},
		{"trusted intermediate but no root", certs(l1.Cert), certs(int1.Cert), nil, 1, CodeUnableToGetIssuerCert},
		{"server-only EKU", certs(root.Leaf(testpki.WithUsage(testpki.UsageServer)).Cert), certs(root.Cert), nil, 1, CodeInvalidPurpose},
		{"code-signing EKU", certs(root.Leaf(testpki.WithUsage(testpki.UsageCodeSigning)).Cert), certs(root.Cert), nil, 1, CodeInvalidPurpose},
		{"no EKU is any purpose", certs(root.Leaf(testpki.WithUsage(testpki.UsageNone)).Cert), certs(root.Cert), nil, 1, CodeOK},
		{"expired", certs(root.Leaf(testpki.Expired()).Cert), certs(root.Cert), nil, 1, CodeCertHasExpired},
		{"not yet valid", certs(root.Leaf(testpki.NotYetValid()).Cert), certs(root.Cert), nil, 1, CodeCertNotYetValid},
		// The verify callback accepts everything, so the last error wins:
		// expiry (checked last) hides the untrusted issuer.
		{"unknown CA and expired", certs(stranger.Leaf(testpki.Expired()).Cert), certs(root.Cert), nil, 1, CodeCertHasExpired},
		{"revoked", certs(l0.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL(l0.Cert))}, 1, CodeCertRevoked},
		{"CRL present, not revoked", certs(l0.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL())}, 1, CodeOK},
		{"CRL missing for an intermediate", certs(l1.Cert, int1.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL())}, 1, CodeUnableToGetCRL},
		{"CRLs for every CA", certs(l1.Cert, int1.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL()), parseCRL(t, int1.CRL())}, 1, CodeOK},
		// The root's CRL cannot be used for int1 when the chain was cut
		// below the root (its signer is not on the chain): error 3.
		{"CRL signer not on a truncated chain", certs(l2.Cert, int2.Cert, int1.Cert), certs(root.Cert),
			[]*x509.RevocationList{parseCRL(t, root.CRL()), parseCRL(t, int1.CRL())}, 1, CodeUnableToGetCRL},
		{"expired CRL", certs(l0.Cert), certs(root.Cert), []*x509.RevocationList{
			parseCRL(t, root.CRLAt(time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))),
		}, 1, CodeCRLHasExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTrustStore(tt.cas, tt.crls, tt.depth)
			if got := s.verify(tt.peer, time.Now()); got != tt.want {
				t.Errorf("verify = %d (%s), want %d (%s)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestVerifyCodeTexts(t *testing.T) {
	tests := []struct {
		code VerifyCode
		want string
	}{
		{CodeOK, "(0:ok)"},
		{CodeUnableToGetIssuerLocally, "(20:unable to get local issuer certificate)"},
		{CodeDepthZeroSelfSignedCert, "(18:self-signed certificate)"},
		{CodeSelfSignedCertInChain, "(19:self-signed certificate in certificate chain)"},
		{CodeCertHasExpired, "(10:certificate has expired)"},
		{CodeCertNotYetValid, "(9:certificate is not yet valid)"},
		{CodeUnableToVerifyLeafSig, "(21:unable to verify the first certificate)"},
		{CodeCertChainTooLong, "(22:certificate chain too long)"},
		{CodeCertRevoked, "(23:certificate revoked)"},
		{CodeInvalidPurpose, "(26:unsuitable certificate purpose)"},
		{CodeUnableToGetCRL, "(3:unable to get certificate CRL)"},
		{VerifyCode(999), "(999:unknown certificate verification error)"},
	}
	for _, tt := range tests {
		if got := string(tt.code.appendParen(nil)); got != tt.want {
			t.Errorf("%d: %q, want %q", tt.code, got, tt.want)
		}
	}
	tolerated := map[VerifyCode]bool{18: true, 19: true, 20: true, 21: true, 27: true}
	for c := VerifyCode(0); c < 80; c++ {
		if c.untrustedIssuer() != tolerated[c] {
			t.Errorf("untrustedIssuer(%d) = %v", c, c.untrustedIssuer())
		}
	}
}
