package upstream

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// FuzzGroup builds groups from arbitrary parameters and drives requests
// through them, checking invariants that hold for every method: no panic,
// a down peer is never picked, no peer is picked twice in one request,
// max_conns is respected, and every connection is released in the end.
func FuzzGroup(f *testing.F) {
	f.Add([]byte{0, 3, 5, 1, 1, 0, 0, 0}, []byte("k"), uint8(9))
	f.Add([]byte{1, 4, 2, 0, 0, 1, 1, 2, 3, 8}, []byte("/index.html"), uint8(40))
	f.Add([]byte{4, 2, 1, 2, 3, 4, 5}, []byte(""), uint8(3))
	f.Add([]byte{6, 5, 9, 9, 9, 9, 9, 1, 2, 3, 4}, []byte("user42"), uint8(200))
	f.Fuzz(func(t *testing.T, spec []byte, key []byte, ops uint8) {
		if len(spec) < 2 {
			return
		}
		method := Method(spec[0] % 7)
		n := 1 + int(spec[1]%70)
		spec = spec[2:]
		at := func(i int) byte {
			if len(spec) == 0 {
				return 0
			}
			return spec[i%len(spec)]
		}
		var servers []Server
		for i := range n {
			b := at(i)
			s := Server{
				Address:     fmt.Sprintf("h%d:%d", i%5, 80+i%3),
				Addrs:       []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), 80)},
				Weight:      1 + int(b%4),
				MaxFails:    int(b>>2) % 3,
				FailTimeout: time.Duration(b>>4) * time.Second,
				MaxConns:    int(b>>5) % 3,
				Down:        b&0x80 != 0 && i > 0,
				Backup:      b&0x40 != 0 && i > 0 && method == RoundRobin,
			}
			servers = append(servers, s)
		}
		clock := newClock(1000)
		rnd := &script{t: t, vals: []int{0}}
		g, err := NewGroup(Options{Method: method, Servers: servers}, Env{Now: clock.Now, Rand: fuzzRand{rnd, spec}})
		if err != nil {
			return // e.g. only backups
		}
		var held []*Attempt
		for i := range int(ops) {
			op := at(i + 7)
			clock.Add(time.Duration(op%3) * time.Second)
			a := new(Attempt)
			a.Reset(g, AttemptOptions{Key: key, Client: netip.AddrFrom4([4]byte{op, byte(i), 1, 2}), NextUpstream: NextUpstream(op) | NextError})
			seen := map[*Peer]bool{}
			for {
				p, err := g.Pick(a)
				if err != nil {
					break
				}
				if p.Down() {
					t.Fatalf("%s picked down peer %s", method, p.Name())
				}
				if seen[p] && !g.single {
					t.Fatalf("%s picked %s twice in one request", method, p.Name())
				}
				seen[p] = true
				if s := p.State(); p.maxConns > 0 && s.Conns > p.maxConns {
					t.Fatalf("%s: %s has %d conns, max %d", method, p.Name(), s.Conns, p.maxConns)
				}
				if op&1 == 0 {
					held = append(held, a)
					break
				}
				if d := a.Fail(Failure{Cond: Condition(op%11) + 1, Cached: op&8 != 0 && !g.single}); d.Action != ActionRetry {
					a.Done()
					break
				}
			}
			if len(held) > 0 && op&4 != 0 {
				held[0].Done()
				held = held[1:]
			}
		}
		for _, a := range held {
			a.Done()
		}
		for _, p := range g.Peers() {
			if s := p.State(); s.Conns != 0 || s.EffectiveWeight < 0 || s.EffectiveWeight > p.weight {
				t.Fatalf("%s: %s left in state %+v", method, p.Name(), s)
			}
		}
	})
}

// fuzzRand draws from the fuzz input.
type fuzzRand struct {
	s    *script
	spec []byte
}

func (r fuzzRand) IntN(n int) int {
	r.s.i++
	if len(r.spec) == 0 {
		return 0
	}
	return int(r.spec[r.s.i%len(r.spec)]) % n
}
