package route

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func lis(s string, def bool) Listen {
	return Listen{Addr: netip.MustParseAddrPort(s), Default: def}
}

func TestListeners(t *testing.T) {
	servers := []Server{
		0: {Names: names("a.test"), Listens: []Listen{lis("0.0.0.0:80", false), lis("[::]:80", false)}},
		1: {Names: names("b.test"), Listens: []Listen{lis("0.0.0.0:80", true)}},
		2: {Names: names("c.test"), Listens: []Listen{lis("10.0.0.1:80", false)}},
		3: {Names: names("d.test"), Listens: []Listen{lis("10.0.0.1:80", false), lis("10.0.0.2:443", false)}},
		4: {Names: names("e.test"), Listens: []Listen{lis("[2001:db8::1]:80", false)}},
		5: {Names: names("f.test"), Listens: []Listen{lis("10.0.0.3:8080", false)}},
		6: {Names: names("g.test"), Listens: []Listen{lis("[::]:8081", false)}},
	}
	l, warns, err := NewListeners(servers)
	if err != nil || len(warns) != 0 {
		t.Fatalf("%v %v", err, warns)
	}
	cases := []struct {
		local   string
		addr    string // "" for none
		servers []int
		def     int
	}{
		{"10.0.0.9:80", "0.0.0.0:80", []int{0, 1}, 1},  // wildcard set, explicit default
		{"10.0.0.1:80", "10.0.0.1:80", []int{2, 3}, 2}, // specific set only, first is default
		{"[::ffff:10.0.0.1]:80", "10.0.0.1:80", []int{2, 3}, 2},
		{"[2001:db8::2]:80", "[::]:80", []int{0}, 0}, // IPv6 wildcard
		{"[2001:db8::1]:80", "[2001:db8::1]:80", []int{4}, 4},
		{"10.0.0.2:443", "10.0.0.2:443", []int{3}, 3},
		{"10.0.0.1:443", "", nil, 0}, // no wildcard on 443
		{"10.0.0.3:8080", "10.0.0.3:8080", []int{5}, 5},
		{"[::1]:8080", "", nil, 0},
		{"[::ffff:10.0.0.9]:8081", "[::]:8081", []int{6}, 6}, // dual-stack wildcard
		{"10.0.0.9:8081", "", nil, 0},
	}
	for _, c := range cases {
		a := l.Find(netip.MustParseAddrPort(c.local))
		if c.addr == "" {
			if a != nil {
				t.Errorf("Find(%s) = %s, want none", c.local, a.Addr)
			}
			continue
		}
		if a == nil {
			t.Errorf("Find(%s) = none, want %s", c.local, c.addr)
			continue
		}
		if a.Addr.String() != c.addr || !reflect.DeepEqual(a.Servers, c.servers) || a.Default != c.def {
			t.Errorf("Find(%s) = %s %v default %d; want %s %v default %d", c.local, a.Addr, a.Servers, a.Default, c.addr, c.servers, c.def)
		}
		if a.Names.Default() != a.Default || a.Names.Addr() != c.addr {
			t.Errorf("Find(%s): names table for %s default %d", c.local, a.Names.Addr(), a.Names.Default())
		}
	}

	// The server-name search runs within the chosen set only.
	a := l.Find(netip.MustParseAddrPort("10.0.0.1:80"))
	if id, ok := a.Names.Find([]byte("a.test"), nil); id != 2 || ok {
		t.Errorf("a.test on 10.0.0.1:80 = %d %v, want default 2", id, ok)
	}
	if id, ok := a.Names.Find([]byte("d.test"), nil); id != 3 || !ok {
		t.Errorf("d.test on 10.0.0.1:80 = %d %v", id, ok)
	}

	var order []string
	for _, a := range l.Addresses() {
		order = append(order, a.Addr.String())
	}
	want := []string{"0.0.0.0:80", "[::]:80", "10.0.0.1:80", "10.0.0.2:443", "[2001:db8::1]:80", "10.0.0.3:8080", "[::]:8081"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("Addresses = %v, want %v", order, want)
	}
	var socks []string
	for _, a := range l.Sockets() {
		socks = append(socks, a.String())
	}
	want = []string{"0.0.0.0:80", "[::]:80", "10.0.0.2:443", "10.0.0.3:8080", "[::]:8081"}
	if !reflect.DeepEqual(socks, want) {
		t.Errorf("Sockets = %v, want %v", socks, want)
	}
}

func TestListenersWarnings(t *testing.T) {
	_, warns, err := NewListeners([]Server{
		{Names: names("x"), Listens: []Listen{lis("0.0.0.0:80", false), lis("127.0.0.1:81", false)}},
		{Names: names("x"), Listens: []Listen{lis("0.0.0.0:80", false), lis("127.0.0.1:81", false)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		`conflicting server name "x" on 0.0.0.0:80, ignored`,
		`conflicting server name "x" on 127.0.0.1:81, ignored`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

func TestListenersErrors(t *testing.T) {
	cases := []struct {
		servers []Server
		err     error
		text    string
	}{
		{[]Server{
			{Listens: []Listen{lis("0.0.0.0:80", true)}},
			{Listens: []Listen{lis("0.0.0.0:80", true)}},
		}, ErrDuplicateDefault, "a duplicate default server for 0.0.0.0:80"},
		{[]Server{
			{Listens: []Listen{lis("127.0.0.1:80", false), lis("127.0.0.1:80", false)}},
		}, ErrDuplicateListen, "a duplicate listen 127.0.0.1:80"},
		{[]Server{
			{Names: names("a"), Listens: []Listen{lis("127.0.0.1:80", false)}},
			{Names: names("b*c"), Listens: []Listen{lis("127.0.0.1:80", false)}},
		}, ErrInvalidName, `invalid server name or wildcard "b*c" on 127.0.0.1:80`},
	}
	for _, c := range cases {
		_, _, err := NewListeners(c.servers)
		if !errors.Is(err, c.err) || err.Error() != c.text {
			t.Errorf("err = %v, want %q (%v)", err, c.text, c.err)
		}
	}
}

func TestListenersUnixAndBind(t *testing.T) {
	l, _, err := NewListeners([]Server{
		{Names: names("a"), Listens: []Listen{lis("0.0.0.0:80", false), {Unix: "/run/a.sock"}}},
		{Names: names("b"), Listens: []Listen{{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Bind: true}, {Unix: "/run/a.sock", Default: true}}},
		{Names: names("c"), Listens: []Listen{lis("10.0.0.2:80", false)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := l.FindUnix("/run/a.sock")
	if a == nil || a.String() != "unix:/run/a.sock" || a.Default != 1 || !reflect.DeepEqual(a.Servers, []int{0, 1}) || a.Wildcard() {
		t.Fatalf("unix set: %+v", a)
	}
	if id, ok := a.Names.Find([]byte("a"), nil); id != 0 || !ok {
		t.Errorf("Find(a) on unix socket = %d %v", id, ok)
	}
	if l.FindUnix("/run/other.sock") != nil {
		t.Error("unknown socket found")
	}
	var socks []string
	for _, a := range l.Sockets() {
		socks = append(socks, a.String())
	}
	want := []string{"0.0.0.0:80", "unix:/run/a.sock", "10.0.0.1:80"}
	if !reflect.DeepEqual(socks, want) {
		t.Errorf("Sockets = %v, want %v", socks, want)
	}
	if a := l.Find(netip.MustParseAddrPort("10.0.0.2:80")); a == nil || a.Servers[0] != 2 {
		t.Errorf("10.0.0.2:80 = %+v", a)
	}
}
