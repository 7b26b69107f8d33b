package upstream

import (
	"errors"
	"net/netip"
	"testing"
)

// The expected sequences below were derived by hand from nginx.md §9's
// algorithms (and, for the hash methods, from an independent transcription
// of the spec's formulas); they are literals, not output of this package.

func TestRoundRobinSequences(t *testing.T) {
	tests := []struct {
		name    string
		servers []Server
		n       int
		want    []string
	}{
		{"5,1,1 twice", []Server{lettered("a", "w=5"), lettered("b"), lettered("c")}, 14,
			[]string{"a", "a", "b", "a", "c", "a", "a", "a", "a", "b", "a", "c", "a", "a"}},
		{"equal", []Server{lettered("a"), lettered("b"), lettered("c")}, 6,
			[]string{"a", "b", "c", "a", "b", "c"}},
		{"5,1,1 with b down", []Server{lettered("a", "w=5"), lettered("b", "down"), lettered("c")}, 12,
			[]string{"a", "a", "a", "c", "a", "a", "a", "a", "a", "c", "a", "a"}},
		{"2,3", []Server{lettered("a", "w=2"), lettered("b", "w=3")}, 5,
			[]string{"b", "a", "b", "a", "b"}},
		{"primaries down, backups", []Server{lettered("a", "down"), lettered("b", "down"), lettered("x", "backup"), lettered("y", "backup")}, 4,
			[]string{"x", "y", "x", "y"}},
		{"all down", []Server{lettered("a", "down"), lettered("b", "down")}, 2,
			[]string{"-", "-"}},
		{"single", []Server{lettered("a")}, 3, []string{"a", "a", "a"}},
		{"single down", []Server{lettered("a", "down")}, 2, []string{"-", "-"}},
		{"host name with two addresses", []Server{srv("app", []string{"10.0.1.1:80", "10.0.1.2:80"}, "w=2"), lettered("b")}, 5,
			[]string{"app#0", "app#1", "b", "app#0", "app#1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTestGroup(t, RoundRobin, tt.servers...)
			eq(t, tg.seq(tt.n, AttemptOptions{}), tt.want)
		})
	}
}

func TestRoundRobinMaxConns(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a", "mc=1"), lettered("b"))
	held, first := tg.hold(AttemptOptions{})
	got := []string{first}
	got = append(got, tg.seq(2, AttemptOptions{})...)
	held.Done()
	got = append(got, tg.seq(3, AttemptOptions{})...)
	eq(t, got, []string{"a", "b", "b", "b", "a", "b"})

	single := newTestGroup(t, RoundRobin, lettered("a", "mc=1"))
	h, p := single.hold(AttemptOptions{})
	eq(t, append([]string{p}, single.seq(1, AttemptOptions{})...), []string{"a", "-"})
	h.Done()
	eq(t, single.seq(1, AttemptOptions{}), []string{"a"})
}

// TestRetryWithinRequest follows one request through three failing peers:
// the tried set keeps each peer from being picked twice.
func TestRetryWithinRequest(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"), lettered("c"))
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream})
	var picks []string
	var actions []Action
	for {
		p, err := tg.Pick(&a)
		if err != nil {
			t.Fatalf("pick: %v", err)
		}
		picks = append(picks, label(p))
		d := a.Fail(Failure{Cond: CondError})
		actions = append(actions, d.Action)
		if d.Action != ActionRetry {
			if d.Status != 502 || !d.PeerFailed {
				t.Errorf("final decision %+v", d)
			}
			break
		}
	}
	eq(t, picks, []string{"a", "b", "c"})
	if len(actions) != 3 || actions[0] != ActionRetry || actions[1] != ActionRetry || actions[2] != ActionRespond {
		t.Errorf("actions %v", actions)
	}
	eq(t, tg.off, []string{"a", "b", "c"})
	// All three are now disabled for fail_timeout.
	eq(t, tg.seq(1, AttemptOptions{}), []string{"-"})
}

