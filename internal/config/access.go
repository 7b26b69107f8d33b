package config

import (
	"fmt"
	"gatehouse/internal/httphost"
	"net/netip"
	"strconv"
	"strings"

	"gatehouse/internal/nginxconf"
)

// AccessRule is one allow or deny directive (ngx_http_access_rule): a
// prefix of addresses, every UNIX-socket client, or all clients.
type AccessRule struct {
	Deny bool
	// Prefix is the addresses the rule covers, masked; invalid for a
	// "unix:" rule or "all".
	Prefix netip.Prefix
	// Unix covers clients on a UNIX socket; All covers every client.
	Unix, All bool
	Pos       nginxconf.Pos
}

// TrustedFrom is one set_real_ip_from address (ngx_http_realip_from):
// a prefix, or every UNIX-socket client.
type TrustedFrom struct {
	Prefix netip.Prefix
	Unix   bool
}

// RealIP is the realip module's configuration of a level.
type RealIP struct {
	// From are the trusted addresses; nil turns the module off.
	From []TrustedFrom
	// Header is real_ip_header: "X-Real-IP" (the default),
	// "X-Forwarded-For" or any field name.
	Header string
	// Recursive is real_ip_recursive.
	Recursive bool
}

// Satisfy values (ngx_http_core_satisfy).
const (
	SatisfyAll uint64 = iota
	SatisfyAny
)

var satisfyEnum = []enumValue{{"all", SatisfyAll}, {"any", SatisfyAny}}

// parseCIDR is ngx_ptocidr: an address with an optional "/bits". masked
// reports that bits below the prefix were set (nginx warns and clears
// them).
func parseCIDR(s string) (p netip.Prefix, masked bool, ok bool) {
	addr, bitsText, hasBits := strings.Cut(s, "/")
	var a netip.Addr
	if strings.Contains(addr, ":") {
		v6, err := netip.ParseAddr(addr)
		if err != nil || v6.Zone() != "" {
			return netip.Prefix{}, false, false
		}
		a = v6
	} else if a, ok = httphost.InetAddr(addr); !ok {
		return netip.Prefix{}, false, false
	}
	bits := a.BitLen()
	if hasBits {
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 0 || n > a.BitLen() || bitsText == "" || bitsText[0] == '+' || bitsText[0] == '-' {
			return netip.Prefix{}, false, false
		}
		bits = n
	}
	p = netip.PrefixFrom(a, bits)
	m := p.Masked()
	return m, m.Addr() != a, true
}

// hAccessRule is ngx_http_access_rule for allow and deny.
func hAccessRule(c *compiler, f *frame, d *nginxconf.Directive) error {
	v := d.Args[0]
	r := AccessRule{Deny: d.Name == "deny", Pos: d.Pos}
	switch v {
	case "all":
		r.All = true
	case "unix:":
		r.Unix = true
	default:
		p, masked, ok := parseCIDR(v)
		if !ok {
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", v)
		}
		if masked {
			c.warn(d.Pos, "low address bits of %s are meaningless", v)
		}
		r.Prefix = p
	}
	o := &f.conf.AccessRules
	o.V = append(o.V, r)
	o.Pos, o.Set = d.Pos, true
	return nil
}

// hRealIPFrom is ngx_http_realip_from for set_real_ip_from. nginx also
// takes a host name there, resolved when the configuration loads.
func hRealIPFrom(c *compiler, f *frame, d *nginxconf.Directive) error {
	v := d.Args[0]
	var t TrustedFrom
	if v == "unix:" {
		t.Unix = true
	} else {
		p, masked, ok := parseCIDR(v)
		if !ok {
			// Not an address: a host name, resolved now, each of its
			// addresses trusted.
			addrs, err := c.resolve(v)
			if err != nil {
				return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("host not found in set_real_ip_from \"%s\"", v), Err: err}
			}
			o := &f.conf.RealIPFrom
			for _, a := range addrs {
				o.V = append(o.V, TrustedFrom{Prefix: netip.PrefixFrom(a, a.BitLen())})
			}
			o.Pos, o.Set = d.Pos, true
			return nil
		}
		if masked {
			c.warn(d.Pos, "low address bits of %s are meaningless", v)
		}
		if p.Bits() == 0 {
			c.warn(d.Pos, "\"set_real_ip_from %s\" trusts every client: any of them can set the address that $remote_addr, allow and deny see", v)
		}
		t.Prefix = p
	}
	o := &f.conf.RealIPFrom
	o.V = append(o.V, t)
	o.Pos, o.Set = d.Pos, true
	return nil
}

// hRealIPHeader is ngx_http_realip for real_ip_header; the PROXY
// protocol is not implemented, so its address cannot be taken.
func hRealIPHeader(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.RealIPHeader
	if o.Set {
		return errDup(d)
	}
	if d.Args[0] == "proxy_protocol" {
		return dirErr(d, "is not supported by gatehouse with \"proxy_protocol\": the PROXY protocol is not implemented")
	}
	o.V, o.Pos, o.Set = d.Args[0], d.Pos, true
	return nil
}

// realIP is the merged realip configuration of a level.
func (cf *conf) realIP() RealIP {
	return RealIP{
		From:      cf.RealIPFrom.V,
		Header:    cf.RealIPHeader.or("X-Real-IP"),
		Recursive: cf.RealIPRecursive.V,
	}
}
