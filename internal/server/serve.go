package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/request"
	"gatehouse/internal/route"
)

// Server owns the listening sockets of the process and the current
// Runtime. Sockets stay open across reloads; connections are served by the
// generation that was current when they were accepted.
type Server struct {
	log *errorlog.Logger

	mu        sync.Mutex
	listeners map[string]net.Listener
	// applied are the listen parameters each open socket was last
	// configured with.
	applied map[string]config.ListenOptions
	old     []*Runtime // generations still finishing their requests
	closed  bool

	rt     atomic.Pointer[Runtime]
	accept sync.WaitGroup
	done   chan struct{} // closed by Shutdown; stops the pool sweeper
}

// New returns a Server that logs to log.
func New(log *errorlog.Logger) *Server {
	return &Server{log: log, listeners: map[string]net.Listener{}, applied: map[string]config.ListenOptions{}, done: make(chan struct{})}
}

// sweepEvery is how often idle upstream connections past their
// keepalive_timeout are closed (they are also checked before reuse).
const sweepEvery = 5 * time.Second

// sweep closes expired idle upstream connections of the current
// generation until Shutdown.
// It also repeats the certificate expiry warnings once a day (by the
// generation's clock; Build gave them when the generation was made).
func (s *Server) sweep() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	var warned *Runtime
	var lastWarn time.Time
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if rt := s.rt.Load(); rt != nil {
				for _, g := range rt.groups {
					g.Pool().Sweep()
				}
				now := rt.env.Now()
				if rt != warned {
					warned, lastWarn = rt, now
				} else if now.Sub(lastWarn) >= expiryCheckEvery {
					lastWarn = now
					rt.WarnExpiring(s.log, now)
				}
			}
		}
	}
}

// Listen binds every socket rt needs that is not open yet. It is the
// step that can fail with nginx's "bind() to ADDR failed" message; then
// the sockets it opened are closed again, so that a failed reload leaves
// no socket bound with nobody accepting on it. Once all are open, each
// is configured with its listen parameters, the sockets kept from the
// previous generation too (as nginx does on reload); ipv6only and
// reuseport act before bind() only, so a kept socket keeps them.
func (s *Server) Listen(rt *Runtime) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt.listeners == nil {
		return nil
	}
	var opened []string
	defer func() {
		if err != nil {
			for _, key := range opened {
				s.listeners[key].Close()
				delete(s.listeners, key)
				delete(s.applied, key)
			}
		}
	}()
	socks := rt.listeners.Sockets()
	for _, a := range socks {
		key := a.String()
		if _, ok := s.listeners[key]; ok {
			continue
		}
		ln, err := openListener(a, rt.listenOpts[key])
		if err != nil {
			return fmt.Errorf("bind() to %s failed (%s)", key, errorlog.Errno(err))
		}
		s.listeners[key] = ln
		opened = append(opened, key)
	}
	for _, a := range socks {
		key := a.String()
		o := rt.listenOpts[key]
		configureListener(s.listeners[key], key, o, s.applied[key], s.log)
		s.applied[key] = o
	}
	return nil
}

// Addrs returns the bound addresses of the open sockets, keyed by the
// address as configured ("127.0.0.1:8443").
func (s *Server) Addrs() map[string]net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]net.Addr, len(s.listeners))
	for k, ln := range s.listeners {
		out[k] = ln.Addr()
	}
	return out
}

// Start publishes rt and starts accepting on every socket.
func (s *Server) Start(rt *Runtime) error {
	if err := s.Listen(rt); err != nil {
		return err
	}
	s.rt.Store(rt)
	go s.sweep()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.listeners {
		s.accept.Add(1)
		go s.acceptLoop(ln)
	}
	return nil
}

// Reload swaps in rt, built beside the current generation. New sockets are
// opened first; if that fails the current generation keeps serving. The
// old generation stops taking requests on its idle keep-alive connections
// and finishes the ones in flight.
func (s *Server) Reload(rt *Runtime) error {
	if err := s.Listen(rt); err != nil {
		return err
	}
	old := s.rt.Swap(rt)
	s.mu.Lock()
	need := socketKeys(rt)
	had := socketKeys(old)
	for key, ln := range s.listeners {
		if !need[key] {
			ln.Close()
			delete(s.listeners, key)
			delete(s.applied, key)
		}
	}
	// Start accept loops for sockets opened by this reload.
	for key, ln := range s.listeners {
		if !had[key] {
			s.accept.Add(1)
			go s.acceptLoop(ln)
		}
	}
	if old != nil {
		s.old = append(s.old, old)
	}
	s.mu.Unlock()
	if old != nil {
		go s.retire(old)
	}
	return nil
}

// socketKeys lists the sockets a generation listens on.
func socketKeys(rt *Runtime) map[string]bool {
	keys := map[string]bool{}
	if rt != nil && rt.listeners != nil {
		for _, a := range rt.listeners.Sockets() {
			keys[a.String()] = true
		}
	}
	return keys
}

