package server

import (
	"crypto/tls"
	"net"
	"testing"

	"gatehouse/internal/testpki"
)

// TestECDHCurveApplied: ssl_ecdh_curve decides the key exchange group of
// a handshake (crypto/tls orders the listed groups itself); "auto" leaves
// crypto/tls's default groups.
func TestECDHCurveApplied(t *testing.T) {
	dir := t.TempDir()
	cert, key := testpki.NewCA(t).Leaf(testpki.WithDNS("a.example")).Files()
	tests := []struct {
		curve string
		offer []tls.CurveID
		want  tls.CurveID
		fail  bool
	}{
		{"secp384r1", []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}, tls.CurveP384, false},
		{"P-521:X25519", []tls.CurveID{tls.CurveP256, tls.CurveP521}, tls.CurveP521, false},
		{"prime256v1", []tls.CurveID{tls.X25519}, 0, true},
		{"auto", []tls.CurveID{tls.X25519, tls.CurveP256}, tls.X25519, false},
	}
	for _, tt := range tests {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			rt, err := load(t, dir, "http {\n server {\n  listen 127.0.0.1:8443 ssl;\n  ssl_certificate "+cert+"; ssl_certificate_key "+key+";\n  ssl_ecdh_curve "+tt.curve+";\n }\n}\n")
			if err != nil {
				t.Fatal(err)
			}
			var l *tls.Config
			for _, sk := range rt.sockets {
				l = sk.tls.Config()
			}
			rt.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				if s, err := ln.Accept(); err == nil {
					_ = tls.Server(s, l).Handshake()
					s.Close()
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			cl := tls.Client(c, &tls.Config{InsecureSkipVerify: true, CurvePreferences: tt.offer, MaxVersion: v})
			err = cl.Handshake()
			c.Close()
			<-done
			ln.Close()
			if tt.fail {
				if err == nil {
					t.Errorf("%s, TLS %x: handshake offering %v succeeded", tt.curve, v, tt.offer)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s, TLS %x: %v", tt.curve, v, err)
			}
			if got := cl.ConnectionState().CurveID; got != tt.want {
				t.Errorf("%s, TLS %x: group %v, want %v", tt.curve, v, got, tt.want)
			}
		}
	}
}
