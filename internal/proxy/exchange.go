package proxy

import (
	"bytes"
	"encoding/base64"
	"io"
	"strconv"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/variables"
)

// Env is what every request of a process shares: the clock, randomness for
// $request_id, names for $pid and $hostname, and the error log.
type Env struct {
	Now      func() time.Time
	Rand     io.Reader
	PID      string
	Hostname string
	Log      *errorlog.Logger
	// TempNumbers names the temporary files of request bodies; nil
	// gives each location a counter of its own.
	TempNumbers *tempfile.Numbers
}

// Responses is what the server package offers for a location's
// add_header and error_page directives; the proxy applies them to the
// responses it writes.
type Responses interface {
	// AddHeaders appends the add_header fields for status to h, with their
	// values evaluated into buf, and returns buf grown.
	AddHeaders(h *http1.ResponseHeader, status int, src variables.Source, buf []byte) []byte
	// Special answers with gatehouse's own page for status, honouring
	// error_page and add_header, and returns buf grown.
	Special(w *http1.ResponseWriter, status int, src variables.Source, buf []byte) []byte
	// HasErrorPage reports whether error_page covers status, which is
	// what proxy_intercept_errors asks before replacing a response.
	HasErrorPage(status int) bool
}

// Exchange is one request on its way through the proxy. It is reused from
// request to request on a connection, and it is the variables.Source of
// everything evaluated for the request.
type Exchange struct {
	Env  *Env
	W    *http1.ResponseWriter
	R    *http1.Request
	Conn *Conn
	// ServerName is the primary server_name of the selected server.
	ServerName string
	// Host is $host: the validated request host, or ServerName.
	Host []byte
	// URI is the normalised request target.
	URI  route.URI
	Caps route.Captures
	// NameCaps are the captures of the server_name regex that chose the
	// server: its named groups stay set as variables after a location
	// regex has replaced Caps, as in nginx.
	NameCaps route.Captures
	// Start is when the request header was complete.
	Start time.Time
	// Loc is the proxy location serving the request, nil for others.
	Loc *Location
	// Responses adds the location's add_header fields and applies its
	// error_page; nil when the location has neither.
	Responses Responses
	// Log is the error log of the server or location serving the
	// request (its error_log); nil means Env.Log.
	Log *errorlog.Logger

	// Upstream values for the log, ", "-separated per attempt.
	upAddr, upStatus, upConnect, upHeader, upResponse []byte
	upLength                                          []byte
	upResp                                            *http1.Response
	requestID                                         []byte

	// closed is the status of a request answered by closing the
	// connection (408, 444, 499): nothing is written, nginx logs it.
	closed int

	st      attemptState
	uriBuf  []byte
	scratch []byte
}

// Reset prepares x for the next request on the same connection.
func (x *Exchange) Reset(w *http1.ResponseWriter, r *http1.Request) {
	x.W, x.R = w, r
	x.ServerName, x.Host, x.Loc, x.Responses, x.Log = "", nil, nil, nil, nil
	x.URI = route.URI{}
	x.Caps.Reset()
	x.NameCaps.Reset()
	x.upAddr, x.upStatus = x.upAddr[:0], x.upStatus[:0]
	x.upConnect, x.upHeader, x.upResponse = x.upConnect[:0], x.upHeader[:0], x.upResponse[:0]
	x.upLength = x.upLength[:0]
	x.upResp = nil
	x.closed = 0
	x.requestID = x.requestID[:0]
	x.Start = x.Env.Now()
}

// writeErrorPage answers with gatehouse's page for status, through the
// location's error_page and add_header when it has them.
func (x *Exchange) writeErrorPage(status int) {
	if x.Responses != nil {
		x.scratch = x.Responses.Special(x.W, status, x, x.scratch[:0])
	} else {
		_ = x.W.WriteErrorPage(status)
	}
	x.Answered(status)
}

// Answered records that the request was answered with status: when that
// wrote nothing (408, 444 and 499 close the connection), $status still
// reports it, as nginx's does.
func (x *Exchange) Answered(status int) {
	if x.W.Status() == 0 {
		x.closed = status
	}
}