// retire lets an old generation finish: idle connections close now,
// active ones after their response; then its pools and logs close.
func (s *Server) retire(rt *Runtime) {
	rt.shutdown(reloadGrace)
	rt.drain()
	rt.Close()
	s.mu.Lock()
	for i, o := range s.old {
		if o == rt {
			s.old = append(s.old[:i], s.old[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// Current returns the generation serving new connections.
func (s *Server) Current() *Runtime { return s.rt.Load() }

// Shutdown stops accepting. With graceful, it waits for the requests in
// flight to finish (nginx's QUIT); otherwise it returns at once (TERM).
func (s *Server) Shutdown(graceful bool) {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	for key, ln := range s.listeners {
		ln.Close()
		delete(s.listeners, key)
		delete(s.applied, key)
	}
	gens := append([]*Runtime{}, s.old...)
	s.mu.Unlock()
	s.accept.Wait()
	if cur := s.rt.Load(); cur != nil {
		gens = append(gens, cur)
	}
	for _, rt := range gens {
		rt.shutdown(0)
	}
	for _, rt := range gens {
		if graceful {
			rt.drain()
		} else {
			rt.retiring()
		}
	}
	for _, rt := range gens {
		rt.Close()
	}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.accept.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Logf(errorlog.Alert, nil, "accept() failed (%s)", errorlog.Errno(err))
			time.Sleep(100 * time.Millisecond) // EMFILE and the like: back off
			continue
		}
		rt := s.rt.Load()
		for !rt.acquire() {
			// rt is being retired: a reload or a stop swapped it out
			// after the load above.
			if next := s.rt.Load(); next != rt {
				rt = next
				continue
			}
			rt = nil
			break
		}
		if rt == nil {
			c.Close()
			continue
		}
		go func() {
			defer rt.release()
			rt.serveConn(c)
		}()
	}
}

// serveConn serves one accepted connection with this generation.
func (rt *Runtime) serveConn(c net.Conn) {
	var a *route.Address
	if ua, ok := c.LocalAddr().(*net.UnixAddr); ok {
		a = rt.listeners.FindUnix(ua.Name)
	} else if local, ok := request.AddrPort(c.LocalAddr()); ok {
		a = rt.listeners.Find(local)
	}
	if a == nil {
		c.Close()
		return
	}
	sk := rt.sockets[a]
	if sk == nil {
		c.Close()
		return
	}
	if !sk.ssl {
		sk.http.ServeConn(request.NewConn(c, &tally{Conn: c}, nil))
		return
	}
	// Tell a TLS ClientHello from a plain HTTP request by its first byte,
	// as nginx does, so plain HTTP gets its 400 page instead of garbage.
	timeout := sk.http.Config.ClientHeaderTimeout
	if timeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(timeout))
	}
	br := bufio.NewReaderSize(c, 1)
	first, err := br.Peek(1)
	if err != nil {
		c.Close()
		return
	}
	pc := &peekedConn{Conn: c, r: br}
	// nginx takes a first byte with the high bit set (an SSLv2-style
	// ClientHello) for TLS too.
	if first[0] != 0x16 && first[0]&0x80 == 0 {
		sk.plain.ServeConn(request.NewConn(c, &tally{Conn: pc}, nil))
		return
	}
	tc := sk.tls.Server(pc)
	if err := tc.Handshake(); err != nil {
		sk.servers[a.Default].level.errLog.Logf(errorlog.Info, &errorlog.Context{Client: remoteIP(c), Server: a.String()}, "SSL_do_handshake() failed (%v) while SSL handshaking", err)
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	sk.http.ServeConn(request.NewConn(c, &tally{Conn: tc}, sk.tls.Info(tc)))
}

func remoteIP(c net.Conn) string {
	if ap, ok := request.AddrPort(c.RemoteAddr()); ok {
		return ap.Addr().String()
	}
	return c.RemoteAddr().String()
}

// peekedConn replays the byte peeked from a new connection.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

// CloseWrite passes the half-close of the codec's lingering close on.
func (p *peekedConn) CloseWrite() error { return request.CloseWrite(p.Conn) }

func (p *peekedConn) Read(b []byte) (int, error) {
	if p.r != nil {
		if p.r.Buffered() > 0 {
			return p.r.Read(b)
		}
		p.r = nil
	}
	return p.Conn.Read(b)
}

// acquire counts a connection served by rt; it fails once rt is retiring.
func (rt *Runtime) acquire() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.retired {
		return false
	}
	rt.active++
	return true
}

// release ends a connection counted by acquire.
func (rt *Runtime) release() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.active--
	if rt.retired && rt.active == 0 {
		rt.closeDrained()
	}
}

// closeDrained closes the drained channel once; rt.mu is held.
func (rt *Runtime) closeDrained() {
	select {
	case <-rt.drained:
	default:
		close(rt.drained)
	}
}

// retiring stops rt from taking connections and returns a channel closed
// when the ones it has are done.
func (rt *Runtime) retiring() <-chan struct{} {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.retired = true
	if rt.active == 0 {
		rt.closeDrained()
	}
	return rt.drained
}

// drain waits until every connection of rt is done.
func (rt *Runtime) drain() { <-rt.retiring() }

// reloadGrace is how long a retired generation still accepts a request on
// a connection that was waiting for one: a request already on the wire at
// the moment of a reload is served, not cut off.
const reloadGrace = time.Second

// shutdown asks the generation's connections to finish; waiting ones may
// still receive a request during grace.
func (rt *Runtime) shutdown(grace time.Duration) {
	for _, sk := range rt.sockets {
		sk.http.ShutdownAfter(grace)
		if sk.plain != nil {
			sk.plain.ShutdownAfter(grace)
		}
	}
}

// Close releases what the generation holds (pools, log files); for a
// Runtime that was built but never served, or one that has finished.
func (rt *Runtime) Close() {
	for _, l := range rt.errLogs {
		l.Close()
	}
	for _, g := range rt.groups {
		g.Pool().CloseAll()
	}
	if rt.files != nil {
		rt.files.Close()
	}
}

// Reopen reopens the generation's access log files (USR1).
func (rt *Runtime) Reopen() error {
	if rt.files == nil {
		return nil
	}
	return rt.files.Reopen()
}
