package config

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/certs"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/upstream"
)

// endHTTP runs, at the closing brace of http, the checks nginx makes
// after reading the block, in nginx's order: upstream initialisation,
// ssl merge, proxy merge, location trees, "listen ... ssl" certificates,
// then server names per socket.
func (c *compiler) endHTTP() error {
	if err := c.initUpstreams(); err != nil {
		return err
	}
	root := &c.m.httpConf
	for _, s := range c.m.servers {
		s.conf.merge(root)
		if len(s.names) == 0 {
			s.names = []ServerName{{Name: "", Kind: NameExact}}
		}
		var mergeLocs func(ls []*locRaw, parent *conf)
		mergeLocs = func(ls []*locRaw, parent *conf) {
			for _, l := range ls {
				l.conf.merge(parent)
				mergeLocs(l.children, &l.conf)
			}
		}
		mergeLocs(s.locs, &s.conf)
	}
	for _, s := range c.m.servers {
		if err := checkSSLEnable(&s.conf); err != nil {
			return err
		}
		if err := c.checkServerSSL(s); err != nil {
			return err
		}
	}
	for _, s := range c.m.servers {
		if err := c.checkProxy(s); err != nil {
			return err
		}
	}
	for _, s := range c.m.servers {
		if err := checkDuplicateLocations(s.locs); err != nil {
			return err
		}
	}
	for _, sk := range c.m.sockets {
		if !sk.out.SSL {
			continue
		}
		def := sk.defaultSrv
		if def == nil {
			def = sk.servers[0]
		}
		if len(def.conf.SSLCerts.V) > 0 {
			continue
		}
		if !def.conf.SSLReject.V {
			return nginxconf.Errorf(nginxconf.Pos{}, "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in %s:%d", def.pos.File, def.pos.Line)
		}
		// A default server that only rejects handshakes: every other
		// server on the socket needs a certificate or to reject too.
		for _, s := range sk.servers {
			if len(s.conf.SSLCerts.V) == 0 && !s.conf.SSLReject.V {
				return nginxconf.Errorf(nginxconf.Pos{}, "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in %s:%d", s.pos.File, s.pos.Line)
			}
		}
	}
	c.applySSLEnable()
	for _, sk := range socketsByPort(c.m.sockets) {
		if err := c.serverNames(sk); err != nil {
			return err
		}
	}
	return nil
}

// listeningSockets counts the sockets nginx opens: per address family
// and port, one for a wildcard address plus one per address bound
// explicitly, or one per address when there is no wildcard.
func listeningSockets(socks []*sockRaw) int {
	type key struct {
		v6   bool
		port uint16
	}
	groups := map[key][]*sockRaw{}
	n := 0
	for _, sk := range socks {
		if sk.out.Unix != "" {
			n++
			continue
		}
		a := sk.out.AddrPort
		k := key{a.Addr().Is6() && !a.Addr().Is4In6(), a.Port()}
		groups[k] = append(groups[k], sk)
	}
	for _, g := range groups {
		wild, bound := false, 0
		for _, sk := range g {
			if sk.out.AddrPort.Addr().IsUnspecified() {
				wild = true
			} else if sk.optSet {
				bound++
			}
		}
		if wild {
			n += 1 + bound
		} else {
			n += len(g)
		}
	}
	return n
}

// socketsByPort orders sockets as ngx_http_optimize_servers walks them:
// ports in order of first use, and within a port explicitly bound
// addresses first and wildcard addresses last.
func socketsByPort(in []*sockRaw) []*sockRaw {
	var ports []uint16
	byPort := map[uint16][]*sockRaw{}
	for _, sk := range in {
		p := sk.out.AddrPort.Port()
		if _, ok := byPort[p]; !ok {
			ports = append(ports, p)
		}
		byPort[p] = append(byPort[p], sk)
	}
	var out []*sockRaw
	for _, p := range ports {
		g := byPort[p]
		rank := func(sk *sockRaw) int {
			switch {
			case sk.out.AddrPort.Addr().IsUnspecified():
				return 2
			case sk.out.Options.Bind || sk.optSet:
				return 0
			}
			return 1
		}
		sort.SliceStable(g, func(i, j int) bool { return rank(g[i]) < rank(g[j]) })
		out = append(out, g...)
	}
	return out
}

