package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

func TestUpstreamVerifyFailures(t *testing.T) {
	root := testpki.NewCA(t, testpki.WithCN("Root A"))
	inter := root.Intermediate(testpki.WithCN("Int A"))
	inter2 := inter.Intermediate(testpki.WithCN("Int A2"))
	other := testpki.NewCA(t, testpki.WithCN("Other Root"))
	otherInt := other.Intermediate(testpki.WithCN("Other Int"))
	notCA := root.Intermediate(testpki.WithCN("Not A CA"), testpki.NotCA())

	good := inter.Leaf(testpki.WithDNS("b1.test"))
	rootOnly := testpki.BundleFile(t, root)

	tests := []struct {
		name    string
		cert    tls.Certificate
		opts    UpstreamOptions
		kind    FailureKind
		code    VerifyCode
		message string
		detail  []string // substrings of Detail()
	}{
		{
			name:    "ok",
			cert:    good.TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			message: "",
		},
		{
			name:    "self-signed",
			cert:    testpki.SelfSigned(t, testpki.WithDNS("b1.test")).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    18,
			message: "upstream SSL certificate verify error: (18:self-signed certificate)",
			detail:  []string{`peer presented subject "CN=b1.test", SANs "DNS:b1.test", issuer "CN=b1.test", valid `, "chain length 1; fix: add its CA to proxy_ssl_trusted_certificate"},
		},
		{
			name:    "unknown CA, leaf only",
			cert:    other.Leaf(testpki.WithDNS("b1.test")).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    21,
			message: "upstream SSL certificate verify error: (21:unable to verify the first certificate)",
			detail:  []string{`issuer "CN=Other Root"`, `fix: add the issuing CA "CN=Other Root" to proxy_ssl_trusted_certificate, or make the upstream send its intermediate certificates`},
		},
		{
			name:    "unknown CA, intermediate sent",
			cert:    otherInt.Leaf(testpki.WithDNS("b1.test")).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    20,
			message: "upstream SSL certificate verify error: (20:unable to get local issuer certificate)",
			detail:  []string{"chain length 2", `fix: add the issuing CA "CN=Other Root" to proxy_ssl_trusted_certificate`},
		},
		{
			name:    "intermediate not sent, only root trusted",
			cert:    good.LeafOnlyTLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    21,
			message: "upstream SSL certificate verify error: (21:unable to verify the first certificate)",
			detail:  []string{`add the issuing CA "CN=Int A"`},
		},
		{
			name: "self-signed root sent in chain",
			cert: func() tls.Certificate {
				c := otherInt.Leaf(testpki.WithDNS("b1.test")).TLSCertificate()
				c.Certificate = append(c.Certificate, other.Cert.Raw)
				return c
			}(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 2, Name: "b1.test"},
			kind:    FailVerify,
			code:    19,
			message: "upstream SSL certificate verify error: (19:self-signed certificate in certificate chain)",
			detail:  []string{`add the root CA "CN=Other Root"`},
		},
		{
			name:    "only intermediate trusted",
			cert:    good.LeafOnlyTLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: testpki.BundleFile(t, inter), VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    2,
			message: "upstream SSL certificate verify error: (2:unable to get issuer certificate)",
			detail:  []string{`holds "CN=Int A" but not its issuer "CN=Root A"`},
		},
		{
			name:    "name mismatch",
			cert:    good.TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b2.test"},
			kind:    FailName,
			message: `upstream SSL certificate does not match "b2.test"`,
			detail:  []string{`SANs "DNS:b1.test"`, "fix: set proxy_ssl_name to one of the names above (b1.test)"},
		},
		{
			name:    "name with port is stripped",
			cert:    good.TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test:8443"},
			message: "",
		},
		{
			name:    "expired",
			cert:    inter.Leaf(testpki.WithDNS("b1.test"), testpki.Expired()).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    10,
			message: "upstream SSL certificate verify error: (10:certificate has expired)",
			detail:  []string{`certificate "CN=b1.test" expired `, "renew it on the upstream"},
		},
		{
			name:    "not yet valid",
			cert:    inter.Leaf(testpki.WithDNS("b1.test"), testpki.NotYetValid()).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    9,
			message: "upstream SSL certificate verify error: (9:certificate is not yet valid)",
			detail:  []string{`certificate "CN=b1.test" is not valid before`},
		},
		{
			name:    "chain longer than depth",
			cert:    inter2.Leaf(testpki.WithDNS("b1.test")).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    22,
			message: "upstream SSL certificate verify error: (22:certificate chain too long)",
			detail:  []string{"chain length 3", "fix: raise proxy_ssl_verify_depth to 2"},
		},
		{
			name:    "wrong key usage",
			cert:    inter.Leaf(testpki.WithDNS("b1.test"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    26,
			message: "upstream SSL certificate verify error: (26:unsuitable certificate purpose)",
			detail:  []string{"lacks serverAuth"},
		},
		{
			name:    "intermediate is not a CA",
			cert:    notCA.Leaf(testpki.WithDNS("b1.test")).TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test"},
			kind:    FailVerify,
			code:    32,
			message: "upstream SSL certificate verify error: (32:key usage does not include certificate signing)",
		},
		{
			name:    "revoked",
			cert:    good.TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test", CRL: testpki.WriteFile(t, "crl-*.pem", append(root.CRL(), inter.CRL(good.Cert)...))},
			kind:    FailVerify,
			code:    23,
			message: "upstream SSL certificate verify error: (23:certificate revoked)",
			detail:  []string{"is revoked by proxy_ssl_crl"},
		},
		{
			name:    "CRL missing for the root",
			cert:    good.TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test", CRL: inter.CRLFile()},
			kind:    FailVerify,
			code:    3,
			message: "upstream SSL certificate verify error: (3:unable to get certificate CRL)",
			detail:  []string{`no CRL from "CN=Root A"`},
		},
		{
			name:    "CRLs complete, nothing revoked",
			cert:    good.TLSCertificate(),
			opts:    UpstreamOptions{TrustedCertificate: rootOnly, VerifyDepth: 1, Name: "b1.test", CRL: testpki.WriteFile(t, "crl-*.pem", append(root.CRL(), inter.CRL()...))},
			message: "",
		},
	}
	var golden strings.Builder
	defer func() { checkGolden(t, "verify_errors.golden", golden.String()) }()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{tt.cert}})
			tt.opts.Verify = true
			u := newUpstream(t, tt.opts)
			_, err := dial(t, u, b)
			if tt.message == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ue *UpstreamError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not an *UpstreamError", err)
			}
			fmt.Fprintf(&golden, "%s:\n\t%s\n\t%s\n", tt.name, ue.Message(), ue.Detail())
			if !errors.Is(err, ErrVerify) || errors.Is(err, ErrHandshake) || errors.Is(err, ErrTimeout) {
				t.Errorf("classification wrong for %v", err)
			}
			if ue.Kind != tt.kind || ue.Code != tt.code {
				t.Errorf("kind %d code %d, want %d %d", ue.Kind, ue.Code, tt.kind, tt.code)
			}
			if got := ue.Message(); got != tt.message {
				t.Errorf("Message()\n got %q\nwant %q", got, tt.message)
			}
			for _, d := range tt.detail {
				if !strings.Contains(ue.Detail(), d) {
					t.Errorf("Detail() %q\nlacks %q", ue.Detail(), d)
				}
			}
			if !strings.Contains(ue.Detail(), "fix: ") {
				t.Errorf("Detail() %q names no fix", ue.Detail())
			}
		})
	}
}

