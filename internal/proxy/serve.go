package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/request"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/upstream"
	"gatehouse/internal/variables"
)

// Actions named in error-log lines, as nginx words them.
const (
	actConnect   = "connecting to upstream"
	actHandshake = "SSL handshaking to upstream"
	actSend      = "sending request to upstream"
	actHeader    = "reading response header from upstream"
	actBody      = "reading upstream"
)

// attemptState is per-request upstream state kept in the request
// context (request.Ctx.Hop) so that a keep-alive connection reuses it
// without allocating.
type attemptState struct {
	att     upstream.Attempt
	body    requestBody
	key     []byte
	hdr     []byte
	copyBuf []byte
	// held is the upstream connection whose response header the request
	// passed on: the header's fields live in its read buffer, which the
	// log phase still reads ($upstream_http_*, $sent_http_*), so it is
	// released when the request ends (Finish), not when the hop is done.
	held *http1.UpstreamConn
}

// Finish releases what the hop held until the request's end; the
// request context calls it once the log phase has run.
func (st *attemptState) Finish() {
	if st.held != nil {
		st.held.Release()
		st.held = nil
	}
}

// release ends the hop's use of uc: at once before a response header
// was taken from it; else its connection is closed (unless it went back
// to the keep-alive pool) and its buffers are released when the request
// ends (see attemptState.held).
func release(x *request.Ctx, uc *http1.UpstreamConn) {
	if !x.Upstream.HasResp {
		uc.Release()
		return
	}
	uc.CloseConn()
	st := hop(x)
	if st.held != nil && st.held != uc {
		st.held.Release()
	}
	st.held = uc
}

// hop is the upstream state of the request in x, made on its first
// proxied request and kept with the context.
func hop(x *request.Ctx) *attemptState {
	st, _ := x.Hop.(*attemptState)
	if st == nil {
		st = &attemptState{}
		x.Hop = st
	}
	return st
}

