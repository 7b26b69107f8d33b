//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package upstream

import (
	"net"
	"syscall"
)

// liveness checks whether an idle connection can still be used: its socket,
// below any TLS layer, must have nothing to read and no end of file. The
// check is a non-blocking one-byte MSG_PEEK read. (Go's own Read with an
// expired deadline returns a timeout without asking the kernel, so it would
// prove nothing.) Everything it needs is set up once per connection, so a
// check allocates nothing. The read runs under RawConn.Control rather than
// RawConn.Read: it never blocks, so it needs neither the poller's read
// lock nor its deadline check (an idle connection's old deadline must not
// make it look dead).
type liveness struct {
	rc  syscall.RawConn
	fn  func(fd uintptr)
	buf [1]byte
	n   int
	err error
}

// newLiveness prepares the check for c; nil means c has no socket to look
// at (net.Pipe, say) and counts as alive.
func newLiveness(c net.Conn) *liveness {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	l := &liveness{rc: rc}
	l.fn = l.peek
	return l
}

// alive runs the check. Nothing to read (EAGAIN) means alive; a byte means
// the upstream sent something unasked; zero bytes mean it closed.
func (l *liveness) alive() bool {
	if l == nil {
		return true
	}
	if err := l.rc.Control(l.fn); err != nil {
		return false
	}
	return l.err == syscall.EAGAIN || l.err == syscall.EWOULDBLOCK
}
