package tlsterm

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

func TestVariablesOverHandshake(t *testing.T) {
	root := testpki.NewCA(t, testpki.WithCN("Var Root"), testpki.WithOrg("Example Inc"))
	serverCert := root.Leaf(testpki.WithDNS("vars.test")).TLSCertificate()
	client := root.Leaf(testpki.WithCN("client.example.com"), testpki.WithOrg("Example Inc"), testpki.WithSerial(4096))
	clientCert := client.TLSCertificate()
	clock := newFakeClock()
	l, err := New(Options{
		Servers: []Server{{
			Certificates: []tls.Certificate{serverCert},
			VerifyClient: VerifyOptional,
			VerifyDepth:  1,
			ClientCAs:    []*x509.Certificate{root.Cert},
			NextProtos:   []string{"http/1.1"},
		}},
		LookupSNI: nameTable(map[string]int{"vars.test": 0}),
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		client *tls.Config
		want   map[variables.ID]string     // exact values
		match  map[variables.ID]string     // regular expressions
		check  func(t *testing.T, i *Info) // anything else
	}{
		{
			name: "TLS 1.3 with client certificate",
			client: &tls.Config{RootCAs: root.Pool(), ServerName: "vars.test", NextProtos: []string{"http/1.1"},
				CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}, GetClientCertificate: sendAlways(&clientCert),
				CipherSuites: nil, MinVersion: tls.VersionTLS13},
			want: map[variables.ID]string{
				variables.SSLProtocol:          "TLSv1.3",
				variables.SSLCurve:             "X25519",
				variables.SSLCurves:            "X25519:prime256v1",
				variables.SSLServerName:        "vars.test",
				variables.SSLSessionReused:     ".",
				variables.SSLALPNProtocol:      "http/1.1",
				variables.SSLEarlyData:         "",
				variables.SSLClientVerify:      "SUCCESS",
				variables.SSLClientSDN:         "CN=client.example.com,O=Example Inc",
				variables.SSLClientIDN:         "CN=Var Root,O=Example Inc",
				variables.SSLClientSDNLegacy:   "/O=Example Inc/CN=client.example.com",
				variables.SSLClientIDNLegacy:   "/O=Example Inc/CN=Var Root",
				variables.SSLClientSerial:      "1000",
				variables.SSLClientFingerprint: fingerprint(client.Cert),
				variables.SSLClientRawCert:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: client.Cert.Raw})),
				variables.SSLClientVStart:      client.Cert.NotBefore.UTC().Format("Jan _2 15:04:05 2006 GMT"),
				variables.SSLClientVEnd:        client.Cert.NotAfter.UTC().Format("Jan _2 15:04:05 2006 GMT"),
				variables.SSLClientVRemain:     string(appendRemain(nil, client.Cert.NotAfter.Unix(), clock.Now().Unix())),
				variables.HTTPS:                "on",
			},
			match: map[variables.ID]string{
				variables.SSLCipher:            `^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$`,
				variables.SSLSessionID:         `^[0-9a-f]{64}$`,
				variables.SSLClientCert:        `^-----BEGIN CERTIFICATE----- [A-Za-z0-9+/= ]+ -----END CERTIFICATE-----$`,
				variables.SSLClientEscapedCert: `^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+-----END%20CERTIFICATE-----%0A$`,
				variables.SSLCiphers:           `^TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256$`,
			},
		},
		{
			name: "TLS 1.2 without client certificate",
			client: &tls.Config{RootCAs: root.Pool(), ServerName: "vars.test", MaxVersion: tls.VersionTLS12,
				CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				CurvePreferences: []tls.CurveID{tls.CurveP384}},
			want: map[variables.ID]string{
				variables.SSLProtocol:          "TLSv1.2",
				variables.SSLCipher:            "ECDHE-ECDSA-AES128-GCM-SHA256",
				variables.SSLCiphers:           "ECDHE-ECDSA-AES128-GCM-SHA256",
				variables.SSLCurve:             "secp384r1",
				variables.SSLALPNProtocol:      "",
				variables.SSLClientVerify:      "NONE",
				variables.SSLClientSDN:         "",
				variables.SSLClientSerial:      "",
				variables.SSLClientRawCert:     "",
				variables.SSLClientCert:        "",
				variables.SSLClientEscapedCert: "",
				variables.SSLClientVRemain:     "",
				variables.SSLClientVStart:      "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := handshake(t, l, tt.client)
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
			}
			for id, want := range tt.want {
				if got := varString(t, r.info, id); got != want {
					t.Errorf("variable %d = %q, want %q", id, got, want)
				}
			}
			for id, re := range tt.match {
				if got := varString(t, r.info, id); !regexp.MustCompile(re).MatchString(got) {
					t.Errorf("variable %d = %q, want match for %s", id, got, re)
				}
			}
		})
	}

	// $ssl_client_v_remain follows the injected clock.
	r := handshake(t, l, &tls.Config{RootCAs: root.Pool(), ServerName: "vars.test", GetClientCertificate: sendAlways(&clientCert)})
	if r.clientErr != nil || r.serverErr != nil {
		t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
	}
	clock.ns.Store(client.Cert.NotAfter.Add(-50 * time.Hour).UnixNano())
	if got := varString(t, r.info, variables.SSLClientVRemain); got != "2" {
		t.Errorf("$ssl_client_v_remain 50h before expiry = %q, want 2", got)
	}
	// Cached per connection: the same bytes again, and no second parse.
	a, _ := r.info.AppendVar(nil, variables.SSLClientSDN)
	b, _ := r.info.AppendVar(nil, variables.SSLClientSDN)
	if string(a) != string(b) || string(a) == "" {
		t.Errorf("$ssl_client_s_dn unstable: %q vs %q", a, b)
	}
	if n := testing.AllocsPerRun(100, func() {
		buf := make([]byte, 0, 4096)
		for _, id := range []variables.ID{variables.SSLClientSDN, variables.SSLClientVerify, variables.SSLClientRawCert, variables.SSLProtocol, variables.SSLClientVRemain} {
			buf, _ = r.info.AppendVar(buf[:0], id)
		}
	}); n > 1 {
		t.Errorf("AppendVar allocates %.0f times per request, want none beyond the buffer", n)
	}
}