func TestUpstreamVerifyOffAcceptsAnything(t *testing.T) {
	b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{testpki.SelfSigned(t, testpki.Expired()).TLSCertificate()}})
	u := newUpstream(t, UpstreamOptions{Name: "whatever"})
	if _, err := dial(t, u, b); err != nil {
		t.Fatal(err)
	}
}

func TestUpstreamHandshakeFailures(t *testing.T) {
	root := testpki.NewCA(t)
	clientCA := testpki.NewCA(t)
	strangerCA := testpki.NewCA(t)
	server := root.Leaf(testpki.WithDNS("b1.test"))
	client := clientCA.Leaf(testpki.WithCN("proxy"), testpki.WithUsage(testpki.UsageClient))
	stranger := strangerCA.Leaf(testpki.WithCN("proxy"), testpki.WithUsage(testpki.UsageClient))
	base := UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, Name: "b1.test"}
	mtls := func(max uint16) *tls.Config {
		return &tls.Config{
			Certificates: []tls.Certificate{server.TLSCertificate()},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    clientCA.Pool(),
			MaxVersion:   max,
		}
	}
	sc, sk := stranger.Files()
	cc, ck := client.Files()
	withCert := func(o UpstreamOptions, c, k string) UpstreamOptions {
		o.Certificate, o.CertificateKey = c, k
		return o
	}
	withProto := func(o UpstreamOptions, p ProtocolSet, ciphers string) UpstreamOptions {
		o.Protocols, o.Ciphers = p, ciphers
		return o
	}
	tests := []struct {
		name    string
		server  *tls.Config
		opts    UpstreamOptions
		kind    FailureKind
		message string
		fix     string
	}{
		{"client cert accepted", mtls(0), withCert(base, cc, ck), 0, "", ""},
		{"client cert rejected, TLS 1.2", mtls(tls.VersionTLS12), withCert(base, sc, sk), FailClientCert,
			"SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48)",
			"check proxy_ssl_certificate: the upstream rejected it"},
		{"client cert rejected, TLS 1.3", mtls(0), withCert(base, sc, sk), FailClientCert,
			"SSL_read() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48)",
			"check proxy_ssl_certificate: the upstream rejected it"},
		{"client cert missing, TLS 1.3", mtls(0), base, FailClientCert,
			"SSL_read() failed (SSL: error:0A00045C:SSL routines::tlsv13 alert certificate required:SSL alert number 116)",
			"set proxy_ssl_certificate and proxy_ssl_certificate_key"},
		{"no common protocol",
			&tls.Config{Certificates: []tls.Certificate{server.TLSCertificate()}, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10},
			base, FailProtocol,
			"SSL_do_handshake() failed (SSL: error:0A00042E:SSL routines::tlsv1 alert protocol version:SSL alert number 70)",
			"proxy_ssl_protocols/proxy_ssl_ciphers have nothing in common with the upstream"},
		{"no common cipher",
			&tls.Config{Certificates: []tls.Certificate{server.TLSCertificate()}, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}},
			withProto(base, TLSv1_2|TLSv1_3, "ECDHE-ECDSA-AES128-GCM-SHA256"), FailProtocol,
			"SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure:SSL alert number 40)",
			"proxy_ssl_protocols/proxy_ssl_ciphers have nothing in common with the upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBackend(t, tt.server)
			u := newUpstream(t, tt.opts)
			_, err := dial(t, u, b)
			if tt.message == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r := <-b.results; r.err != nil || len(r.state.PeerCertificates) == 0 {
					t.Fatalf("backend saw %v, %d certificates", r.err, len(r.state.PeerCertificates))
				}
				return
			}
			var ue *UpstreamError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not an *UpstreamError", err)
			}
			if !errors.Is(err, ErrHandshake) || errors.Is(err, ErrVerify) {
				t.Errorf("classification wrong for %v", err)
			}
			if ue.Kind != tt.kind {
				t.Errorf("kind %d, want %d", ue.Kind, tt.kind)
			}
			if ue.Message() != tt.message {
				t.Errorf("Message()\n got %q\nwant %q", ue.Message(), tt.message)
			}
			if !strings.Contains(ue.Detail(), tt.fix) {
				t.Errorf("Detail() %q lacks %q", ue.Detail(), tt.fix)
			}
		})
	}
}

func TestUpstreamHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // never answers
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := newUpstream(t, UpstreamOptions{Name: "b1.test"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = u.Handshake(ctx, c, ln.Addr().String())
	if s := <-accepted; s != nil {
		s.Close()
	}
	var ue *UpstreamError
	if !errors.As(err, &ue) || !errors.Is(err, ErrTimeout) || errors.Is(err, ErrHandshake) || !ue.Timeout() {
		t.Fatalf("got %v", err)
	}
	if ue.Message() != "upstream timed out (110: Connection timed out)" {
		t.Errorf("Message() = %q", ue.Message())
	}
}

func TestUpstreamSNI(t *testing.T) {
	root := testpki.NewCA(t)
	leaf := root.Leaf(testpki.WithDNS("b1.test"), testpki.WithIP("127.0.0.1"))
	tests := []struct {
		name    string
		sni     bool
		rules   NameRules
		want    string
		wantErr bool
	}{
		{"b1.test", false, NginxNames, "", false},
		{"b1.test", true, NginxNames, "b1.test", false},
		{"127.0.0.1", true, SecureNames, "", false},
		{"127.0.0.1", true, NginxNames, "", true}, // IP SANs are not consulted by nginx
		{"b1.test:443", true, SecureNames, "b1.test", false},
	}
	for _, tt := range tests {
		b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
		u := newUpstream(t, UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, Name: tt.name, ServerName: tt.sni, Rules: tt.rules})
		_, err := dial(t, u, b)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s sni=%v: err %v", tt.name, tt.sni, err)
		}
		r := <-b.results
		if r.err == nil && r.state.ServerName != tt.want {
			t.Errorf("%s sni=%v: server saw SNI %q, want %q", tt.name, tt.sni, r.state.ServerName, tt.want)
		}
		if r.err == nil && r.state.NegotiatedProtocol != "" {
			t.Errorf("ALPN %q negotiated; none must be offered", r.state.NegotiatedProtocol)
		}
	}
}

