package request

import (
	"strconv"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/route"
)

// Phase is one step of nginx's request processing
// (ngx_http_init_phase_handlers), in the order a request takes them.
type Phase uint8

// The phases. PostRead, FindConfig and PostRewrite belong to the engine
// and the producer (server selection is PostRead's work); the others take
// handlers: ServerRewrite per server, the rest per location.
const (
	PostRead Phase = iota
	ServerRewrite
	FindConfig
	Rewrite
	PostRewrite
	PreAccess
	Access
	PreContent
	Content
	Log
)

var phaseNames = [...]string{"post-read", "server-rewrite", "find-config", "rewrite", "post-rewrite",
	"pre-access", "access", "pre-content", "content", "log"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase" + strconv.Itoa(int(p))
}

// Status is what a handler tells the engine.
type Status uint8

const (
	// Continue passes the request to the next handler.
	Continue Status = iota
	// NextPhase skips the rest of the handler's phase (nginx's
	// "rewrite ... break" ends the rewrite statements so).
	NextPhase
	// Done says the request is answered: the log phase follows.
	Done
	// Redirect says the handler called Ctx.InternalRedirect: the
	// location is looked up again for the new URI.
	Redirect
)

// Handler is one compiled step of a phase: an access check, a rewrite
// statement, a content handler (return, proxy_pass, a status page). It
// is built once at configuration time and shared by every request.
type Handler interface {
	Handle(x *Ctx) Status
}

// HandlerFunc is a function as a Handler.
type HandlerFunc func(x *Ctx) Status

// Handle calls f.
func (f HandlerFunc) Handle(x *Ctx) Status { return f(x) }

// maxURIChanges is NGX_HTTP_MAX_URI_CHANGES: the internal redirects one
// request may take.
const maxURIChanges = 10

// step is a handler with the index of the first handler of the next
// phase, where NextPhase goes.
type step struct {
	h    Handler
	next int
}

// steps flattens phases into one list; empty phases leave nothing in it.
func steps(phases ...[]Handler) []step {
	var out []step
	for _, p := range phases {
		next := len(out) + len(p)
		for _, h := range p {
			out = append(out, step{h: h, next: next})
		}
	}
	return out
}

// run runs ss in order until one does not say Continue.
func run(x *Ctx, ss []step) Status {
	for i := 0; i < len(ss); {
		switch st := ss[i].h.Handle(x); st {
		case Continue:
			i++
		case NextPhase:
			i = ss[i].next
		default:
			return st
		}
	}
	return Continue
}

// LocationPhases are the handlers a location compiles for its phases.
type LocationPhases struct {
	Rewrite, PreAccess, Access, PreContent []Handler
	// Content answers the request; nil answers 404 (nginx's static
	// module finding nothing).
	Content Handler
	// Log runs after the response, also for requests answered before
	// any content handler.
	Log []Handler
}

// Location is a location's compiled phases, with what entering it
// gives the request: its add_header and error_page, its error_log.
type Location struct {
	rewrite []step
	access  []step // pre-access, access, pre-content
	content Handler
	log     []Handler
	// Responses and ErrLog become the request's when it enters the
	// location.
	Responses *Responses
	ErrLog    *errorlog.Logger
	// UninitWarn is uninitialized_variable_warn: reading a set
	// variable not set for the request logs a warning.
	UninitWarn bool
}

// NewLocation compiles p for a location whose responses are shaped by
// resp and whose errors go to errLog (nil: the main error log).
func NewLocation(p LocationPhases, resp *Responses, errLog *errorlog.Logger) *Location {
	return &Location{
		rewrite:   steps(p.Rewrite),
		access:    steps(p.PreAccess, p.Access, p.PreContent),
		content:   p.Content,
		log:       p.Log,
		Responses: resp,
		ErrLog:    errLog,
	}
}

