package upstream

import (
	"hash/crc32"
	"strconv"
)

// The balancers below follow nginx 1.28's ngx_http_upstream_round_robin.c,
// ngx_http_upstream_least_conn_module.c, ngx_http_upstream_ip_hash_module.c,
// ngx_http_upstream_hash_module.c and ngx_http_upstream_random_module.c step
// for step, including their per-request state and their fallbacks to round
// robin. They run with g.mu held and allocate nothing.

// maxHashTries is nginx's limit of unsuccessful hash/random probes before a
// request falls back to round robin.
const maxHashTries = 20

// Pick chooses the next peer for the request a, which must have been reset
// for g, and counts a connection to it. It returns [ErrNoLiveUpstreams]
// when no peer is usable. The peer must be released with [Attempt.Fail] or
// [Attempt.Done] (or [Group.Report]) before the next Pick.
func (g *Group) Pick(a *Attempt) (*Peer, error) {
	if a.g != g || a.current != nil {
		return nil, ErrAttemptState
	}
	var now int64
	if !g.single || a.backup || g.method != RoundRobin {
		// A lone round-robin peer's pick does not look at the clock.
		now = g.nowSec()
	}
	g.mu.Lock()
	var p *Peer
	switch g.method {
	case LeastConn:
		p = g.pickLeastConn(a, now)
	case IPHash:
		p = g.pickIPHash(a, now)
	case Hash:
		p = g.pickHash(a, now)
	case HashConsistent:
		p = g.pickConsistent(a, now)
	case Random:
		p = g.pickRandom(a, now)
	case RandomTwo:
		p = g.pickRandomTwo(a, now)
	default:
		p = g.pickRoundRobin(a, now)
	}
	if p != nil {
		p.conns++
	}
	g.mu.Unlock()
	if p == nil {
		return nil, ErrNoLiveUpstreams
	}
	a.current = p
	return p, nil
}

// set is the peer set the request currently draws from.
func (g *Group) set(a *Attempt) []Peer {
	if a.backup {
		return g.backup
	}
	return g.primary
}

// usable is the per-request "skip" predicate: not tried by this request, not
// down, not failed within fail_timeout, not at max_conns.
func (a *Attempt) usable(p *Peer, now int64) bool {
	return !a.isTried(p.index) && healthy(p, now)
}

// healthy is usable without the tried check.
func healthy(p *Peer, now int64) bool {
	if p.down {
		return false
	}
	if p.maxFails > 0 && p.fails >= p.maxFails && now-p.checked <= p.failTimeout {
		return false
	}
	if p.maxConns > 0 && p.conns >= p.maxConns {
		return false
	}
	return true
}

// selected does the bookkeeping every balancer does on its choice.
func (a *Attempt) selected(p *Peer, now int64) *Peer {
	a.setTried(p.index)
	if now-p.checked > p.failTimeout {
		p.checked = now
	}
	return p
}

// switchToBackup moves the request to the backup set, if there is one and
// it is not there already, clearing the tried bitset (nginx's "failed:").
func (g *Group) switchToBackup(a *Attempt) bool {
	if a.backup || len(g.backup) == 0 {
		return false
	}
	a.backup = true
	a.clearTried()
	return true
}

// pickRoundRobin is ngx_http_upstream_get_round_robin_peer.
func (g *Group) pickRoundRobin(a *Attempt, now int64) *Peer {
	for {
		if !a.backup && g.single {
			// The lone peer: only down and max_conns make it unusable, and
			// it is neither marked tried nor re-probed.
			p := &g.primary[0]
			if p.down || (p.maxConns > 0 && p.conns >= p.maxConns) {
				return nil
			}
			return p
		}
		if p := g.smooth(g.set(a), a, now); p != nil {
			return p
		}
		if !g.switchToBackup(a) {
			return nil
		}
	}
}

// smooth is ngx_http_upstream_get_peer: one step of smooth weighted round
// robin over the usable peers of set.
func (g *Group) smooth(set []Peer, a *Attempt, now int64) *Peer {
	var best *Peer
	total := 0
	for i := range set {
		p := &set[i]
		if !a.usable(p, now) {
			continue
		}
		p.currentWeight += p.effectiveWeight
		total += p.effectiveWeight
		if p.effectiveWeight < p.weight {
			p.effectiveWeight++
		}
		if best == nil || p.currentWeight > best.currentWeight {
			best = p
		}
	}
	if best == nil {
		return nil
	}
	best.currentWeight -= total
	return a.selected(best, now)
}

// pickLeastConn is ngx_http_upstream_get_least_conn_peer.
func (g *Group) pickLeastConn(a *Attempt, now int64) *Peer {
	for {
		if !a.backup && g.single {
			return g.pickRoundRobin(a, now)
		}
		set := g.set(a)
		var best *Peer
		many := false
		for i := range set {
			p := &set[i]
			if !a.usable(p, now) {
				continue
			}
			if best == nil || p.conns*best.weight < best.conns*p.weight {
				best = p
				many = false
			} else if p.conns*best.weight == best.conns*p.weight {
				many = true
			}
		}
		if best != nil {
			total := 0
			if many {
				for i := best.index; i < len(set); i++ {
					p := &set[i]
					if a.isTried(i) || p.down {
						continue
					}
					if p.conns*best.weight != best.conns*p.weight {
						continue
					}
					if !healthy(p, now) {
						continue
					}
					p.currentWeight += p.effectiveWeight
					total += p.effectiveWeight
					if p.effectiveWeight < p.weight {
						p.effectiveWeight++
					}
					if p.currentWeight > best.currentWeight {
						best = p
					}
				}
			}
			best.currentWeight -= total
			return a.selected(best, now)
		}
		if !g.switchToBackup(a) {
			return nil
		}
	}
}