func TestUpstreamSessionReuse(t *testing.T) {
	root := testpki.NewCA(t)
	leaf := root.Leaf(testpki.WithDNS("b1.test"))
	for _, max := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		// Two backends sharing one server config (and so one ticket key): a
		// session from one would be accepted by the other if offered.
		scfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, MaxVersion: max}
		b1 := startBackend(t, scfg)
		b2 := startBackend(t, scfg)
		opts := UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, Name: "b1.test", ServerName: true, SessionReuse: true}
		u := newUpstream(t, opts)
		steps := []struct {
			u      *Upstream
			b      *backend
			resume bool
		}{
			{u, b1, false},
			{u, b1, true},
			{u, b2, false}, // another peer of the same context
			{u, b2, true},
			{u, b1, true},
			{newUpstream(t, opts), b1, false}, // another context
		}
		for i, s := range steps {
			st, err := dial(t, s.u, s.b)
			if err != nil {
				t.Fatalf("TLS %x step %d: %v", max, i, err)
			}
			<-s.b.results
			if st.DidResume != s.resume {
				t.Errorf("TLS %x step %d: DidResume %v, want %v", max, i, st.DidResume, s.resume)
			}
		}
		if n := u.cache.len(); n != 2 {
			t.Errorf("cache holds %d sessions, want 2 (one per peer)", n)
		}
		off := opts
		off.SessionReuse = false
		uo := newUpstream(t, off)
		for i := 0; i < 2; i++ {
			st, err := dial(t, uo, b1)
			if err != nil {
				t.Fatal(err)
			}
			<-b1.results
			if st.DidResume {
				t.Errorf("TLS %x: resumed with proxy_ssl_session_reuse off", max)
			}
		}
	}
}

