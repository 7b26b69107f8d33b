package proxy

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/request"
	"gatehouse/internal/upstream"
)

// actUpgraded is the error-log action while bytes are relayed after a
// 101 response.
const actUpgraded = "proxying upgraded connection"

// errUnexpected101 is a 101 answer to a request that asked for no
// protocol switch: the response cannot be relayed, so it is a bad
// response (502, proxy_next_upstream's invalid_header).
var errUnexpected101 = &http1.Error{Status: 502, Msg: `upstream sent "101 Switching Protocols" to a request without "Upgrade"`}

// tunnelBufSize is the relay buffer of each direction.
const tunnelBufSize = 16 << 10

// tunnel sends the 101 response header and then relays bytes both ways
// between the client and the upstream (WebSocket and other upgrades), as
// nginx's ngx_http_upstream_upgrade does: when either side ends, both
// connections are closed; when no byte moves in either direction for
// proxy_read_timeout, the tunnel is closed and "upstream timed out" is
// logged. Writes are bounded by proxy_send_timeout (to the upstream) and
// send_timeout (to the client).
func (l *Location) tunnel(x *request.Ctx, uc *http1.UpstreamConn, peer *upstream.Peer) {
	defer hop(x).att.Done()
	cc, fromClient, err := x.W.Hijack()
	if err != nil {
		release(x, uc)
		x.W.Abort()
		return
	}
	up, fromUpstream := uc.Hijack()
	release(x, uc)

	idle := l.up.ReadTimeout
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	// The timeout is logged before either connection is closed, so the
	// line is written when the client sees the close; Once makes a
	// simultaneous second timeout wait for it.
	var logOnce sync.Once
	timedOut := func() {
		logOnce.Do(func() {
			ctx := x.LogContext(actUpgraded)
			ctx.Upstream = l.upstreamURL(x, peer)
			x.ErrorLog().Log(errorlog.Error, ctx, "upstream timed out (110: Connection timed out)")
		})
	}
	down := make(chan struct{})
	go func() {
		defer close(down)
		relay(cc, up, fromUpstream, l.clientSendTimeout, idle, &last, timedOut)
		cc.Close()
		up.Close()
	}()
	relay(up, cc, fromClient, l.up.SendTimeout, idle, &last, timedOut)
	cc.Close()
	up.Close()
	<-down
}

// relay copies src to dst (after pending, bytes already read from src)
// until either fails. last holds when a byte last moved in either
// direction; a read deadline is extended while the other direction is
// busy, and timedOut is called when the whole tunnel stayed idle for idle.
func relay(dst, src net.Conn, pending []byte, sendTimeout, idle time.Duration, last *atomic.Int64, timedOut func()) {
	write := func(p []byte) bool {
		if sendTimeout > 0 {
			_ = dst.SetWriteDeadline(time.Now().Add(sendTimeout))
		}
		if _, err := dst.Write(p); err != nil {
			return false
		}
		last.Store(time.Now().UnixNano())
		return true
	}
	if len(pending) > 0 && !write(pending) {
		return
	}
	buf := make([]byte, tunnelBufSize)
	for {
		if idle > 0 {
			_ = src.SetReadDeadline(time.Unix(0, last.Load()).Add(idle))
		}
		n, err := src.Read(buf)
		if n > 0 {
			last.Store(time.Now().UnixNano())
			if !write(buf[:n]) {
				return
			}
		}
		if err == nil {
			continue
		}
		if idle > 0 && isTimeout(err) && !errors.Is(err, net.ErrClosed) {
			if time.Since(time.Unix(0, last.Load())) < idle {
				continue // the other direction moved: not idle yet
			}
			timedOut()
		}
		return
	}
}
