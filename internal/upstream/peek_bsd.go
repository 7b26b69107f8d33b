//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package upstream

import "syscall"

// peek is the MSG_PEEK read itself (through the syscall package: these
// systems are not called directly).
func (l *liveness) peek(fd uintptr) {
	for {
		l.n, _, l.err = syscall.Recvfrom(int(fd), l.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if l.err != syscall.EINTR {
			return
		}
	}
}
