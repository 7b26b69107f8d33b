//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package upstream

import (
	"errors"
	"net"
	"syscall"
)

// idleAlive reports whether an idle connection can still be used: its
// socket, below any TLS layer, has nothing to read and no end of file. The
// check is a non-blocking one-byte MSG_PEEK read (Go's own Read with an
// expired deadline returns a timeout without asking the kernel, so it would
// prove nothing). Connections without a socket (net.Pipe) count as alive.
func idleAlive(c net.Conn) bool {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var (
		buf  [1]byte
		n    int
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	if err != nil {
		return false
	}
	if rerr != nil {
		return errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK)
	}
	// n > 0: the upstream sent something unasked; n == 0: it closed.
	_ = n
	return false
}
