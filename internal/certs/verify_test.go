package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// TestVerifyDepth checks OpenSSL's depth counting: depth N allows N
// intermediates between the leaf and the trust anchor, whether the peer
// sends them or the trusted file holds them. With ExplainDepth a chain that
// is too long is reported as such, with the depth that would do.
func TestVerifyDepth(t *testing.T) {
	root := testpki.NewCA(t)
	i1 := root.Intermediate()
	i2 := i1.Intermediate()
	leaves := []*testpki.Leaf{root.Leaf(), i1.Leaf(), i2.Leaf()}
	now := time.Now()
	for nInter, leaf := range leaves {
		for _, where := range []string{"sent by peer", "in trusted file"} {
			for depth := 0; depth <= 4; depth++ {
				peer := leaf.Chain()
				cas := []*x509.Certificate{root.Cert}
				if where == "in trusted file" {
					cas = append(cas, peer[1:]...)
					peer = peer[:1]
				}
				r := NewTrust(cas, nil, false).Verify(peer, VerifyOptions{Depth: depth, Now: now, ExplainDepth: true})
				want := VerifyOK
				if nInter > depth {
					want = VerifyChainTooLong
				}
				if r.Code != want {
					t.Errorf("%d intermediates %s, depth %d: code %d (%s), want %d", nInter, where, depth, r.Code, r.Code, want)
				}
				if want == VerifyChainTooLong && r.NeedDepth != nInter {
					t.Errorf("%d intermediates %s, depth %d: NeedDepth %d", nInter, where, depth, r.NeedDepth)
				}
				if want == VerifyOK && (!r.Trusted || len(r.Chain) != nInter+2) {
					t.Errorf("%d intermediates %s, depth %d: chain of %d, trusted %v", nInter, where, depth, len(r.Chain), r.Trusted)
				}
			}
		}
	}
}

