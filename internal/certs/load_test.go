package certs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := testpki.NewCA(t)
	leaf := ca.Leaf(testpki.WithDNS("a.test"))
	otherKey := ca.Leaf().KeyPEM()
	certFile, keyFile := leaf.Files()
	missing := filepath.Join(dir, "x.crt")
	garbage := write("garbage.crt", "hello\n")
	keyOnly := write("key-only.pem", string(leaf.KeyPEM()))
	combined := write("combined.pem", string(leaf.KeyPEM())+string(leaf.ChainPEM()))
	wrongKey := write("wrong.key", string(otherKey))
	badDER := write("bad.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

	s := NewStore(nil)
	tests := []struct {
		name string
		run  func() error
		kind LoadKind
		msg  string
		is   error
	}{
		{"missing certificate", func() error { _, err := s.KeyPair(missing, keyFile); return err }, LoadCertificate,
			`cannot load certificate "` + missing + `": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(` + missing + `, r) error:10000080:BIO routines::no such file)`, fs.ErrNotExist},
		{"unparsable certificate", func() error { _, err := s.KeyPair(garbage, keyFile); return err }, LoadCertificate,
			`cannot load certificate "` + garbage + `": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)`, nil},
		{"key file as certificate", func() error { _, err := s.KeyPair(keyOnly, keyFile); return err }, LoadCertificate,
			`cannot load certificate "` + keyOnly + `": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)`, nil},
		{"bad DER", func() error { _, err := s.Certificates(badDER); return err }, LoadCertificate,
			`cannot load certificate "` + badDER + `": PEM_read_bio_X509_AUX() failed (SSL: error:0488000D:PEM routines::ASN1 lib)`, nil},
		{"missing key", func() error { _, err := s.KeyPair(certFile, missing); return err }, LoadKey,
			`cannot load certificate key "` + missing + `": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(` + missing + `, r) error:10000080:BIO routines::no such file)`, fs.ErrNotExist},
		{"unparsable key", func() error { _, err := s.KeyPair(certFile, certFile); return err }, LoadKey,
			`cannot load certificate key "` + certFile + `": PEM_read_bio_PrivateKey() failed (SSL: error:1E08010C:DECODER routines::unsupported:No supported data to decode.  Input type: PEM)`, nil},
		{"key mismatch", func() error { _, err := s.KeyPair(certFile, wrongKey); return err }, LoadKeyMismatch,
			`SSL_CTX_use_PrivateKey("` + wrongKey + `") failed (SSL: error:05800074:x509 certificate routines::key values mismatch)`, nil},
		{"missing CA bundle", func() error { _, err := s.CAs(missing); return err }, LoadCA,
			`cannot load certificate "` + missing + `": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(` + missing + `, r) error:10000080:BIO routines::no such file)`, fs.ErrNotExist},
		{"unparsable CA bundle", func() error { _, err := s.Trust(garbage, ""); return err }, LoadCA,
			`cannot load certificate "` + garbage + `": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)`, nil},
		{"unparsable CRL", func() error { _, err := s.CRLs(garbage); return err }, LoadCRL,
			`X509_LOOKUP_load_file("` + garbage + `") failed (SSL: error:05800088:x509 certificate routines::no certificate or crl found)`, nil},
		{"empty CRL", func() error { _, err := s.CRLs(write("empty.crl", "")); return err }, LoadCRL,
			`X509_LOOKUP_load_file("` + filepath.Join(dir, "empty.crl") + `") failed (SSL: error:05800088:x509 certificate routines::no certificate or crl found)`, nil},
		{"missing CRL", func() error { _, err := s.CRLs(missing); return err }, LoadCRL,
			`X509_LOOKUP_load_file("` + missing + `") failed (SSL: error:80000002:system library::No such file or directory:calling fopen(` + missing + `, r) error:10000080:BIO routines::no such file error:05880002:x509 certificate routines::system lib)`, fs.ErrNotExist},
		{"unreadable", func() error {
			p := write("unreadable.crt", "x")
			_ = os.Chmod(p, 0)
			if os.Geteuid() == 0 {
				return &LoadError{Kind: LoadCA, Msg: `cannot load certificate "` + p + `": BIO_new_file() failed (SSL: error:8000000D:system library::Permission denied:calling fopen(` + p + `, r) error:10080002:BIO routines::system lib)`}
			}
			_, err := s.CAs(p)
			return err
		}, LoadCA, `cannot load certificate "` + filepath.Join(dir, "unreadable.crt") + `": BIO_new_file() failed (SSL: error:8000000D:system library::Permission denied:calling fopen(` + filepath.Join(dir, "unreadable.crt") + `, r) error:10080002:BIO routines::system lib)`, nil},
		{"directory", func() error { _, err := s.CAs(dir); return err }, LoadCA,
			`cannot load certificate "` + dir + `": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)`, nil},
	}
	for _, tt := range tests {
		err := tt.run()
		var le *LoadError
		if !errors.As(err, &le) {
			t.Errorf("%s: %v is not a *LoadError", tt.name, err)
			continue
		}
		if le.Kind != tt.kind || le.Error() != tt.msg {
			t.Errorf("%s:\n got %d %s\nwant %d %s", tt.name, le.Kind, le.Error(), tt.kind, tt.msg)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: errors.Is(%v) false", tt.name, tt.is)
		}
	}

	// A key and its chain in one file, in either order.
	pair, err := s.KeyPair(combined, combined)
	if err != nil || len(pair.Certificate) != 1 || pair.Leaf == nil {
		t.Fatalf("combined file: %v", err)
	}
	// Intermediates follow the leaf.
	il := ca.Intermediate().Leaf()
	c2, k2 := il.Files()
	pair, err = s.KeyPair(c2, k2)
	if err != nil || len(pair.Certificate) != 2 {
		t.Fatalf("chain file: %v", err)
	}
}

