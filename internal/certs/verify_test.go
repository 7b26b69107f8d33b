package certs

import (
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// TestVerifyDepth checks OpenSSL's depth counting: depth N allows N
// intermediates between the leaf and the trust anchor, whether the peer
// sends them or the trusted file holds them.
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
				r := NewTrust(cas, nil, false).Verify(peer, VerifyOptions{Depth: depth, Now: now})
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
		{"path length", pathLenLeaf.Chain(), []*x509.Certificate{pathLenRoot.Cert}, 4, PurposeServer, VerifyPathLengthExceeded, 2},
		{"bad signature", []*x509.Certificate{badSig, inter.Cert}, []*x509.Certificate{root.Cert}, 1, PurposeServer, VerifySignatureFailure, 0},
		{"no certificate", nil, []*x509.Certificate{root.Cert}, 1, PurposeServer, verifyUnspecified, 0},
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
		{"CRL signed by someone else", parse(root.CRL(), testpki.NewCA(t, testpki.WithCN(inter.Cert.Subject.CommonName)).CRL()), VerifyCRLSignatureFailure},
	}
	for _, tt := range tests {
		r := NewTrust([]*x509.Certificate{root.Cert}, tt.crls, true).Verify(leaf.Chain(), VerifyOptions{Depth: 1, Now: now})
		if r.Code != tt.want {
			t.Errorf("%s: %d (%s), want %d", tt.name, r.Code, r.Code, tt.want)
		}
	}
}

func TestVerifyCodeText(t *testing.T) {
	for code, want := range map[VerifyCode]string{
		2: "(2:unable to get issuer certificate)", 3: "(3:unable to get certificate CRL)",
		7: "(7:certificate signature failure)", 9: "(9:certificate is not yet valid)",
		10: "(10:certificate has expired)", 18: "(18:self-signed certificate)",
		19: "(19:self-signed certificate in certificate chain)", 20: "(20:unable to get local issuer certificate)",
		21: "(21:unable to verify the first certificate)", 22: "(22:certificate chain too long)",
		23: "(23:certificate revoked)", 24: "(24:invalid CA certificate)",
		26: "(26:unsuitable certificate purpose)", 27: "(27:certificate not trusted)",
		999: "(999:error number 999)",
	} {
		if got := code.Paren(); got != want {
			t.Errorf("%d: %q, want %q", int(code), got, want)
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
