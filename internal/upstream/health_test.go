package upstream

import (
	"testing"
	"time"
)

// once runs one request that picks once and reports o.
func (tg *testGroup) once(o Outcome) string {
	tg.t.Helper()
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{})
	p, err := tg.Pick(&a)
	if err != nil {
		return "-"
	}
	tg.Report(p, o)
	return label(p)
}

func fails(tg *testGroup, i int) int { return tg.Peers()[i].State().Fails }

func TestFailureAccounting(t *testing.T) {
	const F, S = OutcomeFailure, OutcomeSuccess
	type step struct {
		at   int64 // clock, Unix seconds
		out  Outcome
		want string
	}
	tests := []struct {
		name   string
		steps  []step
		aFails int // a's fails afterwards
		off    []string
	}{
		{
			// a reaches max_fails=2 at 1000, stays out while
			// now-checked <= 10, is re-probed at 1011 and the success
			// resets its counter.
			name: "disable, recover, reset",
			steps: []step{
				{1000, F, "a"}, {1000, S, "b"}, {1000, F, "a"},
				{1005, S, "b"}, {1010, S, "b"}, {1011, S, "b"}, {1011, S, "a"},
			},
			aFails: 0,
			off:    []string{"a"},
		},
		{
			// A failed re-probe disables a again at once for another
			// fail_timeout.
			name: "failed re-probe",
			steps: []step{
				{1000, F, "a"}, {1000, S, "b"}, {1000, F, "a"},
				{1011, S, "b"}, {1011, F, "a"},
				{1011, S, "b"}, {1021, S, "b"}, {1022, S, "b"}, {1022, S, "a"},
			},
			aFails: 0,
			off:    []string{"a", "a"},
		},
		{
			// A success in the same window as the failure does not reset
			// the counter (accessed == checked); one after a new probe
			// window does.
			name: "reset needs a new window",
			steps: []step{
				{1000, F, "a"}, {1005, S, "b"}, {1005, S, "a"}, {1005, S, "b"},
			},
			aFails: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTestGroup(t, RoundRobin, lettered("a", "mf=2", "ft=10"), lettered("b", "mf=2", "ft=10"))
			var got, want []string
			for _, s := range tt.steps {
				tg.clock.Set(s.at)
				got = append(got, tg.once(s.out))
				want = append(want, s.want)
			}
			eq(t, got, want)
			if f := fails(tg, 0); f != tt.aFails {
				t.Errorf("a.fails = %d, want %d", f, tt.aFails)
			}
			eq(t, tg.off, tt.off)
		})
	}

	t.Run("new window then success", func(t *testing.T) {
		tg := newTestGroup(t, RoundRobin, lettered("a", "mf=3", "ft=10"), lettered("b"))
		tg.once(F) // a at 1000
		tg.clock.Set(1011)
		tg.once(S) // b
		if got := tg.once(S); got != "a" {
			t.Fatalf("picked %s", got)
		}
		if f := fails(tg, 0); f != 0 {
			t.Errorf("a.fails = %d after a success in a new window", f)
		}
	})
}

func TestEffectiveWeight(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a", "w=10", "mf=2"), lettered("b"))
	eff := func() int { return tg.Peers()[0].State().EffectiveWeight }
	tg.once(OutcomeFailure) // a: 10 - 10/2
	if e := eff(); e != 5 {
		t.Errorf("after one failure: %d, want 5", e)
	}
	tg.once(OutcomeSuccess) // each selection round raises it by one
	if e := eff(); e != 6 {
		t.Errorf("after one more round: %d, want 6", e)
	}

	z := newTestGroup(t, RoundRobin, lettered("a", "w=3", "mf=1"), lettered("b"))
	z.once(OutcomeFailure)
	if e := z.Peers()[0].State().EffectiveWeight; e != 0 {
		t.Errorf("3 - 3/1 = %d, want 0", e)
	}
	z.clock.Add(11 * time.Second)
	// a is re-probed with effective weight 0 (raised to 1 on the way) and
	// fails again: the floor is 0.
	for range 3 {
		var a Attempt
		a.Reset(z.Group, AttemptOptions{})
		p, _ := z.Pick(&a)
		if p == z.Peers()[0] {
			z.Report(p, OutcomeFailure)
			break
		}
		z.Report(p, OutcomeSuccess)
	}
	if e := z.Peers()[0].State().EffectiveWeight; e != 0 {
		t.Errorf("floor: %d, want 0", e)
	}
}

