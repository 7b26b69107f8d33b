//go:build linux && !mips && !mipsle && !mips64 && !mips64le

package server

import (
	"fmt"
	"syscall"

	"gatehouse/internal/config"
)

// The syscall package lacks these Linux constants; the values are those
// of <asm-generic/socket.h> and <linux/tcp.h> on every architecture this
// file builds for (MIPS numbers SO_REUSEPORT differently).
const (
	soReusePort = 0xf  // SO_REUSEPORT
	tcpFastOpen = 0x17 // TCP_FASTOPEN
)

// checkListenOptions accepts every listen parameter: Linux has them all.
func checkListenOptions(config.ListenOptions) error { return nil }

// beforeBind sets the options nginx sets between socket() and bind().
func beforeBind(o config.ListenOptions) func(network, address string, c syscall.RawConn) error {
	if !o.ReusePort {
		return nil
	}
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("setsockopt(SO_REUSEPORT) failed: %w", serr)
		}
		return nil
	}
}

// socketSettings lists ngx_configure_listening_sockets' calls for o, in
// its order. prev are the options the socket was last configured with
// (zero for a new socket): as in nginx, a parameter no longer given
// leaves the socket as it was, except that a deferred accept is turned
// off again.
func socketSettings(o, prev config.ListenOptions, tcp bool) []sockSetting {
	var out []sockSetting
	opt := func(name string, level, opt, v int) {
		out = append(out, sockSetting{name, func(fd uintptr) error {
			return syscall.SetsockoptInt(int(fd), level, opt, v)
		}})
	}
	if o.Rcvbuf != 0 {
		opt(fmt.Sprintf("setsockopt(SO_RCVBUF, %d)", o.Rcvbuf), syscall.SOL_SOCKET, syscall.SO_RCVBUF, o.Rcvbuf)
	}
	if o.Sndbuf != 0 {
		opt(fmt.Sprintf("setsockopt(SO_SNDBUF, %d)", o.Sndbuf), syscall.SOL_SOCKET, syscall.SO_SNDBUF, o.Sndbuf)
	}
	if tcp {
		if o.SoKeepalive != config.KeepaliveUnset {
			v := 0
			if o.SoKeepalive == config.KeepaliveOn {
				v = 1
			}
			opt(fmt.Sprintf("setsockopt(SO_KEEPALIVE, %d)", v), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, v)
		}
		if n := int(o.KeepIdle.Seconds()); n != 0 {
			opt(fmt.Sprintf("setsockopt(TCP_KEEPIDLE, %d)", n), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, n)
		}
		if n := int(o.KeepIntvl.Seconds()); n != 0 {
			opt(fmt.Sprintf("setsockopt(TCP_KEEPINTVL, %d)", n), syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, n)
		}
		if o.KeepCnt != 0 {
			opt(fmt.Sprintf("setsockopt(TCP_KEEPCNT, %d)", o.KeepCnt), syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, o.KeepCnt)
		}
		if o.FastOpenSet {
			opt(fmt.Sprintf("setsockopt(TCP_FASTOPEN, %d)", o.FastOpen), syscall.IPPROTO_TCP, tcpFastOpen, o.FastOpen)
		}
	}
	backlog := o.Backlog
	if backlog == 0 {
		backlog = listenBacklog
	}
	out = append(out, sockSetting{fmt.Sprintf("listen() to backlog %d", backlog), func(fd uintptr) error {
		return syscall.Listen(int(fd), backlog)
	}})
	// nginx sets a timeout of 1 s: how long a connection waited in the
	// queue cannot be known (ngx_configure_listening_sockets).
	if tcp && (o.Deferred || prev.Deferred) {
		v := 0
		if o.Deferred {
			v = 1
		}
		opt(fmt.Sprintf("setsockopt(TCP_DEFER_ACCEPT, %d)", v), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, v)
	}
	return out
}