func fingerprint(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return hex.EncodeToString(s[:])
}

func TestPlainConnectionVariables(t *testing.T) {
	var i *Info
	if v, ok := i.AppendVar(nil, variables.HTTPS); !ok || len(v) != 0 {
		t.Errorf("$https on plain HTTP = %q, %v; want empty, found", v, ok)
	}
	for _, id := range []variables.ID{variables.SSLProtocol, variables.SSLClientVerify, variables.SSLClientSDN} {
		if v, ok := i.AppendVar(nil, id); ok || len(v) != 0 {
			t.Errorf("variable %d on plain HTTP = %q, %v; want not found", id, v, ok)
		}
	}
	if v := i.Check([]byte("x"), 3); v != Proceed || i.VerifyResult() != certs.VerifyOK || i.HasClientCert() || len(i.AppendReason(nil, CertError)) != 0 {
		t.Error("a nil Info must behave as a plain connection")
	}
	var info Info
	if _, ok := info.AppendVar(nil, variables.Host); ok {
		t.Error("a non-TLS variable must not be answered")
	}
}

func TestCurveNames(t *testing.T) {
	for c, want := range map[tls.CurveID]string{
		tls.X25519: "X25519", tls.CurveP256: "prime256v1", tls.CurveP384: "secp384r1",
		tls.CurveP521: "secp521r1", tls.X25519MLKEM768: "0x11ec", 0x0a0a: "0x0a0a",
	} {
		if got := string(appendCurve(nil, c)); got != want {
			t.Errorf("curve %d = %q, want %q", c, got, want)
		}
	}
	if !strings.HasPrefix(string(appendHex16(nil, 0xabcd)), "0xabcd") {
		t.Error("hex form")
	}
}
