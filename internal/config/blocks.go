package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
	"gatehouse/internal/upstream"
)

func hHTTP(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.httpSeen {
		return errDup(d)
	}
	c.m.httpSeen, c.m.httpPos, c.m.httpEnd = true, d.Pos, d.End
	if err := c.block(d.Block, &frame{kind: ctxHTTP, conf: &c.m.httpConf}); err != nil {
		return err
	}
	// A partial tree's http block that was closed had its post-parse
	// checks run by nginx before the syntax error was reached.
	if c.check && d.End.Line == 0 {
		return nil
	}
	return c.endHTTP()
}

func hServer(c *compiler, f *frame, d *nginxconf.Directive) error {
	s := &srvRaw{pos: d.Pos, end: d.End}
	c.m.servers = append(c.m.servers, s)
	if err := c.block(d.Block, &frame{kind: ctxServer, conf: &s.conf, srv: s}); err != nil {
		return err
	}
	if len(s.listens) == 0 {
		port := 8000
		if c.opts.Root {
			port = 80
		}
		ap := netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port))
		l := Listen{Addr: ap.String(), AddrPort: ap, Implicit: true, Pos: d.End}
		if err := c.addListen(s, l, d.End); err != nil {
			return err
		}
	}
	return nil
}

// checkRegex compiles a regular expression the way a location, server
// name or proxy_redirect would, reporting Go's reason on failure.
func (c *compiler) checkRegex(d *nginxconf.Directive, pattern string, caseless bool) error {
	_, err := compileRegex(pattern, caseless)
	if err != nil {
		return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("regular expression \"%s\" cannot be compiled: %s", pattern, regexReason(err)), Err: err}
	}
	return nil
}

func compileRegex(pattern string, caseless bool) (*regexp.Regexp, error) {
	p := pattern
	// PCRE's (?<name>...) is accepted by Go as is.
	if caseless {
		p = "(?i)" + p
	}
	return regexp.Compile(p)
}

func regexReason(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
	}
	return err.Error()
}

// hLocation is ngx_http_core_location.
func hLocation(c *compiler, f *frame, d *nginxconf.Directive) error {
	l := &locRaw{pos: d.Pos, end: d.End}
	if len(d.Args) == 2 {
		mod, name := d.Args[0], d.Args[1]
		l.name = name
		switch mod {
		case "=":
			l.kind = route.Exact
		case "^~":
			l.kind = route.PrefixNoRegex
		case "~":
			l.kind = route.Regex
		case "~*":
			l.kind = route.RegexCaseless
		default:
			return nginxconf.Errorf(d.Pos, "invalid location modifier \"%s\"", mod)
		}
	} else {
		name := d.Args[0]
		switch {
		case strings.HasPrefix(name, "="):
			l.kind, l.name = route.Exact, name[1:]
		case strings.HasPrefix(name, "^~"):
			l.kind, l.name = route.PrefixNoRegex, name[2:]
		case strings.HasPrefix(name, "~*"):
			l.kind, l.name = route.RegexCaseless, name[2:]
		case strings.HasPrefix(name, "~"):
			l.kind, l.name = route.Regex, name[1:]
		case strings.HasPrefix(name, "@"):
			l.kind, l.name = route.Named, name
		default:
			l.kind, l.name = route.Prefix, name
		}
	}
	if l.kind == route.Regex || l.kind == route.RegexCaseless {
		re, err := compileRegex(l.name, l.kind == route.RegexCaseless)
		if err != nil {
			return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("regular expression \"%s\" cannot be compiled: %s", l.name, regexReason(err)), Err: err}
		}
		l.re = re
	}
	if p := f.loc; p != nil {
		if p.kind == route.Exact {
			return nginxconf.Errorf(d.Pos, "location \"%s\" cannot be inside the exact location \"%s\"", l.name, p.name)
		}
		if p.kind == route.Named {
			return nginxconf.Errorf(d.Pos, "location \"%s\" cannot be inside the named location \"%s\"", l.name, p.name)
		}
		if l.kind == route.Named {
			return nginxconf.Errorf(d.Pos, "named location \"%s\" can be on the server level only", l.name)
		}
		if l.re == nil && !strings.HasPrefix(l.name, p.name) {
			return nginxconf.Errorf(d.Pos, "location \"%s\" is outside location \"%s\"", l.name, p.name)
		}
		l.parent = p
		p.children = append(p.children, l)
	} else {
		f.srv.locs = append(f.srv.locs, l)
	}
	return c.block(d.Block, &frame{kind: ctxLocation, conf: &l.conf, srv: f.srv, loc: l})
}

