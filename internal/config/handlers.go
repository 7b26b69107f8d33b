package config

import (
	"strings"
	"time"

	"gatehouse/internal/nginxconf"
)

func hDaemon(c *compiler, f *frame, d *nginxconf.Directive) error {
	return mainFlag(&c.m.daemon, d)
}

func hMultiAccept(c *compiler, f *frame, d *nginxconf.Directive) error {
	return mainFlag(&c.m.multi, d)
}

func mainFlag(o *opt[bool], d *nginxconf.Directive) error {
	if o.Set {
		return errDup(d)
	}
	v, ok := parseFlag(d.Args[0])
	if !ok {
		return nginxconf.Errorf(d.Pos, "invalid value \"%s\" in \"%s\" directive, it must be \"on\" or \"off\"", d.Args[0], d.Name)
	}
	*o = opt[bool]{V: v, Pos: d.Pos, Set: true}
	return nil
}

func hPID(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.pid.Set {
		return errDup(d)
	}
	c.m.pid = opt[string]{V: d.Args[0], Pos: d.Pos, Set: true}
	return nil
}

func hWorkerProcesses(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.workers.Set {
		return errDup(d)
	}
	n := 0
	if d.Args[0] != "auto" {
		v, ok := parseNumber(d.Args[0])
		if !ok {
			return dirErr(d, "invalid value")
		}
		n = v
	}
	c.m.workers = opt[int]{V: n, Pos: d.Pos, Set: true}
	return nil
}

func hRlimit(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.rlimit.Set {
		return errDup(d)
	}
	v, ok := parseNumber(d.Args[0])
	if !ok {
		return dirErr(d, "invalid number")
	}
	c.m.rlimit = opt[int]{V: v, Pos: d.Pos, Set: true}
	return nil
}

func hUser(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.user.Set {
		return errDup(d)
	}
	if !c.opts.Root {
		c.warn(d.Pos, "the \"user\" directive makes sense only if the master process runs with super-user privileges, ignored")
		c.m.user = opt[[2]string]{Pos: d.Pos, Set: true}
		return nil
	}
	// Running as root, gatehouse can honour only "user root": it never
	// switches to another user.
	group := d.Args[0]
	if len(d.Args) == 2 {
		group = d.Args[1]
	}
	if d.Args[0] != "root" || group != "root" {
		return dirErr(d, "is not supported by gatehouse: it does not switch users; start it as the user it should run as")
	}
	c.m.user = opt[[2]string]{V: [2]string{d.Args[0], group}, Pos: d.Pos, Set: true}
	return nil
}

func hDefaults(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.defaults.Set {
		return errDup(d)
	}
	var m DefaultsMode
	switch d.Args[0] {
	case "secure":
		m = DefaultsSecure
	case "nginx":
		m = DefaultsNginx
		c.warn(d.Pos, "\"defaults nginx\" turns off upstream certificate verification (proxy_ssl_verify off), SNI to upstreams (proxy_ssl_server_name off) and upstream keep-alive unless configured: upstreams reached over https are not authenticated")
	default:
		return nginxconf.Errorf(d.Pos, "invalid value \"%s\" in \"defaults\" directive, it must be \"secure\" or \"nginx\"", d.Args[0])
	}
	c.m.defaults = opt[DefaultsMode]{V: m, Pos: d.Pos, Set: true}
	return nil
}

// parseErrorLog reads error_log's arguments: a target and optional levels.
func (c *compiler) parseErrorLog(d *nginxconf.Directive) (ErrorLog, error) {
	target := d.Args[0]
	if strings.HasPrefix(target, "syslog:") || strings.HasPrefix(target, "memory:") {
		return ErrorLog{}, dirErr(d, "is not supported by gatehouse with a \"syslog:\" or \"memory:\" target")
	}
	el := ErrorLog{Path: c.fullPath(target, false), Level: LevelError, Pos: d.Pos}
	seen := false
	for _, a := range d.Args[1:] {
		found := false
		for i, n := range levelNames {
			if a == n {
				if seen {
					return ErrorLog{}, nginxconf.Errorf(d.Pos, "duplicate log level \"%s\"", a)
				}
				el.Level, found, seen = LogLevel(i), true, true
				break
			}
		}
		if !found && strings.HasPrefix(a, "debug_") {
			el.Level, found = LevelDebug, true
		}
		if !found {
			return ErrorLog{}, nginxconf.Errorf(d.Pos, "invalid log level \"%s\"", a)
		}
	}
	return el, nil
}

