//go:build linux && !mips && !mipsle && !mips64 && !mips64le

package server

import (
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/route"
)

// getsockopt reads an integer option of c's descriptor.
func getsockopt(t *testing.T, c syscall.Conn, level, opt int) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, gerr)
	}
	return v
}

// listenWith opens and configures a socket on a free port of addr as
// Server.Listen does; it fails the test on anything logged.
func listenWith(t *testing.T, addr string, o config.ListenOptions) *net.TCPListener {
	t.Helper()
	var logged strings.Builder
	log, err := errorlog.New(nil, errorlog.Options{Stderr: &logged})
	if err != nil {
		t.Fatal(err)
	}
	a := &route.Address{Addr: netip.MustParseAddrPort(addr)}
	ln, err := openListener(a, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	configureListener(ln, addr, o, config.ListenOptions{}, log)
	if logged.Len() > 0 {
		t.Fatalf("configuring logged: %s", logged.String())
	}
	return ln.(*net.TCPListener)
}

func TestListenOptionsApplied(t *testing.T) {
	on, off := true, false
	cases := []struct {
		name  string
		addr  string
		o     config.ListenOptions
		level int
		opt   int
		want  int
	}{
		// Linux doubles the buffer sizes it is given and reports that.
		{"rcvbuf", "127.0.0.1:0", config.ListenOptions{Rcvbuf: 65536}, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2 * 65536},
		{"sndbuf", "127.0.0.1:0", config.ListenOptions{Sndbuf: 65536}, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 2 * 65536},
		{"reuseport", "127.0.0.1:0", config.ListenOptions{ReusePort: true}, syscall.SOL_SOCKET, soReusePort, 1},
		{"no reuseport", "127.0.0.1:0", config.ListenOptions{}, syscall.SOL_SOCKET, soReusePort, 0},
		{"deferred", "127.0.0.1:0", config.ListenOptions{Deferred: true}, syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, 1},
		{"not deferred", "127.0.0.1:0", config.ListenOptions{}, syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, 0},
		{"fastopen", "127.0.0.1:0", config.ListenOptions{FastOpen: 16, FastOpenSet: true}, syscall.IPPROTO_TCP, tcpFastOpen, 16},
		{"so_keepalive=on", "127.0.0.1:0", config.ListenOptions{SoKeepalive: config.KeepaliveOn}, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{"keepidle", "127.0.0.1:0", config.ListenOptions{SoKeepalive: config.KeepaliveOn, KeepIdle: 30 * time.Minute}, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 1800},
		{"keepintvl", "127.0.0.1:0", config.ListenOptions{SoKeepalive: config.KeepaliveOn, KeepIntvl: 7 * time.Second}, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 7},
		{"keepcnt", "127.0.0.1:0", config.ListenOptions{SoKeepalive: config.KeepaliveOn, KeepCnt: 5}, syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 5},
		{"ipv6only default", "[::1]:0", config.ListenOptions{}, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1},
		{"ipv6only=on", "[::1]:0", config.ListenOptions{IPv6Only: &on}, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1},
		{"ipv6only=off", "[::1]:0", config.ListenOptions{IPv6Only: &off}, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.addr, "[") && !haveIPv6() {
				t.Skip("no IPv6 loopback on this machine")
			}
			ln := listenWith(t, tc.addr, tc.o)
			if got := getsockopt(t, ln, tc.level, tc.opt); got != tc.want {
				t.Errorf("getsockopt = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestAcceptedKeepalive checks that accepted connections carry the
// listening socket's keep-alive and nothing of Go's 15 s default.
func TestAcceptedKeepalive(t *testing.T) {
	cases := []struct {
		name            string
		o               config.ListenOptions
		on              int
		idle, intvl, cn int // checked when on
	}{
		{"not given", config.ListenOptions{}, 0, 0, 0, 0},
		{"off", config.ListenOptions{SoKeepalive: config.KeepaliveOff}, 0, 0, 0, 0},
		{"tunables", config.ListenOptions{SoKeepalive: config.KeepaliveOn, KeepIdle: 100 * time.Second, KeepIntvl: 9 * time.Second, KeepCnt: 4}, 1, 100, 9, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln := listenWith(t, "127.0.0.1:0", tc.o)
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sc := c.(*net.TCPConn)
			if got := getsockopt(t, sc, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); got != tc.on {
				t.Fatalf("SO_KEEPALIVE = %d, want %d", got, tc.on)
			}
			if tc.on == 0 {
				return
			}
			for _, o := range []struct {
				name      string
				opt, want int
			}{{"TCP_KEEPIDLE", syscall.TCP_KEEPIDLE, tc.idle}, {"TCP_KEEPINTVL", syscall.TCP_KEEPINTVL, tc.intvl}, {"TCP_KEEPCNT", syscall.TCP_KEEPCNT, tc.cn}} {
				if got := getsockopt(t, sc, syscall.IPPROTO_TCP, o.opt); got != o.want {
					t.Errorf("%s = %d, want %d", o.name, got, o.want)
				}
			}
		})
	}
}

// TestReconfigureUndoesDeferred checks the reload path: a socket kept
// open loses TCP_DEFER_ACCEPT when the new configuration drops
// deferred, and gets the new buffer size.
func TestReconfigureUndoesDeferred(t *testing.T) {
	old := config.ListenOptions{Deferred: true, Rcvbuf: 65536}
	ln := listenWith(t, "127.0.0.1:0", old)
	log, err := errorlog.New(nil, errorlog.Options{Stderr: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	configureListener(ln, "x", config.ListenOptions{Rcvbuf: 131072}, old, log)
	if got := getsockopt(t, ln, syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT); got != 0 {
		t.Errorf("TCP_DEFER_ACCEPT = %d after reload without deferred", got)
	}
	if got := getsockopt(t, ln, syscall.SOL_SOCKET, syscall.SO_RCVBUF); got != 2*131072 {
		t.Errorf("SO_RCVBUF = %d, want %d", got, 2*131072)
	}
}

// TestIPv6OnlyByDefault is nginx's default for an IPv6 listen: the
// socket takes no IPv4 (IPv4-mapped) connections, so that "listen 80"
// and "listen [::]:80" bind side by side; ipv6only=off makes it
// dual-stack.
func TestIPv6OnlyByDefault(t *testing.T) {
	if !haveIPv6() {
		t.Skip("no IPv6 on this machine")
	}
	v6 := listenWith(t, "[::]:0", config.ListenOptions{})
	port := v6.Addr().(*net.TCPAddr).Port
	v4 := listenWith(t, netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)).String(), config.ListenOptions{})
	if got := getsockopt(t, v4, syscall.SOL_SOCKET, syscall.SO_DOMAIN); got != syscall.AF_INET {
		t.Errorf("listen 0.0.0.0 opened a socket of family %d, want AF_INET", got)
	}
	v4.Close()
	if c, err := net.Dial("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String()); err == nil {
		c.Close()
		t.Fatal("an IPv6-only socket accepted an IPv4 connection")
	}
	off := false
	dual := listenWith(t, "[::]:0", config.ListenOptions{IPv6Only: &off})
	dport := dual.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(dport)).String())
	if err != nil {
		t.Fatalf("ipv6only=off: %v", err)
	}
	c.Close()
}

// haveIPv6 reports whether an IPv6 loopback socket can be bound.
func haveIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