func TestNextUpstreamTriesCap(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"), lettered("c"))
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream, Tries: 2})
	var picks []string
	for {
		p, err := tg.Pick(&a)
		if err != nil {
			t.Fatal(err)
		}
		picks = append(picks, label(p))
		if d := a.Fail(Failure{Cond: CondTimeout}); d.Action != ActionRetry {
			if d.Status != 504 {
				t.Errorf("status %d, want 504", d.Status)
			}
			break
		}
	}
	eq(t, picks, []string{"a", "b"})
}

func TestTriesCount(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b", "down"), lettered("c"),
		lettered("x", "backup"), lettered("y", "backup", "down"))
	if got := tg.Tries(); got != 3 {
		t.Errorf("Tries() = %d, want 3", got)
	}
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{Tries: 5})
	if a.TriesLeft() != 3 {
		t.Errorf("TriesLeft = %d, want 3", a.TriesLeft())
	}
	a.Reset(tg.Group, AttemptOptions{Tries: 2})
	if a.TriesLeft() != 2 {
		t.Errorf("TriesLeft = %d, want 2", a.TriesLeft())
	}
}

// TestBackupAndRecovery: both primaries fail, the request moves to the
// backups, later requests stay there until fail_timeout has passed, then
// the primaries come back with their smooth-WRR state.
func TestBackupAndRecovery(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"), lettered("x", "backup"), lettered("y", "backup"))
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream})
	var picks []string
	for {
		p, err := tg.Pick(&a)
		if err != nil {
			t.Fatal(err)
		}
		picks = append(picks, label(p))
		if p.Backup() {
			a.Done()
			break
		}
		if d := a.Fail(Failure{Cond: CondError}); d.Action != ActionRetry {
			t.Fatalf("decision %+v", d)
		}
	}
	eq(t, picks, []string{"a", "b", "x"})
	eq(t, tg.seq(3, AttemptOptions{}), []string{"y", "x", "y"})
	tg.clock.Set(1010) // now - checked == fail_timeout: still out
	eq(t, tg.seq(1, AttemptOptions{}), []string{"x"})
	tg.clock.Set(1011)
	eq(t, tg.seq(3, AttemptOptions{}), []string{"b", "b", "a"})
	for _, p := range tg.Peers()[:2] {
		if s := p.State(); s.Fails != 0 {
			t.Errorf("%s: fails %d after a successful re-probe", label(p), s.Fails)
		}
	}
}

func TestLeastConn(t *testing.T) {
	tg := newTestGroup(t, LeastConn, lettered("a"), lettered("b"), lettered("c"))
	var held []*Attempt
	var got []string
	for range 4 {
		a, p := tg.hold(AttemptOptions{})
		held = append(held, a)
		got = append(got, p)
	}
	for _, a := range held {
		a.Done()
	}
	got = append(got, tg.seq(1, AttemptOptions{})...)
	eq(t, got, []string{"a", "b", "c", "c", "b"})

	// a:2 b:1. 1: tie at 0 conns, smooth WRR a(cw 2) b(cw 1) → a, a.cw -1.
	// 2: b has 0/1 < 1/2 → b alone (cw unchanged 1). 3: a 1/2 < b 1/1 → a.
	// 4: a 2/2 = b 1/1 → tie, a(cw 1) b(cw 2) → b.
	w := newTestGroup(t, LeastConn, lettered("a", "w=2"), lettered("b"))
	got = nil
	for range 4 {
		_, p := w.hold(AttemptOptions{})
		got = append(got, p)
	}
	eq(t, got, []string{"a", "b", "a", "b"})

	// No usable primary: least_conn over the backups (x, then y with fewer
	// connections, then a tie that smooth WRR gives to y, cw 1+1 > -1+1).
	bk := newTestGroup(t, LeastConn, lettered("a", "down"), lettered("x", "backup"), lettered("y", "backup"))
	got = nil
	for range 3 {
		_, p := bk.hold(AttemptOptions{})
		got = append(got, p)
	}
	eq(t, got, []string{"x", "y", "y"})

	full := newTestGroup(t, LeastConn, lettered("a", "mc=1"), lettered("b", "mc=1"))
	got = nil
	for range 3 {
		_, p := full.hold(AttemptOptions{})
		got = append(got, p)
	}
	eq(t, got, []string{"a", "b", "-"})
}