// Serve proxies the request in x through l and writes the response.
func (l *Location) Serve(x *request.Ctx) {
	x.Upstream.Proxied, x.Upstream.ProxyHost, x.Upstream.ProxyPort = true, l.proxyHost, l.proxyPort
	st := hop(x)
	r := &x.Req
	if l.refuseUnsafe(x) {
		return
	}

	// The request body: read whole before the first attempt, in memory
	// up to client_body_buffer_size and in a temporary file beyond, so
	// every attempt can send it; with proxy_request_buffering off it is
	// streamed instead (chunked only towards HTTP/1.1), unless it came
	// whole with the header, as nginx does. bodyLen is
	// $proxy_internal_body_length: -1 (no Content-Length header) when
	// the client sent no body framing or a streamed chunked body, else
	// the body's length, which for a chunked body is its de-chunked size.
	bodyLen := int64(-1)
	streamed := false
	defer st.body.release()
	if r.HasBody() {
		if l.unbuffered && (!r.Chunked || l.http11) && !r.Body.Preread() {
			streamed = true
			if !r.Chunked {
				bodyLen = r.ContentLength
			}
		} else if err := l.readBody(x); err != nil {
			l.bodyError(x, err)
			return
		} else if l.passBody {
			bodyLen = st.body.length()
		}
	} else if r.ContentLength == 0 && l.passBody {
		bodyLen = 0
	}

	st.key = st.key[:0]
	if l.hashKey != nil {
		st.key = l.hashKey.Append(st.key, x)
	}
	st.att.Reset(l.group, upstream.AttemptOptions{
		Key:          st.key,
		Client:       x.ClientAddr(),
		Tries:        l.tries,
		Timeout:      l.triesTimeout,
		NextUpstream: l.nextUpstream,
	})
	nonIdem := isNonIdempotent(r.Method)
	// The first attempt of a request without a body starts when the
	// request did: only the choice of server and location, no I/O, lies
	// between, and nginx too takes both times from one cached clock
	// reading. After a body read or a failed attempt the clock is read.
	fromStart := !r.HasBody()

	for {
		peer, err := l.group.Pick(&st.att)
		if err != nil {
			x.Upstream.Addr = appendList(x.Upstream.Addr, []byte(l.group.Name()))
			x.ErrorLog().Log(errorlog.Error, x.LogContext(actConnect), "no live upstreams")
			x.Upstream.Status = appendList(x.Upstream.Status, []byte("502"))
			attemptTimes(x, -1, -1, 0)
			l.respondError(x, 502)
			return
		}
		x.Upstream.Addr = appendList(x.Upstream.Addr, []byte(peer.Name()))
		// The clock is read when the attempt starts (see fromStart),
		// when a new connection is ready, when the header is in and
		// when the attempt ends; a pooled connection's connect time is
		// 0, as nginx logs it, without a reading.
		start := x.Start
		if !fromStart || start.IsZero() {
			start = l.env.Now()
		}
		fromStart = false

		uc, resp, f := l.attempt(x, st, peer, start, bodyLen, streamed)
		if f.err != nil {
			if l.next(x, st, &f, nonIdem, streamed) {
				continue
			}
			return
		}
		connected, header := f.connect, f.header
		if l.abandoned(x, peer, actHeader) {
			uc.Release()
			x.Upstream.Connect = appendSeconds(x.Upstream.Connect, connected)
			x.Upstream.Header = appendSeconds(x.Upstream.Header, header)
			x.Upstream.Status = strconv.AppendInt(appendSep(x.Upstream.Status), int64(resp.Status), 10)
			x.Upstream.Response = appendSeconds(x.Upstream.Response, header)
			x.Upstream.Length = append(appendSep(x.Upstream.Length), '0')
			return
		}
		if resp.Status == 101 && !x.Req.Header.Has("Upgrade") {
			uc.Release()
			f.stage, f.action, f.sent, f.err, f.response = stageHeader, actHeader, true, errUnexpected101, header
			if l.next(x, st, &f, nonIdem, streamed) {
				continue
			}
			return
		}
		x.Upstream.Connect = appendSeconds(x.Upstream.Connect, connected)
		x.Upstream.Header = appendSeconds(x.Upstream.Header, header)
		x.Upstream.RespHeader, x.Upstream.HasResp = resp.Header, true
		if cond, ok := upstream.ConditionForStatus(resp.Status); ok {
			d := st.att.Fail(upstream.Failure{Cond: cond, RequestSent: true, NonIdempotent: nonIdem, BodyUnbuffered: streamed})
			if d.Disabled {
				l.logDisabled(x, peer)
			}
			if d.Action == upstream.ActionRetry {
				// The attempt ends with its header: the body is
				// not read.
				x.Upstream.Status = strconv.AppendInt(appendSep(x.Upstream.Status), int64(resp.Status), 10)
				x.Upstream.Response = appendSeconds(x.Upstream.Response, header)
				x.Upstream.Length = append(appendSep(x.Upstream.Length), '0')
				x.Upstream.RespHeader, x.Upstream.HasResp = nil, false
				uc.Release()
				continue
			}
		}
		x.Upstream.Status = strconv.AppendInt(appendSep(x.Upstream.Status), int64(resp.Status), 10)
		l.pass(x, uc, resp, peer)
		x.Upstream.Response = appendSeconds(x.Upstream.Response, l.env.Now().Sub(start))
		return
	}
}

// stage is how far a failed attempt got.
type stage uint8

const (
	stageConnect stage = iota // connecting, TCP or the TLS handshake
	stageSend                 // sending the request
	stageHeader               // reading the response header
)

// failKind says whose failure ended an attempt.
type failKind uint8

const (
	failPeer       failKind = iota // the peer's: the next-upstream rules decide
	failUnsafe                     // a header value with CR, LF or NUL: ours, answered 500
	failClientBody                 // reading the client's body failed: no peer to blame
)

// failure is a failed attempt, or with a nil err the times of one that
// got its response header. A negative duration is a stage the attempt
// never reached.
type failure struct {
	stage  stage
	kind   failKind
	action string // as the error log names it
	// sent is set once any of the request may have reached the peer;
	// cached for a connection from the keep-alive pool.
	sent, cached bool
	peer         *upstream.Peer
	err          error
	// connect, header and response are the attempt's
	// $upstream_connect_time, $upstream_header_time and
	// $upstream_response_time.
	connect, header, response time.Duration
}

