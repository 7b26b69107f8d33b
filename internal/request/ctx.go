package request

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/variables"
	"gatehouse/internal/varmap"
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
	// Maps are the map variables of the generation, indexed by ID minus
	// variables.FirstDefined; nil entries are other defined variables.
	Maps []*varmap.Map
	// UserVars, indexed by a defined variable's ID less
	// variables.FirstDefined, marks the variables a set directive
	// assigns: one not set for a request is empty, and logged when the
	// location has uninitialized_variable_warn (ngx_http_rewrite_var).
	UserVars []bool
}

// ResponseWriter is the response side of a request as the handlers see
// it, whatever protocol carries it: HTTP/1's *http1.ResponseWriter is one;
// an HTTP/2 stream is another. The header is http1's ResponseHeader, a
// plain struct of byte slices with no wire format of its own.
type ResponseWriter interface {
	// Header is the response header to fill before WriteHeader.
	Header() *http1.ResponseHeader
	// WriteHeader sends (or buffers) the header.
	WriteHeader() error
	// Write sends body bytes, after WriteHeader.
	Write(p []byte) (int, error)
	// Flush pushes buffered bytes to the client.
	Flush() error
	// WriteErrorPage answers with the built-in page for status.
	WriteErrorPage(status int) error
	// Abort ends the response by closing the connection (or resetting
	// the stream) without writing more.
	Abort()
	// Hijack takes the connection over for an upgraded protocol, with
	// the client bytes already read.
	Hijack() (net.Conn, []byte, error)
	// Apply sets the location's limits (client_max_body_size, timeouts,
	// keep-alive); it reports http1.ErrBodyTooLarge for a declared body
	// over the limit.
	Apply(l *http1.Limits) error
	// Status is the status sent, 0 before the header.
	Status() int
	// BytesSent and BodyBytesSent are $bytes_sent and $body_bytes_sent.
	BytesSent() int64
	BodyBytesSent() int64
	// KeepAlive reports whether the connection stays open after the
	// response.
	KeepAlive() bool
	// ConnID and Requests are $connection and $connection_requests.
	ConnID() uint64
	Requests() int
}

// Body reads a client request body (de-chunked, limited by
// client_max_body_size).
type Body interface {
	io.Reader
	// BytesRead is how much of the body was read so far.
	BytesRead() int64
	// Preread reports whether the whole body arrived with the header.
	Preread() bool
}

// Request is the client's request, as any protocol gives it: byte slices
// that live as long as the request (HTTP/1 points them into its read
// buffer).
type Request struct {
	// Line is the request line ($request); Method, Target ($request_uri)
	// and Proto ($server_protocol) its parts.
	Line, Method, Target, Proto []byte
	// Header holds the fields in arrival order with their original case.
	Header http1.Headers
	// Host is the validated host, lower-case, without port; nil when the
	// request names none. HostHeader is the raw Host field ($http_host).
	Host, HostHeader []byte
	// ContentLength is the declared body length, -1 when absent; Chunked
	// is a body of unknown length (HTTP/1's chunked coding).
	ContentLength int64
	Chunked       bool
	// HeaderLength is the header's size on the wire ($request_length).
	HeaderLength int
	// Body reads the body; nil when the protocol has none to read.
	Body Body
}

// HasBody reports whether a request body follows the header.
func (r *Request) HasBody() bool { return r.Chunked || r.ContentLength > 0 }

// FromHTTP1 fills r from an HTTP/1 request without allocating.
func (r *Request) FromHTTP1(h *http1.Request) {
	*r = Request{
		Line: h.Line, Method: h.Method, Target: h.Target, Proto: h.Proto,
		Header: h.Header, Host: h.Host, HostHeader: h.HostHeader,
		ContentLength: h.ContentLength, Chunked: h.Chunked, HeaderLength: h.HeaderLength,
	}
	if h.Body != nil {
		r.Body = h.Body
	}
}

// Upstream is what the upstream hop leaves for the variables: the
// $upstream_* lists, ", "-separated per attempt, and $proxy_host and
// $proxy_port.
type Upstream struct {
	Addr, Status, Connect, Header, Response, Length []byte
	// RespHeader is the upstream response header ($upstream_http_*),
	// when HasResp.
	RespHeader http1.Headers
	HasResp    bool
	// Proxied is set once a proxy location serves the request;
	// ProxyHost and ProxyPort are then its $proxy_host and $proxy_port.
	Proxied              bool
	ProxyHost, ProxyPort string
}

func (u *Upstream) reset() {
	*u = Upstream{Addr: u.Addr[:0], Status: u.Status[:0], Connect: u.Connect[:0],
		Header: u.Header[:0], Response: u.Response[:0], Length: u.Length[:0]}
}

