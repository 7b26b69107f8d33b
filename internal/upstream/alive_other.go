//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package upstream

import "net"

// liveness cannot look at the socket on this platform; a connection the
// upstream closed fails on first use instead (see [Failure.Cached]).
type liveness struct{}

func newLiveness(net.Conn) *liveness { return nil }

func (*liveness) alive() bool { return true }
