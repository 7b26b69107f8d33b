package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/config"
	"gatehouse/internal/upstream"
	"gatehouse/internal/variables"
)

// tlsClient adapts a certs.Upstream to the proxy's TLSClient (and
// TLSNameClient when proxy_ssl_name has variables).
type tlsClient struct {
	u     *certs.Upstream
	scope string
	name  *variables.Template // proxy_ssl_name with variables, else nil
}

func (c *tlsClient) Handshake(ctx context.Context, raw net.Conn, addr string) (net.Conn, error) {
	return c.u.Handshake(ctx, raw, addr)
}

// NameTemplate is the compiled proxy_ssl_name when it has variables.
func (c *tlsClient) NameTemplate() *variables.Template { return c.name }

// SSLName is the evaluated proxy_ssl_name without its port, as
// ngx_http_upstream_ssl_name strips it.
func (c *tlsClient) SSLName(evaluated []byte) string { return certs.StripPort(string(evaluated)) }

// HandshakeName runs the handshake with a per-request proxy_ssl_name;
// the session slot and *tls.Config are per (peer, name), so a session is
// never resumed under another name.
func (c *tlsClient) HandshakeName(ctx context.Context, raw net.Conn, addr, name string) (net.Conn, error) {
	return c.u.HandshakeName(ctx, raw, addr, name)
}

func (c *tlsClient) Scope() string { return c.scope }

// ReadError classifies a failure after the handshake (a TLS 1.3 upstream
// rejects our client certificate only then).
func (c *tlsClient) ReadError(err error, conn net.Conn) error {
	if pc, ok := conn.(*upstream.Conn); ok {
		conn = pc.Conn
	}
	if tc, ok := conn.(*tls.Conn); ok {
		return c.u.ReadError(err, tc)
	}
	return err
}

// UpstreamTLSOptions are the settings of the upstream TLS context of
// location l proxying to pp, exactly as the proxy builds it, so that other
// tools (gatehouse doctor) dial upstreams the way the proxy does. now is
// the verification clock (nil: time.Now).
func UpstreamTLSOptions(cfg *config.Config, l *config.Location, pp *config.ProxyPass, now func() time.Time) certs.UpstreamOptions {
	ps := l.ProxySSL
	name := ps.Name
	if name == "" {
		name = pp.Host
	}
	o := certs.UpstreamOptions{
		Verify:             ps.Verify,
		TrustedCertificate: ps.TrustedCertificate,
		VerifyDepth:        ps.VerifyDepth,
		Name:               name,
		ServerName:         ps.ServerName,
		Certificate:        ps.Certificate,
		CertificateKey:     ps.CertificateKey,
		Protocols:          ps.Protocols,
		Ciphers:            ps.Ciphers,
		SessionReuse:       ps.SessionReuse,
		CRL:                ps.CRL,
		PasswordFile:       ps.PasswordFile,
		Rules:              certs.SecureNames,
		Now:                now,
	}
	if cfg.Defaults == config.DefaultsNginx {
		o.Rules = certs.NginxNames
	}
	return o
}

// upstreamTLS returns the TLS context of a location proxying to https://.
// Locations whose merged proxy_ssl_* settings and name are equal share one
// context, and so one session cache, as nginx shares the parent's context
// when a location sets none of them.
func (b *builder) upstreamTLS(l *config.Location, pp *config.ProxyPass) (*tlsClient, error) {
	ps := l.ProxySSL
	o := UpstreamTLSOptions(b.cfg, l, pp, b.deps.Now)
	// Contexts are shared by their settings; the clock is the same for
	// all and is left out of the key.
	k := o
	k.Now = nil
	key := fmt.Sprintf("%+v", k)
	if c, ok := b.tlsCtx[key]; ok {
		return c, nil
	}
	var nameTmpl *variables.Template
	if ps.Name != "" && variables.HasVariables(ps.Name) {
		t, err := b.reg.Compile(ps.Name)
		if err != nil {
			return nil, posErr(ps.NamePos, err)
		}
		if !t.IsConstant() {
			nameTmpl = t
		}
	}
	if ps.PasswordFile != "" {
		if _, err := b.store.Passwords(ps.PasswordFile); err != nil {
			return nil, posErr(ps.PasswordFilePos, err)
		}
	}
	u, err := certs.NewUpstream(o, b.store)
	if err != nil {
		return nil, err
	}
	if ps.Certificate != "" {
		if pair, err := b.store.KeyPairPasswords(ps.Certificate, ps.CertificateKey, ps.PasswordFile); err == nil {
			b.noteCert(ps.Certificate, pair.Leaf, "proxy_ssl_certificate", ps.CertificatePos)
		}
	}
	c := &tlsClient{u: u, scope: fmt.Sprintf("tls%d", len(b.tlsCtx)+1), name: nameTmpl}
	b.tlsCtx[key] = c
	return c, nil
}