func TestUpstreamConfigNotClonedPerRequest(t *testing.T) {
	u := newUpstream(t, UpstreamOptions{Name: "b1.test", SessionReuse: true})
	a := u.Config("10.0.0.1:443", "b1.test")
	if u.Config("10.0.0.1:443", "b1.test") != a {
		t.Error("same peer got a new *tls.Config")
	}
	if u.Config("10.0.0.2:443", "b1.test") == a {
		t.Error("two peers share a *tls.Config (and so a session slot)")
	}
	if len(a.NextProtos) != 0 || !a.InsecureSkipVerify {
		t.Errorf("NextProtos %v InsecureSkipVerify %v", a.NextProtos, a.InsecureSkipVerify)
	}
	if u.Config("", "b1.test").ClientSessionCache != nil {
		t.Error("a peer resolved per request must not reuse sessions")
	}
}

func TestUpstreamLoadErrors(t *testing.T) {
	_, err := NewUpstream(UpstreamOptions{Verify: true, TrustedCertificate: "/nonexistent/ca.crt"}, nil)
	var le *LoadError
	if !errors.As(err, &le) || le.Kind != LoadCA {
		t.Fatalf("got %v", err)
	}
	_, err = NewUpstream(UpstreamOptions{Ciphers: "RC4"}, nil)
	var ce *CipherError
	if !errors.As(err, &ce) || ce.Error() != `SSL_CTX_set_cipher_list("RC4") failed (SSL: error:0A0000B9:SSL routines::no cipher match)` {
		t.Fatalf("got %v", err)
	}
	u, err := NewUpstream(UpstreamOptions{Protocols: TLSv1 | TLSv1_2 | SSLv3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SSLv3 is not supported and is ignored", "only a contiguous range of protocols is supported, so TLSv1.1 is enabled too"}
	if got := u.Warnings(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Warnings() = %q", got)
	}
}

// TestUpstreamVerifiesResumedSessions shows that verification runs on an
// abbreviated handshake too: a session resumed after the certificate
// expired (by the injected clock) is refused.
func TestUpstreamVerifiesResumedSessions(t *testing.T) {
	root := testpki.NewCA(t)
	leaf := root.Leaf(testpki.WithDNS("b1.test"))
	b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
	now := time.Now()
	u := newUpstream(t, UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, Name: "b1.test", SessionReuse: true,
		Now: func() time.Time { return now }})
	if _, err := dial(t, u, b); err != nil {
		t.Fatal(err)
	}
	<-b.results
	if st, err := dial(t, u, b); err != nil || !st.DidResume {
		t.Fatalf("second handshake: resumed %v, %v", st.DidResume, err)
	}
	<-b.results
	if n := len(u.verified); n != 1 {
		t.Errorf("%d verified chains remembered, want 1 (the resumed session's)", n)
	}
	now = leaf.Cert.NotAfter.Add(time.Minute)
	_, err := dial(t, u, b)
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Code != VerifyExpired {
		t.Fatalf("resumed handshake after expiry: %v", err)
	}
}

// TestUpstreamSystemRoots covers secure defaults without
// proxy_ssl_trusted_certificate: the system trust store, which knows none
// of the test CAs.
func TestUpstreamSystemRoots(t *testing.T) {
	ca := testpki.NewCA(t)
	tests := []struct {
		cert tls.Certificate
		code VerifyCode
	}{
		{testpki.SelfSigned(t, testpki.WithDNS("b1.test")).TLSCertificate(), VerifyDepthZeroSelfSigned},
		{ca.Leaf(testpki.WithDNS("b1.test")).TLSCertificate(), VerifyUnableToVerifyLeaf},
		{ca.Intermediate().Leaf(testpki.WithDNS("b1.test")).TLSCertificate(), VerifyUnableToGetIssuerLocal},
	}
	for i, tt := range tests {
		b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{tt.cert}})
		u := newUpstream(t, UpstreamOptions{Verify: true, VerifyDepth: 4, Name: "b1.test", ServerName: true, Rules: SecureNames})
		_, err := dial(t, u, b)
		var ue *UpstreamError
		if !errors.As(err, &ue) || ue.Code != tt.code {
			t.Errorf("case %d: %v, want code %d", i, err, tt.code)
		}
	}
}

