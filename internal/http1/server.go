package http1

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/variables"
)

// Handler serves one request. It runs on the connection's goroutine; the
// next pipelined request is read only after it returns. It reads r.Body if
// it wants the body, then writes the response through w (or hijacks).
type Handler interface {
	ServeHTTP1(w *ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *ResponseWriter, r *Request)

// ServeHTTP1 calls f.
func (f HandlerFunc) ServeHTTP1(w *ResponseWriter, r *Request) { f(w, r) }

// Limits are the location-level connection settings; Config carries the
// server-level values and a Handler may switch to a location's values with
// ResponseWriter.Apply.
type Limits struct {
	ClientMaxBodySize      int64         // client_max_body_size; 0 = unlimited
	ClientBodyTimeout      time.Duration // client_body_timeout, between two reads
	SendTimeout            time.Duration // send_timeout, between two writes
	KeepaliveTimeout       time.Duration // keepalive_timeout; 0 disables keep-alive
	KeepaliveHeaderTimeout time.Duration // its second argument; >0 adds "Keep-Alive: timeout=N"
	KeepaliveRequests      int           // keepalive_requests (0 disables keep-alive, as in nginx)
	KeepaliveTime          time.Duration // keepalive_time
	LingeringTime          time.Duration // lingering_time
	LingeringTimeout       time.Duration // lingering_timeout
	ServerTokens           bool          // server_tokens on
	MSIEPadding            bool          // msie_padding on
}

// Config is the server-level (listener / server block) configuration.
// Start from DefaultConfig: the zero value is not nginx's default.
type Config struct {
	Parse               ParseOptions
	ClientHeaderTimeout time.Duration // client_header_timeout
	Limits                            // server-level location defaults
	// MaxDrain bounds how many unread request-body bytes are read and
	// dropped to keep a connection alive; beyond it the connection is
	// closed (with lingering close) instead.
	MaxDrain int64
	// MaxLinger bounds the bytes read and dropped during lingering close.
	MaxLinger int64
	// Product and ProductVersion name the server in the Server header and
	// in error pages: server_tokens off uses Product, on ProductVersion.
	Product, ProductVersion string
}

// DefaultConfig returns nginx 1.28's defaults.
func DefaultConfig() Config {
	return Config{
		Parse:               DefaultParseOptions(),
		ClientHeaderTimeout: 60 * time.Second,
		Limits: Limits{
			ClientMaxBodySize: 1 << 20,
			ClientBodyTimeout: 60 * time.Second,
			SendTimeout:       60 * time.Second,
			KeepaliveTimeout:  75 * time.Second,
			KeepaliveRequests: 1000,
			KeepaliveTime:     time.Hour,
			LingeringTime:     30 * time.Second,
			LingeringTimeout:  5 * time.Second,
			ServerTokens:      true,
			MSIEPadding:       true,
		},
		MaxDrain:       1 << 20,
		MaxLinger:      1 << 20,
		Product:        "nginx",
		ProductVersion: "nginx/" + variables.NginxRelease,
	}
}

// Server runs the HTTP/1 connection loop for accepted connections. Its
// fields must not change after the first ServeConn call; a reload builds
// a new Server.
type Server struct {
	Config  Config
	Handler Handler
	// Now is the clock for Date headers and keepalive_time; nil means
	// time.Now. Deadlines always use the real clock.
	Now func() time.Time
	// OnReject, if set, is called when the codec rejects a request itself
	// (malformed header, header timeout with bytes received, too large):
	// r is the partly parsed request (Line may be nil) and err.Msg followed
	// by r.Detail is nginx's complete log text. It runs before the error
	// response is sent; use it for the error and access logs.
	OnReject func(c net.Conn, r *Request, err *Error)

	bufPool  sync.Pool // *[]byte, read buffers
	wbufPool sync.Pool // *[]byte, write buffers

	mu       sync.Mutex
	conns    map[*serverConn]struct{}
	stopping atomic.Bool
	stopAt   atomic.Int64 // when waiting connections close, in Unix nanoseconds
	nextID   atomic.Uint64

	idleNotify chan struct{} // tests: signalled when a connection turns idle
}

const (
	bodyRoom  = 8192 // read-buffer room after the header for body reads
	wbufSize  = 8192
	smallSize = 1024
)

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) getBuf() *[]byte {
	if p, ok := s.bufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, s.Config.Parse.MaxHeader+bodyRoom)
	return &b
}