// hReturn is ngx_http_rewrite_return; only the first return of a level
// can ever run, later ones are kept out.
func hReturn(c *compiler, f *frame, d *nginxconf.Directive) error {
	r := &Return{Pos: d.Pos}
	code, ok := parseNumber(d.Args[0])
	if !ok {
		a := d.Args[0]
		if len(d.Args) == 1 && (strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "$scheme")) {
			r.Code, r.Text = 302, a
		} else {
			return nginxconf.Errorf(d.Pos, "invalid return code \"%s\"", a)
		}
	} else {
		if code > 999 {
			return nginxconf.Errorf(d.Pos, "invalid return code \"%s\"", d.Args[0])
		}
		r.Code = code
		if len(d.Args) == 2 {
			r.Text = d.Args[1]
		}
	}
	if f.stmts != nil {
		addStmt(f, Stmt{Op: OpReturn, Pos: d.Pos, Return: r})
		return nil
	}
	addStmt(f, Stmt{Op: OpReturn, Pos: d.Pos, Return: r})
	if f.loc != nil {
		if f.loc.ret == nil {
			f.loc.ret = r
		}
	} else if f.srv != nil && f.srv.ret == nil {
		f.srv.ret = r
	}
	return nil
}

// hLogFormat is ngx_http_log_set_format.
func hLogFormat(c *compiler, f *frame, d *nginxconf.Directive) error {
	name := d.Args[0]
	if name == "combined" {
		return nginxconf.Errorf(d.Pos, "duplicate \"log_format\" name \"%s\"", name)
	}
	for _, lf := range c.m.logOrder {
		if lf.Name == name {
			return nginxconf.Errorf(d.Pos, "duplicate \"log_format\" name \"%s\"", name)
		}
	}
	lf := &LogFormat{Name: name, Pos: d.Pos}
	args := d.Args[1:]
	if strings.HasPrefix(args[0], "escape=") {
		switch e := args[0][len("escape="):]; e {
		case "default":
		case "json":
			lf.Escape = accesslog.EscapeJSON
		case "none":
			lf.Escape = accesslog.EscapeNone
		default:
			return nginxconf.Errorf(d.Pos, "unknown log format escaping \"%s\"", e)
		}
		args = args[1:]
	}
	lf.Strings = args
	c.m.logOrder = append(c.m.logOrder, lf)
	return nil
}

func (c *compiler) findLogFormat(name string) *LogFormat {
	if strings.EqualFold(name, "combined") {
		return &LogFormat{Name: "combined", Strings: []string{accesslog.Combined}}
	}
	for _, lf := range c.m.logOrder {
		if strings.EqualFold(lf.Name, name) {
			return lf
		}
	}
	return nil
}

// hAccessLog is ngx_http_log_set_log.
func hAccessLog(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.AccessLogs
	if d.Args[0] == "off" {
		if len(d.Args) > 1 {
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[1])
		}
		o.V.Off = true
		o.Pos, o.Set = d.Pos, true
		return nil
	}
	if strings.HasPrefix(d.Args[0], "syslog:") {
		return dirErr(d, "is not supported by gatehouse with a \"syslog:\" target")
	}
	name := "combined"
	if len(d.Args) >= 2 {
		name = d.Args[1]
	}
	al := AccessLog{Path: c.fullPath(d.Args[0], false), Format: c.findLogFormat(name), Pos: d.Pos}
	if al.Format == nil {
		return nginxconf.Errorf(d.Pos, "unknown log format \"%s\"", name)
	}
	flushSet := false
	for _, a := range d.Args[min(2, len(d.Args)):] {
		switch {
		case strings.HasPrefix(a, "buffer="):
			v, ok := parseSize(a[7:], false)
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid buffer size \"%s\"", a[7:])
			}
			al.Buffer = v
		case strings.HasPrefix(a, "flush="):
			v, ok := parseTime(a[6:], false)
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid flush time \"%s\"", a[6:])
			}
			al.Flush, flushSet = v, true
		case a == "gzip" || strings.HasPrefix(a, "gzip="):
			return dirErr(d, "is not supported by gatehouse with \"gzip\"")
		case strings.HasPrefix(a, "if="):
			al.If = a[3:]
		default:
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", a)
		}
	}
	if flushSet && al.Buffer == 0 {
		return nginxconf.Errorf(d.Pos, "no buffer is defined for access_log \"%s\"", d.Args[0])
	}
	o.V.Logs = append(o.V.Logs, al)
	o.Pos, o.Set = d.Pos, true
	return nil
}

