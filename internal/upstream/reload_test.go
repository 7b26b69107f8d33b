package upstream

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

func TestCarryFrom(t *testing.T) {
	clock := newClock(1000)
	env := Env{Now: clock.Now}
	mk := func(servers ...Server) *Group {
		g, err := NewGroup(Options{Name: "backend", Servers: servers, Keepalive: Keepalive{MaxIdle: 8}}, env)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	old := mk(lettered("a", "w=4", "mf=2"), lettered("b"), lettered("c"))
	// a fails twice (disabled, effective weight 4-2-2 → 0 + rounds), b stays healthy.
	var at Attempt
	for range 2 {
		at.Reset(old, AttemptOptions{})
		p, _ := old.Pick(&at)
		for p != old.Peers()[0] {
			at.Done()
			at.Reset(old, AttemptOptions{})
			p, _ = old.Pick(&at)
		}
		old.Report(p, OutcomeFailure)
	}
	aOld := old.Peers()[0].State()
	if aOld.Fails != 2 {
		t.Fatalf("setup: a fails %d", aOld.Fails)
	}
	// Idle connections to a (kept) and c (removed).
	fa, fc := &fakeConn{id: "a"}, &fakeConn{id: "c"}
	old.Pool().Put(old.Pool().NewConn(old.Peers()[0], fa, ""))
	old.Pool().Put(old.Pool().NewConn(old.Peers()[2], fc, ""))

	// New generation: a with a new weight, b, and a new d; c is gone.
	g := mk(lettered("a", "w=2", "mf=2"), lettered("b"), lettered("d"))
	g.CarryFrom(old)

	a := g.Peers()[0].State()
	if a.Fails != 2 || a.Checked != aOld.Checked || a.Accessed != aOld.Accessed {
		t.Errorf("a state not carried: %+v (old %+v)", a, aOld)
	}
	if a.EffectiveWeight != min(aOld.EffectiveWeight, 2) {
		t.Errorf("effective weight %d, old %d", a.EffectiveWeight, aOld.EffectiveWeight)
	}
	if d := g.Peers()[2].State(); d.Fails != 0 || d.EffectiveWeight != 1 {
		t.Errorf("new peer d: %+v", d)
	}
	// a is still disabled in the new generation.
	tg := &testGroup{Group: g, t: t, clock: clock}
	eq(t, tg.seq(2, AttemptOptions{}), []string{"b", "d"})

	// CarryFrom closed the idle connection to the removed c and left the
	// rest of the old pool alone: the old generation may keep serving.
	if fc.closed.Load() != 1 || fa.closed.Load() != 0 || old.Pool().Len() != 1 || g.Pool().Len() != 0 {
		t.Errorf("after CarryFrom: c closed %d, a closed %d, old %d, new %d",
			fc.closed.Load(), fa.closed.Load(), old.Pool().Len(), g.Pool().Len())
	}
	g.AdoptIdle(old)
	// The idle connection to a moved to the new pool, re-pointed to the new
	// peer; the old pool keeps nothing any more.
	if fc.closed.Load() != 1 || fa.closed.Load() != 0 || old.Pool().Len() != 0 || g.Pool().Len() != 1 {
		t.Errorf("idle connections: c closed %d, a closed %d, old %d, new %d",
			fc.closed.Load(), fa.closed.Load(), old.Pool().Len(), g.Pool().Len())
	}
	if c := g.Pool().Get(g.Peers()[0], ""); c == nil || c.Conn != fa || c.Peer() != g.Peers()[0] {
		t.Errorf("moved connection: %+v", c)
	}
	late := &fakeConn{id: "late"}
	if old.Pool().Put(old.Pool().NewConn(old.Peers()[1], late, "")) || late.closed.Load() != 1 {
		t.Error("old pool kept a connection after the reload")
	}
	g.CarryFrom(nil) // harmless
	g.CarryFrom(g)
	g.AdoptIdle(nil)
	g.AdoptIdle(g)
}

func TestCarryOver(t *testing.T) {
	clock := newClock(1000)
	mk := func(name string, servers ...Server) *Group {
		g, err := NewGroup(Options{Name: name, Servers: servers, Keepalive: Keepalive{MaxIdle: 1}}, Env{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	oldA := mk("Backend", lettered("a", "mf=1"), lettered("b"))
	oldGone := mk("legacy", lettered("c"))
	var at Attempt
	at.Reset(oldA, AttemptOptions{})
	p, _ := oldA.Pick(&at)
	oldA.Report(p, OutcomeFailure)
	f1, f2, f3 := &fakeConn{id: "1"}, &fakeConn{id: "2"}, &fakeConn{id: "3"}
	oldA.Pool().Put(oldA.Pool().NewConn(oldA.Peers()[0], f1, ""))
	oldGone.Pool().Put(oldGone.Pool().NewConn(oldGone.Peers()[0], f2, ""))

	newA := mk("backend", lettered("a", "mf=1"), lettered("b"))
	// The new pool is full already: the moved connection evicts the least
	// recently used one, which is the one already there.
	newA.Pool().Put(newA.Pool().NewConn(newA.Peers()[1], f3, ""))
	CarryOver([]*Group{oldA, oldGone}, []*Group{newA})

	if s := newA.Peers()[0].State(); s.Fails != 1 {
		t.Errorf("health not carried across case-insensitive names: %+v", s)
	}
	if f1.closed.Load() != 0 || f2.closed.Load() != 1 || f3.closed.Load() != 1 {
		t.Errorf("closed: moved %d, removed group %d, evicted %d", f1.closed.Load(), f2.closed.Load(), f3.closed.Load())
	}
	if c := newA.Pool().Get(newA.Peers()[0], ""); c == nil || c.Conn != f1 {
		t.Error("connection not moved")
	}
}

// TestLargeGroup covers the tried bitset beyond 64 peers.
func TestLargeGroup(t *testing.T) {
	var servers []Server
	for i := range 130 {
		servers = append(servers, Server{
			Address: fmt.Sprintf("s%d", i),
			Addrs:   []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 80)},
		})
	}
	tg := newTestGroup(t, RoundRobin, servers...)
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: NextHTTP404})
	seen := map[*Peer]bool{}
	for i := range 130 {
		p, err := tg.Pick(&a)
		if err != nil {
			t.Fatalf("pick %d: %v", i, err)
		}
		if seen[p] {
			t.Fatalf("pick %d: %s picked twice", i, p.Name())
		}
		// Pick k raises every untried peer to k: ties, first in order.
		if want := fmt.Sprintf("s%d", i); p.Server() != want {
			t.Fatalf("pick %d: %s, want %s", i, p.Server(), want)
		}
		seen[p] = true
		if d := a.Fail(Failure{Cond: CondHTTP404}); i < 129 && d.Action != ActionRetry {
			t.Fatalf("pick %d: %+v", i, d)
		}
	}
	// s129 ended the request with current weight 130-1, the highest.
	a.Reset(tg.Group, AttemptOptions{})
	if p, _ := tg.Pick(&a); p.Server() != "s129" {
		t.Errorf("next request starts at %s", p.Server())
	}
	// Reuse of the attempt keeps the bitset clean.
	a.Done()
	a.Reset(tg.Group, AttemptOptions{})
	if a.tried != 0 || a.triedMore[0] != 0 || a.triedMore[1] != 0 {
		t.Error("tried bits survive Reset")
	}
}