func BenchmarkUpstreamConfig(b *testing.B) {
	u, err := NewUpstream(UpstreamOptions{Name: "b1.test", SessionReuse: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	u.Config("10.0.0.1:443", "b1.test")
	b.ReportAllocs()
	for b.Loop() {
		u.Config("10.0.0.1:443", "b1.test")
	}
}

// TestUpstreamClientCertAlwaysSent: like OpenSSL, the configured client
// certificate is presented even when the upstream's acceptable-CA list
// does not name its issuer (crypto/tls alone would send nothing).
func TestUpstreamClientCertAlwaysSent(t *testing.T) {
	root := testpki.NewCA(t)
	client := testpki.NewCA(t).Leaf(testpki.WithCN("proxy"))
	b := startBackend(t, &tls.Config{
		Certificates: []tls.Certificate{root.Leaf(testpki.WithDNS("b1.test")).TLSCertificate()},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    testpki.NewCA(t).Pool(), // some other CA
	})
	cf, kf := client.Files()
	u := newUpstream(t, UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, Name: "b1.test", Certificate: cf, CertificateKey: kf})
	if _, err := dial(t, u, b); err != nil {
		t.Fatal(err)
	}
	r := <-b.results
	if len(r.state.PeerCertificates) != 1 || r.state.PeerCertificates[0].Subject.CommonName != "proxy" {
		t.Fatalf("backend received %d certificates", len(r.state.PeerCertificates))
	}
}

// TestUpstreamHandshakeName checks per-request names (proxy_ssl_name with
// variables): each name is verified on its own and gets its own SNI.
func TestUpstreamHandshakeName(t *testing.T) {
	root := testpki.NewCA(t)
	b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()}})
	u := newUpstream(t, UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, Name: "static.test", ServerName: true})
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"a.test", true}, {"b.test", false}, {"a.test", true}} {
		c, err := net.Dial("tcp", b.addr)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := u.HandshakeName(context.Background(), c, b.addr, tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tc != nil {
			tc.Close()
		}
		if r := <-b.results; r.err == nil && r.state.ServerName != tt.name {
			t.Errorf("%s: SNI %q", tt.name, r.state.ServerName)
		}
	}
}

func TestUpstreamNonTLSPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		serve func(net.Conn)
		want  string
	}{
		{func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")); c.Close() }, "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)"},
		{func(c net.Conn) { c.(*net.TCPConn).CloseWrite() }, "peer closed connection in SSL handshake"},
	}
	for _, tt := range tests {
		done := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				buf := make([]byte, 1)
				c.Read(buf)
				tt.serve(c)
			}
			done <- c
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		u := newUpstream(t, UpstreamOptions{Name: "b1.test"})
		_, err = u.Handshake(context.Background(), c, ln.Addr().String())
		if s := <-done; s != nil {
			s.Close()
		}
		var ue *UpstreamError
		if !errors.As(err, &ue) || ue.Message() != tt.want || !errors.Is(err, ErrHandshake) || ue.Fix == "" {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}

