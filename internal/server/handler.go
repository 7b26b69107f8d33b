package server

import (
	"bytes"
	"errors"
	"net"
	"strconv"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/proxy"
	"gatehouse/internal/request"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/variables"
)

// ServeHTTP1 is HTTP/1's producer of requests: it fills a request
// context from the codec's request and runs it through the phases.
func (sk *socket) ServeHTTP1(w *http1.ResponseWriter, r *http1.Request) {
	if _, ok := w.Conn().(*request.Conn); !ok {
		w.Abort()
		return
	}
	sk.run(sk.engine, w, r)
}

// run serves one HTTP/1 request of the connection c through e.
func (sk *socket) run(e *request.Engine, w *http1.ResponseWriter, r *http1.Request) {
	x := sk.xpool.Get().(*request.Ctx)
	x.Conn = w.Conn().(*request.Conn)
	x.Reset(w)
	x.Req.FromHTTP1(r)
	e.Run(x)
	x.Release()
	sk.xpool.Put(x)
}

// Handle is the socket's post-read phase: it picks the virtual server
// by Host and applies the client-certificate rules.
func (sk *socket) Handle(x *request.Ctx) request.Status {
	r := &x.Req
	a := sk.addr
	// The connection's server: the default one, or the one SNI chose.
	// nginx checks and normalises the URI with it (merge_slashes, and its
	// error_page for the 400) right after the request line, before it
	// reads Host.
	first := a.Default
	if x.Conn.TLS != nil {
		if i, ok := x.Conn.TLS.SNIServer(); ok {
			first = a.Servers[i]
		}
	}
	if fv := sk.servers[first]; !x.Normalize(fv.mergeSlashes) {
		x.EnterServer(fv.srv)
		x.ServerName = fv.name
		x.Host = fv.nameBytes
		ctx := x.LogContext("reading client request line")
		ctx.Host = nil
		x.ErrorLog().Log(errorlog.Info, ctx, "client sent invalid request")
		special(x, fv.level, 400, x.Scratch())
		return request.Done
	}

	// Then Host chooses the server. Without one, nginx looks up the
	// empty name (server_name ""), else takes the default server, even
	// when SNI named another (ngx_http_set_virtual_server).
	id := a.Default
	if len(r.Host) > 0 {
		if a.Names != nil {
			id, _ = a.Names.Find(r.Host, &x.Caps)
		}
	} else if a.Names != nil {
		if e, ok := a.Names.Find(nil, nil); ok && sk.servers[e].emptyName {
			id = e
		}
	}
	// A server_name regex's named captures stay set after a location
	// regex has replaced $1..$9.
	x.NameCaps = x.Caps
	v := sk.servers[id]
	v.enter(x)

	if x.Conn.TLS != nil {
		verdict := x.Conn.TLS.Check(r.Host, max(sk.tlsIndex[id], 0))
		if _, sni := x.Conn.TLS.SNIServer(); sni && r.Host == nil && v.verifies {
			// nginx compares the empty host with the SNI name too.
			verdict = tlsterm.Misdirected
		}
		if verdict != tlsterm.Proceed {
			x.ErrorLog().Log(errorlog.Info, x.LogContext("reading client request headers"), string(x.Conn.TLS.AppendReason(nil, verdict)))
			special(x, v.level, verdict.Status(), x.Scratch())
			return request.Done
		}
	}
	return request.Continue
}

// findLocation is a server's find-config phase: the location for the
// URI, then client_max_body_size, the add_header check and the
// trailing-slash redirect.
type findLocation struct{ v *vhost }

func (f findLocation) Handle(x *request.Ctx) request.Status {
	v := f.v
	m := v.locs.Find(x.URI.Path, &x.Caps)
	l := v.level
	if m.Location != nil {
		l = m.Location.Payload.(*loc)
	}
	x.Enter(l.ph)
	// nginx checks client_max_body_size before it answers the
	// trailing-slash redirect (ngx_http_core_find_config_phase).
	if err := x.W.Apply(&l.limits); err != nil {
		if errors.Is(err, http1.ErrBodyTooLarge) {
			x.ErrorLog().Logf(errorlog.Error, x.LogContext(""), "client intended to send too large body: %d bytes", x.Req.ContentLength)
			special(x, l, 413, x.Scratch())
			return request.Done
		}
		x.W.Abort()
		return request.Done
	}
	if l.resp.RefuseUnsafe(x) {
		return request.Done
	}
	if m.Redirect != "" {
		redirect(x, l, m.Redirect)
		return request.Done
	}
	return request.Continue
}