// hUpstream is ngx_http_upstream: an upstream block.
func hUpstream(c *compiler, f *frame, d *nginxconf.Directive) error {
	u, err := c.upstreamAdd(d.Args[0], 0, true, true, d.Pos)
	if err != nil {
		return err
	}
	u.u.Pos, u.u.End = d.Pos, d.End
	if err := c.block(d.Block, &frame{kind: ctxUpstream, up: u}); err != nil {
		return err
	}
	if len(u.u.Servers) == 0 && d.End.Line != 0 {
		return nginxconf.Errorf(d.End, "no servers are inside upstream")
	}
	return nil
}

// upstreamAdd is ngx_http_upstream_add: find or create the group for an
// upstream block (create) or a proxy_pass host.
func (c *compiler) upstreamAdd(host string, port int, noPort, create bool, pos nginxconf.Pos) (*upRaw, error) {
	for _, u := range c.m.upstreams {
		if !strings.EqualFold(u.host, host) {
			continue
		}
		if create && u.created {
			return nil, nginxconf.Errorf(pos, "duplicate upstream \"%s\"", host)
		}
		if u.created && !noPort {
			return nil, nginxconf.Errorf(pos, "upstream \"%s\" may not have port %d", host, port)
		}
		if create && !u.noPort {
			return nil, nginxconf.Errorf(u.passPos, "upstream \"%s\" may not have port %d", host, u.port)
		}
		if u.port != 0 && port != 0 && u.port != port {
			continue
		}
		if create {
			u.created, u.port, u.u.Implicit, u.u.Name = true, 0, false, host
		}
		return u, nil
	}
	u := &upRaw{u: &Upstream{Name: host, Implicit: !create, Pos: pos}, host: host, created: create, noPort: noPort, port: port, passPos: pos}
	if create {
		u.port = 0
	}
	c.m.upstreams = append(c.m.upstreams, u)
	return u, nil
}

// hUpstreamServer is ngx_http_upstream_server: parameters first, then the
// address, resolved now.
func hUpstreamServer(c *compiler, f *frame, d *nginxconf.Directive) error {
	up := f.up
	s := &UpstreamServer{Address: d.Args[0], Weight: 1, MaxFails: 1, FailTimeout: 10e9, Pos: d.Pos}
	for _, a := range d.Args[1:] {
		var bad, unsupported bool
		switch {
		case strings.HasPrefix(a, "weight="):
			n, ok := parseNumber(a[7:])
			bad, s.Weight = !ok || n == 0, n
		case strings.HasPrefix(a, "max_conns="):
			n, ok := parseNumber(a[10:])
			bad, s.MaxConns = !ok, n
		case strings.HasPrefix(a, "max_fails="):
			n, ok := parseNumber(a[10:])
			bad, s.MaxFails = !ok, n
		case strings.HasPrefix(a, "fail_timeout="):
			t, ok := parseTime(a[13:], true)
			bad, s.FailTimeout = !ok, t
		case a == "backup":
			unsupported = !up.methodAllowsBackup()
			s.Backup = true
		case a == "down":
			s.Down = true
		default:
			bad = true
		}
		if unsupported {
			return nginxconf.Errorf(d.Pos, "balancing method does not support parameter \"%s\"", a)
		}
		if bad {
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", a)
		}
	}
	host, port, unix, err := splitHostPort(d.Args[0], 80, false)
	if err != "" {
		return nginxconf.Errorf(d.Pos, "%s in upstream \"%s\"", err, d.Args[0])
	}
	s.Host, s.Port, s.Unix = host, port, unix
	if unix == "" {
		addrs, rerr := c.resolve(host)
		if rerr != nil {
			return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("host not found in upstream \"%s\"", d.Args[0]), Err: rerr}
		}
		for _, a := range addrs {
			s.Addrs = append(s.Addrs, netip.AddrPortFrom(a, uint16(port)))
		}
	}
	up.u.Servers = append(up.u.Servers, s)
	return nil
}