func hErrorLog(c *compiler, f *frame, d *nginxconf.Directive) error {
	el, err := c.parseErrorLog(d)
	if err != nil {
		return err
	}
	if f.kind == ctxMain {
		c.m.errorLogs = append(c.m.errorLogs, el)
		return nil
	}
	o := &f.conf.ErrorLogs
	o.V = append(o.V, el)
	o.Pos, o.Set = d.Pos, true
	return nil
}

func hEvents(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.events {
		return errDup(d)
	}
	c.m.events, c.m.eventsPos = true, d.Pos
	return c.block(d.Block, &frame{kind: ctxEvents})
}

func hWorkerConnections(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.wconns.Set {
		return errDup(d)
	}
	v, ok := parseNumber(d.Args[0])
	if !ok {
		return nginxconf.Errorf(d.Pos, "invalid number \"%s\"", d.Args[0])
	}
	c.m.wconns = opt[int]{V: v, Pos: d.Pos, Set: true}
	return nil
}

func hUse(c *compiler, f *frame, d *nginxconf.Directive) error {
	if c.m.use.Set {
		return errDup(d)
	}
	switch d.Args[0] {
	case "epoll", "poll", "select":
	default:
		return nginxconf.Errorf(d.Pos, "invalid event type \"%s\"", d.Args[0])
	}
	c.m.use = opt[string]{V: d.Args[0], Pos: d.Pos, Set: true}
	return nil
}

func hLargeBuffers(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.LargeHeaderBuffers
	if o.Set {
		return errDup(d)
	}
	n, ok := parseNumber(d.Args[0])
	if !ok || n == 0 {
		return dirErr(d, "invalid value")
	}
	sz, ok := parseSize(d.Args[1], false)
	if !ok || sz == 0 {
		return dirErr(d, "invalid value")
	}
	*o = opt[[2]int64]{V: [2]int64{int64(n), sz}, Pos: d.Pos, Set: true}
	return nil
}

// hProxyBuffers is ngx_conf_set_bufs_slot for proxy_buffers.
func hProxyBuffers(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.Buffers
	if o.Set {
		return errDup(d)
	}
	n, ok := parseNumber(d.Args[0])
	if !ok || n == 0 {
		return dirErr(d, "invalid value")
	}
	sz, ok := parseSize(d.Args[1], false)
	if !ok || sz == 0 {
		return dirErr(d, "invalid value")
	}
	*o = opt[[2]int64]{V: [2]int64{int64(n), sz}, Pos: d.Pos, Set: true}
	return nil
}

func hKeepaliveTimeout(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.KeepaliveTimeout
	if o.Set {
		return errDup(d)
	}
	t, ok := parseTime(d.Args[0], false)
	if !ok {
		return dirErr(d, "invalid value")
	}
	v := [2]time.Duration{t, 0}
	if len(d.Args) == 2 {
		h, ok := parseTime(d.Args[1], true)
		if !ok {
			return dirErr(d, "invalid value")
		}
		v[1] = h
	}
	*o = opt[[2]time.Duration]{V: v, Pos: d.Pos, Set: true}
	return nil
}

func hServerTokens(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.ServerTokens
	if o.Set {
		return errDup(d)
	}
	switch strings.ToLower(d.Args[0]) {
	case "on", "build":
		*o = opt[bool]{V: true, Pos: d.Pos, Set: true}
	case "off":
		*o = opt[bool]{V: false, Pos: d.Pos, Set: true}
	default:
		return nginxconf.Errorf(d.Pos, "invalid value \"%s\"", d.Args[0])
	}
	return nil
}

// hHTTP2 accepts "http2 off" and rejects "http2 on": gatehouse speaks
// HTTP/1.x to clients only.
func hHTTP2(c *compiler, f *frame, d *nginxconf.Directive) error {
	if err := flagSlot("HTTP2")(c, f, d); err != nil {
		return err
	}
	if f.conf.HTTP2.V {
		return dirErr(d, "is not supported by gatehouse: HTTP/2 is not implemented, use \"http2 off\" or remove it")
	}
	return nil
}

