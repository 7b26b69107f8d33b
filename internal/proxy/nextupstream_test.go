package proxy

import (
	"testing"

	"gatehouse/internal/config"
	"gatehouse/internal/upstream"
)

// TestNextUpstreamMask: every proxy_next_upstream flag the configuration
// can hold, named as nginx names it, makes the upstream package retry
// the failure that name stands for, and no other flag does. The cases are
// keyed by the directive's words, so the test does not depend on either
// package's bit order, and a flag added to the configuration without a
// case here (or a row in nextUpstreamFlag) fails it.
func TestNextUpstreamMask(t *testing.T) {
	sent := func(c upstream.Condition) upstream.Failure { return upstream.Failure{Cond: c, RequestSent: true} }
	cases := map[string]upstream.Failure{
		"error":          {Cond: upstream.CondError},
		"timeout":        {Cond: upstream.CondTimeout},
		"invalid_header": sent(upstream.CondInvalidHeader),
		"http_500":       sent(upstream.CondHTTP500),
		"http_502":       sent(upstream.CondHTTP502),
		"http_503":       sent(upstream.CondHTTP503),
		"http_504":       sent(upstream.CondHTTP504),
		"http_403":       sent(upstream.CondHTTP403),
		"http_404":       sent(upstream.CondHTTP404),
		"http_429":       sent(upstream.CondHTTP429),
		// A sent POST that failed: retried only with "error non_idempotent".
		"non_idempotent": {Cond: upstream.CondError, RequestSent: true, NonIdempotent: true},
		// "off" stops what "error" alone retries.
		"off": {Cond: upstream.CondError},
	}
	var all config.NextUpstream
	for f := config.NextUpstream(1); f <= config.NextOff; f <<= 1 {
		all |= f
	}
	retried := func(t *testing.T, m config.NextUpstream, f upstream.Failure) bool {
		t.Helper()
		um, err := nextUpstreamMask(m)
		if err != nil {
			t.Fatal(err)
		}
		return upstream.Decide(f, upstream.RetryState{Tries: 3, Mask: um}).Action == upstream.ActionRetry
	}
	seen := map[string]bool{}
	for f := config.NextUpstream(1); f <= config.NextOff; f <<= 1 {
		name := f.String()
		t.Run(name, func(t *testing.T) {
			fail, ok := cases[name]
			if !ok {
				t.Fatalf("flag %#x (%q) has no case", uint16(f), name)
			}
			seen[name] = true
			switch name {
			case "off":
				if !retried(t, config.NextError, fail) || retried(t, config.NextError|f, fail) {
					t.Errorf(`"error" must retry an error and "error off" must not`)
				}
			case "non_idempotent":
				if !retried(t, config.NextError|f, fail) {
					t.Errorf(`"error non_idempotent" does not retry a sent POST`)
				}
				if retried(t, all&^f&^config.NextOff, fail) {
					t.Errorf("every other flag retries a sent POST")
				}
			default:
				if !retried(t, f, fail) {
					t.Errorf("%q alone does not retry its failure", name)
				}
				if retried(t, all&^f&^config.NextOff, fail) {
					t.Errorf("the flags other than %q retry its failure", name)
				}
			}
		})
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("case %q names no configuration flag", name)
		}
	}
	if _, err := nextUpstreamMask(config.NextOff << 1); err == nil {
		t.Error("a flag unknown to the proxy was accepted")
	}
}