// serverReturn is a server-level return, in nginx's server rewrite
// phase: before any location is looked up (and before
// client_max_body_size).
type serverReturn struct{ l *loc }

func (h serverReturn) Handle(x *request.Ctx) request.Status {
	if !h.l.resp.RefuseUnsafe(x) {
		doReturn(x, h.l)
	}
	return request.Done
}

// locationReturn is a location's return, in the rewrite phase.
type locationReturn struct{ l *loc }

func (h locationReturn) Handle(x *request.Ctx) request.Status {
	doReturn(x, h.l)
	return request.Done
}

// proxyContent is proxy_pass as a location's content handler.
type proxyContent struct{ p *proxy.Location }

func (h proxyContent) Handle(x *request.Ctx) request.Status {
	h.p.Serve(x)
	return request.Done
}

// statusPage answers with the built-in page for a status (through
// error_page and add_header): a location without a handler serves static
// files in nginx, and gatehouse has none to serve, so 404.
type statusPage struct {
	l      *loc
	status int
}

func (h statusPage) Handle(x *request.Ctx) request.Status {
	special(x, h.l, h.status, x.Scratch())
	return request.Done
}

// accessLog is the log phase's access_log.
type accessLog struct{ a *accesslog.Logger }

func (h accessLog) Handle(x *request.Ctx) request.Status {
	h.a.Log(x)
	return request.Continue
}

// enter makes v the server of the request in x: its error log,
// $server_name, and $host, which falls back to the primary name when the
// request has no host.
func (v *vhost) enter(x *request.Ctx) {
	x.EnterServer(v.srv)
	x.ServerName = v.name
	x.Host = x.Req.Host
	if x.Host == nil {
		x.Host = v.nameBytes
	}
}

// redirect answers nginx's trailing-slash auto-redirect (301).
func redirect(x *request.Ctx, l *loc, target string) {
	buf := absolute(x.Scratch(), x, []byte(target))
	if len(x.URI.Args) > 0 {
		buf = append(buf, '?')
		buf = append(buf, x.URI.Args...)
	}
	x.W.Header().Location = buf
	special(x, l, 301, buf)
}

// absolute appends path made absolute, as absolute_redirect does, to dst.
func absolute(dst []byte, x *request.Ctx, path []byte) []byte {
	return append(x.AppendOrigin(dst), path...)
}

// doReturn answers the return directive as ngx_http_script_return_code
// does: redirects, and codes of 400 and above without text, are special
// responses (error_page applies); anything else is sent as is, typed by
// the URI's extension or default_type.
func doReturn(x *request.Ctx, l *loc) { answerReturn(x, l, l.ret, l.retVal) }

// answerReturn answers the return r, with its compiled text val, for the
// level l.
func answerReturn(x *request.Ctx, l *loc, r *config.Return, val *variables.Template) {
	w := x.W
	code := r.Code
	buf := x.Scratch()
	var text []byte
	redirect := isRedirect(code)
	if val != nil {
		if redirect {
			// A decoded variable ($uri, a capture) is escaped again,
			// as a URI it goes into: a decoded CR or LF cannot split
			// the response. nginx writes the decoded bytes as they are.
			buf = val.AppendEscaping(buf, x, variables.EscapeURI)
		} else {
			buf = val.Append(buf, x)
		}
		text = buf
	}
	switch {
	case redirect:
		redirectTo(x, l, code, buf, text)
	case code == 444:
		w.Abort()
		x.Answered(444)
	case code >= 400 && r.Text == "":
		special(x, l, code, buf)
	default:
		h := w.Header()
		h.Status = code
		h.ContentType = l.contentType(x.URI.Path)
		h.ContentLength = int64(len(text))
		buf = l.resp.AddHeaders(h, code, x, buf)
		x.KeepScratch(buf)
		if err := w.WriteHeader(); err == nil {
			_, _ = w.Write(text)
		}
	}
}