func TestMaxFailsZero(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a", "mf=0"), lettered("b", "mf=0"))
	var got []string
	for range 4 {
		got = append(got, tg.once(OutcomeFailure))
	}
	eq(t, got, []string{"a", "b", "a", "b"})
	if s := tg.Peers()[0].State(); s.Fails != 2 || s.EffectiveWeight != 1 {
		t.Errorf("state %+v", s)
	}
	eq(t, tg.off, nil)
}

func TestSinglePeerNeverFails(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a", "mf=1"))
	for range 3 {
		if got := tg.once(OutcomeFailure); got != "a" {
			t.Fatalf("picked %s", got)
		}
	}
	if s := tg.Peers()[0].State(); s.Fails != 0 || s.Conns != 0 {
		t.Errorf("state %+v", s)
	}
	// With a backup the same peer is accounted normally.
	b := newTestGroup(t, RoundRobin, lettered("a", "mf=1"), lettered("x", "backup"))
	eq(t, []string{b.once(OutcomeFailure), b.once(OutcomeSuccess)}, []string{"a", "x"})
	eq(t, b.off, []string{"a"})

	// A single peer's failure ends the request, except on a cached
	// connection, where nginx tries again (the same peer, new connection).
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream})
	tg.Pick(&a)
	if d := a.Fail(Failure{Cond: CondError}); d.Action != ActionRespond || d.PeerFailed {
		t.Errorf("single, fresh connection: %+v", d)
	}
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream})
	tg.Pick(&a)
	if d := a.Fail(Failure{Cond: CondError, Cached: true}); d.Action != ActionRetry {
		t.Errorf("single, cached connection: %+v", d)
	}
	if p, err := tg.Pick(&a); err != nil || label(p) != "a" {
		t.Errorf("retry on single peer: %v %v", p, err)
	}
}

func TestConnsCount(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"))
	a1, _ := tg.hold(AttemptOptions{})
	a2, _ := tg.hold(AttemptOptions{})
	a3, _ := tg.hold(AttemptOptions{})
	if c := tg.Peers()[0].State().Conns; c != 2 {
		t.Errorf("a conns %d, want 2", c)
	}
	a1.Done()
	a2.Done()
	a3.Done()
	a3.Done() // a second release is a no-op
	for _, p := range tg.Peers() {
		if c := p.State().Conns; c != 0 {
			t.Errorf("%s conns %d", label(p), c)
		}
	}
}