func (u *upRaw) methodAllowsBackup() bool {
	switch u.u.Method {
	case upstream.RoundRobin, upstream.LeastConn:
		return true
	}
	return false
}

// resolve turns a host into addresses: IP literals directly, names through
// the injected resolver.
func (c *compiler) resolve(host string) ([]netip.Addr, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil && !strings.Contains(h, "%") {
		return []netip.Addr{a}, nil
	}
	if c.opts.Resolve == nil {
		if c.check {
			return []netip.Addr{netip.IPv4Unspecified()}, nil
		}
		return nil, ErrHostNotFound
	}
	addrs, err := c.opts.Resolve(c.ctx, host)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHostNotFound, err)
	}
	if len(addrs) == 0 {
		return nil, ErrHostNotFound
	}
	return addrs, nil
}

// splitHostPort is the part of ngx_parse_url gatehouse needs: "unix:path",
// "[v6]:port", "host:port", "host", and (for listen) "port" or "*:port".
// It returns nginx's u.err text on failure.
func splitHostPort(s string, defPort int, listen bool) (host string, port int, unix string, errText string) {
	if strings.HasPrefix(s, "unix:") {
		p := s[5:]
		if p == "" {
			return "", 0, "", "no path in the unix domain socket"
		}
		return "", 0, p, ""
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, "", "invalid host"
		}
		host = s[:end+1]
		if _, err := netip.ParseAddr(s[1:end]); err != nil {
			return "", 0, "", "invalid IPv6 address"
		}
		rest := s[end+1:]
		if rest == "" {
			return host, defPort, "", ""
		}
		if rest[0] != ':' {
			return "", 0, "", "invalid host"
		}
		n, ok := parseNumber(rest[1:])
		if !ok || n < 1 || n > 65535 {
			return "", 0, "", "invalid port"
		}
		return host, n, "", ""
	}
	if listen {
		if n, ok := parseNumber(s); ok {
			if n < 1 || n > 65535 {
				return "", 0, "", "invalid port"
			}
			return "*", n, "", ""
		}
	}
	host = s
	port = defPort
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host = s[:i]
		n, ok := parseNumber(s[i+1:])
		if !ok || n < 1 || n > 65535 {
			return "", 0, "", "invalid port"
		}
		port = n
	}
	if host == "" {
		return "", 0, "", "no host"
	}
	return host, port, "", ""
}

func hMethod(m upstream.Method) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		c.setMethod(f.up, m, d)
		return nil
	}
}

// setMethod records the balancing method; a second method (or one after
// keepalive, which wraps the method in effect) warns as nginx does, and
// the later one replaces the earlier, dropping keepalive with it.
func (c *compiler) setMethod(u *upRaw, m upstream.Method, d *nginxconf.Directive) {
	if u.methodSet || u.keepSet {
		c.warn(d.Pos, "load balancing method redefined")
		if u.keepSet {
			u.keepSet, u.u.Keepalive = false, 0
		}
	}
	u.methodSet = true
	u.u.Method = m
}

func hHash(c *compiler, f *frame, d *nginxconf.Directive) error {
	m := upstream.Hash
	if len(d.Args) == 2 {
		if d.Args[1] != "consistent" {
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[1])
		}
		m = upstream.HashConsistent
	}
	c.setMethod(f.up, m, d)
	f.up.u.HashKey = d.Args[0]
	return nil
}

func hRandom(c *compiler, f *frame, d *nginxconf.Directive) error {
	m := upstream.Random
	if len(d.Args) >= 1 {
		if d.Args[0] != "two" {
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[0])
		}
		m = upstream.RandomTwo
		if len(d.Args) == 2 {
			if d.Args[1] != "least_conn" {
				return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[1])
			}
			// "random two" compares the two by least_conn anyway.
		}
	}
	c.setMethod(f.up, m, d)
	return nil
}

