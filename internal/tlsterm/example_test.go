package tlsterm_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"gatehouse/internal/certs"
	"gatehouse/internal/tlsterm"
)

// One listening socket with two servers: the default one and "api.test",
// which asks for client certificates.
func ExampleNew() {
	var siteCert, apiCert tls.Certificate // loaded by internal/certs
	var clientCA *x509.Certificate        // from ssl_client_certificate
	names := map[string]int{"www.test": 0, "api.test": 1}
	l, err := tlsterm.New(tlsterm.Options{
		Servers: []tlsterm.Server{
			{Certificates: []tls.Certificate{siteCert}, MinVersion: tls.VersionTLS12},
			{Certificates: []tls.Certificate{apiCert}, VerifyClient: tlsterm.VerifyOn, VerifyDepth: 1,
				ClientCAs: []*x509.Certificate{clientCA}},
		},
		Default: 0,
		LookupSNI: func(name []byte) (int, bool) {
			i, ok := names[string(name)]
			return i, ok
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = l.Config() // the socket's *tls.Config; accept with l.Server(conn)
	fmt.Println(tlsterm.VerifyOn, tlsterm.CertError.Status(), certs.VerifyExpired)
	// Output: on 495 certificate has expired
}