// attempt is one try at peer: connect (or take a pooled connection),
// send the request, read the response header. It returns the connection
// and the header, or a failure (the connection then released).
func (l *Location) attempt(x *request.Ctx, st *attemptState, peer *upstream.Peer, start time.Time, bodyLen int64, streamed bool) (*http1.UpstreamConn, *http1.Response, failure) {
	f := failure{peer: peer, connect: -1, header: -1}
	conn, cached, action, err := l.connect(x, peer)
	f.cached = cached
	if err != nil {
		f.stage, f.action, f.err, f.response = stageConnect, action, err, l.env.Now().Sub(start)
		return nil, nil, f
	}
	if !cached {
		f.connect = l.env.Now().Sub(start)
	} else {
		f.connect = 0
	}
	uc := l.up.Conn(conn)
	if err := l.sendRequest(uc, x, bodyLen, streamed); err != nil {
		f.stage, f.action, f.sent = stageSend, actSend, true
		var ce *clientBodyError
		switch {
		case errors.Is(err, http1.ErrUnsafeHeader):
			// refuseUnsafe let a bad value through: a defect, not
			// the peer's failure; nothing was sent.
			f.kind, f.sent = failUnsafe, false
		case errors.As(err, &ce):
			f.kind, err = failClientBody, ce.err
		default:
			err = l.tlsReadError(err, conn)
		}
		uc.Release()
		f.err, f.response = err, l.env.Now().Sub(start)
		return nil, nil, f
	}
	resp, err := uc.ReadResponse()
	if err != nil {
		err = l.tlsReadError(err, conn)
		uc.Release()
		f.stage, f.action, f.sent, f.err, f.response = stageHeader, actHeader, true, err, l.env.Now().Sub(start)
		return nil, nil, f
	}
	f.header = l.env.Now().Sub(start)
	return uc, resp, f
}

// next handles a failed attempt: it logs the error, reports it to the
// group and, as the next-upstream rules (upstream.Attempt) decide,
// either says to try the next peer (true) or answers the client.
func (l *Location) next(x *request.Ctx, st *attemptState, f *failure, nonIdem, streamed bool) bool {
	attemptTimes(x, f.connect, f.header, f.response)
	switch f.kind {
	case failUnsafe:
		st.att.Done()
		x.ErrorLog().Log(errorlog.Alert, x.LogContext(actSend), "request header with CR, LF or NUL not sent")
		l.respondError(x, 500)
		return false
	case failClientBody:
		st.att.Done()
		x.Upstream.Status = append(appendSep(x.Upstream.Status), '-')
		l.bodyError(x, f.err)
		return false
	}
	cond := upstream.CondError
	switch {
	case isTimeout(f.err):
		cond = upstream.CondTimeout
	case errors.Is(f.err, http1.ErrUpstreamInvalidHeader), errors.Is(f.err, http1.ErrUpstreamTooBigHeader),
		errors.Is(f.err, http1.ErrUpstreamDuplicateCL), errors.Is(f.err, http1.ErrUpstreamInvalidCL),
		errors.Is(f.err, http1.ErrUpstreamUnknownTE), errors.Is(f.err, http1.ErrUpstreamTEAndCL),
		errors.Is(f.err, errUnexpected101):
		cond = upstream.CondInvalidHeader
	}
	l.logUpstreamError(x, f.peer, f.err, f.action, cond == upstream.CondTimeout)
	d := st.att.Fail(upstream.Failure{Cond: cond, RequestSent: f.sent, NonIdempotent: nonIdem, BodyUnbuffered: streamed, Cached: f.cached})
	if d.Disabled {
		l.logDisabled(x, f.peer)
	}
	x.Upstream.Status = strconv.AppendInt(appendSep(x.Upstream.Status), int64(d.UpstreamStatus), 10)
	if l.abandoned(x, f.peer, f.action) {
		return false // no more tries for a client that left
	}
	if d.Action == upstream.ActionRetry {
		return true
	}
	l.respondError(x, d.Status)
	return false
}

// tlsReadError lets the TLS context explain a failure after the
// handshake: with TLS 1.3 an upstream that rejects our client certificate
// says so only when the response is read.
func (l *Location) tlsReadError(err error, conn net.Conn) error {
	if r, ok := l.tls.(interface {
		ReadError(err error, conn net.Conn) error
	}); ok {
		return r.ReadError(err, conn)
	}
	return err
}