// TestDecide is §5.7's decision procedure, row by row.
func TestDecide(t *testing.T) {
	const (
		retry = ActionRetry
		resp  = ActionRespond
		pass  = ActionPassResponse
		abort = ActionAbort
	)
	def := DefaultNextUpstream
	all5 := def | NextHTTP500 | NextHTTP502 | NextHTTP503 | NextHTTP504 | NextHTTP429 | NextHTTP403 | NextHTTP404
	tests := []struct {
		name   string
		f      Failure
		s      RetryState
		action Action
		status int // Decision.Status
		ups    int // Decision.UpstreamStatus
		failed bool
		left   int
	}{
		{"error, tries left", Failure{Cond: CondError}, RetryState{Tries: 3, Mask: def}, retry, 0, 502, true, 2},
		{"timeout, tries left", Failure{Cond: CondTimeout}, RetryState{Tries: 2, Mask: def}, retry, 0, 504, true, 1},
		{"error, last try", Failure{Cond: CondError}, RetryState{Tries: 1, Mask: def}, resp, 502, 502, true, 0},
		{"timeout, last try", Failure{Cond: CondTimeout}, RetryState{Tries: 1, Mask: def}, resp, 504, 504, true, 0},
		{"error, no tries at all", Failure{Cond: CondError}, RetryState{Tries: 0, Mask: def}, resp, 502, 502, true, 0},
		{"invalid_header not in mask", Failure{Cond: CondInvalidHeader}, RetryState{Tries: 3, Mask: def}, resp, 502, 502, true, 2},
		{"invalid_header in mask", Failure{Cond: CondInvalidHeader}, RetryState{Tries: 3, Mask: def | NextInvalidHeader}, retry, 0, 502, true, 2},
		{"timeout not in mask", Failure{Cond: CondTimeout}, RetryState{Tries: 3, Mask: NextError}, resp, 504, 504, true, 2},
		{"off", Failure{Cond: CondError}, RetryState{Tries: 3, Mask: NextOff}, resp, 502, 502, true, 2},
		{"off with other bits", Failure{Cond: CondError}, RetryState{Tries: 3, Mask: NextOff | NextError}, resp, 502, 502, true, 2},

		{"500 not in mask", Failure{Cond: CondHTTP500}, RetryState{Tries: 3, Mask: def}, pass, 0, 500, false, 3},
		{"500 in mask", Failure{Cond: CondHTTP500}, RetryState{Tries: 3, Mask: all5}, retry, 0, 500, true, 2},
		{"500 in mask, last try", Failure{Cond: CondHTTP500}, RetryState{Tries: 1, Mask: all5}, pass, 0, 500, false, 1},
		{"502 in mask", Failure{Cond: CondHTTP502}, RetryState{Tries: 2, Mask: all5}, retry, 0, 502, true, 1},
		{"503 in mask", Failure{Cond: CondHTTP503}, RetryState{Tries: 2, Mask: all5}, retry, 0, 503, true, 1},
		{"504 in mask", Failure{Cond: CondHTTP504}, RetryState{Tries: 2, Mask: all5}, retry, 0, 504, true, 1},
		{"429 in mask", Failure{Cond: CondHTTP429}, RetryState{Tries: 2, Mask: all5}, retry, 0, 429, true, 1},
		{"403 in mask: retried, not counted", Failure{Cond: CondHTTP403}, RetryState{Tries: 2, Mask: all5}, retry, 0, 403, false, 1},
		{"404 in mask: retried, not counted", Failure{Cond: CondHTTP404}, RetryState{Tries: 2, Mask: all5}, retry, 0, 404, false, 1},
		{"404 not in mask", Failure{Cond: CondHTTP404}, RetryState{Tries: 2, Mask: def}, pass, 0, 404, false, 2},
		{"503 only 502 listed", Failure{Cond: CondHTTP503}, RetryState{Tries: 2, Mask: NextHTTP502}, pass, 0, 503, false, 2},

		{"POST, connect error", Failure{Cond: CondError, NonIdempotent: true}, RetryState{Tries: 2, Mask: def}, retry, 0, 502, true, 1},
		{"POST sent, error", Failure{Cond: CondError, NonIdempotent: true, RequestSent: true}, RetryState{Tries: 2, Mask: def}, resp, 502, 502, true, 1},
		{"POST sent, timeout", Failure{Cond: CondTimeout, NonIdempotent: true, RequestSent: true}, RetryState{Tries: 2, Mask: def}, resp, 504, 504, true, 1},
		{"POST sent, non_idempotent", Failure{Cond: CondError, NonIdempotent: true, RequestSent: true}, RetryState{Tries: 2, Mask: def | NextNonIdempotent}, retry, 0, 502, true, 1},
		{"POST sent, 503 listed", Failure{Cond: CondHTTP503, NonIdempotent: true, RequestSent: true}, RetryState{Tries: 2, Mask: all5}, pass, 0, 503, false, 2},
		{"POST sent, 503 and non_idempotent", Failure{Cond: CondHTTP503, NonIdempotent: true, RequestSent: true}, RetryState{Tries: 2, Mask: all5 | NextNonIdempotent}, retry, 0, 503, true, 1},
		{"GET sent, error", Failure{Cond: CondError, RequestSent: true}, RetryState{Tries: 2, Mask: def}, retry, 0, 502, true, 1},

		{"unbuffered body sent", Failure{Cond: CondError, RequestSent: true, BodyUnbuffered: true}, RetryState{Tries: 2, Mask: def}, resp, 502, 502, true, 1},
		{"unbuffered body not sent", Failure{Cond: CondError, BodyUnbuffered: true}, RetryState{Tries: 2, Mask: def}, retry, 0, 502, true, 1},
		{"unbuffered body sent, 500", Failure{Cond: CondHTTP500, RequestSent: true, BodyUnbuffered: true}, RetryState{Tries: 2, Mask: all5}, pass, 0, 500, false, 2},

		{"next_upstream_timeout reached", Failure{Cond: CondError}, RetryState{Tries: 2, Mask: def, Elapsed: 5 * time.Second, Timeout: 5 * time.Second}, resp, 502, 502, true, 1},
		{"next_upstream_timeout not reached", Failure{Cond: CondError}, RetryState{Tries: 2, Mask: def, Elapsed: 4999 * time.Millisecond, Timeout: 5 * time.Second}, retry, 0, 502, true, 1},
		{"no next_upstream_timeout", Failure{Cond: CondError}, RetryState{Tries: 2, Mask: def, Elapsed: time.Hour}, retry, 0, 502, true, 1},
		{"next_upstream_timeout, 500", Failure{Cond: CondHTTP500}, RetryState{Tries: 2, Mask: all5, Elapsed: 6 * time.Second, Timeout: 5 * time.Second}, pass, 0, 500, false, 2},

		{"response started", Failure{Cond: CondError, RequestSent: true, ResponseStarted: true}, RetryState{Tries: 3, Mask: def}, abort, 0, 502, false, 3},
		{"response started, timeout", Failure{Cond: CondTimeout, RequestSent: true, ResponseStarted: true}, RetryState{Tries: 3, Mask: def}, abort, 0, 504, false, 3},

		{"client closed", Failure{Cond: CondError, ClientClosed: true}, RetryState{Tries: 3, Mask: def}, resp, 499, 502, true, 2},
		{"client closed, 500 retry", Failure{Cond: CondHTTP500, ClientClosed: true}, RetryState{Tries: 3, Mask: all5}, resp, 499, 500, true, 2},

		{"cached, error, last try", Failure{Cond: CondError, Cached: true}, RetryState{Tries: 1, Mask: def}, retry, 0, 502, true, 1},
		{"cached, timeout, last try", Failure{Cond: CondTimeout, Cached: true}, RetryState{Tries: 1, Mask: def}, resp, 504, 504, true, 0},
		{"cached, error, not in mask", Failure{Cond: CondError, Cached: true}, RetryState{Tries: 1, Mask: NextTimeout}, resp, 502, 502, true, 1},

		{"single peer", Failure{Cond: CondError}, RetryState{Tries: 1, Single: true, Mask: def}, resp, 502, 502, false, 0},
		{"single peer, cached", Failure{Cond: CondError, Cached: true}, RetryState{Tries: 1, Single: true, Mask: def}, retry, 0, 502, false, 1},
		{"single peer, 500", Failure{Cond: CondHTTP500}, RetryState{Tries: 1, Single: true, Mask: all5}, pass, 0, 500, false, 1},

		{"unknown condition is an error", Failure{}, RetryState{Tries: 1, Mask: def}, resp, 502, 502, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.f, tt.s)
			if d.Action != tt.action || d.Status != tt.status || d.UpstreamStatus != tt.ups || d.PeerFailed != tt.failed || d.TriesLeft != tt.left {
				t.Errorf("got %+v\nwant action %d status %d upstream %d failed %v left %d",
					d, tt.action, tt.status, tt.ups, tt.failed, tt.left)
			}
		})
	}
}

