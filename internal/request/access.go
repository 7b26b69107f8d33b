package request

import (
	"bytes"
	"gatehouse/internal/httphost"
	"net/netip"
	"strconv"
	"unsafe"

	"gatehouse/internal/errorlog"
)

// AccessRule is one compiled allow or deny rule.
type AccessRule struct {
	// Prefix is the addresses the rule covers (masked); Unix covers
	// clients on a UNIX socket, All every client.
	Prefix    netip.Prefix
	Unix, All bool
	Deny      bool
}

// AccessList is a location's allow and deny rules, an access-phase handler
// (ngx_http_access_handler): the first rule that covers the client's
// address decides; none lets the request pass.
type AccessList struct {
	rules []AccessRule
	any   bool
}

// NewAccess compiles rules, in configuration order; satisfyAny is
// "satisfy any": an allowing rule then ends the access phase, as one
// module's permission suffices.
func NewAccess(rules []AccessRule, satisfyAny bool) *AccessList {
	return &AccessList{rules: append([]AccessRule(nil), rules...), any: satisfyAny}
}

// Allowed reports the verdict for addr (the zero Addr is a UNIX-socket
// client) and whether a rule decided it. An IPv4-mapped IPv6 address is
// judged by the IPv4 rules, as nginx does.
func (a *AccessList) Allowed(addr netip.Addr) (allow, decided bool) {
	addr = addr.Unmap()
	for i := range a.rules {
		r := &a.rules[i]
		if r.All || (r.Unix && !addr.IsValid()) || (addr.IsValid() && r.Prefix.IsValid() && r.Prefix.Contains(addr)) {
			return !r.Deny, true
		}
	}
	return true, false
}

// Handle answers 403 for a denied client, with nginx's error log line.
func (a *AccessList) Handle(x *Ctx) Status {
	allow, decided := a.Allowed(x.ClientAddr())
	switch {
	case !decided:
		return Continue
	case allow && a.any:
		return NextPhase
	case allow:
		return Continue
	}
	if log := x.ErrorLog(); log.Enabled(errorlog.Error) {
		log.Log(errorlog.Error, x.LogContext(""), "access forbidden by rule")
	}
	x.Error(403)
	return Done
}

// RealIP is the realip module (ngx_http_realip_handler): for a client
// whose address is trusted, the address in a request header becomes the
// client's ($remote_addr, the address allow and deny judge, ip_hash's).
// The server level's runs right after the server is chosen (nginx's
// post-read phase), a location's in pre-access unless one already
// changed the address.
type RealIP struct {
	from      []netip.Prefix
	unix      bool
	header    string
	name      []byte
	xff       bool
	recursive bool
}

// NewRealIP compiles a realip configuration: the trusted prefixes,
// whether UNIX-socket clients are trusted, real_ip_header and
// real_ip_recursive.
func NewRealIP(from []netip.Prefix, unix bool, header string, recursive bool) *RealIP {
	r := &RealIP{from: append([]netip.Prefix(nil), from...), unix: unix, header: header, name: []byte(header), recursive: recursive}
	r.xff = bytes.EqualFold(r.name, []byte("X-Forwarded-For"))
	return r
}

