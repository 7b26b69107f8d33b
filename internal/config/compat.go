package config

import (
	"fmt"

	"gatehouse/internal/nginxconf"
)

// shmZone is a shared memory zone as ngx_shared_memory_add keeps it: a
// name, and a size that a later declaration may give or must agree with.
type shmZone struct {
	name string
	size int64
}

// hZone is ngx_http_upstream_zone. An upstream group's balancing state is
// already shared by the whole process, so the zone changes nothing; its
// name and size are checked and it is declared as nginx declares it, so
// that a configuration nginx refuses is refused here too.
func hZone(c *compiler, f *frame, d *nginxconf.Directive) error {
	name := d.Args[0]
	if name == "" {
		return nginxconf.Errorf(d.Pos, "invalid zone name \"%s\"", name)
	}
	var size int64
	if len(d.Args) == 2 {
		v, ok := parseSize(d.Args[1], false)
		if !ok {
			return nginxconf.Errorf(d.Pos, "invalid zone size \"%s\"", d.Args[1])
		}
		// 8 pages of 4 KiB, nginx's minimum.
		if v < 8*4096 {
			return nginxconf.Errorf(d.Pos, "zone \"%s\" is too small", name)
		}
		size = v
	}
	return c.declareZone(d.Pos, name, size)
}

// declareZone is ngx_shared_memory_add: a zone declared again takes the
// first size given, and two sizes given must be equal.
func (c *compiler) declareZone(pos nginxconf.Pos, name string, size int64) error {
	for i := range c.zones {
		z := &c.zones[i]
		if z.name != name {
			continue
		}
		if z.size == 0 {
			z.size = size
		}
		if size != 0 && size != z.size {
			return nginxconf.Errorf(pos, "the size %d of shared memory zone \"%s\" conflicts with already declared size %d", size, name, z.size)
		}
		return nil
	}
	c.zones = append(c.zones, shmZone{name: name, size: size})
	return nil
}

// checkZones is the check ngx_init_cycle makes before creating the shared
// memory zones: every zone must have been given a size somewhere.
func (c *compiler) checkZones() error {
	for _, z := range c.zones {
		if z.size == 0 {
			return nginxconf.Errorf(nginxconf.Pos{}, "zero size shared memory zone \"%s\"", z.name)
		}
	}
	return nil
}

// hSSL is nginx 1.22's "ssl" directive (ngx_http_ssl_enable, removed in
// nginx 1.25.1), kept for configurations written for it: "ssl on" makes
// TLS the protocol of every socket whose default server has it on. It
// warns as nginx 1.22 does, whatever its value.
func hSSL(c *compiler, f *frame, d *nginxconf.Directive) error {
	if err := flagSlot("SSLEnable")(c, f, d); err != nil {
		return err
	}
	c.warn(d.Pos, "the \"ssl\" directive is deprecated, use the \"listen ... ssl\" directive instead")
	return nil
}

// checkSSLEnable is the part of nginx 1.22's ngx_http_ssl_merge_srv_conf
// for a server with "ssl on": it needs a certificate and its key, or
// ssl_reject_handshake.
func checkSSLEnable(cf *conf) error {
	if !cf.SSLEnable.V {
		return nil
	}
	at := cf.SSLEnable.Pos
	certs, keys := cf.SSLCerts.V, cf.SSLKeys.V
	switch {
	case len(certs) > 0 && len(keys) == 0:
		return nginxconf.Errorf(nginxconf.Pos{}, "no \"ssl_certificate_key\" is defined for the \"ssl\" directive in %s:%d", at.File, at.Line)
	case len(certs) > 0 && len(keys) < len(certs):
		return nginxconf.Errorf(nginxconf.Pos{}, "no \"ssl_certificate_key\" is defined for certificate \"%s\" and the \"ssl\" directive in %s:%d", certs[len(certs)-1].S, at.File, at.Line)
	case len(certs) == 0 && !cf.SSLReject.V:
		return nginxconf.Errorf(nginxconf.Pos{}, "no \"ssl_certificate\" is defined for the \"ssl\" directive in %s:%d", at.File, at.Line)
	}
	return nil
}

// applySSLEnable gives TLS to every socket whose default server has "ssl
// on", as ngx_http_init_connection in nginx 1.22 decides per connection
// from the default server of the address.
func (c *compiler) applySSLEnable() {
	for _, sk := range c.m.sockets {
		def := sk.defaultSrv
		if def == nil {
			def = sk.servers[0]
		}
		if def.conf.SSLEnable.V {
			sk.out.SSL = true
		}
	}
}

// hLoadModule refuses load_module, naming the module file as nginx
// would open it (relative to the prefix).
func hLoadModule(c *compiler, f *frame, d *nginxconf.Directive) error {
	return dirErr(d, fmt.Sprintf("is not supported by gatehouse: it cannot load nginx modules such as \"%s\"; remove it", c.fullPath(d.Args[0], false)))
}