// weightedIndex walks the primaries subtracting weights until w falls in
// one: the mapping of ip_hash and the generic hash.
func (g *Group) weightedIndex(w int) *Peer {
	i := 0
	for w >= g.primary[i].weight {
		w -= g.primary[i].weight
		i++
	}
	return &g.primary[i]
}

// pickIPHash is ngx_http_upstream_get_ip_hash_peer.
func (g *Group) pickIPHash(a *Attempt, now int64) *Peer {
	if a.htries > maxHashTries || len(g.primary) < 2 {
		return g.pickRoundRobin(a, now)
	}
	hash := a.hash
	key := a.ip[:a.ipLen]
	for {
		for _, b := range key {
			hash = (hash*113 + uint32(b)) % 6271
		}
		p := g.weightedIndex(int(hash % uint32(g.totalWeight)))
		if a.usable(p, now) {
			a.hash = hash
			return a.selected(p, now)
		}
		a.htries++
		if a.htries > maxHashTries {
			return g.pickRoundRobin(a, now)
		}
	}
}

// pickHash is ngx_http_upstream_get_hash_peer (Cache::Memcached-compatible).
func (g *Group) pickHash(a *Attempt, now int64) *Peer {
	if a.htries > maxHashTries || len(g.primary) < 2 || len(a.key) == 0 {
		return g.pickRoundRobin(a, now)
	}
	for {
		var crc uint32
		if a.rehash > 0 {
			crc = crc32.Update(0, crc32.IEEETable, strconv.AppendUint(a.num[:0], a.rehash, 10))
		}
		crc = crc32.Update(crc, crc32.IEEETable, a.key)
		a.hash += (crc >> 16) & 0x7fff
		a.rehash++
		p := g.weightedIndex(int(a.hash % uint32(g.totalWeight)))
		if a.usable(p, now) {
			return a.selected(p, now)
		}
		a.htries++
		if a.htries > maxHashTries {
			return g.pickRoundRobin(a, now)
		}
	}
}

// pickConsistent is ngx_http_upstream_get_chash_peer (ketama).
func (g *Group) pickConsistent(a *Attempt, now int64) *Peer {
	if a.htries > maxHashTries || g.single || len(a.key) == 0 {
		return g.pickRoundRobin(a, now)
	}
	if !a.pointSet {
		a.hash = uint32(findPoint(g.points, crc32.ChecksumIEEE(a.key)))
		a.pointSet = true
	}
	for {
		server := g.points[a.hash%uint32(len(g.points))].server
		var best *Peer
		total := 0
		for i := range g.primary {
			p := &g.primary[i]
			if p.serverID != server || !a.usable(p, now) {
				continue
			}
			p.currentWeight += p.effectiveWeight
			total += p.effectiveWeight
			if p.effectiveWeight < p.weight {
				p.effectiveWeight++
			}
			if best == nil || p.currentWeight > best.currentWeight {
				best = p
			}
		}
		if best != nil {
			best.currentWeight -= total
			return a.selected(best, now)
		}
		a.hash++
		a.htries++
		if a.htries > maxHashTries {
			return g.pickRoundRobin(a, now)
		}
	}
}

// peekRandom is ngx_http_upstream_peek_random_peer: a weighted random
// primary, down peers included.
func (g *Group) peekRandom() *Peer {
	x := g.rnd.IntN(g.totalWeight)
	i, j := 0, len(g.primary)
	for j-i > 1 {
		k := (i + j) / 2
		if x < g.ranges[k] {
			j = k
		} else {
			i = k
		}
	}
	return &g.primary[i]
}

// pickRandom is ngx_http_upstream_get_random_peer.
func (g *Group) pickRandom(a *Attempt, now int64) *Peer {
	if a.htries > maxHashTries || len(g.primary) < 2 {
		return g.pickRoundRobin(a, now)
	}
	for {
		p := g.peekRandom()
		if a.usable(p, now) {
			return a.selected(p, now)
		}
		a.htries++
		if a.htries > maxHashTries {
			return g.pickRoundRobin(a, now)
		}
	}
}

// pickRandomTwo is ngx_http_upstream_get_random2_peer: two distinct usable
// random peers, the one with fewer connections per weight wins (ties go to
// the second).
func (g *Group) pickRandomTwo(a *Attempt, now int64) *Peer {
	if a.htries > maxHashTries || len(g.primary) < 2 {
		return g.pickRoundRobin(a, now)
	}
	var prev *Peer
	for {
		p := g.peekRandom()
		if p != prev && a.usable(p, now) {
			if prev != nil {
				if p.conns*prev.weight > prev.conns*p.weight {
					p = prev
				}
				return a.selected(p, now)
			}
			prev = p
		}
		a.htries++
		if a.htries > maxHashTries {
			return g.pickRoundRobin(a, now)
		}
	}
}
