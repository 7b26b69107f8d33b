package route

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrDuplicateDefault classifies two default_server listens on one
// address:port.
var ErrDuplicateDefault = errors.New("duplicate default server")

// ErrDuplicateListen classifies one server listening twice on the same
// address:port.
var ErrDuplicateListen = errors.New("duplicate listen")

// Listen is one listen directive of a server as the routing layer needs it.
// An unspecified address (0.0.0.0 or ::) is the wildcard "*:port" of its
// address family; a non-empty Unix is "listen unix:PATH" and Addr is then
// ignored.
type Listen struct {
	Addr netip.AddrPort
	Unix string
	// Default is the default_server parameter.
	Default bool
	// Bind asks for a socket of its own even when a wildcard listen on
	// the same port exists. nginx implies it for the parameters bind,
	// backlog, rcvbuf, sndbuf, accept_filter, deferred, ipv6only,
	// reuseport, so_keepalive, fastopen and setfib.
	Bind bool
}

// Server is the routing view of one server block: its server_name
// arguments (nginx's default is the single name "") and its listens (the
// configuration supplies nginx's default "*:80" or "*:8000" when there is
// no listen directive). Its identifier is its index in the slice given to
// NewListeners, which must be in configuration order.
type Server struct {
	Names   []Name
	Listens []Listen
}

// Address is the set of servers that listen on one address:port (or one
// Unix socket), with its default server and server_name table.
type Address struct {
	// Addr is the address:port; an unspecified address is a wildcard.
	Addr netip.AddrPort
	// Unix is the socket path of a "unix:" listen, else empty.
	Unix string
	// Servers are the identifiers of the servers on Addr, in
	// configuration order.
	Servers []int
	// Default is the server marked default_server, or else the first one.
	Default int
	// Bind reports that some listen of this address asked for its own
	// socket.
	Bind bool
	// Names selects a server of this address by host name.
	Names *Names
}

// Wildcard reports whether the address is "*:port" or "[::]:port".
func (a *Address) Wildcard() bool { return a.Unix == "" && a.Addr.Addr().IsUnspecified() }

// String formats the address as nginx prints it in messages: "0.0.0.0:80",
// "[::]:443", "10.0.0.1:8443", "unix:/run/x.sock".
func (a *Address) String() string { return addrKey{ap: a.Addr, unix: a.Unix}.String() }

// Listeners maps a connection's local address to the set of servers that
// may serve it. It is immutable and safe for concurrent use.
type Listeners struct {
	addrs    []*Address
	specific map[netip.AddrPort]*Address
	wildcard map[familyPort]*Address
	unix     map[string]*Address
}

type familyPort struct {
	v6   bool
	port uint16
}

type addrKey struct {
	ap   netip.AddrPort
	unix string
}

func (k addrKey) String() string {
	if k.unix != "" {
		return "unix:" + k.unix
	}
	return k.ap.String()
}

// NewListeners groups servers (in configuration order) by the
// address:port they listen on and builds each group's server_name table.
// Warnings are nginx's "conflicting server name" notices, in address order
// of first appearance.
//
// The configuration is expected to have rejected duplicate default servers
// and duplicate listens already; they are reported here too
// (ErrDuplicateDefault, ErrDuplicateListen) rather than guessed around.
func NewListeners(servers []Server) (*Listeners, []Warning, error) {
	l := &Listeners{
		specific: make(map[netip.AddrPort]*Address),
		wildcard: make(map[familyPort]*Address),
		unix:     make(map[string]*Address),
	}
	byAddr := make(map[addrKey]*Address)
	explicit := make(map[*Address]bool)
	for id, s := range servers {
		for _, ls := range s.Listens {
			k := addrKey{unix: ls.Unix}
			if k.unix == "" {
				k.ap = canonical(ls.Addr)
			}
			a := byAddr[k]
			if a == nil {
				a = &Address{Addr: k.ap, Unix: k.unix, Default: id}
				byAddr[k] = a
				l.addrs = append(l.addrs, a)
			}
			if n := len(a.Servers); n > 0 && a.Servers[n-1] == id {
				return nil, nil, fmt.Errorf("a %w %s", ErrDuplicateListen, k)
			}
			a.Servers = append(a.Servers, id)
			a.Bind = a.Bind || ls.Bind
			if ls.Default {
				if explicit[a] {
					return nil, nil, fmt.Errorf("a %w for %s", ErrDuplicateDefault, k)
				}
				explicit[a] = true
				a.Default = id
			}
		}
	}
	var warns []Warning
	for _, a := range l.addrs {
		ns := make([]NamedServer, 0, len(a.Servers))
		for _, id := range a.Servers {
			ns = append(ns, NamedServer{ID: id, Names: servers[id].Names})
		}
		names, w, err := NewNames(a.String(), ns, a.Default)
		warns = append(warns, w...)
		if err != nil {
			return nil, warns, err
		}
		a.Names = names
		switch {
		case a.Unix != "":
			l.unix[a.Unix] = a
		case a.Wildcard():
			l.wildcard[familyPort{v6: a.Addr.Addr().Is6(), port: a.Addr.Port()}] = a
		default:
			l.specific[a.Addr] = a
		}
	}
	return l, warns, nil
}

// canonical unmaps IPv4-mapped IPv6 addresses and drops zones so that the
// same address always gives the same key.
func canonical(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// Addresses returns every address:port set in order of first appearance in
// the configuration. The caller must not modify them.
func (l *Listeners) Addresses() []*Address { return l.addrs }

// Find returns the server set for a connection accepted with the given
// local address: the servers listening on exactly that address if there
// are any, else the wildcard set of the same port and address family, else
// nil. An IPv4-mapped IPv6 address counts as IPv4, falling back to the IPv6
// wildcard (a dual-stack "[::]:port ipv6only=off" socket).
func (l *Listeners) Find(local netip.AddrPort) *Address {
	ap := canonical(local)
	if a := l.specific[ap]; a != nil {
		return a
	}
	if a := l.wildcard[familyPort{v6: ap.Addr().Is6(), port: ap.Port()}]; a != nil {
		return a
	}
	if local.Addr().Is4In6() {
		return l.wildcard[familyPort{v6: true, port: ap.Port()}]
	}
	return nil
}

// FindUnix returns the server set of a "unix:" listen, or nil.
func (l *Listeners) FindUnix(path string) *Address { return l.unix[path] }

// Sockets returns the addresses that need a listening socket, following
// nginx: on a port and address family that has a wildcard listen, only the
// wildcard and the addresses asking for Bind get a socket, and connections
// to the other specific addresses are told apart by their local address
// (Find); otherwise each address gets its own socket.
func (l *Listeners) Sockets() []*Address {
	var out []*Address
	for _, a := range l.addrs {
		if a.Unix == "" && !a.Wildcard() && !a.Bind {
			if _, ok := l.wildcard[familyPort{v6: a.Addr.Addr().Is6(), port: a.Addr.Port()}]; ok {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
