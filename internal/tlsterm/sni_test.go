package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

func TestSNISelection(t *testing.T) {
	root := testpki.NewCA(t)
	certA := root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()
	certB := root.Leaf(testpki.WithDNS("b.test", "x.wild.test")).TLSCertificate()
	// Servers: 0 default (a.test), 1 b.test + *.wild.test, 2 nocert.test
	// (no certificate of its own), 3 reject.test (ssl_reject_handshake).
	servers := []Server{
		{Certificates: []tls.Certificate{certA}},
		{Certificates: []tls.Certificate{certB}},
		{},
		{RejectHandshake: true},
	}
	names := map[string]int{"a.test": 0, "b.test": 1, "*.wild.test": 1, "nocert.test": 2, "reject.test": 3}
	l, err := New(Options{Servers: servers, Default: 0, LookupSNI: nameTable(names)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		sni        string
		wantLeafDN string // CN of the certificate the client saw
		wantIdx    int
		wantMatch  bool
		wantReject bool
	}{
		{"exact default", "a.test", "a.test", 0, true, false},
		{"exact other", "b.test", "b.test", 1, true, false},
		{"uppercase SNI is normalised", "B.TEST", "b.test", 1, true, false},
		{"wildcard", "x.wild.test", "b.test", 1, true, false},
		{"no SNI", "", "a.test", 0, false, false},
		{"unknown SNI", "unknown.test", "a.test", 0, false, false},
		{"invalid SNI is treated as none", "b..test", "a.test", 0, false, false},
		{"server without certificate uses default's", "nocert.test", "a.test", 2, true, false},
		{"reject handshake", "reject.test", "", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{InsecureSkipVerify: true, ServerName: tt.sni}
			r := handshake(t, l, cfg)
			if tt.wantReject {
				if r.clientErr == nil || !strings.Contains(r.clientErr.Error(), "unrecognized name") {
					t.Fatalf("client error = %v, want unrecognized_name alert", r.clientErr)
				}
				if !errors.Is(r.serverErr, ErrHandshakeRejected) {
					t.Fatalf("server error = %v, want ErrHandshakeRejected", r.serverErr)
				}
				return
			}
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
			}
			if got := r.client.PeerCertificates[0].Subject.CommonName; got != tt.wantLeafDN {
				t.Errorf("certificate CN = %q, want %q", got, tt.wantLeafDN)
			}
			idx, matched := r.info.SNIServer()
			if idx != tt.wantIdx || matched != tt.wantMatch {
				t.Errorf("SNIServer = %d,%v, want %d,%v", idx, matched, tt.wantIdx, tt.wantMatch)
			}
			if got := varString(t, r.info, variables.SSLServerName); got != tt.sni {
				t.Errorf("$ssl_server_name = %q, want %q", got, tt.sni)
			}
		})
	}
}