// Server is a virtual server's compiled phases: its server-rewrite
// handlers, how it finds a location, and its own level (the location of
// a request answered before one is found).
type Server struct {
	rewrite []step
	find    Handler
	level   *Location
}

// NewServer compiles a server. find runs the find-config phase: it
// calls Ctx.Enter with the location for the request's URI (or answers,
// and says Done).
func NewServer(level *Location, rewrite []Handler, find Handler) *Server {
	return &Server{rewrite: steps(rewrite), find: find, level: level}
}

// Engine runs requests through the phases. It is built once per
// listening socket; postRead handlers choose the server (EnterServer).
type Engine struct {
	postRead []step
}

// NewEngine makes an engine whose post-read phase is postRead.
func NewEngine(postRead ...Handler) *Engine {
	return &Engine{postRead: steps(postRead)}
}

// EnterServer makes s the request's server, and its own level the
// location until one is found.
func (x *Ctx) EnterServer(s *Server) {
	x.Server = s
	x.Enter(s.level)
}

// Enter makes l the request's location: its phases run next, its
// error_log and responses apply.
func (x *Ctx) Enter(l *Location) {
	x.Location = l
	x.Log = l.ErrLog
	x.Responses = l.Responses
}

// Run takes x through every phase (ngx_http_core_run_phases) and ends
// with the log phase of the location that answered.
func (e *Engine) Run(x *Ctx) {
	if run(x, e.postRead) == Continue && x.Server != nil {
		st := run(x, x.Server.rewrite)
		if st == Redirect && !x.uriChange("internally redirecting to") {
			st = Done
		}
		if st != Done {
			x.locationPhases()
		}
	}
	if l := x.Location; l != nil {
		for _, h := range l.log {
			h.Handle(x)
		}
	}
}

// locationPhases runs find-config to content, going back to find-config
// for each internal redirect.
func (x *Ctx) locationPhases() {
	for {
		if x.Server.find.Handle(x) != Continue {
			return
		}
		l := x.Location
		st := run(x, l.rewrite)
		if st != Done && st != Redirect && x.uriChanged {
			// post-rewrite: a rewrite changed the URI.
			x.uriChanged = false
			if !x.uriChange("processing") {
				return
			}
			continue
		}
		if st == Continue || st == NextPhase {
			st = run(x, l.access)
		}
		if st == Continue || st == NextPhase {
			if l.content == nil {
				x.Error(404)
				return
			}
			st = l.content.Handle(x)
		}
		if st != Redirect {
			return
		}
		if !x.uriChange("internally redirecting to") {
			return
		}
	}
}

// uriChange counts one more URI change; past the limit it logs nginx's
// error and answers 500, and reports false.
func (x *Ctx) uriChange(while string) bool {
	x.uriChanges--
	if x.uriChanges > 0 {
		return true
	}
	x.ErrorLog().Log(errorlog.Error, x.LogContext(""),
		"rewrite or internal redirection cycle while "+while+" \""+string(x.URI.Path)+"\"")
	x.Error(500)
	return false
}

// InternalRedirect makes uri (a path, with "?args" or not) the request's
// URI, as ngx_http_internal_redirect does, and returns Redirect for the
// handler to return: the engine then finds the location for it again,
// at most 10 times per request. Captures are reset.
func (x *Ctx) InternalRedirect(uri []byte) Status {
	x.setURI(uri)
	return Redirect
}

// SetURI is a rewrite-phase change of the URI (rewrite without
// "break"): once the rewrite phase ends, the location is found again.
func (x *Ctx) SetURI(uri []byte) {
	x.setURI(uri)
	x.uriChanged = true
}

func (x *Ctx) setURI(uri []byte) {
	x.redirBuf = append(x.redirBuf[:0], uri...)
	b := x.redirBuf
	u := route.URI{Path: b}
	for i, c := range b {
		if c == '?' {
			u.Path, u.Args = b[:i:i], b[i+1:]
			break
		}
	}
	x.URI = u
	x.Caps.Reset()
}
