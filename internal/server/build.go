package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/certs"
	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/proxy"
	"gatehouse/internal/request"
	"gatehouse/internal/route"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/upstream"
	"gatehouse/internal/variables"
)

// Deps are the process-wide things a Runtime is built with: nothing here is
// package-level state.
type Deps struct {
	// Log is the main error log.
	Log *errorlog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for $request_id, TLS and the random balancers;
	// nil means crypto/rand.
	Rand io.Reader
	// ReadFile reads certificate and key files; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// PID and Hostname are $pid and $hostname.
	PID      int
	Hostname string
	// Product and ProductVersion name gatehouse in the Server header and
	// error pages (server_tokens off / on).
	Product, ProductVersion string
	// CPUs is the number of CPUs "worker_processes auto" stands for; 0
	// means runtime.NumCPU(), which is what nginx's auto counts (the CPUs
	// the process may run on).
	CPUs int
}

// Runtime is one configuration generation, ready to serve. It is never
// changed after Build.
type Runtime struct {
	Config    *config.Config
	env       *request.Env
	listeners *route.Listeners
	sockets   map[*route.Address]*socket
	// listenOpts are the listen parameters of the sockets that have
	// any, keyed by route.Address.String().
	listenOpts map[string]config.ListenOptions
	// groups are keyed by groupKey: implicit groups made for two
	// proxy_pass URLs may share a host name but not a port.
	groups map[string]*upstream.Group
	files  *accesslog.Files
	// errLogs are the error logs of servers and locations with their
	// own error_log, derived from the main one; closed with the Runtime.
	errLogs []*errorlog.Logger
	// mu guards the count of connections this generation serves.
	mu      sync.Mutex
	active  int
	retired bool
	drained chan struct{} // closed when no connection is left after retiring
	// certs are the certificates presented, for expiry warnings.
	certs []servedCert
}

// socket is one listening address:port of a generation.
type socket struct {
	rt      *Runtime
	addr    *route.Address
	ssl     bool
	tls     *tlsterm.Listener
	servers []*vhost // indexed like the route.Address server ids
	// tlsIndex maps a server id to its place in addr.Servers, the TLS
	// listener's numbering of the socket's servers; -1 for a server not
	// on this socket.
	tlsIndex []int
	http     *http1.Server
	plain    *http1.Server // answers plain HTTP sent to an ssl socket
	xpool    sync.Pool
	// engine runs the socket's requests through the phases; the socket
	// is its post-read handler.
	engine *request.Engine
	// plainEngine answers plain HTTP on an ssl socket (plainSocket).
	plainEngine *request.Engine
}

// vhost is one server block as served on one socket.
type vhost struct {
	cfg *config.Server
	// name is the primary server name ($server_name), as nginx keeps it:
	// "~" and the pattern for a regex, without the leading dot of
	// ".example.com"; nameBytes is the same for $host's fallback.
	name         string
	nameBytes    []byte
	emptyName    bool // server_name "": requests without Host
	verifies     bool // ssl_verify_client is not off
	locs         *route.Locations
	level        *loc
	mergeSlashes bool
	// srv is the server's compiled phases.
	srv *request.Server
}

// loc is a compiled location (or a server's own level).
type loc struct {
	proxy  *proxy.Location
	ret    *config.Return
	retVal *variables.Template
	limits http1.Limits
	access *accesslog.Logger
	// errLog is the level's error_log, the main error log when it has
	// none of its own.
	errLog *errorlog.Logger
	// resp is add_header and error_page (nil when neither is set);
	// types is the types table with default_type.
	resp  *request.Responses
	types *mimeTable
	// allow is the location's allow and deny rules, realIP its realip
	// configuration; nil when it has none.
	allow  *request.AccessList
	realIP *request.RealIP
	// ph is the location's compiled phases.
	ph *request.Location
	// stmts are the level's rewrite-module statements, nil when it has
	// none but a return.
	stmts *rewriteStmts
}

