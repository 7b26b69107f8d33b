package server

import (
	"net/netip"

	"gatehouse/internal/config"
	"gatehouse/internal/request"
)

// compileAccess compiles a level's allow and deny rules; nil when it
// has none, so that the access phase costs nothing.
func compileAccess(l *config.Location) *request.AccessList {
	if len(l.Access) == 0 {
		return nil
	}
	rules := make([]request.AccessRule, len(l.Access))
	for i, r := range l.Access {
		rules[i] = request.AccessRule{Prefix: r.Prefix, Unix: r.Unix, All: r.All, Deny: r.Deny}
	}
	return request.NewAccess(rules, l.Satisfy == config.SatisfyAny)
}

// compileRealIP compiles a level's realip configuration; nil when it
// trusts no address (no set_real_ip_from).
func compileRealIP(l *config.Location) *request.RealIP {
	ri := l.RealIP
	if len(ri.From) == 0 {
		return nil
	}
	var from []netip.Prefix
	unix := false
	for _, f := range ri.From {
		if f.Unix {
			unix = true
		} else {
			from = append(from, f.Prefix)
		}
	}
	return request.NewRealIP(from, unix, ri.Header, ri.Recursive)
}