// TestVerifyAsNginx checks client-certificate verification as nginx
// reports it (SSL_get_verify_result with an accept-all callback): the
// expectations were taken from nginx with OpenSSL 3, and the same chains are
// compared with a running nginx in internal/tlsterm's differential test.
func TestVerifyAsNginx(t *testing.T) {
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

	selfNoSign, _ := issueCert(t, &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "self, no keyCertSign"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, nil, nil)
	certs := func(cs ...*x509.Certificate) []*x509.Certificate { return cs }
	tests := []struct {
		name  string
		peer  []*x509.Certificate
		cas   []*x509.Certificate
		crls  []*x509.RevocationList
		depth int
		want  VerifyCode
	}{
		{"leaf from root, depth 0", certs(l0.Cert), certs(root.Cert), nil, 0, VerifyOK},
		{"leaf from root, depth 1", certs(l0.Cert), certs(root.Cert), nil, 1, VerifyOK},
		// Too long for the depth: OpenSSL reports 22, then (nginx's callback
		// accepting it) the untrusted-issuer error of the truncated chain,
		// which is the result nginx shows.
		{"one intermediate sent, depth 0", certs(l1.Cert, int1.Cert), certs(root.Cert), nil, 0, VerifyUnableToGetIssuerLocal},
		{"one intermediate sent, depth 1", certs(l1.Cert, int1.Cert), certs(root.Cert), nil, 1, VerifyOK},
		{"one intermediate in trusted file, depth 1", certs(l1.Cert), certs(root.Cert, int1.Cert), nil, 1, VerifyOK},
		{"one intermediate in trusted file, depth 0", certs(l1.Cert), certs(root.Cert, int1.Cert), nil, 0, VerifyUnableToGetIssuer},
		{"intermediate missing everywhere", certs(l1.Cert), certs(root.Cert), nil, 1, VerifyUnableToVerifyLeaf},
		{"two intermediates sent, depth 1", certs(l2.Cert, int2.Cert, int1.Cert), certs(root.Cert), nil, 1, VerifyUnableToGetIssuerLocal},
		{"two intermediates and root sent, depth 0", certs(l2.Cert, int2.Cert, int1.Cert, root.Cert), certs(root.Cert), nil, 0, VerifyUnableToGetIssuerLocal},
		{"too long with an untrusted root at the cut", certs(l1.Cert, int1.Cert, root.Cert), certs(stranger.Cert), nil, 1, VerifySelfSignedInChain},
		{"two intermediates sent, depth 2", certs(l2.Cert, int2.Cert, int1.Cert), certs(root.Cert), nil, 2, VerifyOK},
		{"two intermediates, one sent one trusted, depth 2", certs(l2.Cert, int2.Cert), certs(root.Cert, int1.Cert), nil, 2, VerifyOK},
		{"self-signed leaf", certs(self.Cert), certs(root.Cert), nil, 1, VerifyDepthZeroSelfSigned},
		// OpenSSL 3's EXFLAG_SS ignores key usage.
		{"self-signed leaf without keyCertSign", certs(selfNoSign), certs(root.Cert), nil, 1, VerifyDepthZeroSelfSigned},
		{"self-signed leaf that is itself trusted", certs(self.Cert), certs(self.Cert), nil, 1, VerifyOK},
		{"leaf only from unknown CA", certs(foreign.Cert), certs(root.Cert), nil, 1, VerifyUnableToVerifyLeaf},
		{"leaf and intermediate from unknown CA", certs(foreignViaInt.Cert, strangerInt.Cert), certs(root.Cert), nil, 2, VerifyUnableToGetIssuerLocal},
		{"unknown root sent along", certs(foreign.Cert, stranger.Cert), certs(root.Cert), nil, 1, VerifySelfSignedInChain},
		{"no CA configured (optional_no_ca)", certs(l0.Cert), nil, nil, 1, VerifyUnableToVerifyLeaf},
		// 24 from check_extensions, then 32 from internal_verify (its key
		// usage lacks keyCertSign); the later one is the result.
		{"intermediate without CA flag", certs(notCA.Leaf().Cert, notCA.Cert), certs(root.Cert), nil, 1, VerifyKeyUsageNoCertSign},
		{"trusted intermediate but no root", certs(l1.Cert), certs(int1.Cert), nil, 1, VerifyUnableToGetIssuer},
		{"server-only EKU", certs(root.Leaf(testpki.WithUsage(testpki.UsageServer)).Cert), certs(root.Cert), nil, 1, VerifyInvalidPurpose},
		{"code-signing EKU", certs(root.Leaf(testpki.WithUsage(testpki.UsageCodeSigning)).Cert), certs(root.Cert), nil, 1, VerifyInvalidPurpose},
		{"no EKU is any purpose", certs(root.Leaf(testpki.WithUsage(testpki.UsageNone)).Cert), certs(root.Cert), nil, 1, VerifyOK},
		{"expired", certs(root.Leaf(testpki.Expired()).Cert), certs(root.Cert), nil, 1, VerifyExpired},
		{"not yet valid", certs(root.Leaf(testpki.NotYetValid()).Cert), certs(root.Cert), nil, 1, VerifyNotYetValid},
		// The verify callback accepts everything, so the last error wins:
		// expiry (checked last) hides the untrusted issuer.
		{"unknown CA and expired", certs(stranger.Leaf(testpki.Expired()).Cert), certs(root.Cert), nil, 1, VerifyExpired},
		{"revoked", certs(l0.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL(l0.Cert))}, 1, VerifyRevoked},
		{"CRL present, not revoked", certs(l0.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL())}, 1, VerifyOK},
		{"CRL missing for an intermediate", certs(l1.Cert, int1.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL())}, 1, VerifyUnableToGetCRL},
		{"CRLs for every CA", certs(l1.Cert, int1.Cert), certs(root.Cert), []*x509.RevocationList{parseCRL(t, root.CRL()), parseCRL(t, int1.CRL())}, 1, VerifyOK},
		// The root's CRL cannot be used for int1 when the chain was cut
		// below the root (its signer is not on the chain): error 3.
		{"CRL signer not on a truncated chain", certs(l2.Cert, int2.Cert, int1.Cert), certs(root.Cert),
			[]*x509.RevocationList{parseCRL(t, root.CRL()), parseCRL(t, int1.CRL())}, 1, VerifyUnableToGetCRL},
		{"expired CRL", certs(l0.Cert), certs(root.Cert), []*x509.RevocationList{
			parseCRL(t, root.CRLAt(time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))),
		}, 1, VerifyCRLExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewTrust(tt.cas, tt.crls, len(tt.crls) > 0).Verify(tt.peer, VerifyOptions{Depth: tt.depth, Purpose: PurposeClient, Now: time.Now()})
			if r.Code != tt.want {
				t.Errorf("verify = %d (%s), want %d (%s)", r.Code, r.Code, tt.want, tt.want)
			}
		})
	}
}

