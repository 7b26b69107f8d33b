package upstream

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Method is a group's load-balancing method, as chosen by the balancing
// directive of an upstream block (none means round robin).
type Method uint8

// The balancing methods nginx 1.28 offers without commercial modules.
const (
	// RoundRobin is nginx's smooth weighted round robin (no directive).
	RoundRobin Method = iota
	// LeastConn is "least_conn".
	LeastConn
	// IPHash is "ip_hash".
	IPHash
	// Hash is "hash KEY" (Cache::Memcached-compatible).
	Hash
	// HashConsistent is "hash KEY consistent" (ketama).
	HashConsistent
	// Random is "random".
	Random
	// RandomTwo is "random two" and "random two least_conn", which are the
	// same method in nginx: of two random peers, the one with fewer
	// connections per weight.
	RandomTwo
)

var methodNames = [...]string{
	RoundRobin:     "round_robin",
	LeastConn:      "least_conn",
	IPHash:         "ip_hash",
	Hash:           "hash",
	HashConsistent: "hash consistent",
	Random:         "random",
	RandomTwo:      "random two least_conn",
}

// String returns the method as an upstream block would spell it.
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Defaults of the server directive's parameters, for callers that build
// [Server] values without a config file (implicit upstreams, tests).
const (
	DefaultWeight      = 1
	DefaultMaxFails    = 1
	DefaultFailTimeout = 10 * time.Second
)

// Server is one server directive of an upstream block, with its address
// already resolved. Values are taken as given: the config package applies
// nginx's defaults ([DefaultMaxFails], [DefaultFailTimeout]); only a zero
// Weight is read as 1.
type Server struct {
	// Address is the address text as written in the directive, for example
	// "backend1.example.com:443", "10.0.0.1" or "unix:/run/app.sock". It is
	// the ketama server string of "hash ... consistent".
	Address string
	// Addrs are the resolved addresses; each becomes one peer sharing the
	// parameters below. Ignored for "unix:" addresses.
	Addrs []netip.AddrPort
	// Weight is weight=N (≥ 1; 0 means 1).
	Weight int
	// MaxFails is max_fails=N; 0 disables failure accounting.
	MaxFails int
	// FailTimeout is fail_timeout=T, used in whole seconds.
	FailTimeout time.Duration
	// MaxConns is max_conns=N; 0 means unlimited.
	MaxConns int
	// Backup is the backup flag.
	Backup bool
	// Down is the down flag.
	Down bool
}

// Keepalive holds the keep-alive settings of an upstream block. Zero
// Requests, Time and Timeout mean nginx's defaults (1000, 1h, 60s).
type Keepalive struct {
	// MaxIdle is "keepalive N": idle connections kept per group and worker
	// process; 0 disables caching ("defaults secure" makes it 32, see
	// defaults.md).
	MaxIdle int
	// Workers is the number of nginx worker processes the one gatehouse
	// process stands for (worker_processes; "auto" is the number of
	// CPUs); 0 means 1. nginx keeps up to N idle connections in each
	// worker, so the pool keeps up to MaxIdle × Workers.
	Workers int
	// Requests is keepalive_requests.
	Requests int
	// Time is keepalive_time, the maximum age of a reused connection.
	Time time.Duration
	// Timeout is keepalive_timeout, how long a connection may stay idle.
	Timeout time.Duration
}

// Options describe one upstream group.
type Options struct {
	// Name is the group name ($upstream_addr when no peer is live).
	Name string
	// Method is the balancing method.
	Method Method
	// Servers are the server directives in configuration order.
	Servers []Server
	// Keepalive configures the group's idle connection pool.
	Keepalive Keepalive
}

// Rand is the random source of the random methods; *rand.Rand from
// math/rand/v2 satisfies it. It is called with the group's lock held.
type Rand interface {
	IntN(n int) int
}