// AppendOrigin appends "scheme://host[:port]", what nginx's header
// filter puts before a relative Location (absolute_redirect): the
// request's own host, else the local address (never $host's server_name
// fallback), and the local port unless it is the scheme's default or
// there is none (a UNIX socket).
func (x *Exchange) AppendOrigin(dst []byte) []byte {
	tls := x.Conn.TLS != nil
	if tls {
		dst = append(dst, "https://"...)
	} else {
		dst = append(dst, "http://"...)
	}
	if len(x.R.Host) > 0 {
		dst = append(dst, x.R.Host...)
	} else {
		dst = append(dst, x.Conn.ServerAddr...)
	}
	port := string(x.Conn.ServerPort)
	if port != "" && ((tls && port != "443") || (!tls && port != "80")) {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	return dst
}

// ErrorLog is the error log for the request: the serving location's
// error_log, or the main one.
func (x *Exchange) ErrorLog() *errorlog.Logger {
	if x.Log != nil {
		return x.Log
	}
	return x.Env.Log
}

// Scratch returns a buffer owned by the exchange, reused from request to
// request, for values that must live until the response is written.
func (x *Exchange) Scratch() []byte { return x.scratch[:0] }

// KeepScratch hands back a buffer obtained from Scratch (possibly grown).
func (x *Exchange) KeepScratch(b []byte) { x.scratch = b }

// Normalize fills URI from the request target; it reports false for a
// target nginx rejects with 400.
func (x *Exchange) Normalize(mergeSlashes bool) bool {
	if cap(x.uriBuf) < len(x.R.Target)+1 {
		x.uriBuf = make([]byte, 0, len(x.R.Target)+64)
	}
	u, err := route.NormalizeURI(x.uriBuf[:0], x.R.Target, mergeSlashes)
	if err != nil {
		return false
	}
	x.URI = u
	return true
}

// LogRefusedHeader logs, at info as nginx logs client errors, that the
// request is refused because it would put CR, LF or NUL into the header
// field name that directive (at pos) sets.
func (x *Exchange) LogRefusedHeader(directive string, name []byte, pos nginxconf.Pos) {
	log := x.ErrorLog()
	if !log.Enabled(errorlog.Info) {
		return
	}
	msg := "client sent a request that puts CR, LF or NUL into header \"" + string(name) + "\" set by \"" + directive + "\""
	if pos.File != "" {
		msg += " in " + pos.File + ":" + strconv.Itoa(pos.Line)
	}
	log.Log(errorlog.Info, x.LogContext(""), msg)
}

// LogContext returns the error-log context of the request.
func (x *Exchange) LogContext(action string) *errorlog.Context {
	ctx := &errorlog.Context{
		Conn:   x.W.ConnID(),
		Action: action,
		Client: string(x.Conn.RemoteIP),
		Server: x.ServerName,
	}
	if x.R != nil && x.R.Line != nil {
		ctx.InRequest = true
		ctx.Request = x.R.Line
		ctx.Host = x.R.HostHeader
		ctx.Referrer = x.R.Header.Get("Referer")
	}
	return ctx
}

func appendList(dst, v []byte) []byte {
	return append(appendSep(dst), v...)
}

// Var answers a variable for the request (variables.Source).
func (x *Exchange) Var(id variables.ID, arg, dst []byte) ([]byte, bool) {
	r := x.R
	switch id {
	case variables.Host:
		return append(dst, x.Host...), true
	case variables.RemoteAddr:
		return append(dst, x.Conn.RemoteIP...), true
	case variables.RemotePort:
		return append(dst, x.Conn.RemotePort...), true
	case variables.ServerAddr:
		return append(dst, x.Conn.ServerAddr...), true
	case variables.ServerPort:
		return append(dst, x.Conn.ServerPort...), true
	case variables.ServerName:
		return append(dst, x.ServerName...), true
	case variables.ServerProtocol:
		return append(dst, r.Proto...), r.Proto != nil
	case variables.Scheme:
		if x.Conn.TLS != nil {
			return append(dst, "https"...), true
		}
		return append(dst, "http"...), true
	case variables.Request:
		return append(dst, r.Line...), r.Line != nil
	case variables.RequestMethod:
		return append(dst, r.Method...), r.Method != nil
	case variables.RequestURI:
		return append(dst, r.Target...), r.Target != nil
	case variables.URI:
		return append(dst, x.URI.Path...), x.URI.Path != nil
	case variables.Args:
		return append(dst, x.URI.Args...), x.URI.Args != nil
	case variables.IsArgs:
		if len(x.URI.Args) > 0 {
			return append(dst, '?'), true
		}
		return dst, true
	case variables.ContentType:
		v := r.Header.Get("Content-Type")
		return append(dst, v...), v != nil
	case variables.ContentLength:
		v := r.Header.Get("Content-Length")
		return append(dst, v...), v != nil
	case variables.Status:
		return variables.AppendStatus(dst, http1.WireStatus(x.status())), true
	case variables.BodyBytesSent:
		return strconv.AppendInt(dst, x.W.BodyBytesSent(), 10), true
	case variables.BytesSent:
		return strconv.AppendInt(dst, x.W.BytesSent(), 10), true
	case variables.RequestTime:
		return variables.AppendSeconds(dst, x.Env.Now().Sub(x.Start)), true
	case variables.RequestID:
		if len(x.requestID) == 0 {
			x.requestID, _ = variables.AppendRequestID(x.requestID[:0], x.Env.Rand)
		}
		return append(dst, x.requestID...), true
	case variables.Connection:
		return strconv.AppendUint(dst, x.W.ConnID(), 10), true
	case variables.ConnectionRequests:
		return strconv.AppendInt(dst, int64(x.W.Requests()), 10), true
	case variables.Msec:
		return variables.AppendMsec(dst, x.Env.Now()), true
	case variables.TimeLocal:
		return variables.AppendTimeLocal(dst, x.Env.Now()), true
	case variables.TimeISO8601:
		return variables.AppendTimeISO8601(dst, x.Env.Now()), true
	case variables.PID:
		return append(dst, x.Env.PID...), true
	case variables.Hostname:
		return append(dst, x.Env.Hostname...), true
	case variables.NginxVersion:
		return append(dst, variables.NginxRelease...), true
	case variables.ProxyHost:
		if x.Loc == nil {
			return dst, false
		}
		return append(dst, x.Loc.proxyHost...), true
	case variables.ProxyPort:
		if x.Loc == nil {
			return dst, false
		}
		return append(dst, x.Loc.proxyPort...), true
	case variables.ProxyAddXForwardedFor:
		return variables.AppendProxyAddXForwardedFor(dst, headerSeq(r.Header), x.Conn.RemoteIP), true
	case variables.UpstreamAddr:
		return append(dst, x.upAddr...), len(x.upAddr) > 0
	case variables.UpstreamStatus:
		return append(dst, x.upStatus...), len(x.upStatus) > 0
	case variables.UpstreamConnectTime:
		return append(dst, x.upConnect...), len(x.upConnect) > 0
	case variables.UpstreamHeaderTime:
		return append(dst, x.upHeader...), len(x.upHeader) > 0
	case variables.UpstreamResponseTime:
		return append(dst, x.upResponse...), len(x.upResponse) > 0
	case variables.UpstreamResponseLength:
		return append(dst, x.upLength...), len(x.upLength) > 0
	case variables.HTTP:
		return variables.AppendHeader(dst, headerSeq(r.Header), arg)
	case variables.Cookie:
		return variables.AppendCookie(dst, headerSeq(r.Header), arg)
	case variables.Arg:
		return variables.AppendArg(dst, x.URI.Args, arg)
	case variables.UpstreamHTTP:
		if x.upResp == nil {
			return dst, false
		}
		return variables.AppendHeader(dst, headerSeq(x.upResp.Header), arg)
	case variables.BinaryRemoteAddr:
		a := x.Conn.Client
		switch {
		case a.Is4():
			b := a.As4()
			return append(dst, b[:]...), true
		case a.Is6():
			b := a.As16()
			return append(dst, b[:]...), true
		}
		return dst, true
	case variables.RemoteUser:
		return appendBasicUser(dst, r.Header.Get("Authorization"))
	case variables.RequestLength:
		n := int64(r.HeaderLength)
		if r.Body != nil {
			n += r.Body.BytesRead()
		}
		return strconv.AppendInt(dst, n, 10), true
	case variables.SentHTTP:
		return x.appendSent(dst, arg)
	case variables.UpstreamCookie:
		if x.upResp == nil {
			return dst, false
		}
		return appendSetCookie(dst, x.upResp.Header, arg)
	case variables.SentTrailer, variables.UpstreamTrailer:
		// gatehouse sends and keeps no trailers.
		return dst, false
	case variables.Capture:
		n := variables.CaptureIndex(arg)
		v, ok := x.Caps.Group(n)
		return append(dst, v...), ok
	}
	if id >= variables.FirstDefined {
		// The only variables a configuration defines are named regex
		// captures; arg is the name. The last regex that has a group of
		// that name set it: the location's, else the server name's.
		if v, ok, has := namedCapture(&x.Caps, arg); has {
			return append(dst, v...), ok
		}
		if v, ok, has := namedCapture(&x.NameCaps, arg); has {
			return append(dst, v...), ok
		}
		return dst, false
	}
	if x.Conn.TLS != nil || id == variables.HTTPS {
		if v, ok := x.Conn.TLS.AppendVar(dst, id); ok {
			return v, true
		}
	}
	return dst, false
}

// status is the response status so far; 0 before one was chosen.
func (x *Exchange) status() int {
	if s := x.W.Status(); s != 0 {
		return s
	}
	return x.closed
}

// headerSeq lets the variables package's header helpers ($http_NAME,
// $cookie_NAME, ...) read hs; built on the caller's stack, it does not
// allocate.
func headerSeq(hs http1.Headers) variables.Headers {
	return func(yield func(name, value []byte) bool) {
		for _, h := range hs {
			if !yield(h.Name, h.Value) {
				return
			}
		}
	}
}

// namedCapture returns the group called name of the match in c; has
// reports whether the matching regex has such a group at all. A group
// that did not take part in the match is set and empty, as nginx sets it.
func namedCapture(c *route.Captures, name []byte) (v []byte, ok, has bool) {
	if c.Regexp == nil {
		return nil, false, false
	}
	for i, n := range c.Regexp.SubexpNames() {
		if n != "" && n == string(name) {
			v, _ = c.Group(i)
			return v, true, true
		}
	}
	return nil, false, false
}

// appendSent is $sent_http_NAME: the response header as sent, with
// nginx's special cases for the fields the writer keeps apart.
func (x *Exchange) appendSent(dst, name []byte) ([]byte, bool) {
	h := x.W.Header()
	switch string(name) {
	case "content_type":
		return append(dst, h.ContentType...), len(h.ContentType) > 0
	case "content_length":
		if x.W.Status() == 0 || h.ContentLength < 0 {
			return dst, false
		}
		return strconv.AppendInt(dst, h.ContentLength, 10), true
	case "location":
		if len(h.Location) > 0 {
			return append(dst, h.Location...), true
		}
	case "connection":
		if x.W.Status() == 0 {
			return dst, false
		}
		if x.W.KeepAlive() {
			return append(dst, "keep-alive"...), true
		}
		return append(dst, "close"...), true
	}
	return variables.AppendHeader(dst, headerSeq(h.Header), name)
}

// appendBasicUser is $remote_user: the user name of Basic credentials
// (ngx_http_auth_basic_user); unset without them or when they do not
// decode to "user:password".
func appendBasicUser(dst, auth []byte) ([]byte, bool) {
	const basic = "basic "
	if len(auth) < len(basic) {
		return dst, false
	}
	for i := 0; i < len(basic); i++ {
		c := auth[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != basic[i] {
			return dst, false
		}
	}
	enc := auth[len(basic):]
	for len(enc) > 0 && enc[0] == ' ' {
		enc = enc[1:]
	}
	if len(enc) == 0 {
		return dst, false
	}
	start := len(dst)
	out, err := base64.StdEncoding.AppendDecode(dst, enc)
	if err != nil {
		return dst, false
	}
	user, _, ok := bytes.Cut(out[start:], []byte{':'})
	if !ok {
		return dst, false
	}
	return out[:start+len(user)], true
}

// appendSetCookie is $upstream_cookie_NAME: the value of the first
// Set-Cookie field that sets the cookie name.
func appendSetCookie(dst []byte, hs http1.Headers, name []byte) ([]byte, bool) {
	for _, h := range hs {
		if !variables.MatchHeaderName([]byte("set_cookie"), h.Name) {
			continue
		}
		pair, _, _ := bytes.Cut(h.Value, []byte{';'})
		n, v, ok := bytes.Cut(pair, []byte{'='})
		if ok && bytes.EqualFold(bytes.TrimSpace(n), name) {
			return append(dst, bytes.TrimSpace(v)...), true
		}
	}
	return dst, false
}
