package server

import (
	"cmp"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/nginxconf"
)

// servedCert is a certificate a generation presents: ssl_certificate to
// clients or proxy_ssl_certificate to upstreams, checked for its expiry.
type servedCert struct {
	path      string
	leaf      *x509.Certificate
	directive string
	pos       nginxconf.Pos
}

// noteCert records a served certificate once per file.
func (b *builder) noteCert(path string, leaf *x509.Certificate, directive string, pos nginxconf.Pos) {
	if leaf == nil {
		return
	}
	for _, c := range b.rt.certs {
		if c.path == path {
			return
		}
	}
	b.rt.certs = append(b.rt.certs, servedCert{path: path, leaf: leaf, directive: directive, pos: pos})
}

// expiryCheckEvery is how often a running server repeats the expiry
// warnings.
const expiryCheckEvery = 24 * time.Hour

// WarnExpiring logs a [warn] for every certificate of rt that expires
// within certs.ExpiryWarnWithin of now (or has expired), naming the
// directive that loads it, in configuration order. Build calls it, so -t, start and reload warn;
// the running server repeats it daily.
func (rt *Runtime) WarnExpiring(log *errorlog.Logger, now time.Time) {
	if log == nil {
		return
	}
	list := slices.Clone(rt.certs)
	slices.SortStableFunc(list, func(a, b servedCert) int {
		return cmp.Or(cmp.Compare(a.pos.File, b.pos.File), cmp.Compare(a.pos.Line, b.pos.Line))
	})
	for _, c := range list {
		msg, ok := certs.ExpiryWarning(c.path, c.leaf, now)
		if !ok {
			continue
		}
		if c.pos.File != "" {
			msg += fmt.Sprintf(" (%s in %s:%d)", c.directive, c.pos.File, c.pos.Line)
		}
		log.Logf(errorlog.Warn, nil, "%s", msg)
	}
}
