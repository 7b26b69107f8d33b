package proxy

import (
	"fmt"

	"gatehouse/internal/config"
	"gatehouse/internal/upstream"
)

// nextUpstreamFlag is the upstream package's proxy_next_upstream flag for
// the configuration's flag f, 0 for a flag it does not know. The two
// packages define their flag sets independently; this table, not their
// bit order, connects them.
func nextUpstreamFlag(f config.NextUpstream) upstream.NextUpstream {
	switch f {
	case config.NextError:
		return upstream.NextError
	case config.NextTimeout:
		return upstream.NextTimeout
	case config.NextInvalidHeader:
		return upstream.NextInvalidHeader
	case config.NextHTTP500:
		return upstream.NextHTTP500
	case config.NextHTTP502:
		return upstream.NextHTTP502
	case config.NextHTTP503:
		return upstream.NextHTTP503
	case config.NextHTTP504:
		return upstream.NextHTTP504
	case config.NextHTTP403:
		return upstream.NextHTTP403
	case config.NextHTTP404:
		return upstream.NextHTTP404
	case config.NextHTTP429:
		return upstream.NextHTTP429
	case config.NextNonIdempotent:
		return upstream.NextNonIdempotent
	case config.NextOff:
		return upstream.NextOff
	}
	return 0
}

// nextUpstreamMask converts a location's proxy_next_upstream mask, once
// when the location is compiled. A flag without an upstream equivalent is
// an error rather than a condition silently never retried (or retried
// under another name).
func nextUpstreamMask(m config.NextUpstream) (upstream.NextUpstream, error) {
	var out upstream.NextUpstream
	for f := config.NextUpstream(1); f != 0; f <<= 1 {
		if m&f == 0 {
			continue
		}
		u := nextUpstreamFlag(f)
		if u == 0 {
			return 0, fmt.Errorf("proxy_next_upstream flag %q (%#x) is not known to the proxy", f, uint16(f))
		}
		out |= u
	}
	return out, nil
}
