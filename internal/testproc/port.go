package testproc

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreePort returns a loopback TCP port that was free a moment ago, for a
// server a test starts by configuration (gatehouse, nginx) and so cannot
// hand a listener. It is drawn below the kernel's ephemeral range, where
// the ":0" listeners and outgoing connections of every other test in a
// parallel run take their ports, so that no other test can be given the
// port between this call and the server's bind.
func FreePort(t testing.TB) int {
	t.Helper()
	const low = 10000
	high := ephemeralLow()
	for range 200 {
		if high-low < 1000 {
			break
		}
		port := low + rand.IntN(high-low)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range), or 32768 where it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
