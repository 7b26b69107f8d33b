package certs

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gatehouse/internal/testpki"
)

// encryptPKCS8 writes key as "openssl pkcs8 -topk8 -v2 aes-256-cbc
// -v2prf hmacWithSHA256" does, in pure Go.
func encryptPKCS8(t *testing.T, plainPEM []byte, password string) []byte {
	t.Helper()
	block, _ := pem.Decode(plainPEM)
	salt, iv := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(iv)
	key, err := pbkdf2.Key(sha256.New, password, salt, 2048, 32)
	if err != nil {
		t.Fatal(err)
	}
	n := 16 - len(block.Bytes)%16
	data := append(bytes.Clone(block.Bytes), bytes.Repeat([]byte{byte(n)}, n)...)
	b, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(data, data)
	mustDER := func(v any) []byte {
		d, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	kdf := mustDER(pbkdf2Params{Salt: salt, Iterations: 2048, PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACSHA256, Parameters: asn1.NullRawValue}})
	params := mustDER(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Scheme: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: mustDER(iv)}},
	})
	der := mustDER(encryptedPrivateKeyInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, Data: data})
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// encryptLegacy writes an EC key in the Proc-Type PEM form of "openssl ec
// -aes256".
func encryptLegacy(t *testing.T, l *testpki.Leaf, password string) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(l.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	// The deprecated legacy form is what is tested.
	b, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(password), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(b)
}

// opensslKey encrypts plainPEM with the openssl command line, or skips.
func opensslKey(t *testing.T, plainPEM []byte, password string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed: the OpenSSL-encrypted key cases are not run")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "plain.key")
	out := filepath.Join(dir, "enc.key")
	if err := os.WriteFile(in, plainPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, "-in", in, "-out", out, "-passout", "pass:"+password)
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEncryptedKeys(t *testing.T) {
	ca := testpki.NewCA(t)
	rsaLeaf := ca.Leaf(testpki.WithKey(testpki.RSA2048))
	ecLeaf := ca.Leaf(testpki.WithKey(testpki.ECDSAP256))
	const right = "s3cret pass"
	// The right password is second, after a wrong one, an empty line and
	// CRLF line ends: all are tried in order.
	pwFile := []byte("wrong\r\n\n" + right + "\r\n")
	const wrong = "wrong\n"
	tests := []struct {
		name    string
		leaf    *testpki.Leaf
		key     func(t *testing.T, l *testpki.Leaf) []byte
		badText string // the SSL error queue after a wrong password
	}{
		{"PKCS#8 PBES2 Go", rsaLeaf, func(t *testing.T, l *testpki.Leaf) []byte { return encryptPKCS8(t, l.KeyPEM(), right) }, pkcs8BadDecrypt(false)},
		{"legacy PEM Go", ecLeaf, func(t *testing.T, l *testpki.Leaf) []byte { return encryptLegacy(t, l, right) }, sslLegacyBadCrypt},
		{"openssl pkcs8 -v2 aes-256-cbc", rsaLeaf, func(t *testing.T, l *testpki.Leaf) []byte {
			return opensslKey(t, l.KeyPEM(), right, "pkcs8", "-topk8", "-v2", "aes-256-cbc")
		}, pkcs8BadDecrypt(false)},
		{"openssl pkcs8 -v2 des3 sha512", ecLeaf, func(t *testing.T, l *testpki.Leaf) []byte {
			return opensslKey(t, l.KeyPEM(), right, "pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA512")
		}, pkcs8BadDecrypt(false)},
		{"openssl rsa -aes256 -traditional", rsaLeaf, func(t *testing.T, l *testpki.Leaf) []byte {
			return opensslKey(t, l.KeyPEM(), right, "rsa", "-aes256", "-traditional")
		}, sslLegacyBadCrypt},
		{"openssl ec -aes256", ecLeaf, func(t *testing.T, l *testpki.Leaf) []byte {
			return opensslKey(t, l.KeyPEM(), right, "ec", "-aes256")
		}, sslLegacyBadCrypt},
		{"openssl rsa -aes128", rsaLeaf, func(t *testing.T, l *testpki.Leaf) []byte {
			return opensslKey(t, l.KeyPEM(), right, "rsa", "-aes128")
		}, pkcs8BadDecrypt(false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyPEM := tt.key(t, tt.leaf)
			dir := t.TempDir()
			write := func(name string, data []byte) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			certFile := write("c.crt", tt.leaf.ChainPEM())
			keyFile := write("k.key", keyPEM)
			s := NewStore(nil)
			pair, err := s.KeyPairPasswords(certFile, keyFile, write("pw", pwFile))
			if err != nil {
				t.Fatalf("right password second: %v", err)
			}
			if pair.Leaf != tt.leaf.Cert && !pair.Leaf.Equal(tt.leaf.Cert) {
				t.Fatal("wrong certificate")
			}

			_, err = s.KeyPairPasswords(certFile, keyFile, write("bad", []byte(wrong)))
			want := `cannot load certificate key "` + keyFile + `": PEM_read_bio_PrivateKey() failed (SSL: ` + tt.badText + `)`
			if err == nil || err.Error() != want || !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password:\n got %v\nwant %s", err, want)
			}
			_, err = s.KeyPair(certFile, keyFile)
			want = `cannot load certificate key "` + keyFile + `": PEM_read_bio_PrivateKey() failed (SSL: error:0480006D:PEM routines::problems getting password)`
			if err == nil || err.Error() != want || !errors.Is(err, ErrNoPassword) {
				t.Errorf("no password file:\n got %v\nwant %s", err, want)
			}
		})
	}
}