// connect returns a connection to peer: an idle pooled one, or a new TCP
// connection with the TLS handshake done when the location uses https.
func (l *Location) connect(x *request.Ctx, peer *upstream.Peer) (net.Conn, bool, string, error) {
	pool := l.group.Pool()
	scope, name := "", ""
	if l.tls != nil {
		scope = l.tls.Scope()
		if l.sslName != nil {
			// A pooled connection was verified for one name: it is reused
			// only for requests that evaluate to the same name.
			b := l.sslName.Append(x.Scratch(), x)
			name = l.tls.(TLSNameClient).SSLName(b)
			x.KeepScratch(b)
			scope += "\x00" + name
		}
	}
	if l.keepalive {
		if c := pool.Get(peer, scope); c != nil {
			return c, true, actConnect, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.connectTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, peer.Network(), peer.DialAddress())
	if err != nil {
		return nil, false, actConnect, err
	}
	c := raw
	if l.tls != nil {
		if l.sslName != nil {
			c, err = l.tls.(TLSNameClient).HandshakeName(ctx, raw, peer.Name(), name)
		} else {
			c, err = l.tls.Handshake(ctx, raw, peer.Name())
		}
		if err != nil {
			raw.Close()
			return nil, false, actHandshake, err
		}
	}
	return pool.NewConn(peer, c, scope), false, actConnect, nil
}

// abandoned is proxy_ignore_client_abort off: before it answers, the
// proxy looks whether the client has gone meanwhile, and if so ends the
// request with 499 and the line nginx logs; the caller closes the
// upstream connection. nginx watches the client the whole time; the
// proxy looks when the upstream's answer (or failure) is in, so the
// upstream's work is not cut short, but nothing is sent to a client that
// left and the request is logged as nginx logs it.
func (l *Location) abandoned(x *request.Ctx, peer *upstream.Peer, action string) bool {
	if l.ignoreAbort || x.Conn == nil || !x.Conn.ClientGone() {
		return false
	}
	hop(x).att.Done()
	if x.ErrorLog().Enabled(errorlog.Info) {
		ctx := x.LogContext(action)
		ctx.Upstream = l.upstreamURL(x, peer)
		x.ErrorLog().Log(errorlog.Info, ctx, "epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too")
	}
	x.W.Abort()
	x.Answered(499)
	return true
}

func (l *Location) logDisabled(x *request.Ctx, peer *upstream.Peer) {
	ctx := x.LogContext(actConnect)
	ctx.Upstream = l.upstreamURL(x, peer)
	x.ErrorLog().Log(errorlog.Warn, ctx, "upstream server temporarily disabled")
}

// logUpstreamError writes the one error-log line of a failed attempt.
func (l *Location) logUpstreamError(x *request.Ctx, peer *upstream.Peer, err error, action string, timeout bool) {
	if !x.ErrorLog().Enabled(errorlog.Error) {
		return
	}
	ctx := x.LogContext(action)
	ctx.Upstream = l.upstreamURL(x, peer)
	x.ErrorLog().Log(errorlog.Error, ctx, Explain(err, action, timeout))
}

// upstreamURL is the "upstream:" part of a log line: scheme, peer and URI.
func (l *Location) upstreamURL(x *request.Ctx, peer *upstream.Peer) []byte {
	b := append([]byte(l.scheme), peer.Name()...)
	return l.appendURI(b, x)
}

// respondError answers with nginx's page for status (499 is only logged).
func (l *Location) respondError(x *request.Ctx, status int) {
	if status == 0 {
		status = 502
	}
	x.Error(status)
}

// bodyError answers a failure to read the client's request body.
func (l *Location) bodyError(x *request.Ctx, err error) {
	var te *tempfile.Error
	if errors.Is(err, errBodyFile) || errors.As(err, &te) {
		if te != nil {
			x.ErrorLog().Log(errorlog.Crit, x.LogContext(""), te.Error())
		}
		x.Error(500)
		return
	}
	var he *http1.Error
	if errors.As(err, &he) {
		if he.Status >= 400 && he.Status != 408 {
			msg := he.Msg
			var de *http1.DetailError
			if errors.As(err, &de) {
				msg = de.Error() // e.g. "...too large chunked body: N+M bytes"
			}
			x.ErrorLog().Log(errorlog.Error, x.LogContext(""), msg)
		}
		x.Error(he.Status)
		return
	}
	x.W.Abort()
}

// sendRequest writes the request line, headers and body to the upstream.
func (l *Location) sendRequest(uc *http1.UpstreamConn, x *request.Ctx, bodyLen int64, streamed bool) error {
	st := hop(x)
	r := &x.Req
	st.hdr = l.appendURI(st.hdr[:0], x)
	uc.StartRequest(r.Method, st.hdr, l.http11)
	for i := range l.headers {
		h := &l.headers[i]
		switch h.special {
		case specialContentLength:
			if bodyLen >= 0 {
				st.hdr = strconv.AppendInt(st.hdr[:0], bodyLen, 10)
				uc.AddHeader(h.name, st.hdr)
			}
		case specialChunked:
			// Buffered bodies are sent with their length, and so are
			// streamed ones with the client's Content-Length; a streamed
			// chunked body stays chunked.
			if streamed && bodyLen < 0 {
				uc.AddHeader(h.name, []byte("chunked"))
			}
		default:
			st.hdr = h.value.Append(st.hdr[:0], x)
			uc.AddHeader(h.name, st.hdr)
		}
	}
	if l.passHeaders {
		for _, h := range r.Header {
			if hasName(l.skip, h.Name) {
				continue
			}
			uc.AddHeader(h.Name, h.Value)
		}
	}
	if err := uc.EndHeader(bodyLen, streamed && bodyLen < 0); err != nil {
		return err
	}
	if streamed {
		if err := l.streamBody(uc, x); err != nil {
			return err
		}
	} else if bodyLen > 0 {
		if err := l.sendBody(uc, x); err != nil {
			return err
		}
	}
	return uc.FinishRequest()
}

// refuseUnsafe answers 400 when a proxy_set_header value that may hold
// any byte (setHeader.anyByte: $uri, a capture, ...) holds CR, LF or NUL
// for this request, before anything is read or sent for it. Their
// configuration text was checked by Compile, so the bytes came from the
// client. Other values are not evaluated here.
func (l *Location) refuseUnsafe(x *request.Ctx) bool {
	for i := range l.headers {
		h := &l.headers[i]
		if !h.anyByte {
			continue
		}
		hop(x).hdr = h.value.Append(hop(x).hdr[:0], x)
		if !http1.SafeFieldValue(hop(x).hdr) {
			x.LogRefusedHeader("proxy_set_header", h.name, h.pos)
			x.Error(400)
			return true
		}
	}
	return false
}

// appendURI appends the URI sent upstream (nginx.md §5.1).
func (l *Location) appendURI(dst []byte, x *request.Ctx) []byte {
	if !l.hasURI {
		return append(dst, x.Req.Target...)
	}
	dst = append(dst, l.uri...)
	rest := x.URI.Path
	if len(rest) >= len(l.name) {
		rest = rest[len(l.name):]
	} else {
		rest = nil
	}
	if x.URI.Quoted {
		dst = variables.AppendEscapedURI(dst, rest)
	} else {
		dst = append(dst, rest...)
	}
	if x.URI.Args != nil {
		dst = append(dst, '?')
		dst = append(dst, x.URI.Args...)
	}
	return dst
}

// pass sends the upstream response to the client and then returns the
// connection to the pool or closes it.
func (l *Location) pass(x *request.Ctx, uc *http1.UpstreamConn, resp *http1.Response, peer *upstream.Peer) {
	st := hop(x)
	if l.intercept && resp.Status >= 300 && x.Responses != nil && x.Responses.HasErrorPage(resp.Status) {
		l.interceptError(x, uc, resp)
		return
	}
	w := x.W
	h := w.Header()
	h.Status = resp.Status
	h.Reason = resp.Reason
	h.ContentLength = -1
	x.KeepScratch(x.Scratch()) // holds rewritten header values
	if !resp.Chunked && resp.ContentLength >= 0 {
		h.ContentLength = resp.ContentLength
	}
	buffering := l.buffering
	for _, f := range resp.Header {
		if len(f.Name) == 17 && asciiEqualFold("x-accel-buffering", f.Name) {
			// ngx_http_upstream_process_buffering: "yes" or "no", any
			// case, overrides proxy_buffering for this response.
			switch {
			case len(f.Value) == 2 && asciiEqualFold("no", f.Value):
				buffering = false
			case len(f.Value) == 3 && asciiEqualFold("yes", f.Value):
				buffering = true
			}
		}
		switch {
		case hasName(l.hide, f.Name):
			continue
		case len(f.Name) == 6 && asciiEqualFold("server", f.Name):
			// proxy_pass_header Server: the upstream's replaces ours
			h.Server = f.Value
			continue
		case len(f.Name) == 4 && asciiEqualFold("date", f.Name):
			h.Date = f.Value
			continue
		case len(f.Name) == 12 && asciiEqualFold("content-type", f.Name):
			h.ContentType = f.Value
			continue
		case len(f.Name) == 8 && asciiEqualFold("location", f.Name) && len(l.redirects) > 0:
			if v, ok, abs := l.rewriteLocation(x, f.Value, true); ok {
				if abs {
					// rewritten to a path, made absolute: the header
					// filter writes it after Content-Length
					h.Location = v
					continue
				}
				f.Value = v
			}
		case len(f.Name) == 7 && asciiEqualFold("refresh", f.Name) && len(l.redirects) > 0:
			f.Value = l.rewriteRefresh(x, f.Value)
		}
		h.Header = append(h.Header, f)
	}
	// add_header values go after the rewritten ones in scratch.
	x.KeepScratch(x.Responses.AddHeaders(h, h.Status, x, x.Kept()))
	if resp.Status == 101 {
		if err := w.WriteHeader(); err != nil {
			st.att.Done()
			release(x, uc)
			w.Abort()
			return
		}
		x.Upstream.Length = append(appendSep(x.Upstream.Length), '0')
		l.tunnel(x, uc, peer)
		return
	}
	if buffering {
		l.passBuffered(x, uc, peer)
	} else {
		l.passUnbuffered(x, uc, peer)
	}
}

// keptBodyBuf is the size of the body buffer an exchange keeps from
// request to request (the default proxy_buffers total, 8 4k).
const keptBodyBuf = 32 << 10

// bodyBuf is the exchange's body buffer with room for n bytes; it is
// kept from request to request, so that a keep-alive connection does
// not allocate.
func (st *attemptState) bodyBuf(n int) []byte {
	if cap(st.copyBuf) < n {
		st.copyBuf = make([]byte, max(n, keptBodyBuf))
	}
	return st.copyBuf[:n]
}

// passUnbuffered is proxy_buffering off
// (ngx_http_upstream_process_non_buffered_request): every read from the
// upstream, at most proxy_buffer_size, goes to the client at once.
func (l *Location) passUnbuffered(x *request.Ctx, uc *http1.UpstreamConn, peer *upstream.Peer) {
	st := hop(x)
	w := x.W
	err := w.WriteHeader()
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		l.clientGone(x, uc)
		return
	}
	buf := st.bodyBuf(l.chunk)
	body := uc.Body()
	var length int64
	defer func() { x.Upstream.Length = strconv.AppendInt(appendSep(x.Upstream.Length), length, 10) }()
	for {
		n, err := body.Read(buf)
		length += int64(n)
		if n > 0 {
			if werr := send(w, buf[:n]); werr != nil {
				l.clientGone(x, uc)
				return
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			l.bodyReadError(x, uc, peer, err)
			return
		}
	}
	st.att.Done()
	l.finish(x, uc)
	if err := w.Flush(); err != nil {
		w.Abort()
	}
}

// send writes p to the client and flushes it.
func send(w request.ResponseWriter, p []byte) error {
	if _, err := w.Write(p); err != nil {
		return err
	}
	return w.Flush()
}

// clientGone ends a response the client can no longer be written to:
// the upstream connection is closed, as nginx finalizes the request with
// an error when a write downstream fails, whatever
// proxy_ignore_client_abort says.
func (l *Location) clientGone(x *request.Ctx, uc *http1.UpstreamConn) {
	hop(x).att.Done()
	release(x, uc)
	x.W.Abort()
}

// passBuffered is proxy_buffering on (ngx_event_pipe): the upstream is
// read as fast as it sends, up to proxy_buffers' total ahead of the
// client, which gets the bytes when that room is full or the body
// complete. A body that fits releases the upstream connection (to the
// keep-alive pool) before the client is written to; a longer one is
// passed on a full buffer at a time, so a slow client slows the upstream
// down, as nginx does with proxy_max_temp_file_size 0: gatehouse has no
// temporary files.
func (l *Location) passBuffered(x *request.Ctx, uc *http1.UpstreamConn, peer *upstream.Peer) {
	st := hop(x)
	w := x.W
	// Like nginx's buffers, the room is taken as the body needs it: the
	// exchange's own buffer first, then, for a longer body, a larger one
	// (doubling, up to the budget) that is not kept after the response.
	buf := st.bodyBuf(min(l.readAhead, keptBodyBuf))
	body := uc.Body()
	var length int64
	defer func() { x.Upstream.Length = strconv.AppendInt(appendSep(x.Upstream.Length), length, 10) }()
	for first := true; ; first = false {
		m := 0
		var err error
		for err == nil {
			if m == len(buf) {
				if len(buf) >= l.readAhead {
					break
				}
				nb := make([]byte, min(2*len(buf), l.readAhead))
				copy(nb, buf)
				buf = nb
			}
			var n int
			n, err = body.Read(buf[m:])
			m += n
		}
		length += int64(m)
		switch {
		case err == io.EOF:
			// The whole response is in: the upstream is done with
			// before the client is written to. The header, whose
			// values live in the upstream connection's buffer, is
			// formatted (WriteHeader only buffers it) first.
			var herr error
			if first {
				herr = w.WriteHeader()
			}
			st.att.Done()
			l.finish(x, uc)
			if herr != nil {
				w.Abort()
				return
			}
			if err := send(w, buf[:m]); err != nil {
				w.Abort()
			}
			return
		case err != nil:
			if first {
				_ = w.WriteHeader()
			}
			_, _ = w.Write(buf[:m])
			l.bodyReadError(x, uc, peer, err)
			return
		}
		var werr error
		if first {
			werr = w.WriteHeader()
		}
		if werr == nil {
			werr = send(w, buf[:m])
		}
		if werr != nil {
			l.clientGone(x, uc)
			return
		}
	}
}

// bodyReadError ends a response whose upstream body failed: logged, the
// bytes so far sent, the client connection closed (nginx cannot tell the
// client otherwise once the header is out).
func (l *Location) bodyReadError(x *request.Ctx, uc *http1.UpstreamConn, peer *upstream.Peer, err error) {
	l.logUpstreamError(x, peer, err, actBody, isTimeout(err))
	hop(x).att.Done()
	release(x, uc)
	_ = x.W.Flush()
	x.W.Abort()
}

// finish puts a connection whose exchange is complete back into the
// keep-alive pool when it can carry another request, else closes it.
func (l *Location) finish(x *request.Ctx, uc *http1.UpstreamConn) {
	if l.keepalive && uc.Reusable() {
		nc, _ := uc.Hijack()
		release(x, uc)
		if pc, ok := nc.(*upstream.Conn); ok {
			l.group.Pool().Put(pc)
			return
		}
		nc.Close()
		return
	}
	release(x, uc)
}

// interceptError is proxy_intercept_errors (ngx_http_upstream_intercept_errors):
// an upstream status of 300 or more that error_page covers is answered
// with the error_page, not the upstream's response. Only a 401's
// WWW-Authenticate fields are kept. The body is not read, so the
// connection stays alive only when there is none, as in nginx.
func (l *Location) interceptError(x *request.Ctx, uc *http1.UpstreamConn, resp *http1.Response) {
	h := x.W.Header()
	if resp.Status == 401 {
		for _, f := range resp.Header {
			if len(f.Name) == 16 && asciiEqualFold("www-authenticate", f.Name) {
				h.Header = append(h.Header, f)
			}
		}
	}
	x.Upstream.Length = append(appendSep(x.Upstream.Length), '0')
	hop(x).att.Done()
	x.Error(resp.Status)
	l.finish(x, uc)
}

// rewriteLocation applies the proxy_redirect rules to an upstream
// Location value (nginx.md §5.6): the first rule whose pattern is a
// prefix of v (case-sensitive) replaces that prefix. It reports whether a
// rule matched; with absolutize, a rewritten value starting with "/" is
// made absolute as absolute_redirect does (the request's host, else the
// local address, and the local port unless it is the scheme's default).
// The result lives in the exchange's scratch buffer, after what earlier
// rewrites of the same response put there.
func (l *Location) rewriteLocation(x *request.Ctx, v []byte, absolutize bool) (out []byte, matched, absolute bool) {
	for i := range l.redirects {
		rd := &l.redirects[i]
		if len(v) < len(rd.from) || string(v[:len(rd.from)]) != rd.from {
			continue
		}
		sc := x.Kept()
		start := len(sc)
		b := sc[start:]
		if rd.to != nil {
			// decoded variables are escaped again, as in a URI
			b = rd.to.AppendEscaping(b, x, variables.EscapeURI)
		} else {
			b = append(b, rd.toLit...)
		}
		absolute = absolutize && len(b) > 0 && b[0] == '/'
		if absolute {
			b = appendAbsolutePrefix(x, b)
		}
		b = append(b, v[len(rd.from):]...)
		sc = append(sc, b...)
		x.KeepScratch(sc)
		return sc[start:], true, absolute
	}
	return nil, false, false
}

// rewriteRefresh applies the proxy_redirect rules to the URL after
// "url=" in a Refresh header, as nginx does (never made absolute).
func (l *Location) rewriteRefresh(x *request.Ctx, v []byte) []byte {
	i := indexFold(v, "url=")
	if i < 0 {
		return v
	}
	start := len(x.Kept())
	x.KeepScratch(append(x.Kept(), v[:i+4]...))
	if _, ok, _ := l.rewriteLocation(x, v[i+4:], false); !ok {
		x.KeepScratch(x.Kept()[:start])
		return v
	}
	return x.Kept()[start:]
}

// indexFold is the index of the lower-case ASCII sub in b, any case.
func indexFold(b []byte, sub string) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if asciiEqualFold(sub, b[i:i+len(sub)]) {
			return i
		}
	}
	return -1
}

