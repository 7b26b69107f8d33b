//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package upstream

import "net"

// idleAlive cannot look at the socket on this platform; a connection the
// upstream closed fails on first use instead (see [Failure.Cached]).
func idleAlive(net.Conn) bool { return true }
