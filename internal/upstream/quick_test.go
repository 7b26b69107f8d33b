package upstream

import (
	"net/netip"
	"testing"
)

func TestQuickWRR(t *testing.T) {
	g, err := NewGroup(Options{Name: "u", Servers: []Server{
		{Address: "a", Addrs: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:80")}, Weight: 5, MaxFails: 1},
		{Address: "b", Addrs: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.2:80")}, Weight: 1, MaxFails: 1},
		{Address: "c", Addrs: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.3:80")}, Weight: 1, MaxFails: 1},
	}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	var a Attempt
	s := ""
	for range 7 {
		a.Reset(g, AttemptOptions{})
		p, err := g.Pick(&a)
		if err != nil {
			t.Fatal(err)
		}
		s += p.Server()
		a.Done()
	}
	if s != "aabacaa" {
		t.Fatal(s)
	}
}