func TestIPHash(t *testing.T) {
	abc := []Server{lettered("a"), lettered("b"), lettered("c")}
	tests := []struct {
		servers []Server
		client  string
		want    string
	}{
		{abc, "192.168.1.10", "b"},
		{abc, "192.168.1.200", "b"}, // same /24
		{abc, "10.0.0.1", "a"},
		{abc, "10.0.1.1", "b"},
		{abc, "10.0.2.1", "c"},
		{abc, "::ffff:10.0.2.1", "c"},
		{abc, "172.16.5.4", "b"},
		{abc, "8.8.8.8", "c"},
		{abc, "2001:db8::1", "c"},
		{[]Server{lettered("a", "w=2"), lettered("b")}, "10.0.0.1", "a"},
		{[]Server{lettered("a", "w=2"), lettered("b")}, "10.0.1.1", "a"},
		{[]Server{lettered("a", "w=2"), lettered("b")}, "10.0.2.1", "b"},
		{[]Server{lettered("a", "w=2"), lettered("b")}, "172.16.5.4", "a"},
		// b down keeps its slot: the client that hashed to b re-hashes to c,
		// the others do not move.
		{[]Server{lettered("a"), lettered("b", "down"), lettered("c")}, "192.168.1.10", "c"},
		{[]Server{lettered("a"), lettered("b", "down"), lettered("c")}, "10.0.0.1", "a"},
		{[]Server{lettered("a"), lettered("b", "down"), lettered("c")}, "10.0.2.1", "c"},
	}
	for _, tt := range tests {
		tg := newTestGroup(t, IPHash, tt.servers...)
		eq(t, tg.seq(2, ipOpts(tt.client)), []string{tt.want, tt.want})
	}

	// A UNIX-socket client hashes three zero bytes.
	tg := newTestGroup(t, IPHash, abc...)
	eq(t, tg.seq(1, AttemptOptions{}), []string{"b"})

	// Retries continue from the request's running hash.
	var a Attempt
	a.Reset(tg.Group, ipOpts("192.168.1.10"))
	var picks []string
	for range 3 {
		p, err := tg.Pick(&a)
		if err != nil {
			t.Fatal(err)
		}
		picks = append(picks, label(p))
		a.Fail(Failure{Cond: CondError})
	}
	eq(t, picks, []string{"b", "c", "a"})

	// Fewer than two primaries: plain round robin.
	one := newTestGroup(t, IPHash, lettered("a"))
	eq(t, one.seq(2, ipOpts("10.0.2.1")), []string{"a", "a"})
}

func TestHashGeneric(t *testing.T) {
	abc := []Server{lettered("a"), lettered("b"), lettered("c")}
	aDown := []Server{lettered("a", "down"), lettered("b"), lettered("c")}
	w31 := []Server{lettered("a", "w=3"), lettered("b")}
	tests := []struct {
		servers []Server
		key     string
		want    string
	}{
		{abc, "/0", "b"}, {abc, "/1", "c"}, {abc, "/2", "a"}, {abc, "/3", "a"},
		{abc, "/4", "c"}, {abc, "/5", "a"}, {abc, "/6", "c"}, {abc, "/7", "c"},
		// a down: its keys take the Cache::Memcached rehash path.
		{aDown, "/2", "c"}, {aDown, "/3", "c"}, {aDown, "/5", "c"}, {aDown, "/0", "b"},
		{w31, "/0", "a"}, {w31, "/1", "b"}, {w31, "/2", "a"}, {w31, "/6", "b"},
	}
	for _, tt := range tests {
		tg := newTestGroup(t, Hash, tt.servers...)
		eq(t, tg.seq(2, keyOpts(tt.key)), []string{tt.want, tt.want})
	}
	// An empty key means round robin.
	tg := newTestGroup(t, Hash, abc...)
	eq(t, tg.seq(4, keyOpts("")), []string{"a", "b", "c", "a"})
}

