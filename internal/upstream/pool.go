package upstream

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// nginx's defaults for the keep-alive settings of an upstream block.
const (
	DefaultKeepaliveRequests = 1000
	DefaultKeepaliveTime     = time.Hour
	DefaultKeepaliveTimeout  = 60 * time.Second
)

// Conn is an upstream connection that can be kept for reuse. It embeds the
// connection it wraps, plain or TLS; a pooled TLS connection keeps its
// session, so reuse needs no handshake.
type Conn struct {
	net.Conn

	peer     *Peer
	scope    string
	created  time.Time
	requests int
	live     *liveness

	// The read and write deadlines last set, kept for the HTTP/1 codec
	// (see KeptDeadlines).
	readDeadline, writeDeadline time.Time

	// Guarded by the pool's lock while idle.
	idleSince  time.Time
	prev, next *Conn // towards the most / least recently used
}

// Peer is the peer the connection goes to.
func (c *Conn) Peer() *Peer { return c.peer }

// Scope is the reuse scope given to [Pool.NewConn].
func (c *Conn) Scope() string { return c.scope }

// Created is when the connection was made, for keepalive_time.
func (c *Conn) Created() time.Time { return c.created }

// Requests is the number of requests completed on the connection.
func (c *Conn) Requests() int { return c.requests }

// KeptDeadlines returns where the HTTP/1 codec records the read and write
// deadlines it last set on the connection (zero: unknown), so that the
// next request over the pooled connection knows them and need not set
// nearly the same ones again. Whoever sets a deadline otherwise must zero
// the record.
func (c *Conn) KeptDeadlines() (read, write *time.Time) { return &c.readDeadline, &c.writeDeadline }

// Pool keeps the idle keep-alive connections of one group, nginx's
// ngx_http_upstream_keepalive_module: at most MaxIdle × Workers idle
// connections in all (see [Keepalive.Workers]), the least recently used
// evicted first, looked up by peer (most recently used first). It is safe
// for concurrent use.
//
// An idle connection is checked just before it is handed out: a
// non-blocking one-byte MSG_PEEK read on its socket (below any TLS layer)
// must find nothing to read. End of file means the upstream closed it;
// bytes mean it sent something unasked (for TLS, typically a close_notify
// alert); either way the connection is closed and the next one is tried, as
// nginx's keepalive close handler does. Lookup is a linear scan from the
// most recently used end, like nginx's; pools hold tens of connections.
//
// Scopes are compared as strings; derive them from the settings they stand
// for (not from pointers) so that connections moved to the next generation
// on reload ([Group.AdoptIdle]) can still be found. Data a TLS layer has already read
// into its own buffer cannot be seen this way; such a connection fails on
// first use, which [Failure.Cached] makes free of charge.
type Pool struct {
	maxIdle     int
	requests    int
	maxAge      time.Duration
	idleTimeout time.Duration
	now         func() time.Time

	mu     sync.Mutex
	head   *Conn // most recently used
	tail   *Conn // least recently used
	n      int
	closed bool

	stats poolCounters
}

// PoolStats counts what a pool did with its connections since it was
// made, for tests, benchmarks and diagnostics. Every connection made is
// counted once in New; every one the pool closed once in one of the
// close reasons.
type PoolStats struct {
	// New is the number of connections made ([Pool.NewConn]); of them,
	// FullHandshakes and Resumed are TLS connections whose handshake was
	// a full one or resumed a session.
	New, FullHandshakes, Resumed int64
	// Reused is the number of idle connections handed out by [Pool.Get].
	Reused int64
	// Kept is the number of connections [Pool.Put] kept.
	Kept int64
	// Evicted were closed because the pool was full (the least recently
	// used one on Put or on reload), Renewed because keepalive_requests or
	// keepalive_time was used up, Expired because they were idle for
	// keepalive_timeout, Dead because the upstream had closed them or
	// sent something unasked, Discarded because the pool was closed,
	// keeps nothing, or was told to close them ([Pool.CloseIdle]).
	Evicted, Renewed, Expired, Dead, Discarded int64
}

type poolCounters struct {
	new, full, resumed, reused, kept           atomic.Int64
	evicted, renewed, expired, dead, discarded atomic.Int64
}