// TestGroupConcurrent hammers one group from many goroutines; with -race it
// checks the locking, and at the end every connection is released.
func TestGroupConcurrent(t *testing.T) {
	for _, m := range []Method{RoundRobin, LeastConn, IPHash, Hash, HashConsistent, Random, RandomTwo} {
		g, err := NewGroup(Options{Method: m, Servers: []Server{
			lettered("a", "mf=1"), lettered("b", "w=2", "mc=3"), lettered("c"),
		}}, Env{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var a Attempt
				for i := range 300 {
					a.Reset(g, AttemptOptions{
						Key:          []byte(fmt.Sprint(i % 7)),
						Client:       netip.AddrFrom4([4]byte{10, byte(w), byte(i), 1}),
						NextUpstream: DefaultNextUpstream,
					})
					for {
						if _, err := g.Pick(&a); err != nil {
							break
						}
						if i%5 == 0 {
							if d := a.Fail(Failure{Cond: CondError}); d.Action == ActionRetry {
								continue
							}
						} else {
							a.Done()
						}
						break
					}
				}
			}()
		}
		wg.Wait()
		for _, p := range g.Peers() {
			if c := p.State().Conns; c != 0 {
				t.Errorf("%s: %s has %d connections left", m, p.Name(), c)
			}
		}
	}
}