// Env carries a group's dependencies. The zero value uses the wall clock,
// math/rand/v2's global source and no notifications.
type Env struct {
	// Now is the clock used for failure accounting and keep-alive expiry.
	Now func() time.Time
	// Rand is the random source of the random methods.
	Rand Rand
	// Disabled, if set, is called (without locks held) each time a failure
	// makes a peer reach max_fails, where nginx logs
	// "[warn] upstream server temporarily disabled".
	Disabled func(g *Group, p *Peer)
}

type globalRand struct{}

func (globalRand) IntN(n int) int { return rand.IntN(n) }

// Errors returned when a group cannot be built.
var (
	// ErrNoServers means the group has no server directive
	// (nginx: "no servers are inside upstream").
	ErrNoServers = errors.New("no servers are inside upstream")
	// ErrNoPrimary means every server is a backup
	// (nginx: "no servers in upstream").
	ErrNoPrimary = errors.New("no servers in upstream")
	// ErrInvalidServer means a server's parameters or addresses are unusable.
	ErrInvalidServer = errors.New("invalid server")
)

// ErrNoLiveUpstreams is returned by [Group.Pick] when no peer is usable for
// the request; nginx logs "no live upstreams while connecting to upstream",
// answers 502 and sets $upstream_addr to the group name.
var ErrNoLiveUpstreams = errors.New("no live upstreams")

// Outcome is what a finished attempt tells the group about its peer.
type Outcome uint8

const (
	// OutcomeSuccess: the peer answered (including 403/404 and any status
	// passed to the client), or the failure is not the peer's fault.
	OutcomeSuccess Outcome = iota
	// OutcomeFailure: error, timeout, invalid header, or a listed status
	// that led to a retry. It counts towards max_fails.
	OutcomeFailure
)

// Peer is one resolved address of a server directive. Its parameters never
// change; its balancing and health state is guarded by its group's lock.
type Peer struct {
	group    *Group
	index    int // position in its set (primary or backup): the tried bit
	backup   bool
	name     string // "10.0.0.1:80", "[::1]:443", "unix:/path"
	network  string // "tcp" or "unix"
	dial     string // what net.Dial takes
	addr     netip.AddrPort
	server   string // Server.Address
	serverID int32  // equal for equal server strings (ketama)

	weight      int
	maxFails    int
	failTimeout int64 // seconds
	maxConns    int
	down        bool

	// Guarded by group.mu.
	effectiveWeight int
	currentWeight   int
	conns           int
	fails           int
	accessed        int64 // Unix seconds
	checked         int64 // Unix seconds
}

// Name is the peer's address as nginx prints it in $upstream_addr and logs:
// "10.0.0.1:80", "[2001:db8::1]:443" or "unix:/run/app.sock".
func (p *Peer) Name() string { return p.name }

// Network is "tcp" or "unix", for net.Dial.
func (p *Peer) Network() string { return p.network }

// DialAddress is the address to pass to net.Dial with [Peer.Network].
func (p *Peer) DialAddress() string { return p.dial }

// AddrPort is the peer's TCP address; invalid for a UNIX socket.
func (p *Peer) AddrPort() netip.AddrPort { return p.addr }

// Server is the server directive's address text the peer comes from.
func (p *Peer) Server() string { return p.server }

// Weight is the configured weight.
func (p *Peer) Weight() int { return p.weight }

// Backup reports whether the peer belongs to the backup set.
func (p *Peer) Backup() bool { return p.backup }

// Down reports whether the peer is marked down.
func (p *Peer) Down() bool { return p.down }

// Group is the group the peer belongs to.
func (p *Peer) Group() *Group { return p.group }

// PeerState is a snapshot of a peer's balancing and health state (§9.2).
type PeerState struct {
	EffectiveWeight int
	CurrentWeight   int
	Conns           int
	Fails           int
	Accessed        int64 // Unix seconds of the last failure
	Checked         int64 // Unix seconds of the last failure or new probe window
}

