package certs

import (
	"crypto/tls"
	"sync"
)

// sessionCache keeps the most recent TLS session per upstream peer, as
// nginx's proxy_ssl_session_reuse does. One cache belongs to one Upstream
// (one TLS context), so sessions are never shared across a different trust
// store or client certificate; its key is the peer address plus the name
// checked, so they are never shared across names either.
type sessionCache struct {
	mu  sync.Mutex
	m   map[peerKey]*tls.ClientSessionState
	max int
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{m: map[peerKey]*tls.ClientSessionState{}, max: max}
}

func (c *sessionCache) get(key peerKey) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

func (c *sessionCache) put(key peerKey, s *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == nil {
		delete(c.m, key)
		return
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = s
}

func (c *sessionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// peerSessions adapts the shared cache to one peer: crypto/tls keys
// sessions by ServerName when it is set, which would mix the peers of a
// group; this adapter ignores that key and uses the peer's own.
type peerSessions struct {
	c   *sessionCache
	key peerKey
}

// Get implements tls.ClientSessionCache.
func (p *peerSessions) Get(string) (*tls.ClientSessionState, bool) { return p.c.get(p.key) }

// Put implements tls.ClientSessionCache; the latest session replaces the
// previous one.
func (p *peerSessions) Put(_ string, s *tls.ClientSessionState) { p.c.put(p.key, s) }