// initUpstreams is ngx_http_upstream_init_main_conf: resolve implicit
// groups (made by proxy_pass) and apply the upstream defaults.
func (c *compiler) initUpstreams() error {
	for _, u := range c.m.upstreams {
		g := u.u
		if !u.created {
			g.Implicit = true
			s := &UpstreamServer{Host: u.host, Port: u.port, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, Pos: u.passPos}
			if u.unix != "" {
				s.Address, s.Unix = "unix:"+u.unix, u.unix
			} else {
				s.Address = u.host + ":" + strconv.Itoa(u.port)
				addrs, err := c.resolve(u.host)
				if err != nil {
					return &nginxconf.Error{Pos: u.passPos, Msg: fmt.Sprintf("host not found in upstream \"%s\"", u.host), Err: err}
				}
				for _, a := range addrs {
					s.Addrs = append(s.Addrs, netip.AddrPortFrom(a, uint16(u.port)))
				}
			}
			g.Servers = []*UpstreamServer{s}
			g.KeepaliveRequests, g.KeepaliveTime, g.KeepaliveTimeout = 1000, time.Hour, 60*time.Second
			continue
		}
		primary := 0
		for _, s := range g.Servers {
			if !s.Backup {
				primary++
			}
		}
		if primary == 0 {
			return nginxconf.Errorf(nginxconf.Pos{}, "no servers in upstream \"%s\" in %s:%d", g.Name, g.Pos.File, g.Pos.Line)
		}
		if !u.keepSet && c.mode == DefaultsSecure {
			g.Keepalive = 32
		}
		if !u.kaReqSet {
			g.KeepaliveRequests = 1000
		}
		if !u.kaTimeSet {
			g.KeepaliveTime = time.Hour
		}
		if !u.kaToSet {
			g.KeepaliveTimeout = 60 * time.Second
		}
	}
	return nil
}

// checkServerSSL is the part of ngx_http_ssl_merge_srv_conf that can fail
// without reading files.
func (c *compiler) checkServerSSL(s *srvRaw) error {
	cf := &s.conf
	certs := cf.SSLCerts.V
	if len(certs) > 0 {
		if len(cf.SSLKeys.V) < len(certs) {
			return nginxconf.Errorf(nginxconf.Pos{}, "no \"ssl_certificate_key\" is defined for certificate \"%s\"", certs[len(certs)-1].S)
		}
	} else if !cf.SSLReject.V {
		return nil
	}
	vc := tlsterm.VerifyMode(cf.SSLVerifyClient.V)
	if vc != tlsterm.VerifyOff && vc != tlsterm.VerifyOptionalNoCA && cf.SSLClientCert.V == "" && cf.SSLTrustedCert.V == "" {
		return nginxconf.Errorf(nginxconf.Pos{}, "no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client")
	}
	return nil
}

// proxyBuffers returns the merged proxy_buffers, proxy_buffer_size and
// the effective proxy_busy_buffers_size of a level.
func proxyBuffers(cf *conf) (n, size, bufSize, busy int64) {
	const page = 4096
	b := cf.Buffers.or([2]int64{8, page})
	n, size, bufSize = b[0], b[1], cf.BufferSize.or(page)
	busy = cf.BusyBuffersSize.or(2 * max(bufSize, size))
	return n, size, bufSize, busy
}

// checkProxyBuffers is the buffer part of ngx_http_proxy_merge_loc_conf;
// nginx reports it at the line where the http block ended.
func (c *compiler) checkProxyBuffers(cf *conf) error {
	n, size, bufSize, busy := proxyBuffers(cf)
	at := c.m.httpEnd
	switch {
	case n < 2:
		return nginxconf.Errorf(at, "there must be at least 2 \"proxy_buffers\"")
	case busy < max(bufSize, size):
		return nginxconf.Errorf(at, "\"proxy_busy_buffers_size\" must be equal to or greater than the maximum of the value of \"proxy_buffer_size\" and one of the \"proxy_buffers\"")
	case busy > (n-1)*size:
		return nginxconf.Errorf(at, "\"proxy_busy_buffers_size\" must be less than the size of all \"proxy_buffers\" minus one buffer")
	}
	return nil
}

