// Package config gives an nginx configuration tree its meaning: it checks
// every directive against a table of contexts, arities and value kinds in
// nginx's order and with nginx's error texts, resolves http → server →
// location inheritance, applies the defaults chosen by "defaults secure" or
// "defaults nginx", and returns typed values the server and proxy are built
// from. Values holding variables are kept raw for the variables package.
//
// Choices where nginx leaves room or gatehouse differs:
//   - "http2 off" is accepted; "http2 on" and "listen ... http2" are
//     rejected, as are "listen ... proxy_protocol" and "quic": gatehouse
//     speaks HTTP/1.x to clients and would otherwise ignore them silently.
//   - "user" warns as nginx does when not running as root and is rejected
//     as root, because gatehouse never switches users.
//   - Certificate, key, CA and CRL paths resolve against the conf prefix and
//     log, pid and temp paths against the prefix, exactly as nginx's
//     ngx_conf_full_name does.
//   - Regular expressions are Go's RE2, not PCRE: look-around and
//     back-references are rejected at load with the reason.
//   - "error_page" accepts only full http:// or https:// URLs (or ones
//     starting with $scheme), which nginx answers with a redirect; a local
//     URI or @name needs internal redirects gatehouse does not have and is
//     rejected at load.
//   - "gzip off" is accepted and "gzip on" rejected (nothing is
//     compressed); sendfile, tcp_nopush and types_hash_* are accepted and
//     change nothing, as gatehouse sends no files.
//   - Post-parse checks run at the closing brace of http, in nginx's module
//     order (upstreams, ssl, proxy, location trees, listen ssl, names).
//   - A directive of nginx's modules that gatehouse does not implement has
//     a row of its own (refused.go) with nginx's contexts and arity, and is
//     refused with its reason once those checks pass; only a name nginx
//     does not know either is an "unknown directive".
//   - The hash size directives and "zone" in upstream are checked and
//     change nothing; "ssl on", gone from nginx 1.28, keeps nginx 1.22's
//     meaning and warning.
package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
)

// ErrHostNotFound is wrapped by the error reported when a host name in an
// upstream server, proxy_pass or listen cannot be resolved.
var ErrHostNotFound = errors.New("host not found")

// ctxKind is a set of configuration contexts.
type ctxKind uint16

const (
	ctxMain ctxKind = 1 << iota
	ctxEvents
	ctxHTTP
	ctxServer
	ctxLocation
	ctxIf
	ctxLimitExcept
	ctxUpstream
)

const (
	ctxHSL = ctxHTTP | ctxServer | ctxLocation
	ctxHS  = ctxHTTP | ctxServer
	// ctxHSLI adds the blocks nested in a location that inherit its
	// handler (if, limit_except); gatehouse has neither, so they never occur.
	ctxHSLI = ctxHSL | ctxIf | ctxLimitExcept
)

// frame is the context a directive is read in.
type frame struct {
	kind ctxKind
	conf *conf
	srv  *srvRaw
	loc  *locRaw
	up   *upRaw
	// stmts, inside an if block, is the block's statement list.
	stmts *[]Stmt
	// noEffect holds the directives of this block accepted with no
	// effect (sameAsGatehouse), so that a second one is a duplicate as
	// in nginx.
	noEffect map[string]bool
}

type srvRaw struct {
	pos, end nginxconf.Pos
	conf     conf
	listens  []Listen
	names    []ServerName
	locs     []*locRaw
	ret      *Return
	stmts    []Stmt
	out      *Server
}

type locRaw struct {
	pos, end nginxconf.Pos
	kind     route.Modifier
	name     string
	re       *regexp.Regexp
	conf     conf
	children []*locRaw
	parent   *locRaw
	pass     *ProxyPass
	ret      *Return
	stmts    []Stmt
}

type upRaw struct {
	u         *Upstream
	created   bool // an upstream block defined it
	noPort    bool
	port      int
	methodSet bool
	keepSet   bool // keepalive in effect
	keepSeen  bool // keepalive written (a second one is a duplicate)
	kaReqSet  bool
	kaTimeSet bool
	kaToSet   bool
	passPos   nginxconf.Pos // first proxy_pass naming it
	host      string        // the name compared with proxy_pass hosts
	unix      string        // socket path of an implicit unix: group
}

type mainRaw struct {
	daemon    opt[bool]
	pid       opt[string]
	errorLogs []ErrorLog
	workers   opt[int]
	rlimit    opt[int]
	user      opt[[2]string]
	events    bool
	eventsPos nginxconf.Pos
	wconns    opt[int]
	use       opt[string]
	multi     opt[bool]
	defaults  opt[DefaultsMode]
	httpSeen  bool
	httpPos   nginxconf.Pos
	httpEnd   nginxconf.Pos
	httpConf  conf
	servers   []*srvRaw
	upstreams []*upRaw
	logOrder  []*LogFormat
	maps      []*Map
	sockets   []*sockRaw
}

type compiler struct {
	opts     Options
	ctx      context.Context
	mode     DefaultsMode
	m        mainRaw
	warnings []*nginxconf.Error
	// check is set by CheckDirectives: only directive-time checks run.
	check bool
	// zones are the shared memory zones declared, in order.
	zones []shmZone
}