// trusted is ngx_cidr_match against set_real_ip_from.
func (r *RealIP) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return r.unix
	}
	for _, p := range r.from {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// The results of ngx_http_get_forwarded_addr: the address is not
// trusted (nothing taken), an address was taken but the chain stopped,
// or every address passed was trusted.
const (
	fwdDeclined = iota
	fwdDone
	fwdOK
)

// scan is ngx_http_get_forwarded_addr_internal over one header value:
// from the right, the last address; with recursion, further left while
// the address just taken is trusted.
func (r *RealIP) scan(a *netip.AddrPort, v []byte) int {
	if !r.trusted(a.Addr()) {
		return fwdDeclined
	}
	for {
		end := len(v)
		p := end - 1
		for ; p > 0; p-- {
			if v[p] != ' ' && v[p] != ',' {
				break
			}
			end--
		}
		for ; p > 0; p-- {
			if v[p] == ' ' || v[p] == ',' {
				p++
				break
			}
		}
		p = max(p, 0)
		ap, ok := parseAddrPort(v[p:end])
		if !ok {
			return fwdDone
		}
		*a = ap
		if !r.recursive || p == 0 {
			return fwdOK
		}
		v = v[:p-1]
		if !r.trusted(ap.Addr()) {
			return fwdDone
		}
	}
}

// Handle takes the client's address from the header when the
// connection's is trusted.
func (r *RealIP) Handle(x *Ctx) Status {
	if x.realIP {
		return Continue
	}
	c := x.Conn
	a := netip.AddrPortFrom(c.Client, 0)
	rc := fwdDeclined
	if r.xff {
		// Every X-Forwarded-For field, the last first
		// (ngx_http_get_forwarded_addr); without recursion only the
		// last counts.
		found := false
		hs := x.Req.Header
		for i := len(hs) - 1; i >= 0; i-- {
			if !bytes.EqualFold(hs[i].Name, r.name) {
				continue
			}
			rc = r.scan(&a, hs[i].Value)
			if !r.recursive {
				break
			}
			if rc == fwdDeclined && found {
				rc = fwdDone
				break
			}
			if rc != fwdOK {
				break
			}
			found = true
		}
	} else if v := x.Req.Header.Get(r.header); v != nil {
		rc = r.scan(&a, v)
	}
	if rc == fwdDeclined {
		return Continue
	}
	x.setClient(a)
	return Continue
}

// parseAddrPort is ngx_parse_addr_port: an address, "IPv4:port",
// "[IPv6]" or "[IPv6]:port"; no zone. The form is chosen by its syntax
// before parsing, so a valid value costs one parse and no allocation.
func parseAddrPort(b []byte) (netip.AddrPort, bool) {
	if len(b) == 0 {
		return netip.AddrPort{}, false
	}
	if b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return netip.AddrPort{}, false
		}
		a, ok := parseAddr(b[1:end])
		if !ok || !a.Is6() {
			return netip.AddrPort{}, false
		}
		rest := b[end+1:]
		if len(rest) == 0 {
			return netip.AddrPortFrom(a, 0), true
		}
		if rest[0] != ':' {
			return netip.AddrPort{}, false
		}
		port, ok := parsePort(rest[1:])
		return netip.AddrPortFrom(a, port), ok
	}
	switch bytes.Count(b, []byte{':'}) {
	case 0:
		a, ok := parseAddr(b)
		return netip.AddrPortFrom(a, 0), ok
	case 1:
		i := bytes.IndexByte(b, ':')
		a, ok := parseAddr(b[:i])
		if !ok || !a.Is4() {
			return netip.AddrPort{}, false
		}
		port, ok := parsePort(b[i+1:])
		return netip.AddrPortFrom(a, port), ok
	}
	a, ok := parseAddr(b)
	return netip.AddrPortFrom(a, 0), ok
}

// parseAddr parses an address without a zone (ngx_parse_addr). The text is passed to
// netip.ParseAddr without a copy: a parsed Addr keeps none of it.
func parseAddr(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, false
	}
	if bytes.IndexByte(b, ':') < 0 {
		return httphost.InetAddr(b)
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	return a, err == nil
}

// parsePort is a port of 1 to 65535 in decimal digits.
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// setClient makes a the client's address for the rest of the request
// (ngx_http_realip_set_addr); the connection keeps the original for
// $realip_remote_addr.
func (x *Ctx) setClient(a netip.AddrPort) {
	x.realIP = true
	x.client = a.Addr()
	x.clientText = a.Addr().AppendTo(x.clientText[:0])
	x.clientPort = x.clientPort[:0]
	if p := a.Port(); p != 0 {
		x.clientPort = strconv.AppendUint(x.clientPort, uint64(p), 10)
	}
}

// ClientAddr is the client's address as the request sees it: the
// connection's, or the one realip took from a header; the zero Addr for
// a UNIX-socket client. allow and deny, ip_hash and $binary_remote_addr
// use it.
func (x *Ctx) ClientAddr() netip.Addr {
	if x.realIP {
		return x.client
	}
	return x.Conn.Client
}

// RemoteIP is $remote_addr: the text of ClientAddr ("unix:" for a
// UNIX-socket client).
func (x *Ctx) RemoteIP() []byte {
	if x.realIP {
		return x.clientText
	}
	return x.Conn.RemoteIP
}

// RemotePort is $remote_port: empty after realip took an address without
// a port.
func (x *Ctx) RemotePort() []byte {
	if x.realIP {
		return x.clientPort
	}
	return x.Conn.RemotePort
}