// checkProxy runs, per server and then per location in order, the checks
// of ngx_http_proxy_merge_loc_conf: buffers everywhere, and
// ngx_http_proxy_set_ssl's for every location that proxies over https (or
// through variables), plus gatehouse's warning for unverified upstreams
// under "defaults nginx".
func (c *compiler) checkProxy(s *srvRaw) error {
	if err := c.checkProxyBuffers(&s.conf); err != nil {
		return err
	}
	return c.checkProxyLocations(s.locs)
}

func (c *compiler) checkProxyLocations(ls []*locRaw) error {
	for _, l := range ls {
		cf := &l.conf
		if err := c.checkProxyBuffers(cf); err != nil {
			return err
		}
		if p := l.pass; p != nil && p.HTTPS {
			if cf.PSSLCert.V != "" && !cf.PSSLKey.Set {
				return nginxconf.Errorf(nginxconf.Pos{}, "no \"proxy_ssl_certificate_key\" is defined for certificate \"%s\"", cf.PSSLCert.V)
			}
			verify := cf.PSSLVerify.or(c.mode == DefaultsSecure)
			if verify && cf.PSSLTrusted.V == "" && c.mode == DefaultsNginx {
				return nginxconf.Errorf(nginxconf.Pos{}, "no proxy_ssl_trusted_certificate for proxy_ssl_verify")
			}
			if !cf.PSSLVerify.Set && c.mode == DefaultsNginx && !p.HasVariables {
				c.warn(p.Pos, "the upstream certificate of \"proxy_pass %s\" is not verified: \"proxy_ssl_verify\" is off by default under \"defaults nginx\"", p.Raw)
			}
		}
		if err := c.checkProxyLocations(l.children); err != nil {
			return err
		}
	}
	return nil
}

// checkDuplicateLocations is ngx_http_join_exact_locations over the sorted
// location list of each level, nested levels first.
func checkDuplicateLocations(ls []*locRaw) error {
	for _, l := range ls {
		if err := checkDuplicateLocations(l.children); err != nil {
			return err
		}
	}
	var plain []*locRaw
	for _, l := range ls {
		switch l.kind {
		case route.Exact, route.Prefix, route.PrefixNoRegex:
			plain = append(plain, l)
		}
	}
	// nginx sorts by name (exact before inclusive) and joins an exact and
	// an inclusive location of one name; two of the same sort clash.
	sort.SliceStable(plain, func(i, j int) bool {
		if plain[i].name != plain[j].name {
			return plain[i].name < plain[j].name
		}
		return plain[i].kind == route.Exact && plain[j].kind != route.Exact
	})
	for i := 0; i < len(plain); {
		j := i
		exact, inclusive := 0, 0
		for ; j < len(plain) && plain[j].name == plain[i].name; j++ {
			if plain[j].kind == route.Exact {
				exact++
			} else {
				inclusive++
			}
			if exact > 1 || inclusive > 1 {
				return nginxconf.Errorf(plain[j].pos, "duplicate location \"%s\"", plain[j].name)
			}
		}
		i = j
	}
	return nil
}

// finish checks what nginx checks after the whole file and builds Config.
func (c *compiler) finish() (*Config, error) {
	if c.mode == DefaultsNginx {
		if !c.m.events {
			return nil, nginxconf.Errorf(nginxconf.Pos{}, "no \"events\" section in configuration")
		}
		// One connection per listening socket plus one for the channel.
		if n, l := c.m.wconns.or(512), listeningSockets(c.m.sockets); n < l+1 {
			return nil, nginxconf.Errorf(nginxconf.Pos{}, "%d worker_connections are not enough for %d listening sockets", n, l)
		}
	}
	if err := c.checkZones(); err != nil {
		return nil, err
	}
	cfg := &Config{
		Defaults:           c.mode,
		DefaultsPos:        c.m.defaults.Pos,
		Daemon:             c.m.daemon.or(true),
		PID:                c.fullPath(c.m.pid.or("logs/gatehouse.pid"), false),
		ErrorLogs:          c.m.errorLogs,
		WorkerProcesses:    c.m.workers.or(1),
		WorkerRlimitNofile: c.m.rlimit.V,
		User:               c.m.user.V[0],
		Group:              c.m.user.V[1],
		UserPos:            c.m.user.Pos,
		Events: Events{
			Present:           c.m.events,
			WorkerConnections: c.m.wconns.or(512),
			Use:               c.m.use.V,
			MultiAccept:       c.m.multi.V,
		},
	}
	if len(cfg.ErrorLogs) == 0 {
		cfg.ErrorLogs = []ErrorLog{{Path: c.fullPath("logs/error.log", false), Level: errorlog.Error}}
	}
	if c.m.httpSeen {
		cfg.HTTP = c.buildHTTP()
	}
	cfg.Warnings = c.warnings
	return cfg, nil
}

