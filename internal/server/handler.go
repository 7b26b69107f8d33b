package server

import (
	"bytes"
	"errors"
	"net"
	"strconv"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/proxy"
	"gatehouse/internal/route"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/variables"
)

// ServeHTTP1 handles one request on the socket: it picks the virtual
// server by Host, applies the client-certificate rules, finds the location
// and runs its handler, then writes the access log line.
func (sk *socket) ServeHTTP1(w *http1.ResponseWriter, r *http1.Request) {
	c, ok := w.Conn().(*proxy.Conn)
	if !ok {
		w.Abort()
		return
	}
	x := sk.xpool.Get().(*proxy.Exchange)
	x.Conn = c
	x.Reset(w, r)
	l := sk.serve(x)
	if l != nil && l.access != nil {
		l.access.Log(x)
	}
	x.W, x.R, x.Conn = nil, nil, nil
	sk.xpool.Put(x)
}

// serve runs the request and returns the location whose access log
// applies.
func (sk *socket) serve(x *proxy.Exchange) *loc {
	r, w := x.R, x.W
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
		x.Log = fv.level.errLog
		x.ServerName = fv.name
		x.Host = fv.nameBytes
		ctx := x.LogContext("reading client request line")
		ctx.Host = nil
		x.ErrorLog().Log(errorlog.Info, ctx, "client sent invalid request")
		sk.special(x, fv.level, 400, x.Scratch())
		return fv.level
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
			sk.special(x, v.level, verdict.Status(), x.Scratch())
			return v.level
		}
	}
	// A server-level return runs in nginx's server rewrite phase, before
	// any location is looked up (and before client_max_body_size).
	if v.level.ret != nil {
		if !sk.refuseUnsafe(x, v.level) {
			sk.doReturn(x, v.level)
		}
		return v.level
	}
	m := v.locs.Find(x.URI.Path, &x.Caps)
	l := v.level
	if m.Location != nil {
		l = m.Location.Payload.(*loc)
	}
	x.Log = l.errLog
	// nginx checks client_max_body_size before it answers the
	// trailing-slash redirect (ngx_http_core_find_config_phase).
	if err := w.Apply(&l.limits); err != nil {
		if errors.Is(err, http1.ErrBodyTooLarge) {
			x.ErrorLog().Logf(errorlog.Error, x.LogContext(""), "client intended to send too large body: %d bytes", r.ContentLength)
			sk.special(x, l, 413, x.Scratch())
			return l
		}
		w.Abort()
		return l
	}
	if sk.refuseUnsafe(x, l) {
		return l
	}
	if m.Redirect != "" {
		sk.redirect(x, l, m.Redirect)
		return l
	}
	switch {
	case l.ret != nil:
		sk.doReturn(x, l)
	case l.proxy != nil:
		if l.resp != nil {
			x.Responses = l.resp
		}
		l.proxy.Serve(x)
	default:
		// A location without a handler serves static files in nginx;
		// gatehouse has none to serve.
		sk.special(x, l, 404, x.Scratch())
	}
	return l
}

// enter makes v the server of the request in x: its error log,
// $server_name, and $host, which falls back to the primary name when the
// request has no host.
func (v *vhost) enter(x *proxy.Exchange) {
	x.Log = v.level.errLog
	x.ServerName = v.name
	x.Host = x.R.Host
	if x.Host == nil {
		x.Host = v.nameBytes
	}
}

// redirect answers nginx's trailing-slash auto-redirect (301).
func (sk *socket) redirect(x *proxy.Exchange, l *loc, target string) {
	buf := absolute(x.Scratch(), x, []byte(target))
	if len(x.URI.Args) > 0 {
		buf = append(buf, '?')
		buf = append(buf, x.URI.Args...)
	}
	x.W.Header().Location = buf
	sk.special(x, l, 301, buf)
}

// absolute appends path made absolute, as absolute_redirect does, to dst.
func absolute(dst []byte, x *proxy.Exchange, path []byte) []byte {
	return append(x.AppendOrigin(dst), path...)
}

