package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

// sendAlways makes a client present cert whatever CA list the server
// advertises (crypto/tls would otherwise hold back a certificate from an
// issuer the server did not name).
func sendAlways(cert *tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}
}

func TestClientCertificateModes(t *testing.T) {
	root := testpki.NewCA(t)
	other := testpki.NewCA(t)
	serverCert := root.Leaf(testpki.WithDNS("mtls.test")).TLSCertificate()
	valid := root.Leaf(testpki.WithCN("client"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate()
	unknown := other.Leaf(testpki.WithCN("stranger")).LeafOnlyTLSCertificate()
	expired := root.Leaf(testpki.WithCN("old"), testpki.Expired()).TLSCertificate()

	clients := []struct {
		name string
		cert *tls.Certificate
	}{
		{"no cert", nil},
		{"valid", &valid},
		{"unknown CA", &unknown},
		{"expired", &expired},
	}
	type want struct {
		verdict Verdict
		verify  string
		reason  string
	}
	const unknownCA = "FAILED:unable to verify the first certificate"
	table := map[VerifyMode][4]want{
		// With verification off no certificate is requested at all.
		VerifyOff: {
			{Proceed, "NONE", ""}, {Proceed, "NONE", ""}, {Proceed, "NONE", ""}, {Proceed, "NONE", ""},
		},
		VerifyOn: {
			{NoCert, "NONE", "client sent no required SSL certificate"},
			{Proceed, "SUCCESS", ""},
			{CertError, unknownCA, "client SSL certificate verify error: (21:unable to verify the first certificate)"},
			{CertError, "FAILED:certificate has expired", "client SSL certificate verify error: (10:certificate has expired)"},
		},
		VerifyOptional: {
			{Proceed, "NONE", ""},
			{Proceed, "SUCCESS", ""},
			{CertError, unknownCA, "client SSL certificate verify error: (21:unable to verify the first certificate)"},
			{CertError, "FAILED:certificate has expired", "client SSL certificate verify error: (10:certificate has expired)"},
		},
		VerifyOptionalNoCA: {
			{Proceed, "NONE", ""},
			{Proceed, "SUCCESS", ""},
			{Proceed, unknownCA, ""},
			{CertError, "FAILED:certificate has expired", "client SSL certificate verify error: (10:certificate has expired)"},
		},
	}
	for _, mode := range []VerifyMode{VerifyOff, VerifyOn, VerifyOptional, VerifyOptionalNoCA} {
		l, err := New(Options{
			Servers: []Server{{
				Certificates: []tls.Certificate{serverCert},
				VerifyClient: mode,
				VerifyDepth:  1,
				ClientCAs:    []*x509.Certificate{root.Cert},
			}},
			LookupSNI: nameTable(map[string]int{"mtls.test": 0}),
		})
		if err != nil {
			t.Fatal(err)
		}
		for ci, c := range clients {
			t.Run(mode.String()+"/"+c.name, func(t *testing.T) {
				cfg := clientConfig(root.Pool(), "mtls.test")
				cfg.GetClientCertificate = sendAlways(c.cert)
				r := handshake(t, l, cfg)
				if r.clientErr != nil || r.serverErr != nil {
					t.Fatalf("handshake must succeed: client %v, server %v", r.clientErr, r.serverErr)
				}
				w := table[mode][ci]
				v := r.info.Check([]byte("mtls.test"), 0)
				if v != w.verdict {
					t.Errorf("verdict = %v (%d), want %v", v, v.Status(), w.verdict)
				}
				if got := varString(t, r.info, variables.SSLClientVerify); got != w.verify {
					t.Errorf("$ssl_client_verify = %q, want %q", got, w.verify)
				}
				if got := string(r.info.AppendReason(nil, v)); got != w.reason {
					t.Errorf("reason = %q, want %q", got, w.reason)
				}
			})
		}
	}
}

func TestAdvertisedCAListIsClientCertificateOnly(t *testing.T) {
	root := testpki.NewCA(t)
	trustedOnly := testpki.NewCA(t)
	serverCert := root.Leaf(testpki.WithDNS("mtls.test")).TLSCertificate()
	l, err := New(Options{Servers: []Server{{
		Certificates: []tls.Certificate{serverCert},
		VerifyClient: VerifyOn,
		VerifyDepth:  1,
		ClientCAs:    []*x509.Certificate{root.Cert},
		TrustedCAs:   []*x509.Certificate{trustedOnly.Cert},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var advertised [][]byte
	client := trustedOnly.Leaf(testpki.WithCN("via-trusted")).TLSCertificate()
	cfg := clientConfig(root.Pool(), "mtls.test")
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		advertised = cri.AcceptableCAs
		return &client, nil
	}
	r := handshake(t, l, cfg)
	if r.clientErr != nil || r.serverErr != nil {
		t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
	}
	if len(advertised) != 1 || string(advertised[0]) != string(root.Cert.RawSubject) {
		t.Errorf("advertised CAs = %d names, want only ssl_client_certificate's", len(advertised))
	}
	// ssl_trusted_certificate still verifies.
	if got := varString(t, r.info, variables.SSLClientVerify); got != "SUCCESS" {
		t.Errorf("$ssl_client_verify = %q, want SUCCESS via ssl_trusted_certificate", got)
	}
}

func TestMisdirectedRequest(t *testing.T) {
	root := testpki.NewCA(t)
	cert := func(n string) tls.Certificate { return root.Leaf(testpki.WithDNS(n)).TLSCertificate() }
	// 0: default, verify off; 1: secure.test, verify on; 2: plain.test, off.
	l, err := New(Options{
		Servers: []Server{
			{Certificates: []tls.Certificate{cert("default.test")}},
			{Certificates: []tls.Certificate{cert("secure.test")}, VerifyClient: VerifyOn, VerifyDepth: 1, ClientCAs: []*x509.Certificate{root.Cert}},
			{Certificates: []tls.Certificate{cert("plain.test")}},
		},
		LookupSNI: nameTable(map[string]int{"default.test": 0, "secure.test": 1, "*.sec.test": 1, "plain.test": 2}),
	})
	if err != nil {
		t.Fatal(err)
	}
	clientCert := root.Leaf(testpki.WithCN("client")).TLSCertificate()
	tests := []struct {
		name    string
		sni     string
		host    string
		server  int // what the router picks for host
		want    Verdict
		wantLog string
	}{
		{"SNI plain, Host of verifying server", "plain.test", "secure.test", 1, Misdirected,
			"client attempted to request the server name different from the one that was negotiated"},
		{"SNI plain, unknown Host falls to default (verify off)", "plain.test", "other.test", 0, Proceed, ""},
		{"SNI secure, Host of non-verifying server wins silently", "secure.test", "plain.test", 2, Proceed, ""},
		{"same name", "secure.test", "secure.test", 1, Proceed, ""},
		// nginx compares names, not servers: another name of the same
		// verifying server is still misdirected.
		{"same server, other name", "a.sec.test", "b.sec.test", 1, Misdirected,
			"client attempted to request the server name different from the one that was negotiated"},
		{"SNI case differs from Host", "SECURE.test", "secure.test", 1, Proceed, ""},
		{"no Host header", "plain.test", "", 2, Proceed, ""},
		{"no SNI: no 421, verifying server got no certificate", "", "secure.test", 1, NoCert,
			"client sent no required SSL certificate"},
		{"unknown SNI: no 421", "nobody.test", "secure.test", 1, NoCert, "client sent no required SSL certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true}
			cfg.GetClientCertificate = sendAlways(&clientCert)
			r := handshake(t, l, cfg)
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
			}
			got := r.info.Check([]byte(tt.host), tt.server)
			if got != tt.want {
				t.Errorf("Check = %v (status %d), want %v", got, got.Status(), tt.want)
			}
			if log := string(r.info.AppendReason(nil, got)); log != tt.wantLog {
				t.Errorf("reason = %q, want %q", log, tt.wantLog)
			}
		})
	}
}

func TestVerdictStatus(t *testing.T) {
	for v, want := range map[Verdict]int{Proceed: 0, Misdirected: 421, CertError: 495, NoCert: 496} {
		if got := v.Status(); got != want {
			t.Errorf("%d.Status() = %d, want %d", v, got, want)
		}
	}
}

func TestVerificationUsesHandshakeTime(t *testing.T) {
	root := testpki.NewCA(t)
	serverCert := root.Leaf(testpki.WithDNS("mtls.test")).TLSCertificate()
	clientCert := root.Leaf(testpki.WithCN("client")).TLSCertificate()
	clock := newFakeClock()
	l, err := New(Options{
		Servers: []Server{{Certificates: []tls.Certificate{serverCert}, VerifyClient: VerifyOn, VerifyDepth: 1,
			ClientCAs: []*x509.Certificate{root.Cert}}},
		Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientConfig(root.Pool(), "mtls.test")
	cfg.GetClientCertificate = sendAlways(&clientCert)
	r := handshake(t, l, cfg)
	if r.clientErr != nil || r.serverErr != nil {
		t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
	}
	// The certificate expires while the connection is open, before its
	// first request: nginx verified it during the handshake, so do we.
	clock.Advance(72 * time.Hour)
	if v := r.info.Check([]byte("mtls.test"), 0); v != Proceed {
		t.Errorf("Check = %v, want proceed", v)
	}
	if got := varString(t, r.info, variables.SSLClientVerify); got != "SUCCESS" {
		t.Errorf("$ssl_client_verify = %q, want SUCCESS", got)
	}
	if got := varString(t, r.info, variables.SSLClientVRemain); got != "0" {
		t.Errorf("$ssl_client_v_remain = %q, want 0 after expiry", got)
	}
}