// Ctx is one request on its way through the phases, whatever protocol
// brought it. It is reused from request to request (a producer keeps a
// sync.Pool of them), and it is the variables.Source of everything
// evaluated for the request.
type Ctx struct {
	Env  *Env
	W    ResponseWriter
	Req  Request
	Conn *Conn
	// Server is the virtual server chosen for the request, Location the
	// location serving it (the server's own level before one is found);
	// the log phase runs Location's log handlers.
	Server   *Server
	Location *Location
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
	// Responses adds the location's add_header fields and applies its
	// error_page; nil adds nothing and sends the built-in pages.
	Responses *Responses
	// Log is the error log of the server or location serving the
	// request (its error_log); nil means Env.Log.
	Log *errorlog.Logger
	// Upstream is the upstream hop's record for the variables.
	Upstream Upstream
	// Hop is state the upstream hop keeps for the request; it lives as
	// long as the Ctx, so a keep-alive connection reuses it. If it has a
	// Finish method, Release calls it once the log phase has run.
	Hop any

	requestID []byte

	// closed is the status of a request answered by closing the
	// connection (408, 444, 499): nothing is written, nginx logs it.
	closed int

	// uriChanges counts down internal redirects (nginx's
	// r->uri_changes); uriChanged is set by a rewrite-phase handler
	// that changed the URI (post-rewrite then finds the location again).
	uriChanges int
	uriChanged bool

	// maps caches the map variables' values for the request, indexed
	// as Env.Maps.
	maps []mapSlot
	// realIP says realip replaced the client's address: client,
	// clientText and clientPort are then the request's (ClientAddr,
	// RemoteIP, RemotePort).
	realIP     bool
	client     netip.Addr
	clientText []byte
	clientPort []byte

	uriBuf   []byte
	redirBuf []byte
	scratch  []byte

	// vars are the values of the set variables, by defined ID less
	// variables.FirstDefined; their buffers are kept from request to
	// request. capBuf keeps the subject of Caps across a URI change.
	vars    []userVar
	rwBuf   []byte
	capBuf  []byte
	argsBuf []byte
}

// userVar is one set variable's value for the request.
type userVar struct {
	b   []byte
	set bool
	// capture marks a named capture kept by KeepCapture.
	capture bool
}

// Reset prepares x for the next request on the same connection; the
// caller fills Req.
func (x *Ctx) Reset(w ResponseWriter) {
	x.W = w
	x.Server, x.Location = nil, nil
	x.ServerName, x.Host, x.Responses, x.Log = "", nil, nil, nil
	x.URI = route.URI{}
	x.Caps.Reset()
	x.NameCaps.Reset()
	x.Upstream.reset()
	x.closed = 0
	x.realIP = false
	x.uriChanges, x.uriChanged = maxURIChanges+1, false
	x.requestID = x.requestID[:0]
	for i := range x.maps {
		x.maps[i].state = mapUnset
	}
	for i := range x.vars {
		x.vars[i].set = false
	}
	x.Start = x.Env.Now()
}

// Release drops what x refers to of the request just served, before x
// goes back to its pool.
func (x *Ctx) Release() {
	if f, ok := x.Hop.(interface{ Finish() }); ok {
		// What the hop kept for the log phase, which has run.
		f.Finish()
	}
	x.W, x.Conn = nil, nil
	x.Req = Request{}
	x.Server, x.Location, x.Responses = nil, nil, nil
	x.Upstream.RespHeader = nil
}

// Error answers with gatehouse's page for status, through the
// location's error_page and add_header when it has them.
func (x *Ctx) Error(status int) {
	x.scratch = x.Responses.Special(x.W, status, x, x.scratch[:0])
	x.Answered(status)
}

// Answered records that the request was answered with status: when that
// wrote nothing (408, 444 and 499 close the connection), $status still
// reports it, as nginx's does.
func (x *Ctx) Answered(status int) {
	if x.W.Status() == 0 {
		x.closed = status
	}
}

