package config

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"gatehouse/internal/nginxconf"
)

// sockRaw is one listening address while servers are read (nginx's
// ngx_http_conf_addr_t).
type sockRaw struct {
	out              *Socket
	optSet           bool
	protocols        int
	protocolsSet     bool
	protocolsChanged bool
	defaultSrv       *srvRaw
	servers          []*srvRaw
	ignored          []ignoredRaw
}

type ignoredRaw struct {
	s    *srvRaw
	name string
}

// hListen is ngx_http_core_listen.
func hListen(c *compiler, f *frame, d *nginxconf.Directive) error {
	arg := d.Args[0]
	host, port, unix, errText := splitHostPort(arg, 80, true)
	if errText != "" {
		return nginxconf.Errorf(d.Pos, "%s in \"%s\" of the \"listen\" directive", errText, arg)
	}
	var addrs []netip.Addr
	switch {
	case unix != "":
	case host == "*":
		addrs = []netip.Addr{netip.IPv4Unspecified()}
	default:
		a, err := c.resolve(host)
		if err != nil {
			return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("host not found in \"%s\" of the \"listen\" directive", arg), Err: err}
		}
		addrs = a
	}
	l := Listen{Unix: unix, Pos: d.Pos}
	for _, p := range d.Args[1:] {
		o := &l.Options
		switch {
		case p == "default_server" || p == "default":
			l.DefaultServer = true
		case p == "bind":
			o.Set, o.Bind = true, true
		case strings.HasPrefix(p, "backlog="):
			n, ok := parseNumber(p[8:])
			if !ok || n == 0 {
				return nginxconf.Errorf(d.Pos, "invalid backlog \"%s\"", p)
			}
			o.Set, o.Backlog = true, n
		case strings.HasPrefix(p, "rcvbuf="):
			n, ok := parseSize(p[7:], false)
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid rcvbuf \"%s\"", p)
			}
			o.Set, o.Rcvbuf = true, int(n)
		case strings.HasPrefix(p, "sndbuf="):
			n, ok := parseSize(p[7:], false)
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid sndbuf \"%s\"", p)
			}
			o.Set, o.Sndbuf = true, int(n)
		case p == "deferred":
			o.Set, o.Deferred = true, true
		case p == "reuseport":
			o.Set, o.ReusePort = true, true
		case strings.HasPrefix(p, "ipv6only=o"):
			var v bool
			switch p[10:] {
			case "n":
				v = true
			case "ff":
			default:
				return nginxconf.Errorf(d.Pos, "invalid ipv6only flags \"%s\"", p[9:])
			}
			o.Set, o.IPv6Only = true, &v
		case strings.HasPrefix(p, "so_keepalive="):
			if !parseSoKeepalive(o, p[13:]) {
				return nginxconf.Errorf(d.Pos, "invalid so_keepalive value: \"%s\"", p[13:])
			}
			o.Set = true
		case strings.HasPrefix(p, "fastopen="):
			n, ok := parseNumber(p[9:])
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid fastopen \"%s\"", p)
			}
			o.Set, o.FastOpen, o.FastOpenSet = true, n, true
		case p == "ssl":
			l.SSL = true
		case p == "http2":
			return nginxconf.Errorf(d.Pos, "the \"listen ... http2\" parameter is not supported by gatehouse yet: HTTP/2 is planned")
		case p == "proxy_protocol":
			return nginxconf.Errorf(d.Pos, "the \"listen ... proxy_protocol\" parameter is not supported by gatehouse")
		case p == "quic":
			return nginxconf.Errorf(d.Pos, "the \"listen ... quic\" parameter is not supported by gatehouse")
		default:
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", p)
		}
	}
	// Every socket parameter implies "bind" (ngx_http_core_listen).
	l.Options.Bind = l.Options.Set
	if unix != "" {
		l.Addr = "unix:" + unix
		return c.addListen(f.srv, l, d.Pos)
	}
	for _, a := range addrs {
		one := l
		one.AddrPort = netip.AddrPortFrom(a, uint16(port))
		one.Addr = one.AddrPort.String()
		if err := c.addListen(f.srv, one, d.Pos); err != nil {
			return err
		}
	}
	return nil
}