func (s *Server) getWbuf() *[]byte {
	if p, ok := s.wbufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, wbufSize)
	return &b
}

// Shutdown starts a graceful stop: connections waiting for a request
// (idle keep-alive ones and new ones that sent nothing yet) are closed now,
// active ones after their current response. It does not wait.
func (s *Server) Shutdown() { s.ShutdownAfter(0) }

// ShutdownAfter is Shutdown with a grace period: a connection waiting for
// a request may still receive one for that long (it is answered with
// "Connection: close"), so that a request already on the wire when a
// reload retires this Server is served rather than cut off.
func (s *Server) ShutdownAfter(grace time.Duration) {
	// Deadlines run on the real clock, not on s.Now.
	deadline := time.Unix(1, 0)
	if grace > 0 {
		deadline = time.Now().Add(grace)
	}
	s.stopAt.Store(deadline.UnixNano())
	s.stopping.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		if c.idle && deadline.Before(c.idleUntil) {
			_ = c.nc.SetReadDeadline(deadline)
		}
	}
	s.mu.Unlock()
}

// ActiveConns returns the number of connections being served.
func (s *Server) ActiveConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// serverConn is the state of one client connection; everything a request
// needs lives here and is reused.
type serverConn struct {
	srv          *Server
	nc           net.Conn
	id           uint64
	start        time.Time
	requests     int
	idle         bool      // guarded by srv.mu
	idleUntil    time.Time // read deadline while idle; guarded by srv.mu
	br           bufReader
	bufp         *[]byte
	wbufp        *[]byte
	small        [smallSize]byte
	req          Request
	body         Body
	w            ResponseWriter
	lim          *Limits
	dateSec      int64
	date         [29]byte
	wdl          deadline // the write deadline in effect
	headerTimer  bool     // client_header_timeout's deadline is set
	closing      bool     // close after the current response
	continueSent bool
	hijacked     bool
}

// ServeConn serves requests on nc until the connection is done, then
// closes it (unless a handler hijacked it). It blocks; call it on the
// connection's own goroutine.
func (s *Server) ServeConn(nc net.Conn) {
	c := &serverConn{srv: s, nc: nc, start: s.now(), id: s.nextID.Add(1)}
	c.br.nc = nc
	c.req.Body = &c.body
	c.w.c = c
	s.mu.Lock()
	if s.conns == nil {
		s.conns = make(map[*serverConn]struct{})
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.releaseBuffers()
		if !c.hijacked {
			_ = nc.Close()
		}
	}()
	for c.serveOne() {
	}
}

func (c *serverConn) releaseBuffers() {
	if c.hijacked {
		return // the buffers may still be referenced
	}
	if c.bufp != nil {
		c.srv.bufPool.Put(c.bufp)
		c.bufp = nil
		c.br.buf = nil
	}
	if c.wbufp != nil {
		*c.wbufp = (*c.wbufp)[:0]
		c.srv.wbufPool.Put(c.wbufp)
		c.wbufp = nil
		c.w.wbuf = nil
	}
}

// setIdle marks the connection as waiting for a request (until is its
// read deadline) or as busy. It reports false when a graceful stop says
// the connection must close instead of waiting; during a grace period it
// shortens the deadline to the end of the grace.
func (c *serverConn) setIdle(idle bool, until time.Time) bool {
	c.srv.mu.Lock()
	c.idle = idle
	c.idleUntil = until
	c.srv.mu.Unlock()
	if idle && c.srv.idleNotify != nil {
		select {
		case c.srv.idleNotify <- struct{}{}:
		default:
		}
	}
	if !idle || !c.srv.stopping.Load() {
		return true
	}
	// Stopping: wait for a request only until the grace period ends.
	at := time.Unix(0, c.srv.stopAt.Load())
	if !time.Now().Before(at) {
		return false
	}
	if at.Before(until) {
		c.br.setDeadlineAt(at)
	}
	return true
}