func TestStoreReadsOnce(t *testing.T) {
	ca := testpki.NewCA(t)
	leaf := ca.Leaf()
	certFile, keyFile := leaf.Files()
	caFile := ca.CertFile()
	reads := map[string]int{}
	s := NewStore(func(p string) ([]byte, error) {
		reads[p]++
		return os.ReadFile(p)
	})
	for i := 0; i < 3; i++ {
		if _, err := s.KeyPair(certFile, keyFile); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Trust(caFile, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CAs("/nonexistent"); err == nil {
			t.Fatal("no error")
		}
	}
	for p, n := range reads {
		if n != 1 {
			t.Errorf("%s read %d times", p, n)
		}
	}
	a, _ := s.KeyPair(certFile, keyFile)
	b, _ := s.KeyPair(certFile, keyFile)
	if a != b {
		t.Error("same pair loaded twice")
	}
	// A new Store (a reload) reads again.
	s2 := NewStore(func(p string) ([]byte, error) { reads[p]++; return os.ReadFile(p) })
	if _, err := s2.KeyPair(certFile, keyFile); err != nil || reads[certFile] != 2 {
		t.Errorf("reload did not re-read: %v %d", err, reads[certFile])
	}
}

func TestFormatDN(t *testing.T) {
	ca := testpki.NewCA(t, testpki.WithCN("Root, \"Quoted\""), testpki.WithOrg("Ex+ample"))
	got := RawDN(ca.Cert.RawSubject)
	want := `CN=Root\, \"Quoted\",O=Ex\+ample`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !strings.HasPrefix(DescribePeer(ca.Leaf(testpki.WithDNS("a.test"), testpki.WithIP("10.0.0.1")).Chain()).String(),
		`peer presented subject "CN=a.test", SANs "DNS:a.test, IP:10.0.0.1", issuer "CN=Root\, \"Quoted\",O=Ex\+ample", valid `) {
		t.Error(DescribePeer(ca.Leaf(testpki.WithDNS("a.test")).Chain()).String())
	}
}

func FuzzParsePEM(f *testing.F) {
	ca := testpki.NewCA(f)
	f.Add(ca.CertPEM())
	f.Add(ca.Leaf().KeyPEM())
	f.Add(ca.CRL())
	f.Add([]byte("-----BEGIN TRUSTED CERTIFICATE-----\nMAA=\n-----END TRUSTED CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseCertificates("f", b)
		_, _ = ParseCAs("f", b)
		_, _ = ParseKey("f", b)
		_, _ = ParseCRLs("f", b)
	})
}
