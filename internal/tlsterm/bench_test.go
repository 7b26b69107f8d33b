package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

// benchInfo returns the Info of one real mTLS connection.
func benchInfo(b *testing.B) *Info {
	b.Helper()
	root := testpki.NewCA(b)
	serverCert := root.Leaf(testpki.WithDNS("bench.test")).TLSCertificate()
	clientCert := root.Leaf(testpki.WithCN("bench client"), testpki.WithOrg("Example Inc")).TLSCertificate()
	l, err := New(Options{
		Servers: []Server{{
			Certificates: []tls.Certificate{serverCert}, VerifyClient: VerifyOn, VerifyDepth: 1,
			ClientCAs: []*x509.Certificate{root.Cert},
		}},
		LookupSNI: nameTable(map[string]int{"bench.test": 0}),
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg := clientConfig(root.Pool(), "bench.test")
	cfg.GetClientCertificate = sendAlways(&clientCert)
	r := handshake(b, l, cfg)
	if r.clientErr != nil || r.serverErr != nil {
		b.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
	}
	return r.info
}

func BenchmarkCheck(b *testing.B) {
	info := benchInfo(b)
	host := []byte("bench.test")
	info.Check(host, 0) // first call verifies the chain
	b.ReportAllocs()
	for b.Loop() {
		if info.Check(host, 0) != Proceed {
			b.Fatal("unexpected verdict")
		}
	}
}

func BenchmarkAppendVar(b *testing.B) {
	info := benchInfo(b)
	ids := []variables.ID{variables.SSLProtocol, variables.SSLCipher, variables.SSLClientVerify,
		variables.SSLClientSDN, variables.SSLClientSerial, variables.SSLClientVRemain, variables.SSLSessionReused}
	buf := make([]byte, 0, 1024)
	for _, id := range ids {
		buf, _ = info.AppendVar(buf[:0], id)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, id := range ids {
			buf, _ = info.AppendVar(buf[:0], id)
		}
	}
}