// Stats returns the pool's counters.
func (p *Pool) Stats() PoolStats {
	c := &p.stats
	return PoolStats{
		New: c.new.Load(), FullHandshakes: c.full.Load(), Resumed: c.resumed.Load(),
		Reused: c.reused.Load(), Kept: c.kept.Load(),
		Evicted: c.evicted.Load(), Renewed: c.renewed.Load(), Expired: c.expired.Load(),
		Dead: c.dead.Load(), Discarded: c.discarded.Load(),
	}
}

// MaxIdle is the number of idle connections the pool keeps at most:
// keepalive N times the worker processes it stands for.
func (p *Pool) MaxIdle() int { return p.maxIdle }

// NewPool makes a pool with the given settings and clock (nil means
// time.Now). Groups make their own; see [Group.Pool].
func NewPool(k Keepalive, now func() time.Time) *Pool { return newPool(k, now) }

func newPool(k Keepalive, now func() time.Time) *Pool {
	if now == nil {
		now = time.Now
	}
	p := &Pool{
		maxIdle:     max(k.MaxIdle, 0) * max(k.Workers, 1),
		requests:    k.Requests,
		maxAge:      k.Time,
		idleTimeout: k.Timeout,
		now:         now,
	}
	if p.requests <= 0 {
		p.requests = DefaultKeepaliveRequests
	}
	if p.maxAge <= 0 {
		p.maxAge = DefaultKeepaliveTime
	}
	if p.idleTimeout <= 0 {
		p.idleTimeout = DefaultKeepaliveTimeout
	}
	return p
}

// NewConn wraps a freshly made connection to peer. Scope separates
// connections that must not be shared although they go to the same peer
// (plain and TLS, different TLS settings or server names); use "" when
// there is only one kind.
func (p *Pool) NewConn(peer *Peer, c net.Conn, scope string) *Conn {
	p.stats.new.Add(1)
	if tc, ok := c.(*tls.Conn); ok {
		if tc.ConnectionState().DidResume {
			p.stats.resumed.Add(1)
		} else {
			p.stats.full.Add(1)
		}
	}
	return &Conn{Conn: c, peer: peer, scope: scope, created: p.now(), live: newLiveness(c)}
}

// Get returns an idle connection to peer in scope, or nil. Expired idle
// connections and ones the upstream closed are closed on the way.
func (p *Pool) Get(peer *Peer, scope string) *Conn {
	for {
		p.mu.Lock()
		dead := p.expireLocked(p.now())
		var found *Conn
		for c := p.head; c != nil; c = c.next {
			if c.peer == peer && c.scope == scope {
				p.unlinkLocked(c)
				found = c
				break
			}
		}
		p.mu.Unlock()
		p.stats.expired.Add(int64(closeChain(dead)))
		if found == nil {
			return nil
		}
		if found.live.alive() {
			p.stats.reused.Add(1)
			return found
		}
		p.stats.dead.Add(1)
		found.Conn.Close()
	}
}

// Put offers c back after a completed request whose connection may be kept
// (keep-alive response, fully read; whole request sent). It counts the
// request, then keeps c unless keepalive_requests or keepalive_time is used
// up, keepalive is off, or the pool is closed, in which case c is closed.
// It reports whether c was kept. When the pool is full the least recently
// used idle connection is closed.
func (p *Pool) Put(c *Conn) bool {
	if c == nil {
		return false
	}
	c.requests++
	now := p.now()
	p.mu.Lock()
	if p.closed || p.maxIdle == 0 || c.requests >= p.requests || now.Sub(c.created) > p.maxAge {
		closed := p.closed || p.maxIdle == 0
		p.mu.Unlock()
		if closed {
			p.stats.discarded.Add(1)
		} else {
			p.stats.renewed.Add(1)
		}
		c.Conn.Close()
		return false
	}
	var evicted *Conn
	if p.n >= p.maxIdle {
		evicted = p.tail
		p.unlinkLocked(evicted)
		evicted.next = nil
	}
	c.idleSince = now
	p.pushLocked(c)
	p.mu.Unlock()
	p.stats.kept.Add(1)
	p.stats.evicted.Add(int64(closeChain(evicted)))
	return true
}

