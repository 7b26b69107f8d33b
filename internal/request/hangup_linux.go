package request

import (
	"net"
	"syscall"
	"unsafe"
)

// hangupProbe asks the kernel, without blocking and without reading,
// whether the peer of a socket has shut down its sending side or reset
// the connection: a poll for POLLRDHUP with a zero timeout. Everything
// is set up once per connection, so a check allocates nothing.
type hangupProbe struct {
	rc   syscall.RawConn
	fn   func(fd uintptr)
	gone bool
}

const (
	pollRDHUP = 0x2000 // POLLRDHUP from <poll.h>
	pollERR   = 0x8
	pollHUP   = 0x10
)

// pollFd is struct pollfd.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

func newHangupProbe(c net.Conn) *hangupProbe {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return &hangupProbe{}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return &hangupProbe{}
	}
	p := &hangupProbe{rc: rc}
	p.fn = p.poll
	return p
}

// poll runs under RawConn.Control: with a zero timeout it never blocks,
// so it is a raw system call.
func (p *hangupProbe) poll(fd uintptr) {
	pfd := pollFd{fd: int32(fd), events: pollRDHUP}
	var ts syscall.Timespec
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		p.gone = e == 0 && n == 1 && pfd.revents&(pollRDHUP|pollERR|pollHUP) != 0
		return
	}
}

// hungUp runs the check; a connection it cannot look at never hangs up.
func (p *hangupProbe) hungUp() bool {
	if p.rc == nil {
		return false
	}
	p.gone = false
	if err := p.rc.Control(p.fn); err != nil {
		return true // closed under us
	}
	return p.gone
}