func (c *compiler) buildHTTP() *HTTP {
	h := &HTTP{Pos: c.m.httpPos, LogFormats: map[string]*LogFormat{"combined": {Name: "combined", Strings: []string{accesslog.Combined}}}}
	for _, lf := range c.m.logOrder {
		k := strings.ToLower(lf.Name)
		if _, ok := h.LogFormats[k]; !ok {
			h.LogFormats[k] = lf
		}
	}
	h.Maps = c.m.maps
	for _, u := range c.m.upstreams {
		h.Upstreams = append(h.Upstreams, u.u)
	}
	for _, s := range c.m.servers {
		out := &Server{Pos: s.pos, End: s.end, Listens: s.listens, Names: s.names, Return: s.ret, Rewrite: s.stmts}
		cf := &s.conf
		out.Core = ServerCore{
			ClientHeaderTimeout:      cf.ClientHeaderTimeout.or(60 * time.Second),
			ClientHeaderBufferSize:   cf.ClientHeaderBufferSize.or(1024),
			LargeClientHeaderBuffers: int(cf.LargeHeaderBuffers.or([2]int64{4, 8192})[0]),
			LargeClientHeaderBufSize: cf.LargeHeaderBuffers.or([2]int64{4, 8192})[1],
			MergeSlashes:             cf.MergeSlashes.or(true),
			UnderscoresInHeaders:     cf.Underscores.V,
			IgnoreInvalidHeaders:     cf.IgnoreInvalidHeaders.or(true),
			HTTP2:                    cf.HTTP2.V,
			ProxyTempPath:            cf.ProxyTemp.or(TempPath{Path: c.fullPath("proxy_temp", false)}).Path,
		}
		out.SSL = c.buildServerSSL(cf)
		out.Level = c.buildLocation(&locRaw{pos: s.pos, end: s.end, conf: s.conf}, h)
		for _, l := range s.locs {
			out.Locations = append(out.Locations, c.buildLocation(l, h))
		}
		s.out = out
		h.Servers = append(h.Servers, out)
	}
	for _, sk := range c.m.sockets {
		for _, s := range sk.servers {
			sk.out.Servers = append(sk.out.Servers, s.out)
		}
		def := sk.defaultSrv
		if def == nil {
			def = sk.servers[0]
		}
		sk.out.Default = def.out
		for _, ig := range sk.ignored {
			sk.out.Ignored = append(sk.out.Ignored, IgnoredName{Server: ig.s.out, Name: ig.name})
		}
		h.Sockets = append(h.Sockets, sk.out)
	}
	return h
}

func (c *compiler) buildServerSSL(cf *conf) ServerSSL {
	depth := 4
	ciphers := ""
	if c.mode == DefaultsNginx {
		depth, ciphers = 1, "HIGH:!aNULL:!MD5"
	}
	s := ServerSSL{
		Protocols:           certs.ProtocolSet(cf.SSLProtocols.or(uint64(certs.TLSv1_2 | certs.TLSv1_3))),
		ProtocolsPos:        cf.SSLProtocols.Pos,
		Ciphers:             cf.SSLCiphers.or(ciphers),
		PreferServerCiphers: cf.SSLPrefer.V,
		SessionTimeout:      cf.SSLSessionTimeout.or(5 * time.Minute),
		SessionTickets:      cf.SSLTickets.or(true),
		VerifyClient:        tlsterm.VerifyMode(cf.SSLVerifyClient.V),
		VerifyClientPos:     cf.SSLVerifyClient.Pos,
		VerifyDepth:         cf.SSLVerifyDepth.or(depth),
		ClientCertificate:   c.fullPath(cf.SSLClientCert.V, true),
		TrustedCertificate:  c.fullPath(cf.SSLTrustedCert.V, true),
		CRL:                 c.fullPath(cf.SSLCRL.V, true),
		ECDHCurve:           cf.SSLECDHCurve.or("auto"),
		ECDHCurvePos:        cf.SSLECDHCurve.Pos,
		DHParam:             c.fullPath(cf.SSLDHParam.V, true),
		RejectHandshake:     cf.SSLReject.V,
		BufferSize:          cf.SSLBufferSize.or(16384),
		PasswordFile:        c.fullPath(cf.SSLPasswordFile.V, true),
		PasswordFilePos:     cf.SSLPasswordFile.Pos,
	}
	for _, k := range cf.SSLTicketKeys.V {
		s.SessionTicketKeys = append(s.SessionTicketKeys, FilePos{Path: c.fullPath(k.S, true), Pos: k.Pos})
	}
	for i, ck := range cf.SSLCerts.V {
		kp := CertKey{Certificate: c.fullPath(ck.S, true), Pos: ck.Pos}
		if i < len(cf.SSLKeys.V) {
			kp.Key, kp.KeyPos = c.fullPath(cf.SSLKeys.V[i].S, true), cf.SSLKeys.V[i].Pos
		}
		s.Certificates = append(s.Certificates, kp)
	}
	return s
}