// appendAbsolutePrefix puts "scheme://host[:port]" in front of the path
// in b, using the bytes after len(b) as room.
func appendAbsolutePrefix(x *request.Ctx, b []byte) []byte {
	n := len(b)
	b = x.AppendOrigin(b)
	b = append(b, b[:n]...)
	return append(b[:0], b[n:]...)
}

func isNonIdempotent(m []byte) bool {
	switch string(m) {
	case "POST", "LOCK", "PATCH":
		return true
	}
	return false
}

func isTimeout(err error) bool {
	if errors.Is(err, http1.ErrUpstreamTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func appendList(dst, v []byte) []byte {
	return append(appendSep(dst), v...)
}

func appendSep(dst []byte) []byte {
	if len(dst) > 0 {
		dst = append(dst, ", "...)
	}
	return dst
}

// attemptTimes adds a failed attempt's entries to the upstream time
// variables, so that they line up with $upstream_addr; a negative
// duration is nginx's "-" for a phase the attempt never reached.
func attemptTimes(x *request.Ctx, connect, header, response time.Duration) {
	x.Upstream.Connect = appendSecondsOrDash(x.Upstream.Connect, connect)
	x.Upstream.Header = appendSecondsOrDash(x.Upstream.Header, header)
	x.Upstream.Response = appendSecondsOrDash(x.Upstream.Response, response)
	x.Upstream.Length = append(appendSep(x.Upstream.Length), '0')
}

func appendSecondsOrDash(dst []byte, d time.Duration) []byte {
	if d < 0 {
		return append(appendSep(dst), '-')
	}
	return appendSeconds(dst, d)
}

func appendSeconds(dst []byte, d time.Duration) []byte {
	dst = appendSep(dst)
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	dst = strconv.AppendInt(dst, ms/1000, 10)
	dst = append(dst, '.')
	frac := ms % 1000
	dst = append(dst, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return dst
}