// Compile checks tree and builds its typed configuration. The error, if
// any, is the first one nginx would report, as a *nginxconf.Error.
func Compile(tree *nginxconf.Tree, opts Options) (*Config, error) {
	c := newCompiler(opts)
	if tree == nil {
		tree = &nginxconf.Tree{}
	}
	c.prescan(tree.Directives)
	if err := c.block(tree.Directives, &frame{kind: ctxMain}); err != nil {
		return nil, c.failed(err)
	}
	cfg, err := c.finish()
	if err != nil {
		return nil, c.failed(err)
	}
	return cfg, nil
}

// loadError is a failed load that had issued warnings first.
type loadError struct {
	err      error
	warnings []*nginxconf.Error
}

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// failed attaches the warnings issued so far to err.
func (c *compiler) failed(err error) error {
	if len(c.warnings) == 0 {
		return err
	}
	return &loadError{err: err, warnings: c.warnings}
}

// Warnings returns the warnings a failed Compile or CheckDirectives issued
// before its error; nginx prints them before the [emerg] line. The error
// itself still unwraps to the *nginxconf.Error.
func Warnings(err error) []*nginxconf.Error {
	var le *loadError
	if errors.As(err, &le) {
		return le.warnings
	}
	return nil
}

// CheckDirectives runs only the checks nginx makes while reading each
// directive, in document order, over a possibly partial tree (for example
// what the parser read before a syntax error), and returns the first
// error. The checks nginx makes at the end of the http block run only if
// the partial tree closed it; the final ones (a missing events block) never
// run. Host names are resolved only when
// opts.Resolve is set.
func CheckDirectives(dirs []*nginxconf.Directive, opts Options) error {
	c := newCompiler(opts)
	c.check = true
	c.prescan(dirs)
	if err := c.block(dirs, &frame{kind: ctxMain}); err != nil {
		return c.failed(err)
	}
	return nil
}

func newCompiler(opts Options) *compiler {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Prefix != "" && !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	if opts.ConfPrefix == "" {
		opts.ConfPrefix = opts.Prefix + "conf/"
	} else if !strings.HasSuffix(opts.ConfPrefix, "/") {
		opts.ConfPrefix += "/"
	}
	return &compiler{opts: opts, ctx: opts.Context}
}

// prescan reads a valid "defaults" directive ahead of time, because the
// mode decides checks that run before the directive's own turn comes.
func (c *compiler) prescan(dirs []*nginxconf.Directive) {
	for _, d := range dirs {
		if d != nil && d.Name == "defaults" && len(d.Args) == 1 && d.Block == nil && d.Args[0] == "nginx" {
			c.mode = DefaultsNginx
		}
	}
}

func (c *compiler) warn(pos nginxconf.Pos, format string, args ...any) {
	c.warnings = append(c.warnings, nginxconf.Errorf(pos, format, args...))
}

// block dispatches the directives of one block in order.
func (c *compiler) block(dirs []*nginxconf.Directive, f *frame) error {
	for _, d := range dirs {
		if d == nil {
			continue
		}
		if err := c.directive(d, f); err != nil {
			return err
		}
	}
	return nil
}

// directive is ngx_conf_handler: find the directive, check context,
// terminator and arity in that order, then run its handler.
func (c *compiler) directive(d *nginxconf.Directive, f *frame) error {
	specs, ok := directives[d.Name]
	if !ok {
		return nginxconf.Errorf(d.Pos, "unknown directive \"%s\"", d.Name)
	}
	for i := range specs {
		s := &specs[i]
		if s.ctx&f.kind == 0 {
			continue
		}
		if !s.block && d.Block != nil {
			return nginxconf.Errorf(d.Pos, "directive \"%s\" is not terminated by \";\"", d.Name)
		}
		if s.block && d.Block == nil {
			return nginxconf.Errorf(d.Pos, "directive \"%s\" has no opening \"{\"", d.Name)
		}
		n := len(d.Args)
		if n < s.min || (s.max >= 0 && n > s.max) {
			return nginxconf.Errorf(d.Pos, "invalid number of arguments in \"%s\" directive", d.Name)
		}
		return s.fn(c, f, d)
	}
	return nginxconf.Errorf(d.Pos, "\"%s\" directive is not allowed here", d.Name)
}

// dirErr is a handler's reason in nginx's "\"NAME\" directive REASON" form.
func dirErr(d *nginxconf.Directive, reason string) error {
	return nginxconf.Errorf(d.Pos, "\"%s\" directive %s", d.Name, reason)
}

func errDup(d *nginxconf.Directive) error { return dirErr(d, "is duplicate") }

// fullPath resolves p against the prefix (conf=false) or the conf prefix,
// like ngx_conf_full_name; values with variables and special names are
// left alone.
func (c *compiler) fullPath(p string, confPrefix bool) string {
	if p == "" || filepath.IsAbs(p) || p == "stderr" || hasVariable(p) ||
		strings.HasPrefix(p, "data:") || strings.HasPrefix(p, "engine:") || strings.HasPrefix(p, "store:") {
		return p
	}
	base := c.opts.Prefix
	if confPrefix {
		base = c.opts.ConfPrefix
	}
	if base == "" {
		if wd, err := os.Getwd(); err == nil {
			base = wd + "/"
		}
	}
	return base + p
}
