package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/route"
)

// listenBacklog is nginx's NGX_LISTEN_BACKLOG on Linux, the backlog of a
// listen without backlog=.
const listenBacklog = 511

// listenOptions maps each socket with listen parameters to them, keyed
// as route.Address.String() names the socket. It fails, naming the
// parameter, when this system cannot apply one.
func listenOptions(h *config.HTTP) (map[string]config.ListenOptions, error) {
	out := map[string]config.ListenOptions{}
	for _, sk := range h.Sockets {
		if !sk.Options.Set {
			continue
		}
		if err := checkListenOptions(sk.Options); err != nil {
			return nil, fmt.Errorf("%w in \"listen %s\"", err, sk.Addr)
		}
		key := "unix:" + sk.Unix
		if sk.Unix == "" {
			key = netip.AddrPortFrom(sk.AddrPort.Addr().Unmap().WithZone(""), sk.AddrPort.Port()).String()
		}
		out[key] = sk.Options
	}
	return out, nil
}

// openListener opens the socket of a as ngx_open_listening_sockets
// does: SO_REUSEPORT and IPV6_V6ONLY before bind(), a socket of the
// address's family, IPv6 sockets IPv6-only unless ipv6only=off. Accepted connections get no TCP
// keep-alive of Go's own: they inherit the listening socket's, which
// configureListener sets from so_keepalive.
func openListener(a *route.Address, o config.ListenOptions) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1, Control: beforeBind(o)}
	if a.Unix != "" {
		return lc.Listen(context.Background(), "unix", a.Unix)
	}
	// "tcp" would make a wildcard socket of either family a dual-stack
	// IPv6 one; nginx opens the family the address names.
	network := "tcp4"
	if a.Addr.Addr().Is6() {
		network = "tcp6" // IPV6_V6ONLY on
		if o.IPv6Only != nil && !*o.IPv6Only {
			network = "tcp" // an IPv6 socket with IPV6_V6ONLY off
		}
	}
	return lc.Listen(context.Background(), network, a.Addr.String())
}

// configureListener is ngx_configure_listening_sockets for one socket:
// it sets what o gives (and, for a socket kept across a reload, undoes
// a deferred accept that prev had and o has not) and calls listen()
// again with the backlog. nginx logs a failure and goes on; so does it.
func configureListener(ln net.Listener, key string, o, prev config.ListenOptions, log *errorlog.Logger) {
	raw, err := rawConn(ln)
	if err != nil {
		log.Logf(errorlog.Alert, nil, "getting the descriptor of %s failed (%s)", key, errorlog.Errno(err))
		return
	}
	_, tcp := ln.(*net.TCPListener)
	for _, f := range socketSettings(o, prev, tcp) {
		var serr error
		if err := raw.Control(func(fd uintptr) { serr = f.set(fd) }); err != nil {
			serr = err
		}
		if serr != nil {
			log.Logf(errorlog.Alert, nil, "%s %s failed, ignored (%s)", f.name, key, errorlog.Errno(serr))
		}
	}
}

// sockSetting is one setsockopt() or listen() call, named as nginx's
// messages name it ("setsockopt(SO_RCVBUF, 1048576)").
type sockSetting struct {
	name string
	set  func(fd uintptr) error
}

// rawConn is the descriptor of a listening socket.
func rawConn(ln net.Listener) (syscall.RawConn, error) {
	switch l := ln.(type) {
	case *net.TCPListener:
		return l.SyscallConn()
	case *net.UnixListener:
		return l.SyscallConn()
	}
	return nil, fmt.Errorf("%T has no descriptor", ln)
}
