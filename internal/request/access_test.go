package request

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"gatehouse/internal/http1"
	"gatehouse/internal/variables"
)

func TestAccessAllowed(t *testing.T) {
	p := netip.MustParsePrefix
	a := NewAccess([]AccessRule{
		{Prefix: p("192.0.2.1/32"), Deny: true},
		{Prefix: p("192.0.2.0/24")},
		{Prefix: p("2001:db8::/32")},
		{Unix: true},
		{All: true, Deny: true},
	}, false)
	tests := []struct {
		addr           string
		allow, decided bool
	}{
		{"192.0.2.1", false, true},
		{"192.0.2.2", true, true},
		{"::ffff:192.0.2.2", true, true}, // judged by the IPv4 rules
		{"::ffff:192.0.2.1", false, true},
		{"2001:db8::5", true, true},
		{"2001:db9::5", false, true},
		{"198.51.100.1", false, true},
		{"", true, true}, // a UNIX-socket client
	}
	for _, tt := range tests {
		var addr netip.Addr
		if tt.addr != "" {
			addr = netip.MustParseAddr(tt.addr)
		}
		allow, decided := a.Allowed(addr)
		if allow != tt.allow || decided != tt.decided {
			t.Errorf("%q: allow %v decided %v, want %v %v", tt.addr, allow, decided, tt.allow, tt.decided)
		}
	}
	none := NewAccess([]AccessRule{{Prefix: p("10.0.0.0/8")}}, false)
	if allow, decided := none.Allowed(netip.MustParseAddr("192.0.2.1")); !allow || decided {
		t.Errorf("no matching rule: allow %v decided %v, want true false", allow, decided)
	}
}

func TestParseAddrPort(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for a failure
	}{
		{"192.0.2.1", "192.0.2.1:0"},
		{"192.0.2.1:8080", "192.0.2.1:8080"},
		{"2001:db8::1", "[2001:db8::1]:0"},
		{"[2001:db8::1]", "[2001:db8::1]:0"},
		{"[2001:db8::1]:443", "[2001:db8::1]:443"},
		{"::ffff:192.0.2.1", "[::ffff:192.0.2.1]:0"},
		{"fe80::1%eth0", ""},
		{"[192.0.2.1]", ""},
		{"192.0.2.1:0", ""},
		{"192.0.2.1:65536", ""},
		{"example.com", ""},
		{"", ""},
		{"192.0.2.256", ""},
		{"010.0.0.1", "10.0.0.1:0"}, // ngx_inet_addr's decimal octets
		{"1..2.3", "1.0.2.3:0"},
		{"1.2.3.4.5", ""},
		{"010.0.0.1:80", "10.0.0.1:80"},
		{"[010.0.0.1]", ""},
	}
	for _, tt := range tests {
		ap, ok := parseAddrPort([]byte(tt.in))
		got := ""
		if ok {
			got = ap.String()
		}
		if got != tt.want {
			t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
		}
	}
}

// realIPCtx is a request from client carrying headers, as a producer
// fills it.
func realIPCtx(client string, headers ...string) *Ctx {
	c := &Conn{}
	if client != "" {
		c.Client = netip.MustParseAddr(client)
		c.RemoteIP, c.RemotePort = []byte(client), []byte("5555")
	} else {
		c.RemoteIP = []byte("unix:")
	}
	x := &Ctx{Env: &Env{Now: time.Now}, Conn: c}
	x.Reset(&recorder{})
	for i := 0; i+1 < len(headers); i += 2 {
		x.Req.Header = append(x.Req.Header, http1.Header{Name: []byte(headers[i]), Value: []byte(headers[i+1])})
	}
	return x
}