func TestHashConsistent(t *testing.T) {
	s0 := srv("backend1.example.com:443", []string{"10.0.1.1:443"})
	s1 := srv("backend2.example.com:443", []string{"10.0.2.1:443"})
	s2 := srv("10.0.0.3:8080", []string{"10.0.0.3:8080"})
	const n0, n1, n2 = "backend1.example.com:443", "backend2.example.com:443", "10.0.0.3:8080"
	keys := []string{"/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "user42", "user43"}

	check := func(name string, servers []Server, keys []string, want []string) {
		t.Helper()
		tg := newTestGroup(t, HashConsistent, servers...)
		var got []string
		for _, k := range keys {
			got = append(got, tg.seq(1, keyOpts(k))...)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d results", name, len(got))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: key %q: got %s, want %s", name, keys[i], got[i], want[i])
			}
		}
	}
	check("three servers", []Server{s0, s1, s2}, keys,
		[]string{n0, n2, n1, n0, n0, n0, n2, n1, n1, n2})
	// Removing a server moves only its own keys.
	check("s2 removed", []Server{s0, s1}, keys[:8],
		[]string{n0, n1, n1, n0, n0, n0, n1, n1})
	w := s0
	w.Weight = 2
	check("s0 weight 2", []Server{w, s1, s2}, keys[:8],
		[]string{n0, n2, n1, n0, n0, n0, n0, n1})
	d := s0
	d.Down = true
	check("s0 down", []Server{d, s1, s2}, []string{"/0", "/3", "/4", "/5"},
		[]string{n2, n2, n2, n1})

	// Retry walks the ring from the request's point.
	tg := newTestGroup(t, HashConsistent, s0, s1, s2)
	retry := map[string][]string{
		"/0": {n0, n2}, "/1": {n2, n1}, "/2": {n1, n2}, "/4": {n0, n2},
		"/5": {n0, n1}, "/6": {n2, n1}, "/7": {n1, n0},
	}
	for k, want := range retry {
		var a Attempt
		a.Reset(tg.Group, AttemptOptions{Key: []byte(k), NextUpstream: NextHTTP404})
		var got []string
		for range 2 {
			p, err := tg.Pick(&a)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, label(p))
			a.Fail(Failure{Cond: CondHTTP404}) // not counted: keeps peers usable
		}
		if got[0] != want[0] || got[1] != want[1] {
			t.Errorf("retry %q: got %v, want %v", k, got, want)
		}
	}

	// The addresses of one host name share its points and alternate.
	two := srv("backend1.example.com:443", []string{"10.0.1.1:443", "10.0.1.2:443"})
	check("host with two addresses", []Server{two, s1, s2}, []string{"/0", "/3", "/4", "/5", "/2"},
		[]string{n0 + "#0", n0 + "#1", n0 + "#0", n0 + "#1", n1})
}

func TestKetamaRing(t *testing.T) {
	g, err := NewGroup(Options{Method: HashConsistent, Servers: []Server{
		srv("backend1.example.com:443", []string{"10.0.1.1:443", "10.0.1.2:443"}),
		srv("backend2.example.com:443", []string{"10.0.2.1:443"}),
		srv("10.0.0.3:8080", []string{"10.0.0.3:8080"}),
	}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	// 3 servers × 160 points; the second address of backend1 duplicates
	// the first one's points, which are dropped.
	if len(g.points) != 480 {
		t.Errorf("%d points, want 480", len(g.points))
	}
	if g.points[0].hash != 0x00e2fb7d || g.points[len(g.points)-1].hash != 0xff77e0d0 {
		t.Errorf("ring ends %#x..%#x", g.points[0].hash, g.points[len(g.points)-1].hash)
	}
	if i := findPoint(g.points, 0xffffffff); i != len(g.points) {
		t.Errorf("findPoint past the end = %d", i)
	}
}

func TestSplitServer(t *testing.T) {
	for _, tt := range []struct{ in, host, port string }{
		{"backend1.example.com:443", "backend1.example.com", "443"},
		{"10.0.0.1", "10.0.0.1", ""},
		{"[::1]:8080", "[::1]", "8080"},
		{"[::1]", "[::1]", ""},
		{"unix:/run/app.sock", "/run/app.sock", ""},
		{"UNIX:/x:80", "/x:80", ""},
		{"host:", "host", ""},
		{"host:http", "host:http", ""},
	} {
		h, p := splitServer(tt.in)
		if h != tt.host || p != tt.port {
			t.Errorf("splitServer(%q) = %q, %q", tt.in, h, p)
		}
	}
}

func TestRandom(t *testing.T) {
	tg := newTestGroup(t, Random, lettered("a", "w=5"), lettered("b"), lettered("c"))
	tg.rnd.vals = []int{6, 0, 5, 4}
	eq(t, tg.seq(4, AttemptOptions{}), []string{"c", "a", "b", "a"})

	// A retry skips the tried peer and draws again.
	tg.rnd.vals, tg.rnd.i = []int{2, 3, 5}, 0
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: NextHTTP404})
	var got []string
	for range 2 {
		p, err := tg.Pick(&a)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, label(p))
		a.Fail(Failure{Cond: CondHTTP404})
	}
	eq(t, got, []string{"a", "b"})

	// Twenty-one draws on a down peer, then round robin.
	d := newTestGroup(t, Random, lettered("a", "w=5", "down"), lettered("b"), lettered("c"))
	d.rnd.vals = []int{0}
	eq(t, d.seq(1, AttemptOptions{}), []string{"b"})
	if d.rnd.i != 21 {
		t.Errorf("%d draws before falling back, want 21", d.rnd.i)
	}
}