// redirectTo answers code with text (the tail of buf) as Location.
func redirectTo(x *request.Ctx, l *loc, code int, buf, text []byte) {
	h := x.W.Header()
	switch {
	case len(text) > 0 && text[0] == '/':
		// nginx prints a relative Location, made absolute, in its
		// own place; any other goes out among the other fields.
		buf = absolute(buf, x, text)
		h.Location = buf[len(text):]
	default:
		// nginx sets Location even when it is empty ("return 301;").
		h.Header = append(h.Header, http1.Header{Name: locationName, Value: text})
	}
	special(x, l, code, buf)
}

// locationName is the Location field name; read-only.
var locationName = []byte("Location")

// isRedirect reports whether return's code makes its text a Location.
func isRedirect(code int) bool {
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308
}

// special sends nginx's answer for an error or redirect status with the
// location's error_page and add_header (see Responses.Special). buf holds
// bytes the header already refers to.
func special(x *request.Ctx, l *loc, status int, buf []byte) {
	x.KeepScratch(l.resp.Special(x.W, status, x, buf))
	x.Answered(status)
}

// contentType is ngx_http_set_content_type for a generated response: the
// type of the URI's extension (compared case-insensitively) or
// default_type. It does not allocate.
func (l *loc) contentType(path []byte) []byte {
	ext := extension(path)
	if len(ext) == 0 || len(ext) > l.types.maxExt {
		return l.types.defaultType
	}
	var low [maxExtension]byte
	for i, c := range ext {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	if t, ok := l.types.byExt[string(low[:len(ext)])]; ok {
		return t
	}
	return l.types.defaultType
}

// extension is nginx's r->exten: what follows the last "." of the last
// path segment, when something other than dots precedes that "." in the
// segment.
func extension(path []byte) []byte {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '/':
			return nil
		case '.':
			for j := i - 1; j >= 0 && path[j] != '/'; j-- {
				if path[j] != '.' {
					return path[i+1:]
				}
			}
			return nil
		}
	}
	return nil
}

// maxExtension bounds the extensions looked up; longer ones (none in
// any mime.types) get default_type.
const maxExtension = 32

// mimeTable is a types table with its values ready to send.
type mimeTable struct {
	byExt       map[string][]byte
	maxExt      int
	defaultType []byte
}

// onReject logs a request the codec refused by itself, in the error log
// with nginx's context and, as nginx does, in the access log of the
// server the request reached. The access line waits for the error
// response (see tally), whose size it reports; 408 sends none.
func (sk *socket) onReject(c net.Conn, r *http1.Request, e *http1.Error) {
	pc, ok := c.(*request.Conn)
	if !ok {
		sk.rt.env.Log.Log(errorlog.Info, nil, e.Msg)
		return
	}
	v := sk.vhostFor(pc, r.Host)
	ctx := &errorlog.Context{Client: string(pc.RemoteIP), Server: v.name, InRequest: true, Request: r.Line, Host: r.HostHeader}
	ctx.Action = "reading client request headers"
	if r.Proto == nil || requestLineError(e) {
		ctx.Action = "reading client request line"
	}
	msg := make([]byte, 0, len(e.Msg)+len(r.Detail)+32)
	msg = append(msg, e.Msg...)
	if e.Status == 408 {
		msg = append(msg, " (110: Connection timed out)"...)
	}
	msg = append(msg, r.Detail...)
	level := errorlog.Info
	if e.Status == 413 {
		level = errorlog.Error
	}
	v.level.errLog.Log(level, ctx, string(msg))
	if v.level.access == nil {
		return
	}
	t, _ := pc.Conn.(*tally)
	switch {
	case e.Status == 408 || t == nil:
		sk.logRejected(pc, r, v, e.Status, 0, 0)
	default:
		t.arm(sk, pc, r, v, e.Status)
	}
}

// requestLineError reports whether nginx meets e while reading the
// request line.
func requestLineError(e *http1.Error) bool {
	switch e {
	case http1.ErrInvalidRequest, http1.ErrInvalidMethod, http1.ErrInvalidVersion, http1.ErrTooLongURI:
		return true
	}
	return false
}