// State returns a snapshot of the peer's state.
func (p *Peer) State() PeerState {
	g := p.group
	g.mu.Lock()
	defer g.mu.Unlock()
	return PeerState{
		EffectiveWeight: p.effectiveWeight,
		CurrentWeight:   p.currentWeight,
		Conns:           p.conns,
		Fails:           p.fails,
		Accessed:        p.accessed,
		Checked:         p.checked,
	}
}

// chashPoint is one point of the ketama ring.
type chashPoint struct {
	hash   uint32
	server int32
}

// Group is one upstream group of one configuration generation. It is safe
// for concurrent use.
type Group struct {
	name   string
	method Method

	primary []Peer
	backup  []Peer
	all     []*Peer

	single      bool // one primary peer and no backup: never fails (§9.1)
	totalWeight int  // primary weights, down peers included
	tries       int  // non-down primary + backup peers
	maxSet      int  // size of the larger set, for the tried bitset

	points []chashPoint // hash consistent
	ranges []int        // random: starting offset of each primary's range

	now      func() time.Time
	rnd      Rand
	disabled func(*Group, *Peer)

	pool *Pool

	mu sync.Mutex
}

// NewGroup builds a group from its options. Errors wrap [ErrNoServers],
// [ErrNoPrimary] or [ErrInvalidServer].
func NewGroup(o Options, env Env) (*Group, error) {
	g := &Group{
		name:     o.Name,
		method:   o.Method,
		now:      env.Now,
		rnd:      env.Rand,
		disabled: env.Disabled,
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.rnd == nil {
		g.rnd = globalRand{}
	}
	if o.Method > RandomTwo {
		return nil, fmt.Errorf("upstream %q: unknown balancing method %d: %w", o.Name, o.Method, ErrInvalidServer)
	}
	if len(o.Servers) == 0 {
		return nil, fmt.Errorf("upstream %q: %w", o.Name, ErrNoServers)
	}

	serverIDs := map[string]int32{}
	var nPrimary, nBackup int
	for i := range o.Servers {
		s := &o.Servers[i]
		if s.Weight < 0 || s.MaxFails < 0 || s.MaxConns < 0 || s.FailTimeout < 0 {
			return nil, fmt.Errorf("upstream %q: server %q: negative parameter: %w", o.Name, s.Address, ErrInvalidServer)
		}
		n := len(s.Addrs)
		if isUnix(s.Address) {
			if len(s.Address) == len("unix:") {
				return nil, fmt.Errorf("upstream %q: server %q: empty socket path: %w", o.Name, s.Address, ErrInvalidServer)
			}
			n = 1
		} else {
			for _, a := range s.Addrs {
				if !a.IsValid() {
					return nil, fmt.Errorf("upstream %q: server %q: invalid address: %w", o.Name, s.Address, ErrInvalidServer)
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("upstream %q: server %q: no addresses: %w", o.Name, s.Address, ErrInvalidServer)
		}
		if s.Backup {
			nBackup += n
		} else {
			nPrimary += n
		}
		if _, ok := serverIDs[s.Address]; !ok {
			serverIDs[s.Address] = int32(len(serverIDs))
		}
	}
	if nPrimary == 0 {
		return nil, fmt.Errorf("upstream %q: %w", o.Name, ErrNoPrimary)
	}

	g.primary = make([]Peer, 0, nPrimary)
	g.backup = make([]Peer, 0, nBackup)
	for i := range o.Servers {
		s := &o.Servers[i]
		set := &g.primary
		if s.Backup {
			set = &g.backup
		}
		base := Peer{
			group:       g,
			backup:      s.Backup,
			server:      s.Address,
			serverID:    serverIDs[s.Address],
			weight:      max(s.Weight, 1),
			maxFails:    s.MaxFails,
			failTimeout: int64(s.FailTimeout / time.Second),
			maxConns:    s.MaxConns,
			down:        s.Down,
		}
		base.effectiveWeight = base.weight
		if isUnix(s.Address) {
			p := base
			p.index = len(*set)
			p.network = "unix"
			p.dial = s.Address[len("unix:"):]
			p.name = "unix:" + p.dial
			*set = append(*set, p)
			continue
		}
		for _, a := range s.Addrs {
			p := base
			p.index = len(*set)
			p.network = "tcp"
			p.addr = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
			p.dial = p.addr.String()
			p.name = p.dial
			*set = append(*set, p)
		}
	}

	g.all = make([]*Peer, 0, nPrimary+nBackup)
	for i := range g.primary {
		p := &g.primary[i]
		g.all = append(g.all, p)
		g.totalWeight += p.weight
		if !p.down {
			g.tries++
		}
	}
	for i := range g.backup {
		p := &g.backup[i]
		g.all = append(g.all, p)
		if !p.down {
			g.tries++
		}
	}
	g.single = len(g.primary) == 1 && len(g.backup) == 0
	g.maxSet = max(len(g.primary), len(g.backup))

	switch g.method {
	case HashConsistent:
		g.points = buildPoints(g.primary, g.totalWeight)
	case Random, RandomTwo:
		g.ranges = make([]int, len(g.primary))
		total := 0
		for i := range g.primary {
			g.ranges[i] = total
			total += g.primary[i].weight
		}
	}

	g.pool = newPool(o.Keepalive, g.now)
	return g, nil
}

func isUnix(address string) bool {
	return len(address) >= 5 && strings.EqualFold(address[:5], "unix:")
}

// Name is the group's name.
func (g *Group) Name() string { return g.name }

// Method is the group's balancing method.
func (g *Group) Method() Method { return g.method }

// Peers lists all peers, primaries first, in configuration order. The
// slice is shared and must not be modified.
func (g *Group) Peers() []*Peer { return g.all }

// Pool is the group's keep-alive pool of idle connections. It is never nil;
// with keepalive off it keeps nothing.
func (g *Group) Pool() *Pool { return g.pool }

// Tries is the number of attempts a request may make before
// proxy_next_upstream_tries caps it: non-down primary plus backup peers.
func (g *Group) Tries() int { return g.tries }

// splitServer splits a server string the way nginx's ketama does: at the
// last ':' when only digits follow; "unix:" addresses have no port.
func splitServer(s string) (host, port string) {
	if isUnix(s) {
		return s[5:], ""
	}
	for j := 0; j < len(s); j++ {
		c := s[len(s)-j-1]
		if c == ':' {
			return s[:len(s)-j-1], s[len(s)-j:]
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return s, ""
}

// buildPoints builds the ketama ring: 160 points per weight unit for every
// primary peer (down ones included, so mappings stay put), over
// crc32(host "\0" port prev_hash), sorted, duplicates dropped.
func buildPoints(peers []Peer, totalWeight int) []chashPoint {
	points := make([]chashPoint, 0, totalWeight*160)
	for i := range peers {
		p := &peers[i]
		host, port := splitServer(p.server)
		base := crc32.ChecksumIEEE([]byte(host))
		base = crc32.Update(base, crc32.IEEETable, []byte{0})
		base = crc32.Update(base, crc32.IEEETable, []byte(port))
		var prev [4]byte
		for range p.weight * 160 {
			h := crc32.Update(base, crc32.IEEETable, prev[:])
			points = append(points, chashPoint{hash: h, server: p.serverID})
			prev = [4]byte{byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24)}
		}
	}
	slices.SortStableFunc(points, func(a, b chashPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	out := points[:0]
	for i, pt := range points {
		if i > 0 && pt.hash == out[len(out)-1].hash {
			continue
		}
		out = append(out, pt)
	}
	return slices.Clip(out)
}

// findPoint returns the index of the first point whose hash is ≥ h; it may
// equal len(points), which wraps when used modulo the ring size.
func findPoint(points []chashPoint, h uint32) int {
	i, j := 0, len(points)
	for i < j {
		k := int(uint(i+j) >> 1)
		switch {
		case h > points[k].hash:
			i = k + 1
		case h < points[k].hash:
			j = k
		default:
			return k
		}
	}
	return i
}

// nowSec is the injected clock in whole seconds, nginx's ngx_time().
func (g *Group) nowSec() int64 { return g.now().Unix() }

// Report releases p, picked earlier by [Group.Pick], and applies nginx's
// passive health accounting (§9.2). It reports whether the failure made the
// peer reach max_fails ("upstream server temporarily disabled"). Callers
// using an [Attempt] use [Attempt.Fail] and [Attempt.Done] instead.
func (g *Group) Report(p *Peer, o Outcome) (disabled bool) {
	if p == nil || p.group != g {
		return false
	}
	var now int64
	if o == OutcomeFailure && !g.single {
		now = g.nowSec() // only failures are timestamped
	}
	g.mu.Lock()
	if p.conns > 0 {
		p.conns--
	}
	if g.single {
		// A lone peer is never marked unavailable.
		g.mu.Unlock()
		return false
	}
	if o == OutcomeFailure {
		p.fails++
		p.accessed = now
		p.checked = now
		if p.maxFails > 0 {
			p.effectiveWeight -= p.weight / p.maxFails
			disabled = p.fails >= p.maxFails
		}
		if p.effectiveWeight < 0 {
			p.effectiveWeight = 0
		}
	} else if p.accessed < p.checked {
		p.fails = 0
	}
	g.mu.Unlock()
	if disabled && g.disabled != nil {
		g.disabled(g, p)
	}
	return disabled
}

// CarryFrom copies passive health state from old, the same group (by name)
// of the previous configuration generation, to the peers present in both
// (matched by address), and closes old's idle connections to peers g no
// longer has. It leaves everything else of old alone, so it is safe to call
// while the new generation is still being built and may yet be dropped;
// once it is committed, [Group.AdoptIdle] moves the remaining idle
// connections. In-flight connection counts stay with old.
func (g *Group) CarryFrom(old *Group) {
	if old == nil || old == g {
		return
	}
	byName := g.peersByName()
	type carried struct {
		to                *Peer
		eff, fails        int
		accessed, checked int64
	}
	var moves []carried
	old.mu.Lock()
	for _, op := range old.all {
		if np, ok := byName[op.name]; ok {
			moves = append(moves, carried{np, op.effectiveWeight, op.fails, op.accessed, op.checked})
		}
	}
	old.mu.Unlock()

	g.mu.Lock()
	for _, m := range moves {
		m.to.effectiveWeight = min(m.eff, m.to.weight)
		m.to.fails = m.fails
		m.to.accessed = m.accessed
		m.to.checked = m.checked
	}
	g.mu.Unlock()

	old.pool.CloseIdle(func(p *Peer) bool {
		_, kept := byName[p.name]
		return !kept
	})
}

// AdoptIdle moves old's idle keep-alive connections to peers g also has
// (matched by address) into g's pool, keeping their age and request count,
// closes the others, and closes old's pool, so that connections old's
// in-flight requests release later are closed rather than kept. Call it
// when the generation of g replaces that of old.
func (g *Group) AdoptIdle(old *Group) {
	if old == nil || old == g {
		return
	}
	byName := g.peersByName()
	old.pool.handOver(g.pool, func(p *Peer) *Peer { return byName[p.name] })
}

func (g *Group) peersByName() map[string]*Peer {
	byName := make(map[string]*Peer, len(g.all))
	for _, p := range g.all {
		if _, ok := byName[p.name]; !ok {
			byName[p.name] = p
		}
	}
	return byName
}

// CarryOver hands a committed reload over: it applies [Group.CarryFrom]
// and [Group.AdoptIdle] to the groups of two generations, pairing them by
// name case-insensitively (nginx's upstream name lookup), and closes the
// pools of old groups that have no successor.
func CarryOver(old, next []*Group) {
	byName := make(map[string]*Group, len(next))
	for _, g := range next {
		byName[strings.ToLower(g.name)] = g
	}
	for _, o := range old {
		if g, ok := byName[strings.ToLower(o.name)]; ok {
			g.CarryFrom(o)
			g.AdoptIdle(o)
		} else {
			o.pool.CloseAll()
		}
	}
}