// waitRequest waits for the first bytes of the next request and makes
// sure the read buffer holds them at its start.
func (c *serverConn) waitRequest() bool {
	s := c.srv
	if c.bufp != nil && c.br.buffered() > 0 {
		n := copy(c.br.buf, c.br.buf[c.br.r:c.br.w])
		c.br.r, c.br.w, c.br.floor = 0, n, 0
		return true
	}
	// Nothing pipelined: give the big buffers back while idle.
	c.releaseBuffers()
	timeout := s.Config.ClientHeaderTimeout
	if c.requests > 0 {
		timeout = c.lim.KeepaliveTimeout
	}
	// The deadline is set before the connection is marked idle so that
	// Shutdown's wake-up deadline is never overwritten.
	until := c.br.setTimeout(timeout)
	if !c.setIdle(true, until) {
		return false
	}
	n, _ := c.nc.Read(c.small[:])
	c.setIdle(false, time.Time{})
	if s.stopping.Load() {
		// Shutdown may have set a deadline of its own while we waited.
		c.br.dl.forget()
	}
	if n == 0 {
		// timeout, close, or woken by Shutdown: nginx closes silently
		return false
	}
	c.bufp = s.getBuf()
	c.br.buf = *c.bufp
	copy(c.br.buf, c.small[:n])
	c.br.r, c.br.w, c.br.floor = 0, n, 0
	return true
}

// serveOne reads and serves one request; it reports whether to continue.
func (c *serverConn) serveOne() bool {
	s := c.srv
	if !c.waitRequest() {
		return false
	}
	c.lim = &s.Config.Limits
	c.req.reset()
	c.requests++
	c.continueSent = false
	if c.wbufp == nil {
		c.wbufp = s.getWbuf()
	}
	c.w.reset(*c.wbufp)
	c.br.timeout = 0
	c.headerTimer = false
	opts := &s.Config.Parse
	scanFrom, lastNL, inTarget := 0, -1, false
	for {
		var n int
		var err error
		if c.headerMayBeComplete(scanFrom, &lastNL, &inTarget) {
			n, err = ParseRequest(&c.req, c.br.buf[:c.br.w], opts)
		} else {
			err = ErrNeedMore
		}
		if err == nil {
			c.br.r, c.br.floor = n, n
			break
		}
		if err != ErrNeedMore {
			return c.reject(err.(*Error))
		}
		if c.br.w >= len(c.br.buf) {
			return c.reject(ErrTooLargeRequest)
		}
		scanFrom = c.br.w
		c.startHeaderTimer()
		if ferr := c.br.fill(); ferr != nil {
			if isTimeout(ferr) && c.br.w > 0 {
				// Parse what arrived: the logs show the request line (or
				// its start) and Host, as nginx's do. An error the quick
				// scan put off (nginx would have answered it at once) is
				// answered now.
				_, err := ParseRequest(&c.req, c.br.buf[:c.br.w], opts)
				if err != nil && err != ErrNeedMore {
					return c.reject(err.(*Error))
				}
				c.reportReject(ErrClientHeaderTimeout)
			}
			return false
		}
	}
	c.body.reset(c, &c.req, c.lim.ClientMaxBodySize)
	if c.req.ContentLength > 0 && c.lim.ClientMaxBodySize > 0 && c.req.ContentLength > c.lim.ClientMaxBodySize {
		c.body.err = ErrBodyTooLarge
	}
	s.Handler.ServeHTTP1(&c.w, &c.req)
	if c.hijacked {
		return false
	}
	return c.finish()
}

// startHeaderTimer sets client_header_timeout's deadline, once per
// request. Like nginx, which adds the timer only when a read finds the
// header incomplete, it is set only when the header did not arrive with
// the first bytes: a header read in one go costs no timer update. The
// deadline in effect until then is the one the first bytes were awaited
// with (keepalive_timeout, or client_header_timeout itself).
func (c *serverConn) startHeaderTimer() {
	if !c.headerTimer {
		c.headerTimer = true
		c.br.setTimeout(c.srv.Config.ClientHeaderTimeout)
	}
}

