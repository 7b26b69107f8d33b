package http1

import "time"

// lazyDelay is nginx's NGX_TIMER_LAZY_DELAY: a timer that would move by
// less than this is left where it is, which spares a fast connection a
// timer update for every read and write.
const lazyDelay = 300 * time.Millisecond

// deadline remembers the deadline last set on one direction of a
// connection. A new deadline is set only when it differs from the one in
// effect, except that one at most the slack later than the current one is
// skipped: the timeout then fires up to the slack early, never late. The
// slack is nginx's 300 ms, but at most an eighth of the timeout, so the
// deadline in effect is never already past (nginx's fired timers are
// gone, Go's expired deadlines are not).
type deadline struct {
	at time.Time // the deadline in effect; zero when unknown
}

// next returns now+timeout and whether it has to be set; when it does,
// it is remembered as the deadline in effect. timeout must be positive.
func (d *deadline) next(timeout time.Duration) (time.Time, bool) {
	at := time.Now().Add(timeout)
	if !d.at.IsZero() {
		if ahead := at.Sub(d.at); ahead >= 0 && ahead < min(lazyDelay, timeout/8) {
			return at, false
		}
	}
	d.at = at
	return at, true
}

// forget marks the deadline in effect as unknown (someone else set it),
// so the next set applies its own.
func (d *deadline) forget() { d.at = time.Time{} }
