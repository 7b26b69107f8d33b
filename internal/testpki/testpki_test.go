package testpki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"
)

func TestChainVerifies(t *testing.T) {
	root := NewCA(t)
	int1 := root.Intermediate()
	int2 := int1.Intermediate()
	leaf := int2.Leaf(WithDNS("a.test"), WithIP("127.0.0.1"))
	if got := len(leaf.Chain()); got != 3 {
		t.Fatalf("chain length %d, want 3", got)
	}
	inter := x509.NewCertPool()
	for _, c := range leaf.Chain()[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: inter, DNSName: "a.test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(chains[0]) != 4 {
		t.Fatalf("verified chain length %d, want 4", len(chains[0]))
	}
	if leaf.Cert.Subject.CommonName != "a.test" {
		t.Errorf("CN %q", leaf.Cert.Subject.CommonName)
	}
	if int2.Root() != root {
		t.Error("Root() wrong")
	}
	if root.Cert.Subject.CommonName == NewCA(t).Cert.Subject.CommonName {
		t.Error("two roots share a CN")
	}
}

func TestOptions(t *testing.T) {
	root := NewCA(t)
	now := time.Now()
	tests := []struct {
		name  string
		leaf  *Leaf
		check func(c *x509.Certificate) bool
	}{
		{"expired", root.Leaf(Expired()), func(c *x509.Certificate) bool { return c.NotAfter.Before(now) }},
		{"not yet valid", root.Leaf(NotYetValid()), func(c *x509.Certificate) bool { return c.NotBefore.After(now) }},
		{"serial", root.Leaf(WithSerial(42)), func(c *x509.Certificate) bool { return c.SerialNumber.Int64() == 42 }},
		{"client usage", root.Leaf(WithUsage(UsageClient)), func(c *x509.Certificate) bool {
			return len(c.ExtKeyUsage) == 1 && c.ExtKeyUsage[0] == x509.ExtKeyUsageClientAuth
		}},
		{"no usage", root.Leaf(WithUsage(UsageNone)), func(c *x509.Certificate) bool { return len(c.ExtKeyUsage) == 0 }},
		{"cn", root.Leaf(WithCN("x"), WithDNS("y")), func(c *x509.Certificate) bool { return c.Subject.CommonName == "x" }},
		{"self-signed", SelfSigned(t, WithDNS("s.test")), func(c *x509.Certificate) bool {
			return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil && !c.IsCA && bytes.Equal(c.RawIssuer, c.RawSubject)
		}},
	}
	for _, tt := range tests {
		if !tt.check(tt.leaf.Cert) {
			t.Errorf("%s: option not applied", tt.name)
		}
	}
}

func TestFilesLoad(t *testing.T) {
	leaf := NewCA(t).Intermediate().Leaf(WithDNS("f.test"))
	certFile, keyFile := leaf.Files()
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 {
		t.Fatalf("file holds %d certificates, want 2", len(c.Certificate))
	}
	b, err := os.ReadFile(leaf.Issuer.Root().CertFile())
	if err != nil || len(b) == 0 {
		t.Fatalf("CertFile: %v", err)
	}
}

func TestCRL(t *testing.T) {
	ca := NewCA(t)
	leaf := ca.Leaf()
	b := ca.CRL(leaf.Cert)
	p, _ := pemDecode(b)
	crl, err := x509.ParseRevocationList(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatal(err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 {
		t.Fatal("revoked entry missing")
	}
}

func TestRSA(t *testing.T) {
	leaf := NewCA(t).Leaf(WithKey(RSA2048))
	if leaf.Cert.PublicKeyAlgorithm != x509.RSA {
		t.Fatal("not RSA")
	}
}

func pemDecode(b []byte) ([]byte, bool) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, false
	}
	return blk.Bytes, true
}