// TestUpstreamVerifyCacheSameLeafOtherChain: a remembered verification is
// used only for the very chain that verified. Two backends present the same
// leaf, one with its intermediate and one without; the one without must be
// refused whether or not the other was verified first, exactly as a fresh
// context refuses it.
func TestUpstreamVerifyCacheSameLeafOtherChain(t *testing.T) {
	root := testpki.NewCA(t)
	inter := root.Intermediate()
	leaf := inter.Leaf(testpki.WithDNS("b1.test"))
	full := startBackend(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
	bare := startBackend(t, &tls.Config{Certificates: []tls.Certificate{leaf.LeafOnlyTLSCertificate()}})
	for _, reuse := range []bool{false, true} {
		opts := UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 2, Name: "b1.test", ServerName: true, SessionReuse: reuse}
		fresh := func(b *backend) error {
			_, err := dial(t, newUpstream(t, opts), b)
			<-b.results
			return err
		}
		wantFull, wantBare := fresh(full), fresh(bare)
		if wantFull != nil || wantBare == nil {
			t.Fatalf("fresh: full chain %v, leaf only %v", wantFull, wantBare)
		}
		u := newUpstream(t, opts)
		for i, b := range []*backend{full, bare, full, bare} {
			_, err := dial(t, u, b)
			<-b.results
			want := wantFull
			if b == bare {
				want = wantBare
			}
			if fmt.Sprint(err) != fmt.Sprint(want) {
				t.Errorf("reuse %v step %d: %v, a fresh context says %v", reuse, i, err, want)
			}
		}
	}
}

// BenchmarkUpstreamVerify measures what remembering a verified chain saves
// on a handshake to a known peer (the name check runs either way).
func BenchmarkUpstreamVerify(b *testing.B) {
	root := testpki.NewCA(b)
	leaf := root.Intermediate().Leaf(testpki.WithDNS("b1.test"))
	dir := b.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, root.CertPEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, cached := range []bool{true, false} {
		b.Run(fmt.Sprintf("cached=%v", cached), func(b *testing.B) {
			u, err := NewUpstream(UpstreamOptions{Verify: true, TrustedCertificate: ca, VerifyDepth: 2, Name: "b1.test"}, nil)
			if err != nil {
				b.Fatal(err)
			}
			u.noCache = !cached
			chain := leaf.Chain()
			b.ReportAllocs()
			for b.Loop() {
				if err := u.verify(chain, "b1.test"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestUpstreamSessionPerName: with proxy_ssl_session_reuse, a session made
// for one proxy_ssl_name is never offered for another name at the same
// peer, and a name the certificate does not match fails after a sibling
// name succeeded, as it fails on a fresh context.
func TestUpstreamSessionPerName(t *testing.T) {
	root := testpki.NewCA(t)
	for _, max := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		b := startBackend(t, &tls.Config{Certificates: []tls.Certificate{root.Leaf(testpki.WithDNS("a.test", "b.test")).TLSCertificate()}, MaxVersion: max})
		only := startBackend(t, &tls.Config{Certificates: []tls.Certificate{root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()}, MaxVersion: max})
		u := newUpstream(t, UpstreamOptions{Verify: true, TrustedCertificate: root.CertFile(), VerifyDepth: 1, ServerName: true, SessionReuse: true})
		for i, s := range []struct {
			b      *backend
			name   string
			ok     bool
			resume bool
		}{
			{b, "a.test", true, false},
			{b, "a.test", true, true},
			{b, "b.test", true, false},
			{b, "a.test", true, true},
			{only, "a.test", true, false},
			{only, "a.test", true, true},
			{only, "b.test", false, false},
		} {
			c, err := net.Dial("tcp", s.b.addr)
			if err != nil {
				t.Fatal(err)
			}
			tc, err := u.HandshakeName(context.Background(), c, s.b.addr, s.name)
			if (err == nil) != s.ok {
				t.Errorf("TLS %x step %d %s: %v", max, i, s.name, err)
			}
			if tc != nil {
				var buf [2]byte
				_, _ = io.ReadFull(tc, buf[:])
				tc.Close()
			}
			r := <-s.b.results
			if r.err == nil && r.state.DidResume != s.resume {
				t.Errorf("TLS %x step %d %s: resumed %v, want %v", max, i, s.name, r.state.DidResume, s.resume)
			}
		}
	}
}