// headerMayBeComplete is a cheap pre-check so that a header arriving in
// many small reads is parsed once, not once per read: it scans only the
// new bytes for an empty line, and reports a line or a block that already
// breaks a limit, or a method that nginx's parser would already refuse
// (so that it is answered at once, as nginx does). *lastNL carries the
// last line end seen between calls, *inTarget whether the method has
// ended.
func (c *serverConn) headerMayBeComplete(from int, lastNL *int, inTarget *bool) bool {
	b := c.br.buf[:c.br.w]
	if *lastNL < 0 && !*inTarget && b[0] != '\r' && b[0] != '\n' {
		// Still in the method (bytes before from were method bytes).
		// After a leading empty line ParseRequest judges it later.
		for i := from; i < len(b); i++ {
			ch := b[i]
			if ch == ' ' {
				if i == 0 {
					return true
				}
				*inTarget = true
				break
			}
			if (ch < 'A' || ch > 'Z') && ch != '_' && ch != '-' {
				return true
			}
		}
	}
	start := from - 2
	if start < 0 {
		start = 0
	}
	for i := start; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i >= from {
			*lastNL = i
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return true
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return true
		}
	}
	o := &c.srv.Config.Parse
	return len(b)-(*lastNL+1) > o.MaxLine || len(b) > o.MaxHeader
}

func (c *serverConn) reportReject(e *Error) {
	if c.srv.OnReject != nil {
		c.srv.OnReject(c.nc, &c.req, e)
	}
}

// reject answers a request the codec refused, then closes.
func (c *serverConn) reject(e *Error) bool {
	c.reportReject(e)
	c.w.keepAlive = false
	_ = c.w.WriteErrorPage(e.Status)
	c.lingeringClose()
	return false
}

// finish completes the response after the handler returned and decides
// whether the connection continues.
func (c *serverConn) finish() bool {
	w := &c.w
	if !w.wroteHeader && !w.aborted {
		_ = w.WriteErrorPage(500)
	}
	if w.aborted {
		return false
	}
	if err := w.end(); err != nil {
		return false
	}
	if !w.keepAlive || c.closing {
		if !c.body.done {
			c.lingeringClose()
		}
		return false
	}
	if !c.body.done {
		if c.req.Expect100 && !c.body.started || !c.body.discard(c.srv.Config.MaxDrain) {
			c.lingeringClose()
			return false
		}
	}
	return true
}

// lingeringClose half-closes the connection and reads and drops what the
// client still sends, bounded by lingering_time, lingering_timeout and
// MaxLinger, so that the client sees the response rather than a reset.
func (c *serverConn) lingeringClose() {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := c.nc.(closeWriter)
	if !ok || cw.CloseWrite() != nil {
		return
	}
	lim := c.lim
	if lim == nil {
		lim = &c.srv.Config.Limits
	}
	deadline := time.Now().Add(lim.LingeringTime)
	var total int64
	for total < c.srv.Config.MaxLinger {
		d := time.Now().Add(lim.LingeringTimeout)
		if d.After(deadline) {
			d = deadline
		}
		_ = c.nc.SetReadDeadline(d)
		n, err := c.nc.Read(c.small[:])
		total += int64(n)
		if err != nil {
			return
		}
	}
}

// sendContinue writes "100 Continue" before the first body read when the
// client expects it and no final response has started.
func (c *serverConn) sendContinue() error {
	if !c.req.Expect100 || c.continueSent || c.w.wroteHeader || c.body.done {
		return nil
	}
	c.continueSent = true
	c.w.setWriteDeadline()
	_, err := io.WriteString(c.nc, "HTTP/1.1 100 Continue\r\n\r\n")
	if err != nil {
		return ErrClientClosed
	}
	return nil
}

// appendDate appends the IMF-fixdate for now, formatted once a second.
func (c *serverConn) appendDate(dst []byte, now time.Time) []byte {
	sec := now.Unix()
	if sec != c.dateSec || c.date[0] == 0 {
		c.dateSec = sec
		now.UTC().AppendFormat(c.date[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
	}
	return append(dst, c.date[:]...)
}