func parseCRL(t *testing.T, p []byte) *x509.RevocationList {
	t.Helper()
	l, err := ParseCRLs("crl", p)
	if err != nil || len(l) != 1 {
		t.Fatalf("CRL: %v", err)
	}
	return l[0]
}

// issueCert signs tmpl (valid for the hour around now unless it says
// otherwise) for a new P-256 key with parentKey, or self-signs it when
// parent is nil.
func issueCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey any) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestVerifyCodes(t *testing.T) {
	now := time.Now()
	root := testpki.NewCA(t)
	inter := root.Intermediate()
	other := testpki.NewCA(t)
	selfLeaf := testpki.SelfSigned(t, testpki.WithDNS("s.test"))
	expiredInter := root.Intermediate(testpki.Expired())
	badPurposeInter := root.Intermediate(testpki.WithUsage(testpki.UsageClient))
	pathLenRoot := testpki.NewCA(t, testpki.WithMaxPathLen(0))
	pathLenLeaf := pathLenRoot.Intermediate().Leaf()
	// A leaf whose signature does not verify.
	broken := inter.Leaf()
	der := append([]byte(nil), broken.Cert.Raw...)
	der[len(der)-3] ^= 0x55
	badSig, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		peer    []*x509.Certificate
		cas     []*x509.Certificate
		depth   int
		purpose Purpose
		want    VerifyCode
		atDepth int
	}{
		{"ok", inter.Leaf().Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyOK, 0},
		{"self-signed trusted directly", []*x509.Certificate{selfLeaf.Cert}, []*x509.Certificate{selfLeaf.Cert}, 0, PurposeServer, VerifyOK, 0},
		{"self-signed", []*x509.Certificate{selfLeaf.Cert}, []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyDepthZeroSelfSigned, 0},
		{"leaf only, unknown CA", []*x509.Certificate{other.Leaf().Cert}, []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyUnableToVerifyLeaf, 0},
		{"unknown CA with chain", other.Intermediate().Leaf().Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyUnableToGetIssuerLocal, 1},
		{"expired intermediate", expiredInter.Leaf().Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyExpired, 1},
		{"expired and untrusted: last error wins", []*x509.Certificate{testpki.SelfSigned(t, testpki.Expired()).Cert}, []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyExpired, 0},
		{"intermediate without serverAuth", badPurposeInter.Leaf().Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyInvalidPurpose, 1},
		{"client purpose ok", inter.Leaf(testpki.WithUsage(testpki.UsageClient)).Chain(), []*x509.Certificate{root.Cert}, 1, PurposeClient, VerifyOK, 0},
		{"server cert as client", inter.Leaf(testpki.WithUsage(testpki.UsageServer)).Chain(), []*x509.Certificate{root.Cert}, 1, PurposeClient, VerifyInvalidPurpose, 0},
		{"no EKU is any purpose", inter.Leaf(testpki.WithUsage(testpki.UsageNone)).Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyOK, 0},
		// 79 from check_extensions, then 26 from the purpose check of a CA
		// (check_ssl_ca): with nginx's accept-all callback the last stays.
		{"intermediate without extensions", root.Intermediate(testpki.NoExtensions()).Leaf().Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyInvalidPurpose, 1},
		// keyCertSign without basicConstraints passes the purpose check, so
		// 79 (invalid CA certificate) is the result.
		{"intermediate without basicConstraints", root.Intermediate(testpki.NoBasicConstraints()).Leaf().Chain(), []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyInvalidCA, 1},
		{"path length", pathLenLeaf.Chain(), []*x509.Certificate{pathLenRoot.Cert}, 4, PurposeServer, VerifyPathLengthExceeded, 2},
		{"bad signature", []*x509.Certificate{badSig, inter.Cert}, []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifySignatureFailure, 0},
		{"no certificate", nil, []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifyUnspecified, 0},
	}
	for _, tt := range tests {
		r := NewTrust(tt.cas, nil, false).Verify(tt.peer, VerifyOptions{Depth: tt.depth, Purpose: tt.purpose, Now: now})
		if r.Code != tt.want || (r.Code != VerifyOK && r.Depth != tt.atDepth) {
			t.Errorf("%s: code %d (%s) at depth %d, want %d at %d", tt.name, r.Code, r.Code, r.Depth, tt.want, tt.atDepth)
		}
	}
}