// AppendOrigin appends "scheme://host[:port]", what nginx's header
// filter puts before a relative Location (absolute_redirect): the
// request's own host, else the local address (never $host's server_name
// fallback), and the local port unless it is the scheme's default or
// there is none (a UNIX socket).
func (x *Ctx) AppendOrigin(dst []byte) []byte {
	tls := x.Conn.TLS != nil
	if tls {
		dst = append(dst, "https://"...)
	} else {
		dst = append(dst, "http://"...)
	}
	if len(x.Req.Host) > 0 {
		dst = append(dst, x.Req.Host...)
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
func (x *Ctx) ErrorLog() *errorlog.Logger {
	if x.Log != nil {
		return x.Log
	}
	return x.Env.Log
}

// Scratch returns a buffer owned by the exchange, reused from request to
// request, for values that must live until the response is written.
func (x *Ctx) Scratch() []byte { return x.scratch[:0] }

// Kept is the scratch buffer with what the last KeepScratch left in it,
// for values appended after others the header already refers to.
func (x *Ctx) Kept() []byte { return x.scratch }

// KeepScratch hands back a buffer obtained from Scratch (possibly grown).
func (x *Ctx) KeepScratch(b []byte) { x.scratch = b }

// Normalize fills URI from the request target; it reports false for a
// target nginx rejects with 400.
func (x *Ctx) Normalize(mergeSlashes bool) bool {
	if cap(x.uriBuf) < len(x.Req.Target)+1 {
		x.uriBuf = make([]byte, 0, len(x.Req.Target)+64)
	}
	u, err := route.NormalizeURI(x.uriBuf[:0], x.Req.Target, mergeSlashes)
	if err != nil {
		return false
	}
	x.URI = u
	return true
}

// LogRefusedHeader logs, at info as nginx logs client errors, that the
// request is refused because it would put CR, LF or NUL into the header
// field name that directive (at pos) sets.
func (x *Ctx) LogRefusedHeader(directive string, name []byte, pos nginxconf.Pos) {
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
func (x *Ctx) LogContext(action string) *errorlog.Context {
	ctx := &errorlog.Context{
		Conn:   x.W.ConnID(),
		Action: action,
		Client: string(x.RemoteIP()),
		Server: x.ServerName,
	}
	if x.Req.Line != nil {
		ctx.InRequest = true
		ctx.Request = x.Req.Line
		ctx.Host = x.Req.HostHeader
		ctx.Referrer = x.Req.Header.Get("Referer")
	}
	return ctx
}

// SetVar gives the set variable id the value v (copied) for the rest
// of the request, as ngx_http_script_set_var_code does.
func (x *Ctx) SetVar(id variables.ID, v []byte) {
	i := int(id - variables.FirstDefined)
	if i < 0 {
		return
	}
	for len(x.vars) <= i {
		x.vars = append(x.vars, userVar{})
	}
	x.vars[i].b = append(x.vars[i].b[:0], v...)
	x.vars[i].set, x.vars[i].capture = true, false
}

// KeepCapture keeps v (copied) as the value of the named capture id,
// for a regex whose captures are about to be replaced: nginx sets named
// captures as variables, which outlive the next regex. The next regex's
// own group of that name, if it has one, comes first.
func (x *Ctx) KeepCapture(id variables.ID, v []byte) {
	x.SetVar(id, v)
	if i := int(id - variables.FirstDefined); i >= 0 {
		x.vars[i].capture = true
	}
}

// userVar returns the value at index i, if set, by set (capture false)
// or by KeepCapture (capture true).
func (x *Ctx) userVar(i int, capture bool) ([]byte, bool) {
	if i < len(x.vars) && x.vars[i].set && x.vars[i].capture == capture {
		return x.vars[i].b, true
	}
	return nil, false
}

// RewriteBuf returns a buffer the rewrite statements evaluate into,
// reused from request to request; KeepRewriteBuf hands it back grown.
func (x *Ctx) RewriteBuf() []byte { return x.rwBuf[:0] }

// KeepRewriteBuf hands back a buffer obtained from RewriteBuf.
func (x *Ctx) KeepRewriteBuf(b []byte) { x.rwBuf = b }

// RewriteURI is a rewrite statement's change of the URI to uri (a path,
// "?args" or not). The captures of the regex that matched stay set, as
// nginx keeps them for the statements that follow. With again, the
// location is found again once the rewrite phase ends (rewrite without a
// flag, or "last"); without, it is not ("break"), and an earlier
// change's pending lookup is dropped.
func (x *Ctx) RewriteURI(uri []byte, again bool) {
	caps := x.Caps
	if caps.Subject != nil {
		x.capBuf = append(x.capBuf[:0], caps.Subject...)
		caps.Subject = x.capBuf
	}
	x.setURI(uri)
	x.Caps = caps
	x.uriChanged = again
}

// StopURIChange drops a pending location lookup for a changed URI, as
// the break directive does (ngx_http_script_break_code).
func (x *Ctx) StopURIChange() { x.uriChanged = false }

// SetArgs makes v (copied) the request's arguments, as "set $args"
// does.
func (x *Ctx) SetArgs(v []byte) {
	x.argsBuf = append(x.argsBuf[:0], v...)
	x.URI.Args = x.argsBuf
}
