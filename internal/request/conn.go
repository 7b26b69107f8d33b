package request

import (
	"errors"
	"net"
	"net/netip"
	"strconv"

	"gatehouse/internal/tlsterm"
)

// Conn is a client connection with what the variables need of it, worked
// out once when it is accepted.
type Conn struct {
	net.Conn
	// Client is the peer's address (the zero Addr for a UNIX socket).
	Client     netip.Addr
	RemoteIP   []byte // $remote_addr
	RemotePort []byte // $remote_port
	ServerAddr []byte // $server_addr
	ServerPort []byte // $server_port
	// TLS is the connection's TLS state; nil on plain-HTTP sockets.
	TLS *tlsterm.Info

	// raw is the accepted socket, below any TLS, for hangup; probe is
	// made from it on first use.
	raw   net.Conn
	probe *hangupProbe
}

// NewConn describes c, accepted from a listener; inner is the connection
// requests are read from (c itself, or a *tls.Conn over it).
func NewConn(c, inner net.Conn, info *tlsterm.Info) *Conn {
	pc := &Conn{Conn: inner, TLS: info, raw: c}
	if ap, ok := AddrPort(c.RemoteAddr()); ok {
		pc.Client = ap.Addr()
		pc.RemoteIP = []byte(pc.Client.String())
		pc.RemotePort = strconv.AppendUint(nil, uint64(ap.Port()), 10)
	} else {
		pc.RemoteIP = []byte("unix:")
	}
	if ua, ok := c.LocalAddr().(*net.UnixAddr); ok {
		// nginx prints a UNIX socket address as "unix:PATH"; it has
		// no port.
		pc.ServerAddr = []byte("unix:" + ua.Name)
	} else if ap, ok := AddrPort(c.LocalAddr()); ok {
		pc.ServerAddr = []byte(ap.Addr().String())
		pc.ServerPort = strconv.AppendUint(nil, uint64(ap.Port()), 10)
	}
	return pc
}

// AddrPort returns a connection's IP address and port with an IPv4 address
// unmapped, as its String form prints it; a TCP address is converted
// directly, other kinds through their text. ok is false for an address
// without an IP and port (a UNIX socket, a pipe).
func AddrPort(a net.Addr) (netip.AddrPort, bool) {
	var ap netip.AddrPort
	if ta, ok := a.(*net.TCPAddr); ok {
		ap = ta.AddrPort()
	} else {
		var err error
		if ap, err = netip.ParseAddrPort(a.String()); err != nil {
			return netip.AddrPort{}, false
		}
	}
	if !ap.Addr().IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// CloseWrite half-closes the connection when the one underneath can
// (TCP, TLS). The HTTP/1 codec's lingering close needs it: without it a
// connection closed with request bytes unread is reset, and the client
// may lose the response (a 413 sent during an upload, say). Embedding
// net.Conn does not pass the method on by itself.
func (c *Conn) CloseWrite() error { return CloseWrite(c.Conn) }

// CloseWrite half-closes c if it supports that.
func CloseWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// ClientGone reports whether the client has closed its side of the
// connection (or reset it), seen without reading: bytes it sent and we
// have not read do not hide a close. nginx's check while it waits for an
// upstream (ngx_http_upstream_check_broken_connection, with epoll's
// EPOLLRDHUP) answers the same question.
func (c *Conn) ClientGone() bool {
	if c.raw == nil {
		return false
	}
	if c.probe == nil {
		c.probe = newHangupProbe(c.raw)
	}
	return c.probe.hungUp()
}
