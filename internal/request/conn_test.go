package request

import (
	"net"
	"net/netip"
	"testing"
)

// strAddr is a net.Addr known only by its text, as test and wrapped
// connections may have.
type strAddr string

func (a strAddr) Network() string { return "tcp" }
func (a strAddr) String() string  { return string(a) }

// TestAddrPort: a TCP address converts to what parsing its String form
// gives (IPv4 unmapped, zone kept); addresses without an IP and port are
// refused.
func TestAddrPort(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string // "" when refused
	}{
		{"ipv4 16-byte", &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 8443}, "192.0.2.1:8443"},
		{"ipv4 4-byte", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 80}, "192.0.2.1:80"},
		{"ipv6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}, "[2001:db8::1]:443"},
		{"ipv6 zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 443, Zone: "eth0"}, "[fe80::1%eth0]:443"},
		{"text ipv4-mapped", strAddr("[::ffff:192.0.2.1]:80"), "192.0.2.1:80"},
		{"text", strAddr("10.0.0.5:8080"), "10.0.0.5:8080"},
		{"no ip", &net.TCPAddr{Port: 80}, ""},
		{"unix", &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, ""},
		{"pipe", strAddr("pipe"), ""},
	}
	for _, tt := range tests {
		ap, ok := AddrPort(tt.addr)
		got := ""
		if ok {
			got = ap.String()
		}
		if got != tt.want {
			t.Errorf("%s: got %q (%v), want %q", tt.name, got, ok, tt.want)
		}
		if ok && tt.addr.Network() == "tcp" {
			if _, isTCP := tt.addr.(*net.TCPAddr); isTCP {
				if p, err := netip.ParseAddrPort(tt.addr.String()); err != nil || netip.AddrPortFrom(p.Addr().Unmap(), p.Port()) != ap {
					t.Errorf("%s: %v differs from its String form %q", tt.name, ap, tt.addr.String())
				}
			}
		}
	}
}
