package upstream

import (
	"errors"
	"net/netip"
	"time"
)

// ErrAttemptState is returned by [Group.Pick] when the attempt was not reset
// for that group or its previous peer was not released.
var ErrAttemptState = errors.New("upstream: attempt not reset for this group or peer not released")

// AttemptOptions are the per-request inputs of an [Attempt].
type AttemptOptions struct {
	// Key is the evaluated key of "hash KEY [consistent]". It must stay
	// unchanged until the request is finished.
	Key []byte
	// Client is the client address, the key of ip_hash. The zero Addr
	// stands for a UNIX-socket client. IPv4-mapped IPv6 addresses count as
	// IPv4, as on nginx's separate IPv4 listening sockets.
	Client netip.Addr
	// Tries is proxy_next_upstream_tries; 0 means no cap.
	Tries int
	// Timeout is proxy_next_upstream_timeout; 0 means no limit.
	Timeout time.Duration
	// NextUpstream is the proxy_next_upstream mask of the location.
	NextUpstream NextUpstream
}

// Attempt is the state of one proxied request against one group: the peers
// it tried, the tries left, and the balancer's per-request state. The zero
// value must be [Attempt.Reset] before use; an Attempt may be reused for
// later requests (reuse allocates nothing for groups of up to 64 peers).
type Attempt struct {
	g       *Group
	current *Peer

	tried     uint64
	triedMore []uint64 // bits 64 and up, for sets larger than 64 peers
	backup    bool     // the request moved to the backup set

	tries   int // remaining, nginx's u->peer.tries
	start   time.Time
	timeout time.Duration
	mask    NextUpstream

	key      []byte
	ip       [16]byte
	ipLen    int
	hash     uint32 // ip_hash running hash, hash accumulator, ketama index
	rehash   uint64
	htries   int
	pointSet bool
	num      [20]byte
}

// Reset prepares a for a new request against g.
func (a *Attempt) Reset(g *Group, o AttemptOptions) {
	if g == nil {
		*a = Attempt{}
		return
	}
	more := a.triedMore[:0]
	*a = Attempt{
		g:       g,
		tries:   g.tries,
		start:   g.now(),
		timeout: o.Timeout,
		mask:    o.NextUpstream,
		key:     o.Key,
	}
	if o.Tries > 0 && o.Tries < a.tries {
		a.tries = o.Tries
	}
	if n := (g.maxSet + 63) / 64; n > 1 {
		more = more[:0]
		for range n - 1 {
			more = append(more, 0)
		}
		a.triedMore = more
	}
	switch g.method {
	case IPHash:
		a.hash = 89
		a.ipLen = ipHashKey(&a.ip, o.Client)
	}
}

// ipHashKey stores ip_hash's key bytes: the first three octets of an
// IPv4 address, all sixteen of an IPv6 one, three zeros for UNIX sockets.
func ipHashKey(dst *[16]byte, addr netip.Addr) int {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		b := addr.As4()
		copy(dst[:], b[:3])
		return 3
	case addr.Is6():
		*dst = addr.As16()
		return 16
	default:
		*dst = [16]byte{}
		return 3
	}
}

func (a *Attempt) isTried(i int) bool {
	if i < 64 {
		return a.tried&(1<<uint(i)) != 0
	}
	i -= 64
	return a.triedMore[i/64]&(1<<uint(i%64)) != 0
}

func (a *Attempt) setTried(i int) {
	if i < 64 {
		a.tried |= 1 << uint(i)
		return
	}
	i -= 64
	a.triedMore[i/64] |= 1 << uint(i%64)
}

func (a *Attempt) clearTried() {
	a.tried = 0
	clear(a.triedMore)
}

// Current is the peer picked last and not yet released, or nil.
func (a *Attempt) Current() *Peer { return a.current }

// TriesLeft is the number of tries the request has left (nginx's
// u->peer.tries).
func (a *Attempt) TriesLeft() int { return a.tries }

// Elapsed is the time since the request started against the group, for
// proxy_next_upstream_timeout.
func (a *Attempt) Elapsed() time.Duration {
	if a.g == nil {
		return 0
	}
	return a.g.now().Sub(a.start)
}

