package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"

	"gatehouse/internal/testpki"
)

func TestSmokeSelfSigned(t *testing.T) {
	leaf := testpki.SelfSigned(t, testpki.WithDNS("b1.test"))
	other := testpki.NewCA(t)
	u, err := NewUpstream(UpstreamOptions{Verify: true, TrustedCertificate: other.CertFile(), VerifyDepth: 1, Name: "b1.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
		_ = s.Handshake()
		s.Close()
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.Handshake(context.Background(), c1, "p")
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Code != 18 || !errors.Is(err, ErrVerify) {
		t.Fatalf("got %v", err)
	}
	t.Log(ue.Message(), "|", ue.Detail())
}