func tempPath(name string) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[TempPath](f, name)
		if o.Set {
			return errDup(d)
		}
		// ngx_conf_set_path_slot: levels of 1 or more digits, at most ten
		// digits of hashed directory names in all.
		total := 0
		var levels []int
		for _, lv := range d.Args[1:] {
			n, ok := parseNumber(lv)
			if !ok || n == 0 {
				return dirErr(d, "invalid value")
			}
			total += n
			if total > 10 {
				return dirErr(d, "invalid value")
			}
			levels = append(levels, n)
		}
		*o = opt[TempPath]{V: TempPath{Path: c.fullPath(d.Args[0], false), Levels: levels, Pos: d.Pos}, Pos: d.Pos, Set: true}
		return nil
	}
}

func hSetHeader(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.SetHeaders
	o.V = append(o.V, Header{Name: d.Args[0], Value: d.Args[1], Pos: d.Pos})
	o.Pos, o.Set = d.Pos, true
	return nil
}

// hRedirect is ngx_http_proxy_redirect: "off" and other rules at one
// level are a duplicate, whichever comes first.
func hRedirect(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.Redirects
	if o.Set && o.V == nil {
		return errDup(d) // "off" came first at this level
	}
	if len(d.Args) == 1 {
		switch d.Args[0] {
		case "off":
			if o.Set {
				return errDup(d)
			}
			*o = opt[[]Redirect]{Pos: d.Pos, Set: true}
			return nil
		case "default":
		default:
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[0])
		}
		if f.loc != nil && f.loc.pass != nil && f.loc.pass.HasVariables {
			return nginxconf.Errorf(d.Pos, "\"proxy_redirect default\" cannot be used with \"proxy_pass\" directive with variables")
		}
		if f.loc == nil || f.loc.pass == nil {
			return nginxconf.Errorf(d.Pos, "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive")
		}
		o.V = append(o.V, Redirect{Default: true, Pos: d.Pos})
		o.Pos, o.Set = d.Pos, true
		return nil
	}
	r := Redirect{Pattern: d.Args[0], Replacement: d.Args[1], Pos: d.Pos}
	if strings.HasPrefix(r.Pattern, "~") {
		r.Regex = true
		r.Pattern = r.Pattern[1:]
		if strings.HasPrefix(r.Pattern, "*") {
			r.Caseless = true
			r.Pattern = r.Pattern[1:]
		}
		if err := c.checkRegex(d, r.Pattern, r.Caseless); err != nil {
			return err
		}
	}
	o.V = append(o.V, r)
	o.Pos, o.Set = d.Pos, true
	return nil
}

func hProxySSLVerify(c *compiler, f *frame, d *nginxconf.Directive) error {
	if err := flagSlot("PSSLVerify")(c, f, d); err != nil {
		return err
	}
	if !f.conf.PSSLVerify.V {
		c.warn(d.Pos, "\"proxy_ssl_verify\" is off: upstream certificates and names are not checked, so anyone on the network path can impersonate the upstream")
	}
	return nil
}

// weakProtocols are the protocol bits deprecated by RFC 8996 (TLS 1.0,
// 1.1) and RFC 6176 / RFC 7568 (SSL).
const weakProtocols = ProtoSSLv2 | ProtoSSLv3 | ProtoTLSv1 | ProtoTLSv1_1

func hProtocols(name string) handler {
	slot := bitmaskSlot(name, protocolBits)
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		if err := slot(c, f, d); err != nil {
			return err
		}
		var own Protocols
		for _, a := range d.Args {
			v, _ := lookupEnum(protocolBits, a)
			own |= Protocols(v)
		}
		if weak := own & weakProtocols; weak != 0 {
			names := protocolNames(weak)
			verb := "which are"
			if len(names) == 1 {
				verb = "which is"
			}
			c.warn(d.Pos, "\"%s\" enables %s, %s deprecated and weak (RFC 8996)", d.Name, strings.Join(names, ", "), verb)
		}
		return nil
	}
}

func hCiphers(name string) handler {
	slot := strSlot(name)
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		if err := slot(c, f, d); err != nil {
			return err
		}
		if risk := weakCiphers(d.Args[0]); risk != "" {
			c.warn(d.Pos, "\"%s\" %s", d.Name, risk)
		}
		return nil
	}
}