func TestRealIP(t *testing.T) {
	from := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	xff, xffRec := NewRealIP(from, true, "X-Forwarded-For", false), NewRealIP(from, true, "X-Forwarded-For", true)
	xri := NewRealIP(from, false, "X-Real-IP", false)
	tests := []struct {
		name    string
		r       *RealIP
		client  string
		headers []string
		addr    string // $remote_addr after
		port    string // $remote_port after
		changed bool
		binary4 bool
	}{
		{"untrusted", xff, "192.0.2.1", []string{"X-Forwarded-For", "198.51.100.1"}, "192.0.2.1", "5555", false, true},
		{"trusted", xff, "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.1"}, "198.51.100.1", "", true, true},
		{"port kept", xff, "10.1.2.3", []string{"x-forwarded-for", "198.51.100.1:99"}, "198.51.100.1", "99", true, true},
		{"no header", xff, "10.1.2.3", nil, "10.1.2.3", "5555", false, true},
		{"bad value", xff, "10.1.2.3", []string{"X-Forwarded-For", "x"}, "10.1.2.3", "", true, true},
		{"last of list", xff, "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.1, 10.0.0.9"}, "10.0.0.9", "", true, true},
		{"recursive", xffRec, "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.1, 10.0.0.9"}, "198.51.100.1", "", true, true},
		{"recursive v6", xffRec, "2001:db8::1", []string{"X-Forwarded-For", "198.51.100.1,2001:db8::2"}, "198.51.100.1", "", true, true},
		{"mapped not trusted", xffRec, "10.1.2.3", []string{"X-Forwarded-For", "198.51.100.1, ::ffff:10.0.0.9"}, "::ffff:10.0.0.9", "", true, false},
		{"unix trusted", xffRec, "", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7", "", true, true},
		{"unix untrusted", xri, "", []string{"X-Real-IP", "198.51.100.7"}, "unix:", "", false, true},
		{"x-real-ip first", xri, "10.1.2.3", []string{"X-Real-IP", "198.51.100.7", "X-Real-IP", "198.51.100.8"}, "198.51.100.7", "", true, true},
		{"x-real-ip from right", xri, "10.1.2.3", []string{"X-Real-IP", "198.51.100.7, 198.51.100.9"}, "198.51.100.9", "", true, true},
	}
	for _, tt := range tests {
		x := realIPCtx(tt.client, tt.headers...)
		if st := tt.r.Handle(x); st != Continue {
			t.Errorf("%s: status %v", tt.name, st)
		}
		got, _ := x.Var(variables.RemoteAddr, nil, nil)
		port, _ := x.Var(variables.RemotePort, nil, nil)
		orig, _ := x.Var(variables.RealIPRemoteAddr, nil, nil)
		bin, _ := x.Var(variables.BinaryRemoteAddr, nil, nil)
		if string(got) != tt.addr || string(port) != tt.port || x.realIP != tt.changed {
			t.Errorf("%s: $remote_addr %q port %q changed %v, want %q %q %v", tt.name, got, port, x.realIP, tt.addr, tt.port, tt.changed)
		}
		if string(orig) != string(x.Conn.RemoteIP) {
			t.Errorf("%s: $realip_remote_addr %q, want %q", tt.name, orig, x.Conn.RemoteIP)
		}
		if a := x.ClientAddr(); a.IsValid() && (len(bin) == 4) != tt.binary4 {
			t.Errorf("%s: $binary_remote_addr has %d bytes", tt.name, len(bin))
		}
		x.Reset(&recorder{})
		if got, _ := x.Var(variables.RemoteAddr, nil, nil); !bytes.Equal(got, x.Conn.RemoteIP) {
			t.Errorf("%s: the next request on the connection has %q", tt.name, got)
		}
	}
}

func TestRealIPAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	r := NewRealIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false, "X-Forwarded-For", true)
	a := NewAccess([]AccessRule{{Prefix: netip.MustParsePrefix("198.51.100.0/24")}}, false)
	x := realIPCtx("10.1.2.3", "X-Forwarded-For", "198.51.100.1, [2001:db8::1]:80, 10.0.0.9")
	w := x.W
	var dst []byte
	allocs := testing.AllocsPerRun(100, func() {
		x.Reset(w)
		r.Handle(x)
		a.Handle(x)
		dst, _ = x.Var(variables.RemoteAddr, nil, dst[:0])
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per request, want 0", allocs)
	}
	if string(dst) != "2001:db8::1" {
		t.Errorf("$remote_addr %q", dst)
	}
}

// FuzzRealIP feeds header values to realip: no panic, and the address
// it takes prints without bytes a header line may not hold.
func FuzzRealIP(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "a, b,,", ", 10.0.0.1", "[::1]:80, 10.0.0.2", " ", ",", "1.2.3.4:", "[::1"} {
		f.Add(s, s)
	}
	r := NewRealIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}, false, "X-Forwarded-For", true)
	f.Fuzz(func(t *testing.T, a, b string) {
		x := realIPCtx("10.0.0.1", "X-Forwarded-For", a, "X-Forwarded-For", b)
		r.Handle(x)
		if bytes.ContainsAny(x.RemoteIP(), "\r\n\x00 ,") {
			t.Fatalf("$remote_addr %q", x.RemoteIP())
		}
	})
}

// BenchmarkRealIPAccess is the per-request cost of realip over a
// three-address X-Forwarded-For with recursion, then allow and deny.
func BenchmarkRealIPAccess(b *testing.B) {
	r := NewRealIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false, "X-Forwarded-For", true)
	a := NewAccess([]AccessRule{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Deny: true},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24")},
		{All: true, Deny: true},
	}, false)
	x := realIPCtx("10.1.2.3", "Host", "example.com", "X-Forwarded-For", "198.51.100.1, 10.0.0.8, 10.0.0.9")
	w := x.W
	b.ReportAllocs()
	for b.Loop() {
		x.Reset(w)
		r.Handle(x)
		if a.Handle(x) != Continue {
			b.Fatal("denied")
		}
	}
}