// Len is the number of idle connections.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// Sweep closes idle connections that have been idle for keepalive_timeout
// or were closed by the upstream, and returns how many it closed. Expired
// connections are also closed lazily by [Pool.Get]; Sweep is for a periodic
// timer.
func (p *Pool) Sweep() int {
	p.mu.Lock()
	expired := p.expireLocked(p.now())
	var dead *Conn
	for c := p.head; c != nil; {
		next := c.next
		if !c.live.alive() {
			p.unlinkLocked(c)
			c.next = dead
			dead = c
		}
		c = next
	}
	p.mu.Unlock()
	ne, nd := closeChain(expired), closeChain(dead)
	p.stats.expired.Add(int64(ne))
	p.stats.dead.Add(int64(nd))
	return ne + nd
}

// CloseIdle closes the idle connections to peers for which remove is true,
// for peers gone after a reload.
func (p *Pool) CloseIdle(remove func(*Peer) bool) int {
	var dead *Conn
	p.mu.Lock()
	for c := p.head; c != nil; {
		next := c.next
		if remove(c.peer) {
			p.unlinkLocked(c)
			c.next = dead
			dead = c
		}
		c = next
	}
	p.mu.Unlock()
	n := closeChain(dead)
	p.stats.discarded.Add(int64(n))
	return n
}

// CloseAll closes every idle connection; connections offered later by
// [Pool.Put] are closed too. For shutdown; on reload [Group.AdoptIdle] and
// [CarryOver] close old pools themselves.
func (p *Pool) CloseAll() int {
	p.mu.Lock()
	p.closed = true
	dead := p.head
	p.head, p.tail, p.n = nil, nil, 0
	p.mu.Unlock()
	n := closeChain(dead)
	p.stats.discarded.Add(int64(n))
	return n
}

// handOver closes p and moves its idle connections to next, re-pointed to
// the peer successor returns; those without a successor are closed. The
// connections keep their age, request count and idle time, and next's
// limits apply as for [Pool.Put].
func (p *Pool) handOver(next *Pool, successor func(*Peer) *Peer) {
	p.mu.Lock()
	p.closed = true
	tail := p.tail
	p.head, p.tail, p.n = nil, nil, 0
	p.mu.Unlock()

	var dead *Conn
	// From least to most recently used, so the order is kept.
	for c := tail; c != nil; {
		prev := c.prev
		c.prev, c.next = nil, nil
		if np := successor(c.peer); np != nil && next != p {
			c.peer = np
			if evicted := next.adopt(c); evicted != nil {
				evicted.next = dead
				dead = evicted
			}
		} else {
			c.next = dead
			dead = c
		}
		c = prev
	}
	p.stats.discarded.Add(int64(closeChain(dead)))
}

// adopt puts an idle connection at the head of p without counting a
// request, and returns a connection to close (c itself if p keeps nothing,
// or the evicted least recently used one).
func (p *Pool) adopt(c *Conn) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.maxIdle == 0 {
		return c
	}
	var evicted *Conn
	if p.n >= p.maxIdle {
		evicted = p.tail
		p.unlinkLocked(evicted)
	}
	p.pushLocked(c)
	return evicted
}

func (p *Pool) pushLocked(c *Conn) {
	c.prev = nil
	c.next = p.head
	if p.head != nil {
		p.head.prev = c
	}
	p.head = c
	if p.tail == nil {
		p.tail = c
	}
	p.n++
}

// expireLocked unlinks the idle connections older than keepalive_timeout
// (all at the tail, since the list is ordered by last use) and returns them
// chained through next.
func (p *Pool) expireLocked(now time.Time) *Conn {
	var dead *Conn
	for c := p.tail; c != nil && now.Sub(c.idleSince) >= p.idleTimeout; c = p.tail {
		p.unlinkLocked(c)
		c.next = dead
		dead = c
	}
	return dead
}

func (p *Pool) unlinkLocked(c *Conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		p.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		p.tail = c.prev
	}
	c.prev, c.next = nil, nil
	p.n--
}

// closeChain closes connections chained through next and counts them.
func closeChain(c *Conn) int {
	n := 0
	for c != nil {
		next := c.next
		c.next, c.prev = nil, nil
		c.Conn.Close()
		c = next
		n++
	}
	return n
}