func TestRandomTwo(t *testing.T) {
	tg := newTestGroup(t, RandomTwo, lettered("a"), lettered("b"), lettered("c"))
	tg.rnd.vals = []int{0, 0, 1, 1, 2, 1, 0, 0, 1, 2, 1}
	var got []string
	for range 5 {
		_, p := tg.hold(AttemptOptions{})
		got = append(got, p)
	}
	eq(t, got, []string{"b", "c", "a", "b", "c"})
	if tg.rnd.i != 11 {
		t.Errorf("%d draws, want 11", tg.rnd.i)
	}
}

func TestPickErrors(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"))
	other := newTestGroup(t, RoundRobin, lettered("a"))
	var a Attempt
	if _, err := tg.Pick(&a); !errors.Is(err, ErrAttemptState) {
		t.Errorf("unreset attempt: %v", err)
	}
	a.Reset(other.Group, AttemptOptions{})
	if _, err := tg.Pick(&a); !errors.Is(err, ErrAttemptState) {
		t.Errorf("other group's attempt: %v", err)
	}
	a.Reset(tg.Group, AttemptOptions{})
	if _, err := tg.Pick(&a); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Pick(&a); !errors.Is(err, ErrAttemptState) {
		t.Errorf("pick without release: %v", err)
	}
}

func TestNewGroupErrors(t *testing.T) {
	ok := lettered("a")
	for _, tt := range []struct {
		name string
		o    Options
		want error
	}{
		{"empty", Options{Name: "u"}, ErrNoServers},
		{"only backups", Options{Servers: []Server{lettered("x", "backup")}}, ErrNoPrimary},
		{"no addresses", Options{Servers: []Server{{Address: "h"}}}, ErrInvalidServer},
		{"negative weight", Options{Servers: []Server{{Address: "h", Addrs: ok.Addrs, Weight: -1}}}, ErrInvalidServer},
		{"empty unix path", Options{Servers: []Server{{Address: "unix:"}}}, ErrInvalidServer},
		{"invalid address", Options{Servers: []Server{{Address: "h", Addrs: []netip.AddrPort{{}}}}}, ErrInvalidServer},
		{"bad method", Options{Method: 99, Servers: []Server{ok}}, ErrInvalidServer},
	} {
		if _, err := NewGroup(tt.o, Env{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestPeerAddresses(t *testing.T) {
	g, err := NewGroup(Options{Servers: []Server{
		{Address: "unix:/run/app.sock"},
		srv("v6", []string{"[2001:db8::1]:443"}),
		srv("mapped", []string{"[::ffff:10.0.0.9]:80"}),
	}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]string{
		{"unix:/run/app.sock", "unix", "/run/app.sock"},
		{"[2001:db8::1]:443", "tcp", "[2001:db8::1]:443"},
		{"10.0.0.9:80", "tcp", "10.0.0.9:80"},
	}
	for i, p := range g.Peers() {
		if got := [3]string{p.Name(), p.Network(), p.DialAddress()}; got != want[i] {
			t.Errorf("peer %d: %v, want %v", i, got, want[i])
		}
	}
}