// Done releases the current peer after a response that needs no retry,
// including a listed status passed through after [ActionPassResponse] and a
// response cut short after [ActionAbort]-like errors: the peer is not
// counted as failed, and a peer re-probed after fail_timeout is marked live.
func (a *Attempt) Done() {
	if p := a.current; p != nil {
		a.current = nil
		a.g.Report(p, OutcomeSuccess)
		if a.tries > 0 {
			a.tries--
		}
	}
}

// Fail applies §5.7's decision procedure to a failure of the current peer,
// releases the peer (counting it as failed when nginx would) unless the
// upstream's own response is to be passed on, and returns the decision.
// After [ActionPassResponse] the peer stays current until [Attempt.Done].
func (a *Attempt) Fail(f Failure) Decision {
	p := a.current
	if p == nil {
		return Decision{Action: ActionRespond, Status: 502, UpstreamStatus: 502}
	}
	d := Decide(f, RetryState{
		Tries:   a.tries,
		Single:  a.g.single,
		Mask:    a.mask,
		Elapsed: a.Elapsed(),
		Timeout: a.timeout,
	})
	switch d.Action {
	case ActionPassResponse:
		return d
	case ActionAbort:
		a.current = nil
		a.g.Report(p, OutcomeSuccess)
		if a.tries > 0 {
			a.tries--
		}
		return d
	}
	a.current = nil
	outcome := OutcomeSuccess
	if d.PeerFailed {
		outcome = OutcomeFailure
	}
	d.Disabled = a.g.Report(p, outcome)
	a.tries = d.TriesLeft
	return d
}

// NextUpstream is a proxy_next_upstream mask; the proxy maps the config
// package's mask onto it flag by flag.
type NextUpstream uint16

// The proxy_next_upstream flags.
const (
	NextError NextUpstream = 1 << iota
	NextTimeout
	NextInvalidHeader
	NextHTTP500
	NextHTTP502
	NextHTTP503
	NextHTTP504
	NextHTTP403
	NextHTTP404
	NextHTTP429
	NextNonIdempotent
	// NextOff is "proxy_next_upstream off": no condition is retried.
	NextOff
)

// DefaultNextUpstream is nginx's default, "error timeout".
const DefaultNextUpstream = NextError | NextTimeout

// Condition is the kind of failure of one attempt.
type Condition uint8

// The failure conditions of §5.7.
const (
	// CondError: connect error, TLS handshake or verification failure,
	// send or read error, upstream closed before the full header.
	CondError Condition = iota + 1
	// CondTimeout: connect, handshake, send or read-header timeout.
	CondTimeout
	// CondInvalidHeader: malformed or too large response header.
	CondInvalidHeader
	// CondHTTP500 and the others: the upstream answered with that status.
	CondHTTP500
	CondHTTP502
	CondHTTP503
	CondHTTP504
	CondHTTP403
	CondHTTP404
	CondHTTP429
)

var condInfo = [...]struct {
	bit    NextUpstream
	status int
}{
	CondError:         {NextError, 502},
	CondTimeout:       {NextTimeout, 504},
	CondInvalidHeader: {NextInvalidHeader, 502},
	CondHTTP500:       {NextHTTP500, 500},
	CondHTTP502:       {NextHTTP502, 502},
	CondHTTP503:       {NextHTTP503, 503},
	CondHTTP504:       {NextHTTP504, 504},
	CondHTTP403:       {NextHTTP403, 403},
	CondHTTP404:       {NextHTTP404, 404},
	CondHTTP429:       {NextHTTP429, 429},
}

// ConditionForStatus maps an upstream response status to its condition, if
// proxy_next_upstream can name it.
func ConditionForStatus(status int) (Condition, bool) {
	switch status {
	case 500:
		return CondHTTP500, true
	case 502:
		return CondHTTP502, true
	case 503:
		return CondHTTP503, true
	case 504:
		return CondHTTP504, true
	case 403:
		return CondHTTP403, true
	case 404:
		return CondHTTP404, true
	case 429:
		return CondHTTP429, true
	}
	return 0, false
}

func (c Condition) valid() bool { return c >= CondError && int(c) < len(condInfo) }