func TestVerifyCRL(t *testing.T) {
	now := time.Now()
	root := testpki.NewCA(t)
	inter := root.Intermediate()
	leaf := inter.Leaf()
	stale := inter.CRLAt(now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	parse := func(b ...[]byte) []*x509.RevocationList {
		var all []byte
		for _, x := range b {
			all = append(all, x...)
		}
		l, err := ParseCRLs("crl", all)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	tests := []struct {
		name string
		crls []*x509.RevocationList
		want VerifyCode
	}{
		{"complete", parse(root.CRL(), inter.CRL()), VerifyOK},
		{"leaf revoked", parse(root.CRL(), inter.CRL(leaf.Cert)), VerifyRevoked},
		{"intermediate revoked", parse(root.CRL(inter.Cert), inter.CRL()), VerifyRevoked},
		{"root has no CRL", parse(inter.CRL()), VerifyUnableToGetCRL},
		{"expired CRL", parse(root.CRL(), stale), VerifyCRLExpired},
		// A look-alike CA's CRL names the intermediate as its issuer, but its
		// authority key identifier matches no certificate of the chain: it
		// is not used at all (crl_akid_check), as nginx shows.
		{"CRL from a look-alike CA", parse(root.CRL(), testpki.NewCA(t, testpki.WithCN(inter.Cert.Subject.CommonName)).CRL()), VerifyUnableToGetCRL},
		{"CRL with a broken signature", append(parse(root.CRL()), brokenCRL(t, inter.CRL())), VerifyCRLSignatureFailure},
		{"leaf listed as removeFromCRL", append(parse(root.CRL()), crlWith(t, inter, x509.RevocationListEntry{SerialNumber: leaf.Cert.SerialNumber, RevocationTime: now, ReasonCode: 8})), VerifyOK},
		{"leaf listed as keyCompromise", append(parse(root.CRL()), crlWith(t, inter, x509.RevocationListEntry{SerialNumber: leaf.Cert.SerialNumber, RevocationTime: now, ReasonCode: 1})), VerifyRevoked},
	}
	for _, tt := range tests {
		r := NewTrust([]*x509.Certificate{root.Cert}, tt.crls, true).Verify(leaf.Chain(), VerifyOptions{Depth: 1, Now: now})
		if r.Code != tt.want {
			t.Errorf("%s: %d (%s), want %d", tt.name, r.Code, r.Code, tt.want)
		}
	}
}

// crlWith signs a CRL by ca listing entries.
func crlWith(t *testing.T, ca *testpki.CA, entries ...x509.RevocationListEntry) *x509.RevocationList {
	t.Helper()
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(2), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// brokenCRL parses a PEM CRL with the last byte of its signature flipped.
func brokenCRL(t *testing.T, p []byte) *x509.RevocationList {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block in CRL")
	}
	der := append([]byte(nil), b.Bytes...)
	der[len(der)-1] ^= 0x01
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestVerifyCodeText(t *testing.T) {
	for code, want := range map[VerifyCode]string{
		2: "(2:unable to get issuer certificate)", 3: "(3:unable to get certificate CRL)",
		7: "(7:certificate signature failure)", 9: "(9:certificate is not yet valid)",
		10: "(10:certificate has expired)", 18: "(18:self-signed certificate)",
		19: "(19:self-signed certificate in certificate chain)", 20: "(20:unable to get local issuer certificate)",
		21: "(21:unable to verify the first certificate)", 22: "(22:certificate chain too long)",
		23: "(23:certificate revoked)", 24: "(24:issuer certificate doesn't have a public key)",
		79: "(79:invalid CA certificate)",
		26: "(26:unsuitable certificate purpose)", 27: "(27:certificate not trusted)",
		0: "(0:ok)", 1: "(1:unspecified certificate verification error)",
		32: "(32:key usage does not include certificate signing)", 34: "(34:unhandled critical extension)",
		35: "(35:key usage does not include CRL signing)", 36: "(36:unhandled critical CRL extension)",
		999: "(999:error number 999)",
	} {
		if got := code.Paren(); got != want {
			t.Errorf("%d: %q, want %q", int(code), got, want)
		}
		if got := string(code.AppendParen([]byte("x"))); got != "x"+want {
			t.Errorf("%d: AppendParen %q, want x%q", int(code), got, want)
		}
	}
}

func ExampleVerifyCode_Paren() {
	fmt.Println(VerifyUnableToGetIssuerLocal.Paren())
	// Output: (20:unable to get local issuer certificate)
}

func BenchmarkTrustVerify(b *testing.B) {
	root := testpki.NewCA(b)
	leaf := root.Intermediate().Leaf(testpki.WithDNS("b1.test"))
	trust := NewTrust([]*x509.Certificate{root.Cert}, nil, false)
	chain := leaf.Chain()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if r := trust.Verify(chain, VerifyOptions{Depth: 1, Now: now}); !r.OK() {
			b.Fatal(r.Code)
		}
	}
}

// TestVerifyCRLSignBit: a CRL signed by a CA whose key usage lacks
// cRLSign is still checked, but the result is 35 (check_crl), and the
// upstream message says what to fix.
func TestVerifyCRLSignBit(t *testing.T) {
	now := time.Now()
	root := testpki.NewCA(t)
	inter, interKey := issueCert(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "no cRLSign"},
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign}, root.Cert, root.Key)
	leaf, _ := issueCert(t, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "leaf"},
		KeyUsage: x509.KeyUsageDigitalSignature}, inter, interKey)
	// crypto/x509 refuses to sign a CRL for such a CA: hand it a copy that
	// claims cRLSign; the name, key identifier and key are the real ones.
	claim := *inter
	claim.KeyUsage |= x509.KeyUsageCRLSign
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}, &claim, interKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	trust := NewTrust([]*x509.Certificate{root.Cert}, []*x509.RevocationList{parseCRL(t, root.CRL()), crl}, true)
	r := trust.Verify([]*x509.Certificate{leaf, inter}, VerifyOptions{Depth: 1, Now: now})
	if r.Code != VerifyKeyUsageNoCRLSign || r.Depth != 0 {
		t.Fatalf("code %d (%s) at depth %d, want 35 at 0", r.Code, r.Code, r.Depth)
	}
	if fix := verifyFix(&r, []*x509.Certificate{leaf, inter}); !strings.Contains(fix, `the CA "CN=no cRLSign" is not allowed to sign CRLs`) {
		t.Errorf("fix = %q", fix)
	}
}