func hKeepalive(c *compiler, f *frame, d *nginxconf.Directive) error {
	u := f.up
	if u.keepSeen {
		return errDup(d)
	}
	n, ok := parseNumber(d.Args[0])
	if !ok || n == 0 {
		return nginxconf.Errorf(d.Pos, "invalid value \"%s\" in \"%s\" directive", d.Args[0], d.Name)
	}
	u.keepSet, u.keepSeen, u.u.Keepalive = true, true, n
	return nil
}

func hUpKeepaliveRequests(c *compiler, f *frame, d *nginxconf.Directive) error {
	u := f.up
	if u.kaReqSet {
		return errDup(d)
	}
	n, ok := parseNumber(d.Args[0])
	if !ok {
		return dirErr(d, "invalid number")
	}
	u.kaReqSet, u.u.KeepaliveRequests = true, n
	return nil
}

func hUpKeepaliveTime(c *compiler, f *frame, d *nginxconf.Directive) error {
	return setUpTime(d, &f.up.kaTimeSet, &f.up.u.KeepaliveTime)
}

func hUpKeepaliveTimeout(c *compiler, f *frame, d *nginxconf.Directive) error {
	return setUpTime(d, &f.up.kaToSet, &f.up.u.KeepaliveTimeout)
}

// setUpTime sets a once-only time directive of an upstream block.
func setUpTime(d *nginxconf.Directive, set *bool, dst *time.Duration) error {
	if *set {
		return errDup(d)
	}
	t, ok := parseTime(d.Args[0], false)
	if !ok {
		return dirErr(d, "invalid value")
	}
	*set, *dst = true, t
	return nil
}

// hProxyPass is ngx_http_proxy_pass.
func hProxyPass(c *compiler, f *frame, d *nginxconf.Directive) error {
	l := f.loc
	if l.pass != nil {
		return errDup(d)
	}
	raw := d.Args[0]
	p := &ProxyPass{Raw: raw, Pos: d.Pos}
	if hasVariable(raw) {
		p.HasVariables = true
		p.HTTPS = true // may use TLS: checked as such, like nginx
		l.pass = p
		return nil
	}
	var rest string
	defPort := 80
	switch {
	case len(raw) >= 7 && strings.EqualFold(raw[:7], "http://"):
		rest = raw[7:]
	case len(raw) >= 8 && strings.EqualFold(raw[:8], "https://"):
		rest, defPort, p.HTTPS = raw[8:], 443, true
	default:
		return nginxconf.Errorf(d.Pos, "invalid URL prefix")
	}
	hostport := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 && !strings.HasPrefix(rest, "unix:") {
		hostport, p.URI, p.HasURI = rest[:i], rest[i:], true
	}
	host, port, unix, errText := splitHostPort(hostport, defPort, false)
	if unix != "" {
		// unix:/path[:/uri]
		path := unix
		if i := strings.IndexByte(path, ':'); i >= 0 {
			path, p.URI, p.HasURI = path[:i], path[i+1:], true
		}
		host, unix = "unix:"+path, path
	}
	if errText != "" {
		return nginxconf.Errorf(d.Pos, "%s in upstream \"%s\"", errText, rest)
	}
	portGiven := unix == "" && (strings.HasPrefix(hostport, "[") && strings.Contains(hostport, "]:") ||
		!strings.HasPrefix(hostport, "[") && strings.Contains(hostport, ":"))
	p.Host, p.Port = host, port
	up, err := c.upstreamAdd(host, port, !portGiven, false, d.Pos)
	if err != nil {
		return err
	}
	if up.u.Implicit {
		up.unix = unix
	}
	p.up = up
	switch {
	case unix != "":
		p.ProxyHost, p.ProxyPort = "localhost", ""
	case !portGiven || port == defPort:
		p.ProxyHost, p.ProxyPort = host, strconv.Itoa(defPort)
	default:
		p.ProxyHost, p.ProxyPort = host+":"+strconv.Itoa(port), strconv.Itoa(port)
	}
	if (l.kind == route.Regex || l.kind == route.RegexCaseless || l.kind == route.Named) && p.HasURI {
		return nginxconf.Errorf(d.Pos, "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location, or inside \"if\" statement, or inside \"limit_except\" block")
	}
	l.pass = p
	return nil
}