// isStatus reports whether c is an upstream status rather than an error.
func (c Condition) isStatus() bool { return c >= CondHTTP500 && int(c) < len(condInfo) }

// Failure describes one failed attempt.
type Failure struct {
	// Cond is what went wrong.
	Cond Condition
	// RequestSent: the request (or part of it) was sent upstream.
	RequestSent bool
	// NonIdempotent: the method is POST, LOCK or PATCH.
	NonIdempotent bool
	// BodyUnbuffered: the request body is streamed, not buffered
	// (proxy_request_buffering off), so it cannot be sent again.
	BodyUnbuffered bool
	// ResponseStarted: part of the response was already sent to the client.
	ResponseStarted bool
	// ClientClosed: the client connection is gone (answer 499).
	ClientClosed bool
	// Cached: the connection came from the keep-alive pool. An error on a
	// cached connection does not use up a try.
	Cached bool
}

// RetryState is the request-side input of [Decide].
type RetryState struct {
	// Tries is the number of tries left before this failure.
	Tries int
	// Single: the group has a single peer, whose release ends all tries.
	Single bool
	// Mask is the location's proxy_next_upstream.
	Mask NextUpstream
	// Elapsed is the time since the first attempt started.
	Elapsed time.Duration
	// Timeout is proxy_next_upstream_timeout; 0 means no limit.
	Timeout time.Duration
}

// Action is what the proxy does after a failure.
type Action uint8

const (
	// ActionRetry: pick another peer and try again.
	ActionRetry Action = iota + 1
	// ActionRespond: answer with nginx's own error page for
	// [Decision.Status] (502, 504, or 499 which is only logged).
	ActionRespond
	// ActionPassResponse: send the upstream's own response (a status
	// condition that is not retried), then call [Attempt.Done].
	ActionPassResponse
	// ActionAbort: the response has started; close the client connection.
	ActionAbort
)

// Decision is the outcome of [Decide].
type Decision struct {
	Action Action
	// Status is the status to answer with after ActionRespond.
	Status int
	// UpstreamStatus is this attempt's entry in $upstream_status.
	UpstreamStatus int
	// PeerFailed: the peer is counted as failed (fails++).
	PeerFailed bool
	// TriesLeft is the number of tries left after this failure.
	TriesLeft int
	// Disabled: counting the failure made the peer reach max_fails; log
	// "[warn] upstream server temporarily disabled". Set by [Attempt.Fail].
	Disabled bool
}

// Decide is nginx's retry procedure (ngx_http_upstream_test_next and
// ngx_http_upstream_next, §5.7) as a pure function.
func Decide(f Failure, s RetryState) Decision {
	if !f.Cond.valid() {
		f.Cond = CondError
	}
	info := condInfo[f.Cond]
	d := Decision{UpstreamStatus: info.status, TriesLeft: s.Tries}

	if f.ResponseStarted {
		// Past the header nginx finalizes the request without
		// ngx_http_upstream_next: no retry, peer released as not failed.
		d.Action = ActionAbort
		return d
	}

	need := info.bit
	if f.RequestSent && f.NonIdempotent {
		need |= NextNonIdempotent
	}
	blocked := s.Mask&NextOff != 0 ||
		s.Mask&need != need ||
		(f.RequestSent && f.BodyUnbuffered) ||
		(s.Timeout > 0 && s.Elapsed >= s.Timeout)

	if f.Cond.isStatus() {
		// ngx_http_upstream_test_next: another peer must be available.
		if s.Tries <= 1 || blocked {
			d.Action = ActionPassResponse
			return d
		}
	}

	// ngx_http_upstream_next: free the peer, then decide.
	// A lone peer is never counted (§9.1).
	d.PeerFailed = !s.Single && f.Cond != CondHTTP403 && f.Cond != CondHTTP404
	left := s.Tries
	if s.Single {
		left = 0
	} else if left > 0 {
		left--
	}
	if f.Cached && f.Cond == CondError {
		left++
	}
	d.TriesLeft = left
	switch {
	case f.ClientClosed:
		d.Action, d.Status = ActionRespond, 499
	case left == 0 || blocked:
		d.Action, d.Status = ActionRespond, info.status
	default:
		d.Action = ActionRetry
	}
	return d
}