// vhostFor is the server a request belongs to before it is served: the
// one its Host names (nginx selects it as soon as it reads Host), else
// the one SNI chose, else the socket's default.
func (sk *socket) vhostFor(pc *request.Conn, host []byte) *vhost {
	a := sk.addr
	id := a.Default
	matched := false
	if len(host) > 0 && a.Names != nil {
		id, matched = a.Names.Find(host, nil)
	}
	if !matched && host == nil && pc.TLS != nil {
		if i, ok := pc.TLS.SNIServer(); ok {
			id = a.Servers[i]
		}
	}
	return sk.servers[id]
}

// logRejected writes the access log line of a refused request: the
// request as far as it was read, with the status and sizes of the error
// response.
func (sk *socket) logRejected(pc *request.Conn, r *http1.Request, v *vhost, status int, body, total int64) {
	x := sk.xpool.Get().(*request.Ctx)
	x.Conn = pc
	x.Reset(nil)
	x.Req.FromHTTP1(r)
	v.enter(x)
	v.level.access.Log(&rejectedSource{x: x, status: status, body: body, total: total})
	x.Release()
	sk.xpool.Put(x)
}

// rejectedSource answers the variables of a refused request: its
// response's status and sizes here, the rest from the request. There is
// no response writer, so $connection, $connection_requests and
// $sent_http_* are unset, and the codec does not say how much of the
// request it read ($request_length).
type rejectedSource struct {
	x           *request.Ctx
	status      int
	body, total int64
}

func (s *rejectedSource) Var(id variables.ID, arg, dst []byte) ([]byte, bool) {
	switch id {
	case variables.Status:
		return variables.AppendStatus(dst, http1.WireStatus(s.status)), true
	case variables.BodyBytesSent:
		return strconv.AppendInt(dst, s.body, 10), true
	case variables.BytesSent:
		return strconv.AppendInt(dst, s.total, 10), true
	case variables.Connection, variables.ConnectionRequests, variables.SentHTTP, variables.RequestLength:
		return dst, false
	}
	return s.x.Var(id, arg, dst)
}

// tally is the connection the codec writes to. Once armed by onReject it
// takes the next write, the whole error response (header and page go out
// in one write), and writes the refused request's access log line with
// that response's sizes, before the codec's lingering close.
type tally struct {
	net.Conn
	armed bool
	sk    *socket
	pc    *request.Conn
	r     *http1.Request
	v     *vhost
	st    int
}

func (t *tally) arm(sk *socket, pc *request.Conn, r *http1.Request, v *vhost, status int) {
	t.armed, t.sk, t.pc, t.r, t.v, t.st = true, sk, pc, r, v, status
}

func (t *tally) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if t.armed {
		t.armed = false
		body := int64(0)
		if i := bytes.Index(p[:n], crlfcrlf); i >= 0 {
			body = int64(n - i - len(crlfcrlf))
		}
		t.sk.logRejected(t.pc, t.r, t.v, t.st, body, int64(n))
		t.sk, t.pc, t.r, t.v = nil, nil, nil, nil
	}
	return n, err
}

// CloseWrite passes the half-close of the codec's lingering close on.
func (t *tally) CloseWrite() error { return request.CloseWrite(t.Conn) }

var crlfcrlf = []byte("\r\n\r\n")

// plainSocket answers plain HTTP sent to an ssl socket: nginx's 497,
// after the server was chosen by Host, so that its error_page 497 (the
// usual redirect to https) applies, and logged in its access log. It is
// the post-read phase of the socket's second engine.
type plainSocket struct{ sk *socket }

func (p plainSocket) ServeHTTP1(w *http1.ResponseWriter, r *http1.Request) {
	if _, ok := w.Conn().(*request.Conn); !ok {
		_ = w.WriteErrorPage(497)
		return
	}
	p.sk.run(p.sk.plainEngine, w, r)
}

func (p plainSocket) Handle(x *request.Ctx) request.Status {
	v := p.sk.vhostFor(x.Conn, x.Req.Host)
	v.enter(x)
	_ = x.Normalize(v.mergeSlashes)
	x.ErrorLog().Log(errorlog.Info, x.LogContext("reading client request headers"), "client sent plain HTTP request to HTTPS port")
	special(x, v.level, 497, x.Scratch())
	return request.Done
}
