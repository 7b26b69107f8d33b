package certs

import (
	"bytes"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

func TestParsePasswords(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		err      bool
	}{
		{"empty file is one empty password", "", []string{""}, false},
		{"blank lines only", "\n\r\n\n", []string{""}, false},
		{"order kept, CR dropped, blanks skipped", "one\r\n\ntwo\nthree", []string{"one", "two", "three"}, false},
		{"inner spaces kept", " a b \n", []string{" a b "}, false},
		{"4095 bytes fit", strings.Repeat("x", 4095) + "\n", []string{strings.Repeat("x", 4095)}, false},
		{"4096 bytes do not", strings.Repeat("x", 4096), nil, true},
		{"CR counts before it is dropped", strings.Repeat("x", 4095) + "\r\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePasswords("/p", []byte(tt.in))
			if tt.err {
				if err == nil || err.Error() != `too long line in "/p"` || !errors.Is(err, ErrPasswordLine) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, string(p))
			}
			if strings.Join(s, "|") != strings.Join(tt.want, "|") || len(s) != len(tt.want) {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
}

func TestParseTicketKey(t *testing.T) {
	a48, b48 := bytes.Repeat([]byte{1}, 48), bytes.Repeat([]byte{2}, 48)
	k1, err := ParseTicketKey("/k", a48)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := ParseTicketKey("/k", b48)
	k3, err := ParseTicketKey("/k", bytes.Repeat([]byte{1}, 80))
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k2 || k1 == k3 || k1 == (TicketKey{}) {
		t.Error("different files must give different keys")
	}
	if again, _ := ParseTicketKey("/other", a48); again != k1 {
		t.Error("the key depends on the content only")
	}
	for _, n := range []int{0, 32, 47, 49, 79, 81} {
		_, err := ParseTicketKey("/k", make([]byte, n))
		if err == nil || err.Error() != `"/k" must be 48 or 80 bytes` || !errors.Is(err, ErrTicketKeySize) {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
	s := NewStore(nil)
	missing := t.TempDir() + "/nope"
	if _, err := s.TicketKey(missing); err == nil || err.Error() != `open() "`+missing+`" failed (2: No such file or directory)` {
		t.Errorf("missing file: %v", err)
	}
	if _, err := s.Passwords(missing); err == nil || err.Error() != `open() "`+missing+`" failed (2: No such file or directory)` {
		t.Errorf("missing password file: %v", err)
	}
}

// TestUnsupportedKeyEncryption: a PBES2 key with a cipher gatehouse does
// not implement is refused with a sentence saying so, not as a wrong
// password.
func TestUnsupportedKeyEncryption(t *testing.T) {
	leaf := testpki.NewCA(t).Leaf()
	enc := encryptPKCS8(t, leaf.KeyPEM(), "pw")
	block, _ := pem.Decode(enc)
	// Replace the AES-256-CBC OID's last arc (42) by 46 (aes256-GCM).
	i := bytes.Index(block.Bytes, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a})
	if i < 0 {
		t.Fatal("OID not found")
	}
	block.Bytes[i+8] = 0x2e
	_, err := ParseKeyPasswords("/k", pem.EncodeToMemory(block), [][]byte{[]byte("pw")})
	if err == nil || !errors.Is(err, ErrKeyEncryption) || !strings.Contains(err.Error(), "2.16.840.1.101.3.4.1.46") {
		t.Errorf("err = %v", err)
	}
}

// FuzzParseKeyPasswords: no key file input panics, and a failure is
// always a *LoadError.
func FuzzParseKeyPasswords(f *testing.F) {
	leaf := testpki.NewCA(f).Leaf()
	f.Add(leaf.KeyPEM(), []byte("pw"))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte(""))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nMAA=\n-----END RSA PRIVATE KEY-----\n"), []byte("x"))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		_, err := ParseKeyPasswords("/k", data, [][]byte{pw})
		var le *LoadError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %T %v is not a *LoadError", err, err)
		}
	})
}
