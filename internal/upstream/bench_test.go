package upstream

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"
)

func benchGroup(b testing.TB, m Method, n int) *Group {
	servers := make([]Server, n)
	for i := range servers {
		servers[i] = Server{
			Address:     fmt.Sprintf("backend%d.example.com:443", i),
			Addrs:       []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 443)},
			Weight:      1 + i%3,
			MaxFails:    1,
			FailTimeout: 10 * time.Second,
		}
	}
	now := time.Unix(1000, 0)
	g, err := NewGroup(Options{Name: "bench", Method: m, Servers: servers}, Env{
		Now:  func() time.Time { return now },
		Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkPick measures one request's Reset, Pick and Done.
func BenchmarkPick(b *testing.B) {
	for _, m := range []Method{RoundRobin, LeastConn, IPHash, Hash, HashConsistent, Random, RandomTwo} {
		for _, n := range []int{3, 16} {
			b.Run(fmt.Sprintf("%s/%d", m, n), func(b *testing.B) {
				g := benchGroup(b, m, n)
				key := []byte("/api/v1/users/12345")
				client := netip.MustParseAddr("192.168.17.4")
				var a Attempt
				b.ReportAllocs()
				for b.Loop() {
					a.Reset(g, AttemptOptions{Key: key, Client: client, NextUpstream: DefaultNextUpstream})
					if _, err := g.Pick(&a); err != nil {
						b.Fatal(err)
					}
					a.Done()
				}
			})
		}
	}
}

// BenchmarkRetry measures a request whose first peer fails.
func BenchmarkRetry(b *testing.B) {
	g := benchGroup(b, RoundRobin, 8)
	var a Attempt
	b.ReportAllocs()
	for b.Loop() {
		a.Reset(g, AttemptOptions{NextUpstream: DefaultNextUpstream})
		g.Pick(&a)
		a.Fail(Failure{Cond: CondHTTP404})
		g.Pick(&a)
		a.Done()
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	for _, m := range []Method{RoundRobin, LeastConn, IPHash, Hash, HashConsistent, Random, RandomTwo} {
		g := benchGroup(t, m, 5)
		key := []byte("/index.html")
		client := netip.MustParseAddr("2001:db8::7")
		var a Attempt
		allocs := testing.AllocsPerRun(200, func() {
			a.Reset(g, AttemptOptions{Key: key, Client: client, NextUpstream: DefaultNextUpstream})
			g.Pick(&a)
			a.Fail(Failure{Cond: CondError})
			g.Pick(&a)
			a.Done()
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per request", m, allocs)
		}
	}
}

// BenchmarkPoolGetPut measures taking an idle loopback TCP connection from
// the pool (with its liveness check) and putting it back.
func BenchmarkPoolGetPut(b *testing.B) {
	g := benchGroup(b, RoundRobin, 2)
	pool := newPool(Keepalive{MaxIdle: 32, Requests: 1 << 30}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	peer := g.Peers()[0]
	pool.Put(pool.NewConn(peer, c, ""))
	b.ReportAllocs()
	for b.Loop() {
		pc := pool.Get(peer, "")
		if pc == nil {
			b.Fatal("lost the connection")
		}
		pool.Put(pc)
	}
}