// builder holds what Build shares between servers and locations.
type builder struct {
	cfg   *config.Config
	deps  Deps
	store *certs.Store
	reg   *variables.Registry
	// formats are the compiled log_formats, nil keying "combined".
	formats map[*config.LogFormat]*accesslog.Format
	tlsCtx  map[string]*tlsClient
	errLogs map[string]*errorlog.Logger // by their targets
	rt      *Runtime
	// mimes holds each distinct types table once, keyed by the identity
	// of the config's map (locations inheriting it share it).
	mimes map[uintptr]map[string][]byte
	// named is the registry's defined names by ID, made when first
	// needed and shared by every level's rewrite statements.
	named map[string]variables.ID
}

// Build makes a Runtime from cfg. prev, if not nil, is the generation it
// replaces: upstream peers present in both keep their health state. Build
// opens log files and loads every certificate and key, and reports the
// first failure in nginx's words; it binds no sockets.
func Build(cfg *config.Config, deps Deps, prev *Runtime) (*Runtime, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	reg, err := registry(cfg)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{
		drained: make(chan struct{}),
		Config:  cfg,
		sockets: map[*route.Address]*socket{},
		groups:  map[string]*upstream.Group{},
		files:   accesslog.NewFiles(accesslog.FilesOptions{ErrorLog: deps.Log, Now: deps.Now}),
		env: &request.Env{
			Now:      deps.Now,
			Rand:     deps.Rand,
			PID:      fmt.Sprint(deps.PID),
			Hostname: deps.Hostname,
			Log:      deps.Log,
			// nginx's step after a taken name: (msec << 16) + pid.
			TempNumbers: tempfile.NewNumbers(uint32(deps.Now().UnixMilli())<<16 + uint32(deps.PID)),
		},
	}
	if rt.env.Rand == nil {
		rt.env.Rand = rand.Reader
	}
	b := &builder{
		cfg:     cfg,
		deps:    deps,
		store:   certs.NewStore(deps.ReadFile),
		reg:     reg,
		formats: map[*config.LogFormat]*accesslog.Format{},
		tlsCtx:  map[string]*tlsClient{},
		errLogs: map[string]*errorlog.Logger{},
		rt:      rt,
		mimes:   map[uintptr]map[string][]byte{},
	}
	if cfg.HTTP == nil {
		return rt, nil
	}
	if rt.env.Maps, err = compileMaps(reg, cfg.HTTP.Maps); err != nil {
		return nil, err
	}
	if err := b.build(prev); err != nil {
		rt.Close()
		return nil, err
	}
	rt.WarnExpiring(deps.Log, deps.Now())
	return rt, nil
}

