package tlsterm

import (
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestSerial(t *testing.T) {
	tests := []struct {
		n    *big.Int
		want string
	}{
		{big.NewInt(1), "01"},
		{big.NewInt(4096), "1000"},
		{big.NewInt(256), "0100"},
		{big.NewInt(0), "00"},
		{big.NewInt(-5), "-05"},
		{new(big.Int).SetBytes([]byte{0xde, 0xad, 0xbe, 0xef, 0x01}), "DEADBEEF01"},
	}
	for _, tt := range tests {
		if got := string(appendSerial(nil, &x509.Certificate{SerialNumber: tt.n})); got != tt.want {
			t.Errorf("serial %v = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCertificateTimes(t *testing.T) {
	if got := string(appendASN1Time(nil, time.Date(2025, 2, 3, 0, 55, 52, 0, time.UTC))); got != "Feb  3 00:55:52 2025 GMT" {
		t.Errorf("v_start = %q", got)
	}
	cet := time.FixedZone("CET", 3600)
	if got := string(appendASN1Time(nil, time.Date(2030, 12, 13, 1, 2, 3, 0, cet))); got != "Dec 13 00:02:03 2030 GMT" {
		t.Errorf("v_end = %q", got)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, tt := range []struct {
		end  int64
		want string
	}{
		{now - 10, "0"},
		{now + 86399, "0"},
		{now + 86400, "1"},
		{now + 10*86400 + 43200, "10"},
	} {
		if got := string(appendRemain(nil, tt.end, now)); got != tt.want {
			t.Errorf("v_remain(end-now=%d) = %q, want %q", tt.end-now, got, tt.want)
		}
	}
}

func TestPEMForms(t *testing.T) {
	der := make([]byte, 100)
	for i := range der {
		der[i] = byte(i * 7)
	}
	raw := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if !strings.HasPrefix(string(raw), "-----BEGIN CERTIFICATE-----\n") || !strings.HasSuffix(string(raw), "-----END CERTIFICATE-----\n") {
		t.Fatalf("unexpected PEM framing %q", raw)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	tab := string(appendTabbedPEM(nil, raw))
	if want := strings.Join(lines, " "); tab != want {
		t.Errorf("$ssl_client_cert = %q, want %q", tab, want)
	}
	esc := string(appendEscapedPEM(nil, []byte("-----BEGIN CERTIFICATE-----\nab+/=~._ \n")))
	if want := "-----BEGIN%20CERTIFICATE-----%0Aab%2B%2F%3D~._%20%0A"; esc != want {
		t.Errorf("$ssl_client_escaped_cert = %q, want %q", esc, want)
	}
}