func (c *compiler) buildLocation(l *locRaw, h *HTTP) *Location {
	cf := &l.conf
	out := &Location{Pos: l.pos, End: l.end, Kind: l.kind, Name: l.name, Regexp: l.re, ProxyPass: l.pass, Return: l.ret, Rewrite: l.stmts}
	if p := l.pass; p != nil && p.up != nil {
		p.Upstream = p.up.u
	}
	secure := c.mode == DefaultsSecure
	ver := HTTP10
	if secure {
		ver = HTTP11
	}
	ver = HTTPVersion(cf.HTTPVersion.or(uint64(ver)))
	_, _, _, busy := proxyBuffers(cf)
	nu := upstream.NextUpstream(cf.NextUpstream.or(uint64(upstream.NextError | upstream.NextTimeout)))
	if nu&upstream.NextOff != 0 {
		nu = upstream.NextOff
	}
	px := Proxy{
		HTTPVersion:         ver,
		ConnectTimeout:      cf.ConnectTimeout.or(60 * time.Second),
		ReadTimeout:         cf.ReadTimeout.or(60 * time.Second),
		SendTimeout:         cf.ProxySendTimeout.or(60 * time.Second),
		NextUpstream:        nu,
		NextUpstreamTries:   cf.NextUpstreamTries.V,
		NextUpstreamTimeout: cf.NextUpstreamTimeout.V,
		PassRequestHeaders:  cf.PassRequestHeaders.or(true),
		PassRequestBody:     cf.PassRequestBody.or(true),
		Buffering:           cf.Buffering.or(true),
		RequestBuffering:    cf.RequestBuffering.or(true),
		BufferSize:          cf.BufferSize.or(4096),
		Buffers:             int(cf.Buffers.or([2]int64{8, 4096})[0]),
		BufferBytes:         cf.Buffers.or([2]int64{8, 4096})[1],
		BusyBuffersSize:     busy,
		HideHeaders:         cf.HideHeaders.V,
		PassHeaders:         cf.PassHeaders.V,
		InterceptErrors:     cf.InterceptErrors.V,
		IgnoreClientAbort:   cf.IgnoreClientAbort.V,
	}
	switch {
	case cf.Redirects.Set: // nil for "proxy_redirect off"
		px.Redirects = cf.Redirects.V
	case l.pass != nil && !l.pass.HasVariables:
		px.Redirects = []Redirect{{Default: true}}
	}
	px.SetHeaders = append(px.SetHeaders, cf.SetHeaders.V...)
	conn := "close"
	if secure && ver == HTTP11 {
		conn = ""
	}
	for _, d := range []Header{
		{Name: "Host", Value: "$proxy_host"},
		{Name: "Connection", Value: conn},
		{Name: "Content-Length", Value: "$proxy_internal_body_length"},
		{Name: "Transfer-Encoding", Value: "$proxy_internal_chunked"},
		{Name: "TE"}, {Name: "Keep-Alive"}, {Name: "Expect"}, {Name: "Upgrade"},
	} {
		overridden := false
		for _, u := range cf.SetHeaders.V {
			if strings.EqualFold(u.Name, d.Name) {
				overridden = true
				break
			}
		}
		if !overridden {
			px.SetHeaders = append(px.SetHeaders, d)
		}
	}
	out.Proxy = px

	depth := 4
	ciphers := ""
	if !secure {
		depth, ciphers = 1, "DEFAULT"
	}
	out.ProxySSL = ProxySSL{
		Verify:                cf.PSSLVerify.or(secure),
		VerifyPos:             cf.PSSLVerify.Pos,
		TrustedCertificate:    c.fullPath(cf.PSSLTrusted.V, true),
		TrustedCertificatePos: cf.PSSLTrusted.Pos,
		VerifyDepth:           cf.PSSLDepth.or(depth),
		VerifyDepthPos:        cf.PSSLDepth.Pos,
		Name:                  cf.PSSLName.V,
		NamePos:               cf.PSSLName.Pos,
		ServerName:            cf.PSSLServerName.or(secure),
		ServerNamePos:         cf.PSSLServerName.Pos,
		Certificate:           c.fullPath(cf.PSSLCert.V, true),
		CertificateKey:        c.fullPath(cf.PSSLKey.V, true),
		CertificatePos:        cf.PSSLCert.Pos,
		Protocols:             certs.ProtocolSet(cf.PSSLProtocols.or(uint64(certs.TLSv1_2 | certs.TLSv1_3))),
		ProtocolsPos:          cf.PSSLProtocols.Pos,
		Ciphers:               cf.PSSLCiphers.or(ciphers),
		CiphersPos:            cf.PSSLCiphers.Pos,
		SessionReuse:          cf.PSSLSessionReuse.or(true),
		CRL:                   c.fullPath(cf.PSSLCRL.V, true),
		PasswordFile:          c.fullPath(cf.PSSLPasswordFile.V, true),
		PasswordFilePos:       cf.PSSLPasswordFile.Pos,
		DefaultPos:            l.pos,
	}
	ka := cf.KeepaliveTimeout.or([2]time.Duration{75 * time.Second, 0})
	core := LocationCore{
		ClientMaxBodySize: cf.ClientMaxBodySize.or(1 << 20),
		ClientBodyTimeout: cf.ClientBodyTimeout.or(60 * time.Second),
		SendTimeout:       cf.SendTimeout.or(60 * time.Second),
		KeepaliveTimeout:  ka[0],
		KeepaliveHeader:   ka[1],
		KeepaliveRequests: cf.KeepaliveRequests.or(1000),
		KeepaliveTime:     cf.KeepaliveTime.or(time.Hour),
		ServerTokens:      cf.ServerTokens.or(true),
		RewriteLog:        cf.RewriteLog.V,
		UninitWarn:        cf.UninitWarn.or(true),
		Root:              c.fullPath(cf.Root.or("html"), false),
		ErrorLogs:         cf.ErrorLogs.V,
		DefaultType:       cf.DefaultType.or("text/plain"),
		Types:             defaultTypes,
		ErrorPages:        cf.ErrorPages.V,

		ClientBodyBufferSize:     cf.ClientBodyBuffer.or(int64(2 * os.Getpagesize())), // nginx: two memory pages,
		ClientBodyTempPath:       cf.ClientBodyTemp.or(TempPath{Path: c.fullPath("client_body_temp", false)}),
		ClientBodyInFileOnly:     tempfile.InFile(cf.BodyInFileOnly.V),
		ClientBodyInSingleBuffer: cf.BodyInSingleBuf.V,
	}
	if cf.Types.Set {
		core.Types = cf.Types.V.m
	}
	out.AddHeaders = cf.AddHeaders.V
	out.Access = cf.AccessRules.V
	out.Satisfy = cf.Satisfy.V
	out.RealIP = cf.realIP()
	switch {
	case cf.AccessLogs.V.Off:
		core.AccessLogs = []AccessLog{}
	case cf.AccessLogs.Set:
		core.AccessLogs = cf.AccessLogs.V.Logs
	default:
		core.AccessLogs = []AccessLog{{Path: c.fullPath("logs/access.log", false), Format: h.LogFormats["combined"]}}
	}
	out.Core = core
	for _, ch := range l.children {
		out.Children = append(out.Children, c.buildLocation(ch, h))
	}
	return out
}