// registry returns the variables of cfg: the built-ins, the variables of
// the map blocks and the named groups of every regex server_name,
// location and map, which nginx makes variables. A group named like a built-in is nginx's "duplicate
// variable" error at the regex's server or location.
func registry(cfg *config.Config) (*variables.Registry, error) {
	var names []string
	add := func(re *regexp.Regexp, pos nginxconf.Pos) error {
		if re == nil {
			return nil
		}
		for _, n := range re.SubexpNames() {
			if n == "" {
				continue
			}
			if _, err := variables.NewRegistry(n); err != nil {
				return posErr(pos, err)
			}
			names = append(names, n)
		}
		return nil
	}
	// set names and the named groups of rewrite and if regexes are
	// variables too (ngx_http_rewrite_set, ngx_http_regex_compile).
	var sets []string
	var stmts func(ss []config.Stmt) error
	stmts = func(ss []config.Stmt) error {
		for i := range ss {
			st := &ss[i]
			switch st.Op {
			case config.OpSet:
				if _, err := variables.NewRegistry(st.Var); err != nil {
					return posErr(st.Pos, err)
				}
				sets = append(sets, st.Var)
			case config.OpRewrite:
				if err := add(st.Regex, st.Pos); err != nil {
					return err
				}
			case config.OpIf:
				if err := add(st.Cond.Regex, st.Pos); err != nil {
					return err
				}
				if err := stmts(st.Body); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var walk func(ls []*config.Location) error
	walk = func(ls []*config.Location) error {
		for _, l := range ls {
			if err := add(l.Regexp, l.Pos); err != nil {
				return err
			}
			if err := stmts(l.Rewrite); err != nil {
				return err
			}
			if err := walk(l.Children); err != nil {
				return err
			}
		}
		return nil
	}
	if cfg.HTTP != nil {
		for _, m := range cfg.HTTP.Maps {
			for _, re := range m.Table.Regexps() {
				if err := add(re, m.Pos); err != nil {
					return nil, err
				}
			}
			names = append(names, m.Variable)
		}
		for _, s := range cfg.HTTP.Servers {
			for _, n := range s.Names {
				if err := add(n.Regexp, s.Pos); err != nil {
					return nil, err
				}
			}
			if err := stmts(s.Rewrite); err != nil {
				return nil, err
			}
			if err := walk(s.Locations); err != nil {
				return nil, err
			}
		}
	}
	return variables.NewRegistry(append(names, sets...)...)
}

func (b *builder) build(prev *Runtime) error {
	h := b.cfg.HTTP
	if err := makeTempDirs(h); err != nil {
		return err
	}
	// Every log_format is compiled, used or not, as nginx compiles it
	// where it is defined.
	for _, lf := range h.LogFormats {
		if _, err := b.format(lf); err != nil {
			return err
		}
	}
	for _, u := range h.Upstreams {
		g, err := b.group(u)
		if err != nil {
			return err
		}
		if prev != nil {
			if old := prev.groups[groupKey(u)]; old != nil {
				g.CarryFrom(old)
			}
		}
		b.rt.groups[groupKey(u)] = g
	}

	// Routing view of every server, in configuration order.
	rs := make([]route.Server, len(h.Servers))
	for i, s := range h.Servers {
		for _, n := range s.Names {
			rs[i].Names = append(rs[i].Names, route.Name{Name: n.Name, Regexp: n.Regexp})
		}
		for _, l := range s.Listens {
			rs[i].Listens = append(rs[i].Listens, route.Listen{Addr: l.AddrPort, Unix: l.Unix, Default: l.DefaultServer, Bind: l.Options.Bind})
		}
	}
	// The config layer already reported conflicting names; the warnings
	// route would repeat are dropped.
	listeners, _, err := route.NewListeners(rs)
	if err != nil {
		return err
	}
	b.rt.listeners = listeners
	if b.rt.listenOpts, err = listenOptions(h); err != nil {
		return err
	}

	vhosts := make([]*vhost, len(h.Servers))
	for i, s := range h.Servers {
		v, err := b.vhost(s)
		if err != nil {
			return err
		}
		vhosts[i] = v
	}
	for _, a := range listeners.Addresses() {
		sk, err := b.socket(a, vhosts)
		if err != nil {
			return err
		}
		b.rt.sockets[a] = sk
	}
	return nil
}

// makeTempDirs creates every client_body_temp_path directory that is
// missing, as nginx creates its paths at start and with -t
// (ngx_create_paths); the level directories are made when a file needs
// them.
func makeTempDirs(h *config.HTTP) error {
	seen := map[string]bool{}
	var walk func(ls []*config.Location) error
	one := func(l *config.Location) error {
		p := l.Core.ClientBodyTempPath
		if seen[p.Path] {
			return nil
		}
		seen[p.Path] = true
		return tempfile.Path{Dir: p.Path, Levels: p.Levels}.MakeDir()
	}
	walk = func(ls []*config.Location) error {
		for _, l := range ls {
			if err := one(l); err != nil {
				return err
			}
			if err := walk(l.Children); err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range h.Servers {
		if s.Level != nil {
			if err := one(s.Level); err != nil {
				return err
			}
		}
		if err := walk(s.Locations); err != nil {
			return err
		}
	}
	return nil
}

// groupKey names a group across generations: an upstream block by its
// name, an implicit group by the address its proxy_pass names.
func groupKey(u *config.Upstream) string {
	if u.Implicit && len(u.Servers) > 0 {
		return "implicit " + u.Servers[0].Address
	}
	return u.Name
}

func (b *builder) group(u *config.Upstream) (*upstream.Group, error) {
	o := upstream.Options{Name: u.Name, Method: u.Method}
	for _, s := range u.Servers {
		o.Servers = append(o.Servers, upstream.Server{
			Address:     s.Address,
			Addrs:       s.Addrs,
			Weight:      s.Weight,
			MaxFails:    s.MaxFails,
			FailTimeout: s.FailTimeout,
			MaxConns:    s.MaxConns,
			Backup:      s.Backup,
			Down:        s.Down,
		})
	}
	o.Keepalive = upstream.Keepalive{
		MaxIdle:  u.Keepalive,
		Workers:  b.workers(),
		Requests: u.KeepaliveRequests,
		Time:     u.KeepaliveTime,
		Timeout:  u.KeepaliveTimeout,
	}
	g, err := upstream.NewGroup(o, upstream.Env{Now: b.deps.Now})
	if err != nil {
		return nil, posErr(u.End, err)
	}
	return g, nil
}

// workers is the number of nginx worker processes the configuration's
// worker_processes stands for: keepalive N is a limit per worker, and the
// one gatehouse process serves what they would (see package upstream).
func (b *builder) workers() int {
	if n := b.cfg.WorkerProcesses; n > 0 {
		return n
	}
	if b.deps.CPUs > 0 {
		return b.deps.CPUs
	}
	return runtime.NumCPU()
}

// Group returns the upstream group named name (an upstream block's name,
// as written), or nil; for tests and diagnostics such as the pool's
// [upstream.Pool.Stats].
func (rt *Runtime) Group(name string) *upstream.Group { return rt.groups[name] }

func (b *builder) vhost(s *config.Server) (*vhost, error) {
	v := &vhost{cfg: s, mergeSlashes: s.Core.MergeSlashes}
	v.name = primaryName(s.Names)
	v.nameBytes = []byte(v.name)
	for _, n := range s.Names {
		if n.Kind == config.NameExact && n.Name == "" {
			v.emptyName = true
		}
	}
	v.verifies = s.SSL.VerifyClient != tlsterm.VerifyOff
	level, err := b.loc(s.Level)
	if err != nil {
		return nil, err
	}
	if s.Return != nil && level.ret == nil {
		level.ret = s.Return
		if level.retVal, err = compileReturn(b.reg, s.Return); err != nil {
			return nil, err
		}
	}
	v.level = level
	var rewrite []request.Handler
	if level.realIP != nil {
		// nginx's post-read realip, with the server level's settings.
		rewrite = append(rewrite, level.realIP)
	}
	switch {
	case hasStatements(s.Rewrite):
		ops, err := b.compileStmts(s.Rewrite, level)
		if err != nil {
			return nil, err
		}
		rewrite = append(rewrite, &rewriteStmts{ops: ops, l: level, server: true, log: s.Level.Core.RewriteLog, named: b.namedIDs()})
	case level.ret != nil:
		rewrite = append(rewrite, serverReturn{level})
	}
	v.srv = request.NewServer(level.ph, rewrite, findLocation{v})
	locs, err := b.locTree(s.Locations)
	if err != nil {
		return nil, err
	}
	if v.locs, err = route.NewLocations(locs); err != nil {
		return nil, err
	}
	return v, nil
}

// primaryName is nginx's cscf->server_name: the first server_name
// argument, a regex with its "~", ".example.com" without its dot.
func primaryName(names []config.ServerName) string {
	if len(names) == 0 {
		return ""
	}
	n := names[0]
	switch n.Kind {
	case config.NameRegex:
		return "~" + n.Name
	case config.NameWildDot:
		return strings.TrimPrefix(n.Name, ".")
	}
	return n.Name
}

func (b *builder) locTree(ls []*config.Location) ([]*route.Location, error) {
	out := make([]*route.Location, 0, len(ls))
	for _, l := range ls {
		compiled, err := b.loc(l)
		if err != nil {
			return nil, err
		}
		children, err := b.locTree(l.Children)
		if err != nil {
			return nil, err
		}
		out = append(out, &route.Location{
			Modifier: l.Kind,
			Name:     l.Name,
			Regexp:   l.Regexp,
			Proxy:    l.ProxyPass != nil,
			Children: children,
			Payload:  compiled,
		})
	}
	return out, nil
}

func (b *builder) loc(l *config.Location) (*loc, error) {
	c := &loc{}
	core := l.Core
	c.limits = http1.Limits{
		ClientMaxBodySize: core.ClientMaxBodySize,
		ClientBodyTimeout: core.ClientBodyTimeout,
		SendTimeout:       core.SendTimeout,
		KeepaliveTimeout:  core.KeepaliveTimeout,
		KeepaliveRequests: core.KeepaliveRequests,
		KeepaliveTime:     core.KeepaliveTime,
		ServerTokens:      core.ServerTokens,
		MSIEPadding:       true,
		LingeringTime:     30 * time.Second,
		LingeringTimeout:  5 * time.Second,
	}
	c.limits.KeepaliveHeaderTimeout = core.KeepaliveHeader
	if l.Return != nil {
		c.ret = l.Return
		t, err := compileReturn(b.reg, l.Return)
		if err != nil {
			return nil, err
		}
		c.retVal = t
	}
	acc, err := b.accessLogger(core.AccessLogs)
	if err != nil {
		return nil, err
	}
	c.access = acc
	if c.errLog, err = b.errorLog(core.ErrorLogs); err != nil {
		return nil, err
	}
	if err := b.responses(c, l); err != nil {
		return nil, err
	}
	if pp := l.ProxyPass; pp != nil {
		if pp.HasVariables {
			// Such a proxy_pass names no upstream group until a
			// request evaluates it.
			return nil, posErr(pp.Pos, proxy.ErrVariablePass)
		}
		g := b.rt.groups[groupKey(pp.Upstream)]
		if g == nil {
			return nil, posErr(pp.Pos, fmt.Errorf("no upstream group %q", pp.Upstream.Name))
		}
		var tc proxy.TLSClient
		if pp.HTTPS {
			if tc, err = b.upstreamTLS(l, pp); err != nil {
				return nil, err
			}
		}
		var key *variables.Template
		if pp.Upstream.HashKey != "" {
			if key, err = b.reg.Compile(pp.Upstream.HashKey); err != nil {
				return nil, posErr(pp.Upstream.Pos, err)
			}
		}
		p, err := proxy.Compile(b.rt.env, proxyOptions(l), g, tc, key, b.reg)
		if err != nil {
			return nil, posErr(pp.Pos, err)
		}
		c.proxy = p
	}
	c.allow, c.realIP = compileAccess(l), compileRealIP(l)
	if hasStatements(l.Rewrite) {
		ops, err := b.compileStmts(l.Rewrite, c)
		if err != nil {
			return nil, err
		}
		c.stmts = &rewriteStmts{ops: ops, l: c, log: core.RewriteLog, named: b.namedIDs()}
	}
	c.ph = request.NewLocation(c.phases(), c.resp, c.errLog)
	c.ph.UninitWarn = core.UninitWarn
	return c, nil
}

// phases are the handlers of a location's phases: its rewrite-module
// statements (or its lone return) in rewrite; realip in pre-access; allow
// and deny in access; proxy_pass, else the 404 page, as content;
// access_log.
func (c *loc) phases() request.LocationPhases {
	var p request.LocationPhases
	switch {
	case c.stmts != nil:
		p.Rewrite = []request.Handler{c.stmts}
	case c.ret != nil:
		p.Rewrite = []request.Handler{locationReturn{c}}
	}
	if c.realIP != nil {
		p.PreAccess = []request.Handler{c.realIP}
	}
	if c.allow != nil {
		p.Access = []request.Handler{c.allow}
	}
	if c.proxy != nil {
		p.Content = proxyContent{c.proxy}
	} else {
		p.Content = statusPage{c, 404}
	}
	if c.access != nil {
		p.Log = []request.Handler{accessLog{c.access}}
	}
	return p
}

// responses compiles what shapes the responses gatehouse makes itself:
// add_header, error_page, types and default_type.
func (b *builder) responses(c *loc, l *config.Location) error {
	var headers []request.AddHeader
	for _, a := range l.AddHeaders {
		if strings.ContainsAny(a.Name, unsafeBytes) || strings.ContainsAny(a.Value, unsafeBytes) {
			return posErr(a.Pos, fmt.Errorf("%w in \"add_header\" %q", proxy.ErrUnsafeConfigValue, a.Name))
		}
		t, err := b.reg.Compile(a.Value)
		if err != nil {
			return posErr(a.Pos, err)
		}
		headers = append(headers, request.AddHeader{Name: []byte(a.Name), Value: t, Always: a.Always, Pos: a.Pos})
	}
	var pages []request.ErrorPage
	for _, ep := range l.Core.ErrorPages {
		if strings.ContainsAny(ep.URI, unsafeBytes) {
			return posErr(ep.Pos, fmt.Errorf("%w in the URI of \"error_page\"", proxy.ErrUnsafeConfigValue))
		}
		t, err := b.reg.Compile(ep.URI)
		if err != nil {
			return posErr(ep.Pos, err)
		}
		pages = append(pages, request.ErrorPage{Status: ep.Status, Redirect: ep.RedirectStatus(), URI: t})
	}
	c.resp = request.NewResponses(headers, pages)
	key := reflect.ValueOf(l.Core.Types).Pointer()
	byExt, ok := b.mimes[key]
	if !ok {
		byExt = make(map[string][]byte, len(l.Core.Types))
		for ext, typ := range l.Core.Types {
			byExt[ext] = []byte(typ)
		}
		b.mimes[key] = byExt
	}
	c.types = &mimeTable{byExt: byExt, defaultType: []byte(l.Core.DefaultType)}
	for ext := range byExt {
		if len(ext) <= maxExtension {
			c.types.maxExt = max(c.types.maxExt, len(ext))
		}
	}
	return nil
}

// errorLog returns the logger for an error_log list: the main error log
// when the level has none, else one derived from it (sharing its open
// files), made once per distinct list.
func (b *builder) errorLog(logs []config.ErrorLog) (*errorlog.Logger, error) {
	if logs == nil || b.deps.Log == nil {
		return b.deps.Log, nil
	}
	targets := LogTargets(logs)
	key := fmt.Sprint(targets)
	if l, ok := b.errLogs[key]; ok {
		return l, nil
	}
	l, err := b.deps.Log.Derive(targets)
	if err != nil {
		return nil, err
	}
	b.errLogs[key] = l
	b.rt.errLogs = append(b.rt.errLogs, l)
	return l, nil
}

// LogTargets converts error_log directives to the error log's targets;
// the main error log (cmd/gatehouse) and the per-level ones share it.
func LogTargets(logs []config.ErrorLog) []errorlog.Target {
	targets := make([]errorlog.Target, 0, len(logs))
	for _, l := range logs {
		targets = append(targets, errorlog.Target{Path: l.Path, Level: l.Level})
	}
	return targets
}

// format compiles a log_format once per generation; the predefined
// "combined" (which the config layer may hand out as several values) is
// one format.
func (b *builder) format(lf *config.LogFormat) (*accesslog.Format, error) {
	key := lf
	if lf.Pos.File == "" {
		key = nil
	}
	if f, ok := b.formats[key]; ok {
		return f, nil
	}
	f, err := accesslog.NewFormat(b.reg, lf.Name, lf.Escape, lf.Strings...)
	if err != nil {
		return nil, posErr(lf.Pos, err)
	}
	b.formats[key] = f
	return f, nil
}

func (b *builder) accessLogger(logs []config.AccessLog) (*accesslog.Logger, error) {
	var sinks []accesslog.Sink
	for _, a := range logs {
		f, err := b.rt.files.Open(a.Path, int(a.Buffer), a.Flush, 0)
		if err != nil {
			return nil, err
		}
		format, err := b.format(a.Format)
		if err != nil {
			return nil, err
		}
		sink := accesslog.Sink{File: f, Format: format}
		if a.If != "" {
			t, err := b.reg.Compile(a.If)
			if err != nil {
				return nil, posErr(a.Pos, err)
			}
			sink.If = t
		}
		sinks = append(sinks, sink)
	}
	if len(sinks) == 0 {
		return nil, nil
	}
	return accesslog.NewLogger(sinks...), nil
}

func (b *builder) socket(a *route.Address, vhosts []*vhost) (*socket, error) {
	sk := &socket{rt: b.rt, addr: a, servers: vhosts, tlsIndex: make([]int, len(vhosts))}
	for id := range sk.tlsIndex {
		sk.tlsIndex[id] = -1
	}
	for i, id := range a.Servers {
		sk.tlsIndex[id] = i
	}
	for _, cs := range b.cfg.HTTP.Sockets {
		same := cs.Unix == a.Unix && (a.Unix != "" || cs.AddrPort == a.Addr)
		if same && cs.SSL {
			sk.ssl = true
		}
	}
	def := vhosts[a.Default]
	core := def.cfg.Core
	hc := http1.DefaultConfig()
	hc.Parse.MaxLine = int(core.LargeClientHeaderBufSize)
	hc.Parse.MaxHeader = int(core.LargeClientHeaderBufSize) * core.LargeClientHeaderBuffers
	hc.Parse.AllowUnderscores = core.UnderscoresInHeaders
	hc.Parse.KeepInvalidHeaders = !core.IgnoreInvalidHeaders
	hc.ClientHeaderTimeout = core.ClientHeaderTimeout
	hc.Limits = def.level.limits
	if b.deps.Product != "" {
		hc.Product, hc.ProductVersion = b.deps.Product, b.deps.ProductVersion
	}
	sk.http = &http1.Server{Config: hc, Handler: sk, Now: b.deps.Now, OnReject: sk.onReject}
	sk.xpool.New = func() any { return &request.Ctx{Env: b.rt.env} }
	sk.engine = request.NewEngine(sk)
	if sk.ssl {
		l, err := b.tlsListener(a, vhosts, sk.tlsIndex)
		if err != nil {
			return nil, err
		}
		sk.tls = l
		sk.plain = &http1.Server{Config: hc, Handler: plainSocket{sk}, Now: b.deps.Now, OnReject: sk.onReject}
		sk.plainEngine = request.NewEngine(plainSocket{sk})
	}
	return sk, nil
}

func (b *builder) tlsListener(a *route.Address, vhosts []*vhost, tlsIndex []int) (*tlsterm.Listener, error) {
	opts := tlsterm.Options{
		Default:      0,
		CipherName:   certs.CipherName,
		ProtocolName: certs.VersionName,
		Now:          b.deps.Now,
		Rand:         b.deps.Rand,
	}
	for i, id := range a.Servers {
		if id == a.Default {
			opts.Default = i
		}
		ts, err := b.serverTLS(vhosts[id].cfg)
		if err != nil {
			return nil, err
		}
		opts.Servers = append(opts.Servers, ts)
	}
	if names := a.Names; names != nil {
		opts.LookupSNI = func(name []byte) (int, bool) {
			id, ok := names.Find(name, nil)
			if !ok || tlsIndex[id] < 0 {
				return 0, false
			}
			return tlsIndex[id], true
		}
	}
	l, err := tlsterm.New(opts)
	if errors.Is(err, tlsterm.ErrNoCertificate) {
		def := vhosts[a.Default].cfg
		return nil, posErr(def.Pos, fmt.Errorf(`no "ssl_certificate" is defined for the "listen ... ssl" directive`))
	}
	return l, err
}

func (b *builder) serverTLS(s *config.Server) (tlsterm.Server, error) {
	c := s.SSL
	ts := tlsterm.Server{
		PreferServerCiphers: c.PreferServerCiphers,
		SessionTimeout:      c.SessionTimeout,
		SessionTicketsOff:   !c.SessionTickets,
		VerifyDepth:         c.VerifyDepth,
		VerifyClient:        c.VerifyClient,
		RejectHandshake:     c.RejectHandshake,
	}
	if c.PasswordFile != "" {
		// nginx reads the password file when it parses the directive.
		if _, err := b.store.Passwords(c.PasswordFile); err != nil {
			return ts, posErr(c.PasswordFilePos, err)
		}
	}
	for _, ck := range c.Certificates {
		pair, err := b.store.KeyPairPasswords(ck.Certificate, ck.Key, c.PasswordFile)
		if err != nil {
			return ts, err
		}
		ts.Certificates = append(ts.Certificates, *pair)
		b.noteCert(ck.Certificate, pair.Leaf, "ssl_certificate", ck.Pos)
	}
	for _, k := range c.SessionTicketKeys {
		key, err := b.store.TicketKey(k.Path)
		if err != nil {
			return ts, posErr(k.Pos, err)
		}
		ts.SessionTicketKeys = append(ts.SessionTicketKeys, key)
	}
	minV, maxV, _, ok := c.Protocols.Range()
	if !ok {
		return ts, posErr(c.ProtocolsPos, errors.New("no TLS protocol version gatehouse supports is enabled in \"ssl_protocols\""))
	}
	ts.MinVersion, ts.MaxVersion = minV, maxV
	if c.Ciphers != "" {
		list, err := certs.ParseCiphers(c.Ciphers)
		if err != nil {
			return ts, err
		}
		ts.CipherSuites = list.IDs
	}
	// nginx sets the curves of every server that has a TLS context
	// (ngx_ssl_ecdh_curve); the socket uses the default server's.
	if len(c.Certificates) > 0 || c.RejectHandshake {
		curves, err := certs.ParseCurves(c.ECDHCurve)
		var ue *certs.UnsupportedCurveError
		if errors.As(err, &ue) {
			return ts, posErr(c.ECDHCurvePos, err)
		}
		if err != nil {
			return ts, err
		}
		ts.CurvePreferences = curves
	}
	var err error
	if c.ClientCertificate != "" {
		if ts.ClientCAs, err = b.store.CAs(c.ClientCertificate); err != nil {
			return ts, err
		}
	}
	if c.TrustedCertificate != "" {
		if ts.TrustedCAs, err = b.store.CAs(c.TrustedCertificate); err != nil {
			return ts, err
		}
	}
	if c.CRL != "" {
		if ts.CRLs, err = b.store.CRLs(c.CRL); err != nil {
			return ts, err
		}
	}
	return ts, nil
}

// posErr gives err the position of the directive it concerns, in nginx's
// "MSG in FILE:LINE" form; errors that already carry one are kept.
// unsafeBytes are the bytes no header line may carry inside a field.
const unsafeBytes = "\r\n\x00"

// compileReturn compiles the text of a return directive; the URL of a
// redirect goes into Location, so its configuration text may not hold
// CR, LF or NUL (at run time its decoded variables are escaped again).
func compileReturn(reg *variables.Registry, r *config.Return) (*variables.Template, error) {
	if isRedirect(r.Code) && strings.ContainsAny(r.Text, unsafeBytes) {
		return nil, posErr(r.Pos, fmt.Errorf("%w in the URL of \"return\"", proxy.ErrUnsafeConfigValue))
	}
	t, err := reg.Compile(r.Text)
	if err != nil {
		return nil, posErr(r.Pos, err)
	}
	return t, nil
}

func posErr(pos nginxconf.Pos, err error) error {
	var ne *nginxconf.Error
	if errors.As(err, &ne) {
		return err
	}
	return &nginxconf.Error{Pos: pos, Msg: err.Error(), Err: err}
}
