package upstream

import (
	"syscall"
	"unsafe"
)

// peek is the MSG_PEEK read itself. With MSG_DONTWAIT it never blocks, so
// it is a raw system call: the runtime's bookkeeping for a call that might
// block costs about as much as the call.
func (l *liveness) peek(fd uintptr) {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&l.buf[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		l.n, l.err = int(n), nil
		if e != 0 {
			l.n, l.err = 0, e
		}
		return
	}
}
