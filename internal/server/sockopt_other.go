//go:build !linux || mips || mipsle || mips64 || mips64le

package server

import (
	"errors"
	"syscall"

	"gatehouse/internal/config"
)

// errSockopt classifies a listen parameter this system cannot apply.
var errSockopt = errors.New("socket parameters of \"listen\" other than \"bind\" are supported by gatehouse on Linux only")

// checkListenOptions refuses every socket parameter but bind and
// ipv6only (which needs no setsockopt here): gatehouse applies them on
// Linux only.
func checkListenOptions(o config.ListenOptions) error {
	if o.Backlog != 0 || o.Rcvbuf != 0 || o.Sndbuf != 0 || o.ReusePort || o.Deferred ||
		o.SoKeepalive != config.KeepaliveUnset || o.FastOpenSet {
		return errSockopt
	}
	return nil
}

// beforeBind sets nothing: checkListenOptions let no option through
// that needs it.
func beforeBind(config.ListenOptions) func(network, address string, c syscall.RawConn) error {
	return nil
}

// socketSettings sets nothing: the system's backlog stays.
func socketSettings(o, prev config.ListenOptions, tcp bool) []sockSetting { return nil }
