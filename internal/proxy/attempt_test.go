package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/http1"
	"gatehouse/internal/upstream"
)

// closingUpstream reads one request header on each connection and closes
// it without answering.
func closingUpstream(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadSlice('\n')
				if err != nil || len(bytes.TrimSpace(line)) == 0 {
					break
				}
			}
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// refusedAddr is a local address nothing listens on.
func refusedAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return ap
}

// TestAttemptFailure: one attempt reports how far it got, whether the
// request was sent, the peer and the error, and times only the stages it
// reached; a good one returns the response header.
func TestAttemptFailure(t *testing.T) {
	tests := []struct {
		name  string
		addr  func(*testing.T) netip.AddrPort
		ok    bool
		stage stage
		sent  bool
		is    error
	}{
		{"refused", refusedAddr, false, stageConnect, false, syscall.ECONNREFUSED},
		{"closed before the header", closingUpstream, false, stageHeader, true, http1.ErrUpstreamPrematureClose},
		{"answered", keepAliveUpstream, true, 0, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := keepAliveLocation(t, tt.addr(t), time.Now)
			x := exchangeFor(t, "/x", "front", false, "80")
			x.Req.Method = []byte("GET")
			st := hop(x)
			st.att.Reset(l.group, upstream.AttemptOptions{Tries: 1, NextUpstream: l.nextUpstream})
			peer, err := l.group.Pick(&st.att)
			if err != nil {
				t.Fatal(err)
			}
			uc, resp, f := l.attempt(x, st, peer, time.Now(), -1, false)
			if tt.ok {
				if f.err != nil || resp == nil || resp.Status != 200 || f.connect < 0 || f.header < 0 {
					t.Fatalf("got %v, %+v", f.err, f)
				}
				uc.Release()
				return
			}
			if f.err == nil || uc != nil || resp != nil {
				t.Fatalf("no failure: %v %v", uc, resp)
			}
			if f.stage != tt.stage || f.sent != tt.sent || f.peer != peer || f.kind != failPeer || f.cached {
				t.Errorf("failure %+v, want stage %d sent %v", f, tt.stage, tt.sent)
			}
			if tt.is != nil && !errors.Is(f.err, tt.is) {
				t.Errorf("error %v, want %v", f.err, tt.is)
			}
			if f.header >= 0 || f.response < 0 || (tt.stage == stageConnect) != (f.connect < 0) {
				t.Errorf("times connect %v header %v response %v", f.connect, f.header, f.response)
			}
		})
	}
}