// doReturn answers the return directive as ngx_http_script_return_code
// does: redirects, and codes of 400 and above without text, are special
// responses (error_page applies); anything else is sent as is, typed by
// the URI's extension or default_type.
func (sk *socket) doReturn(x *proxy.Exchange, l *loc) {
	w := x.W
	code := l.ret.Code
	buf := x.Scratch()
	var text []byte
	redirect := isRedirect(code)
	if l.retVal != nil {
		if redirect {
			// A decoded variable ($uri, a capture) is escaped again,
			// as a URI it goes into: a decoded CR or LF cannot split
			// the response. nginx writes the decoded bytes as they are.
			buf = l.retVal.AppendEscaping(buf, x, route.EscapeURI)
		} else {
			buf = l.retVal.Append(buf, x)
		}
		text = buf
	}
	switch {
	case redirect:
		h := w.Header()
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
		sk.special(x, l, code, buf)
	case code == 444:
		w.Abort()
		x.Answered(444)
	case code >= 400 && l.ret.Text == "":
		sk.special(x, l, code, buf)
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

// isRedirect reports whether return's code makes its text a Location.
func isRedirect(code int) bool {
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308
}

// special sends nginx's answer for an error or redirect status with the
// location's error_page and add_header (see Responses.Special). buf holds
// bytes the header already refers to.
func (sk *socket) special(x *proxy.Exchange, l *loc, status int, buf []byte) {
	x.KeepScratch(l.resp.Special(x.W, status, x, buf))
	x.Answered(status)
}

// locationName is the Location field name; read-only.
var locationName = []byte("Location")

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

// errorPage is one compiled error_page status.
type errorPage struct {
	status   int
	redirect int
	uri      *variables.Template
}

// Responses is what a location adds to the responses it sends:
// add_header and error_page, compiled. gatehouse applies it to the
// responses it makes itself; the proxy applies it to proxied responses
// (AddHeaders just before writing the header) and to its own error
// responses (Special instead of WriteErrorPage). A nil *Responses adds
// nothing and sends the built-in pages.
type Responses struct {
	headers    []addHeader
	errorPages []errorPage
}

// HasErrorPage reports whether error_page covers status; this is what
// proxy_intercept_errors asks before replacing an upstream response.
func (r *Responses) HasErrorPage(status int) bool {
	return r.errorPage(status) != nil
}

func (r *Responses) errorPage(status int) *errorPage {
	if r == nil {
		return nil
	}
	for i := range r.errorPages {
		if r.errorPages[i].status == status {
			return &r.errorPages[i]
		}
	}
	return nil
}

// Special sends nginx's answer for an error or redirect status
// (ngx_http_special_response_handler): with an error_page for status, a
// redirect to its URL (302, or the "=CODE" if that is a redirect code)
// that replaces any Location already set; else the built-in page for
// status. add_header fields that apply to the status sent are added.
// Values are evaluated against src into buf, which may already hold
// bytes the header refers to; Special returns buf grown.
func (r *Responses) Special(w *http1.ResponseWriter, status int, src variables.Source, buf []byte) []byte {
	h := w.Header()
	if status != 444 { // 444 closes the connection; nothing is sent
		if ep := r.errorPage(status); ep != nil {
			status = ep.redirect
			h.Location = nil
			for j := 0; j < len(h.Header); j++ {
				if bytes.EqualFold(h.Header[j].Name, locationName) {
					h.Header = append(h.Header[:j], h.Header[j+1:]...)
					j--
				}
			}
			start := len(buf)
			buf = ep.uri.AppendEscaping(buf, src, route.EscapeURI)
			h.Header = append(h.Header, http1.Header{Name: locationName, Value: buf[start:len(buf):len(buf)]})
		}
	}
	buf = r.AddHeaders(h, http1.WireStatus(status), src, buf)
	_ = w.WriteErrorPage(status)
	return buf
}

type addHeader struct {
	name   []byte
	value  *variables.Template
	always bool
	// anyByte is set when the value may hold CR, LF or NUL at run time
	// (variables.Template.AnyByte); see refuseUnsafe.
	anyByte bool
	pos     nginxconf.Pos
	// replace is set for ETag and Last-Modified, which nginx keeps once:
	// add_header replaces the field already there (an upstream's) or,
	// with an empty value, removes it.
	replace bool
}

// AddHeaders appends to h.Header the add_header fields that apply to a
// response with status (those marked always, or all for 200, 201, 204, 206, 301,
// 302, 303, 304, 307 and 308), skipping any whose value is empty, as
// nginx's headers filter does. Values are evaluated against src into
// buf, which Add returns grown; h refers to it, so it must not be
// modified until the header is written.
func (r *Responses) AddHeaders(h *http1.ResponseHeader, status int, src variables.Source, buf []byte) []byte {
	if r == nil {
		return buf
	}
	all := config.AddHeaderStatus(status)
	for i := range r.headers {
		a := &r.headers[i]
		if !all && !a.always {
			continue
		}
		start := len(buf)
		buf = a.value.Append(buf, src)
		v := buf[start:len(buf):len(buf)]
		if a.anyByte && !http1.SafeFieldValue(v) {
			// refuseUnsafe answered this request with 400; this is
			// that answer (an add_header ... always): leave the
			// field out.
			buf = buf[:start]
			continue
		}
		if a.replace {
			h.Header = replaceField(h.Header, a.name, v)
			continue
		}
		if len(v) > 0 {
			h.Header = append(h.Header, http1.Header{Name: a.name, Value: v})
		}
	}
	return buf
}

// refuseUnsafe answers 400 when an add_header value that may hold any
// byte ($uri, a capture, ...) holds CR, LF or NUL for this request,
// before the request is served: the configuration text was checked when
// it was read, so the bytes came from the client. It logs the header and
// the directive's position and reports whether it answered.
func (sk *socket) refuseUnsafe(x *proxy.Exchange, l *loc) bool {
	r := l.resp
	if r == nil {
		return false
	}
	for i := range r.headers {
		a := &r.headers[i]
		if !a.anyByte {
			continue
		}
		buf := a.value.Append(x.Scratch(), x)
		x.KeepScratch(buf)
		if !http1.SafeFieldValue(buf) {
			x.LogRefusedHeader("add_header", a.name, a.pos)
			sk.special(x, l, 400, x.Scratch())
			return true
		}
	}
	return false
}

// replaceField is ngx_http_set_response_header: the first field named
// name takes the new name and value in its place (an empty value removes
// it), or the field is appended.
func replaceField(hs http1.Headers, name, value []byte) http1.Headers {
	for i := range hs {
		if !bytes.EqualFold(hs[i].Name, name) {
			continue
		}
		if len(value) == 0 {
			return append(hs[:i], hs[i+1:]...)
		}
		hs[i] = http1.Header{Name: name, Value: value}
		return hs
	}
	if len(value) == 0 {
		return hs
	}
	return append(hs, http1.Header{Name: name, Value: value})
}

// onReject logs a request the codec refused by itself, in the error log
// with nginx's context and, as nginx does, in the access log of the
// server the request reached. The access line waits for the error
// response (see tally), whose size it reports; 408 sends none.
func (sk *socket) onReject(c net.Conn, r *http1.Request, e *http1.Error) {
	pc, ok := c.(*proxy.Conn)
	if !ok {
		sk.rt.env.Log.Log(errorlog.Info, nil, e.Msg)
		return
	}
	v := sk.vhostFor(pc, r)
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
func (sk *socket) vhostFor(pc *proxy.Conn, r *http1.Request) *vhost {
	a := sk.addr
	id := a.Default
	matched := false
	if len(r.Host) > 0 && a.Names != nil {
		id, matched = a.Names.Find(r.Host, nil)
	}
	if !matched && r.Host == nil && pc.TLS != nil {
		if i, ok := pc.TLS.SNIServer(); ok {
			id = a.Servers[i]
		}
	}
	return sk.servers[id]
}

// logRejected writes the access log line of a refused request: the
// request as far as it was read, with the status and sizes of the error
// response.
func (sk *socket) logRejected(pc *proxy.Conn, r *http1.Request, v *vhost, status int, body, total int64) {
	x := sk.xpool.Get().(*proxy.Exchange)
	x.Conn = pc
	x.Reset(nil, r)
	v.enter(x)
	v.level.access.Log(&rejectedSource{x: x, status: status, body: body, total: total})
	x.R, x.Conn = nil, nil
	sk.xpool.Put(x)
}

// rejectedSource answers the variables of a refused request: its
// response's status and sizes here, the rest from the request. There is
// no response writer, so $connection, $connection_requests and
// $sent_http_* are unset, and the codec does not say how much of the
// request it read ($request_length).
type rejectedSource struct {
	x           *proxy.Exchange
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
	pc    *proxy.Conn
	r     *http1.Request
	v     *vhost
	st    int
}

func (t *tally) arm(sk *socket, pc *proxy.Conn, r *http1.Request, v *vhost, status int) {
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
func (t *tally) CloseWrite() error { return proxy.CloseWrite(t.Conn) }

var crlfcrlf = []byte("\r\n\r\n")

// plainSocket answers plain HTTP sent to an ssl socket: nginx's 497,
// after the server was chosen by Host, so that its error_page 497 (the
// usual redirect to https) applies, and logged in its access log.
type plainSocket struct{ sk *socket }

func (p plainSocket) ServeHTTP1(w *http1.ResponseWriter, r *http1.Request) {
	sk := p.sk
	pc, ok := w.Conn().(*proxy.Conn)
	if !ok {
		_ = w.WriteErrorPage(497)
		return
	}
	x := sk.xpool.Get().(*proxy.Exchange)
	x.Conn = pc
	x.Reset(w, r)
	v := sk.vhostFor(pc, r)
	v.enter(x)
	_ = x.Normalize(v.mergeSlashes)
	x.ErrorLog().Log(errorlog.Info, x.LogContext("reading client request headers"), "client sent plain HTTP request to HTTPS port")
	sk.special(x, v.level, 497, x.Scratch())
	if v.level.access != nil {
		v.level.access.Log(x)
	}
	x.W, x.R, x.Conn = nil, nil, nil
	sk.xpool.Put(x)
}