func TestRejectingDefaultServerWithoutSNI(t *testing.T) {
	root := testpki.NewCA(t)
	cert := root.Leaf(testpki.WithDNS("ok.test")).TLSCertificate()
	l, err := New(Options{
		Servers:   []Server{{RejectHandshake: true}, {Certificates: []tls.Certificate{cert}}},
		LookupSNI: nameTable(map[string]int{"ok.test": 1}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := handshake(t, l, &tls.Config{InsecureSkipVerify: true}); r.clientErr == nil || !errors.Is(r.serverErr, ErrHandshakeRejected) {
		t.Fatalf("no SNI: client %v, server %v; want rejection", r.clientErr, r.serverErr)
	}
	if r := handshake(t, l, clientConfig(root.Pool(), "ok.test")); r.clientErr != nil || r.serverErr != nil {
		t.Fatalf("ok.test: client %v, server %v", r.clientErr, r.serverErr)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNoServers) {
		t.Errorf("no servers: %v", err)
	}
	if _, err := New(Options{Servers: []Server{{}}}); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("default without certificate: %v", err)
	}
	if _, err := New(Options{Servers: []Server{{}}, Default: 3}); !errors.Is(err, ErrDefaultServer) {
		t.Errorf("default out of range: %v", err)
	}
}

func TestECDSAPreferredOverRSA(t *testing.T) {
	root := testpki.NewCA(t)
	rsaCert := root.Leaf(testpki.WithDNS("dual.test"), testpki.WithKey(testpki.RSA2048)).TLSCertificate()
	ecCert := root.Leaf(testpki.WithDNS("dual.test")).TLSCertificate()
	// RSA listed first in the configuration; ECDSA must still win when the
	// client supports it.
	l, err := New(Options{Servers: []Server{{Certificates: []tls.Certificate{rsaCert, ecCert}}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    *tls.Config
		wantPK x509.PublicKeyAlgorithm
	}{
		{"modern client gets ECDSA", &tls.Config{RootCAs: root.Pool(), ServerName: "dual.test"}, x509.ECDSA},
		{"RSA-only TLS 1.2 client gets RSA", &tls.Config{
			RootCAs: root.Pool(), ServerName: "dual.test", MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		}, x509.RSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := handshake(t, l, tt.cfg)
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
			}
			if got := r.client.PeerCertificates[0].PublicKeyAlgorithm; got != tt.wantPK {
				t.Errorf("server certificate key = %v, want %v", got, tt.wantPK)
			}
		})
	}
}

func TestConfigUsedWithoutServerWrapper(t *testing.T) {
	root := testpki.NewCA(t)
	certA := root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()
	certB := root.Leaf(testpki.WithDNS("b.test")).TLSCertificate()
	l, err := New(Options{
		Servers:   []Server{{Certificates: []tls.Certificate{certA}}, {Certificates: []tls.Certificate{certB}}},
		LookupSNI: nameTable(map[string]int{"a.test": 0, "b.test": 1}),
	})
	if err != nil {
		t.Fatal(err)
	}
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	done := make(chan *Info, 1)
	go func() {
		c := tls.Server(server, l.Config())
		if err := c.Handshake(); err != nil {
			done <- nil
			return
		}
		done <- l.Info(c)
	}()
	c := tls.Client(client, clientConfig(root.Pool(), "B.test"))
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	info := <-done
	if info == nil {
		t.Fatal("server handshake failed")
	}
	if idx, ok := info.SNIServer(); idx != 1 || !ok {
		t.Errorf("SNIServer = %d,%v, want 1,true", idx, ok)
	}
	if v := info.Check([]byte("b.test"), 1); v != Proceed {
		t.Errorf("Check = %v", v)
	}
	// The ClientHello details are only recorded through Listener.Server.
	if got := varString(t, info, variables.SSLCiphers); got != "" {
		t.Errorf("$ssl_ciphers = %q, want empty without the wrapper", got)
	}
}

func TestProtocolsComeFromDefaultServer(t *testing.T) {
	root := testpki.NewCA(t)
	certA := root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()
	certB := root.Leaf(testpki.WithDNS("b.test")).TLSCertificate()
	// The default server allows TLS 1.3 only; b.test would allow 1.2, but
	// as in nginx 1.28 the socket's protocols are the default server's.
	l, err := New(Options{
		Servers: []Server{
			{Certificates: []tls.Certificate{certA}, MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13},
			{Certificates: []tls.Certificate{certB}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13},
		},
		LookupSNI: nameTable(map[string]int{"a.test": 0, "b.test": 1}),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientConfig(root.Pool(), "b.test")
	cfg.MaxVersion = tls.VersionTLS12
	if r := handshake(t, l, cfg); r.clientErr == nil {
		t.Fatal("TLS 1.2 handshake to b.test succeeded; the default server allows TLS 1.3 only")
	}
	cfg = clientConfig(root.Pool(), "b.test")
	if r := handshake(t, l, cfg); r.clientErr != nil || r.client.Version != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3 to b.test: %v, version %x", r.clientErr, r.client.Version)
	}
}