func TestConditionForStatus(t *testing.T) {
	for status, want := range map[int]Condition{500: CondHTTP500, 502: CondHTTP502, 503: CondHTTP503,
		504: CondHTTP504, 403: CondHTTP403, 404: CondHTTP404, 429: CondHTTP429} {
		if c, ok := ConditionForStatus(status); !ok || c != want {
			t.Errorf("%d: %v %v", status, c, ok)
		}
	}
	for _, s := range []int{200, 301, 400, 401, 501, 505} {
		if _, ok := ConditionForStatus(s); ok {
			t.Errorf("%d has a condition", s)
		}
	}
}

// TestFailPassResponse: a status that is not retried leaves the peer with
// the request until Done, which does not count it as failed.
func TestFailPassResponse(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"))
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream})
	p, _ := tg.Pick(&a)
	d := a.Fail(Failure{Cond: CondHTTP503})
	if d.Action != ActionPassResponse || a.Current() != p || p.State().Conns != 1 {
		t.Fatalf("decision %+v, current %v", d, a.Current())
	}
	a.Done()
	if s := p.State(); s.Conns != 0 || s.Fails != 0 {
		t.Errorf("state %+v", s)
	}
}

func TestNextUpstreamTimeoutWithClock(t *testing.T) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"), lettered("c"))
	var a Attempt
	a.Reset(tg.Group, AttemptOptions{NextUpstream: DefaultNextUpstream, Timeout: 3 * time.Second})
	tg.Pick(&a)
	tg.clock.Add(2 * time.Second)
	if d := a.Fail(Failure{Cond: CondTimeout}); d.Action != ActionRetry {
		t.Fatalf("after 2s: %+v", d)
	}
	tg.Pick(&a)
	tg.clock.Add(time.Second)
	if d := a.Fail(Failure{Cond: CondTimeout}); d.Action != ActionRespond || d.Status != 504 {
		t.Fatalf("after 3s: %+v", d)
	}
}