// weakCiphers is a word-level look at an OpenSSL cipher string: it names
// words that add RC4, 3DES, NULL, EXPORT or anonymous suites, or suites
// without forward secrecy. Excluded words ("!x", "-x") and reordering
// ("+x") add nothing and are skipped.
func weakCiphers(s string) string {
	var bad, nofs []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if w == "" || w[0] == '!' || w[0] == '-' || w[0] == '+' || strings.HasPrefix(w, "@") {
			continue
		}
		u := strings.ToUpper(w)
		switch {
		case strings.Contains(u, "RC4"), strings.Contains(u, "3DES"), strings.Contains(u, "DES-CBC"),
			strings.Contains(u, "NULL"), strings.Contains(u, "EXP"), strings.HasPrefix(u, "ADH"),
			strings.HasPrefix(u, "AECDH"), u == "DES", strings.Contains(u, "MD5"):
			bad = append(bad, w)
		case u == "KRSA" || u == "RSA" || u == "PSK" || u == "KPSK" || u == "SRP":
			nofs = append(nofs, w)
		case strings.Contains(u, "-") && !strings.HasPrefix(u, "ECDHE-") && !strings.HasPrefix(u, "DHE-") &&
			!strings.HasPrefix(u, "EDH-") && !strings.HasPrefix(u, "TLS_") && !strings.HasPrefix(u, "TLS13"):
			nofs = append(nofs, w)
		}
	}
	switch {
	case len(bad) > 0:
		return "allows " + strings.Join(bad, ", ") + ", which are broken or unauthenticated cipher suites"
	case len(nofs) > 0:
		return "allows " + strings.Join(nofs, ", ") + ", which have no forward secrecy"
	}
	return ""
}

func hNotSupported(c *compiler, f *frame, d *nginxconf.Directive) error {
	return dirErr(d, "is not supported by gatehouse: OpenSSL configuration commands have no equivalent")
}

func hSSLCert(name string) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[[]posStr](f, name)
		o.V = append(o.V, posStr{S: d.Args[0], Pos: d.Pos})
		o.Pos, o.Set = d.Pos, true
		return nil
	}
}

// hSessionCache is ngx_http_ssl_session_cache. The value is checked as
// nginx checks it and then has no effect: Go's crypto/tls resumes
// sessions by tickets only (ssl_session_tickets, ssl_session_timeout),
// never by session ID, so there is no server-side cache to configure.
// nginx's tickets do not depend on this directive either ("off" and
// "none" refuse resumption by session ID only).
func hSessionCache(c *compiler, f *frame, d *nginxconf.Directive) error {
	offOrNone := false
	for _, a := range d.Args {
		switch {
		case a == "off" || a == "none":
			offOrNone = true
		case a == "builtin":
		case strings.HasPrefix(a, "builtin:"):
			if _, ok := parseNumber(a[len("builtin:"):]); !ok {
				return nginxconf.Errorf(d.Pos, "invalid session cache \"%s\"", a)
			}
		case strings.HasPrefix(a, "shared:"):
			rest := a[len("shared:"):]
			i := strings.LastIndexByte(rest, ':')
			if i <= 0 {
				return nginxconf.Errorf(d.Pos, "invalid session cache \"%s\"", a)
			}
			sz, ok := parseSize(rest[i+1:], false)
			if !ok || sz < 8*4096 {
				if ok {
					return nginxconf.Errorf(d.Pos, "session cache \"%s\" is too small", a)
				}
				return nginxconf.Errorf(d.Pos, "invalid session cache \"%s\"", a)
			}
		default:
			return nginxconf.Errorf(d.Pos, "invalid session cache \"%s\"", a)
		}
	}
	if offOrNone && len(d.Args) > 1 {
		return nginxconf.Errorf(d.Pos, "invalid session cache \"%s\"", strings.Join(d.Args, " "))
	}
	return nil
}

func hVerifyClient(c *compiler, f *frame, d *nginxconf.Directive) error {
	if err := enumSlot("SSLVerifyClient", verifyClientEnum)(c, f, d); err != nil {
		return err
	}
	if VerifyClient(f.conf.SSLVerifyClient.V) == VerifyClientOptionalNoCA {
		c.warn(d.Pos, "\"ssl_verify_client optional_no_ca\" accepts client certificates from any issuer: their chain is not verified")
	}
	return nil
}

func hDHParam(c *compiler, f *frame, d *nginxconf.Directive) error {
	if err := strSlot("SSLDHParam")(c, f, d); err != nil {
		return err
	}
	c.warn(d.Pos, "\"ssl_dhparam\" has no effect in gatehouse: it offers no DHE cipher suites")
	return nil
}