// parseSoKeepalive parses so_keepalive=on|off|[keepidle]:[keepintvl]:[keepcnt]
// as ngx_http_core_listen does: the times in seconds by default, at
// least one of the three given and not zero.
func parseSoKeepalive(o *ListenOptions, v string) bool {
	switch v {
	case "on":
		o.SoKeepalive = KeepaliveOn
		return true
	case "off":
		o.SoKeepalive = KeepaliveOff
		return true
	}
	parts := strings.SplitN(v, ":", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	var ok bool
	if parts[0] != "" {
		if o.KeepIdle, ok = parseTime(parts[0], true); !ok {
			return false
		}
	}
	if parts[1] != "" {
		if o.KeepIntvl, ok = parseTime(parts[1], true); !ok {
			return false
		}
	}
	if parts[2] != "" {
		if o.KeepCnt, ok = parseNumber(parts[2]); !ok {
			return false
		}
	}
	if o.KeepIdle == 0 && o.KeepIntvl == 0 && o.KeepCnt == 0 {
		return false
	}
	o.SoKeepalive = KeepaliveOn
	return true
}

// addListen is ngx_http_add_listen / ngx_http_add_addresses: join the
// socket, checking duplicate default servers and socket options, and
// warning when protocol options disagree.
func (c *compiler) addListen(s *srvRaw, l Listen, pos nginxconf.Pos) error {
	s.listens = append(s.listens, l)
	var sk *sockRaw
	for _, x := range c.m.sockets {
		if x.out.Addr == l.Addr {
			sk = x
			break
		}
	}
	protocols := 0
	if l.SSL {
		protocols |= 2
	}
	if sk == nil {
		sk = &sockRaw{out: &Socket{Addr: l.Addr, AddrPort: l.AddrPort, Unix: l.Unix, SSL: l.SSL, Options: l.Options}, optSet: l.Options.Set}
		if l.DefaultServer {
			sk.defaultSrv = s
		}
		sk.servers = append(sk.servers, s)
		c.m.sockets = append(c.m.sockets, sk)
		return nil
	}
	for _, x := range sk.servers {
		if x == s {
			return nginxconf.Errorf(pos, "a duplicate listen %s", l.Addr)
		}
	}
	sk.servers = append(sk.servers, s)
	prev := 0
	if sk.out.SSL {
		prev |= 2
	}
	if l.Options.Set {
		if sk.optSet {
			return nginxconf.Errorf(pos, "duplicate listen options for %s", l.Addr)
		}
		sk.optSet = true
		sk.out.Options = l.Options
	}
	if l.DefaultServer {
		if sk.defaultSrv != nil {
			return nginxconf.Errorf(pos, "a duplicate default server for %s", l.Addr)
		}
		sk.defaultSrv = s
	}
	switch {
	case protocols|prev != prev: // options added
		if (sk.optSet && !l.Options.Set) || sk.protocolsChanged || protocols|prev != protocols {
			c.warn(pos, "protocol options redefined for %s", l.Addr)
		}
		sk.protocols, sk.protocolsSet, sk.protocolsChanged = prev, true, true
	case prev|protocols != protocols: // options removed
		if l.Options.Set || (sk.protocolsSet && protocols != sk.protocols) {
			c.warn(pos, "protocol options redefined for %s", l.Addr)
		}
		sk.protocols, sk.protocolsSet, sk.protocolsChanged = protocols, true, true
	default:
		if (l.Options.Set && sk.protocolsChanged) || (sk.protocolsSet && protocols != sk.protocols) {
			c.warn(pos, "protocol options redefined for %s", l.Addr)
		}
		sk.protocols, sk.protocolsSet = protocols, true
	}
	sk.out.SSL = sk.out.SSL || l.SSL
	return nil
}

// hServerName is ngx_http_core_server_name.
func hServerName(c *compiler, f *frame, d *nginxconf.Directive) error {
	for _, a := range d.Args {
		if (strings.HasPrefix(a, "*") && (len(a) < 3 || a[1] != '.')) || (strings.HasPrefix(a, ".") && len(a) < 2) {
			return nginxconf.Errorf(d.Pos, "server name \"%s\" is invalid", a)
		}
		if strings.Contains(a, "/") {
			c.warn(d.Pos, "server name \"%s\" has suspicious symbols", a)
		}
		if strings.EqualFold(a, "$hostname") {
			h, err := os.Hostname()
			if err != nil {
				h = "localhost"
			}
			a = h
		}
		if !strings.HasPrefix(a, "~") {
			n := strings.ToLower(a)
			kind := NameExact
			switch {
			case strings.HasPrefix(n, "*."):
				kind = NameWildLead
			case strings.HasPrefix(n, "."):
				kind = NameWildDot
			case strings.HasSuffix(n, ".*"):
				kind = NameWildTail
			}
			f.srv.names = append(f.srv.names, ServerName{Name: n, Kind: kind})
			continue
		}
		if len(a) == 1 {
			return nginxconf.Errorf(d.Pos, "empty regex in server name \"%s\"", a)
		}
		pat := a[1:]
		caseless := strings.IndexFunc(pat, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0
		re, err := compileRegex(pat, caseless)
		if err != nil {
			return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("regular expression \"%s\" cannot be compiled: %s", pat, regexReason(err)), Err: err}
		}
		f.srv.names = append(f.srv.names, ServerName{Name: pat, Kind: NameRegex, Regexp: re})
	}
	return nil
}

// wildcardKey classifies a name as ngx_hash_add_key does with
// NGX_HASH_WILDCARD_KEY; ok is false for a malformed wildcard.
func wildcardKey(n string) (kind ServerNameKind, key string, ok bool) {
	stars := 0
	for i := 0; i < len(n); i++ {
		if n[i] == '*' {
			stars++
			if stars > 1 {
				return 0, "", false
			}
		}
		if n[i] == '.' && i+1 < len(n) && n[i+1] == '.' {
			return 0, "", false
		}
		if n[i] == 0 {
			return 0, "", false
		}
	}
	switch {
	case len(n) > 1 && n[0] == '.':
		return NameWildDot, n[1:], true
	case len(n) > 2 && n[0] == '*' && n[1] == '.':
		return NameWildLead, n[2:], true
	case len(n) > 2 && n[len(n)-2] == '.' && n[len(n)-1] == '*':
		return NameWildTail, n[:len(n)-2], true
	}
	if stars > 0 {
		return 0, "", false
	}
	return NameExact, n, true
}

// serverNames is ngx_http_server_names for one socket: malformed
// wildcards are fatal, names already taken by an earlier server warn.
func (c *compiler) serverNames(sk *sockRaw) error {
	if len(sk.servers) < 2 {
		return nil
	}
	exact := map[string]bool{}
	head := map[string]bool{}
	tail := map[string]bool{}
	for _, s := range sk.servers {
		for _, n := range s.names {
			if n.Kind == NameRegex {
				continue
			}
			kind, key, ok := wildcardKey(n.Name)
			if !ok {
				return nginxconf.Errorf(nginxconf.Pos{}, "invalid server name or wildcard \"%s\" on %s", n.Name, sk.out.Addr)
			}
			busy := false
			switch kind {
			case NameExact:
				busy = exact[key]
				exact[key] = true
			case NameWildDot:
				busy = exact[key] || head[key]
				exact[key], head[key] = true, true
			case NameWildLead:
				busy = head[key]
				head[key] = true
			case NameWildTail:
				busy = tail[key]
				tail[key] = true
			}
			if busy {
				c.warn(nginxconf.Pos{}, "conflicting server name \"%s\" on %s, ignored", n.Name, sk.out.Addr)
				sk.ignored = append(sk.ignored, ignoredRaw{s, n.Name})
			}
		}
	}
	return nil
}
