package upstream

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the injected clock of the tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(sec int64) *fakeClock { return &fakeClock{t: time.Unix(sec, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(sec int64) {
	c.mu.Lock()
	c.t = time.Unix(sec, 0)
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// script is a Rand that returns its values in turn.
type script struct {
	t    testing.TB
	vals []int
	i    int
}

func (s *script) IntN(n int) int {
	if len(s.vals) == 0 {
		s.t.Errorf("random source used without a script")
		return 0
	}
	v := s.vals[s.i%len(s.vals)]
	s.i++
	if v < 0 || v >= n {
		s.t.Errorf("scripted value %d out of [0,%d)", v, n)
		return 0
	}
	return v
}

// srv makes a server named by a short label; each address argument is
// "ip:port", the label becomes the server's address text unless it looks
// like one itself. Options: "w=N", "mf=N", "ft=N" (seconds), "mc=N",
// "backup", "down".
func srv(label string, addrs []string, opts ...string) Server {
	s := Server{Address: label, Weight: 1, MaxFails: DefaultMaxFails, FailTimeout: DefaultFailTimeout}
	for _, a := range addrs {
		s.Addrs = append(s.Addrs, netip.MustParseAddrPort(a))
	}
	for _, o := range opts {
		var n int
		switch {
		case o == "backup":
			s.Backup = true
		case o == "down":
			s.Down = true
		case strings.HasPrefix(o, "w="):
			fmt.Sscanf(o, "w=%d", &n)
			s.Weight = n
		case strings.HasPrefix(o, "mf="):
			fmt.Sscanf(o, "mf=%d", &n)
			s.MaxFails = n
		case strings.HasPrefix(o, "ft="):
			fmt.Sscanf(o, "ft=%d", &n)
			s.FailTimeout = time.Duration(n) * time.Second
		case strings.HasPrefix(o, "mc="):
			fmt.Sscanf(o, "mc=%d", &n)
			s.MaxConns = n
		default:
			panic("bad option " + o)
		}
	}
	return s
}

// lettered gives server label l the address 10.0.0.N:80 with N its
// position in the alphabet (x, y, z are used for backups).
func lettered(l string, opts ...string) Server {
	return srv(l, []string{fmt.Sprintf("10.0.0.%d:80", l[0]-'a'+1)}, opts...)
}

type testGroup struct {
	*Group
	t     testing.TB
	clock *fakeClock
	rnd   *script
	off   []string // peers reported disabled
}

func newTestGroup(t testing.TB, m Method, servers ...Server) *testGroup {
	t.Helper()
	tg := &testGroup{t: t, clock: newClock(1000), rnd: &script{t: t}}
	g, err := NewGroup(Options{Name: "backend", Method: m, Servers: servers}, Env{
		Now:  tg.clock.Now,
		Rand: tg.rnd,
		Disabled: func(g *Group, p *Peer) {
			// Called without the group's lock: State would deadlock otherwise.
			if p.State().Fails < p.maxFails {
				t.Errorf("%s reported disabled below max_fails", p.Name())
			}
			tg.off = append(tg.off, p.Server())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tg.Group = g
	return tg
}

// seq runs n requests that each pick once and succeed, and returns the
// labels (the server address text) of the peers picked.
func (tg *testGroup) seq(n int, o AttemptOptions) []string {
	tg.t.Helper()
	var out []string
	var a Attempt
	for range n {
		a.Reset(tg.Group, o)
		p, err := tg.Pick(&a)
		if err != nil {
			out = append(out, "-")
			continue
		}
		out = append(out, label(p))
		a.Done()
	}
	return out
}

// label names a peer: its server label, plus "#k" for the k-th address of
// a multi-address server.
func label(p *Peer) string {
	k := 0
	n := 0
	for _, q := range p.group.Peers() {
		if q.server == p.server && q.backup == p.backup {
			if q == p {
				k = n
			}
			n++
		}
	}
	if n > 1 {
		return fmt.Sprintf("%s#%d", p.server, k)
	}
	return p.server
}

// hold picks once for a fresh request and keeps the connection counted.
func (tg *testGroup) hold(o AttemptOptions) (*Attempt, string) {
	tg.t.Helper()
	a := new(Attempt)
	a.Reset(tg.Group, o)
	p, err := tg.Pick(a)
	if err != nil {
		return a, "-"
	}
	return a, label(p)
}

func eq(t testing.TB, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func ipOpts(ip string) AttemptOptions {
	return AttemptOptions{Client: netip.MustParseAddr(ip), NextUpstream: DefaultNextUpstream}
}

func keyOpts(key string) AttemptOptions {
	return AttemptOptions{Key: []byte(key), NextUpstream: DefaultNextUpstream}
}
