package route

import (
	"errors"
	"reflect"
	"regexp"
	"testing"
)

func names(ns ...string) []Name {
	out := make([]Name, 0, len(ns))
	for _, n := range ns {
		if len(n) > 0 && n[0] == '~' {
			out = append(out, Name{Name: n, Regexp: regexp.MustCompile(n[1:])})
			continue
		}
		out = append(out, Name{Name: n})
	}
	return out
}

func TestNamesPriority(t *testing.T) {
	servers := []NamedServer{
		{ID: 0, Names: names("default.test")},
		{ID: 1, Names: names("www.example.com")},
		{ID: 2, Names: names("*.example.com")},
		{ID: 3, Names: names("*.a.example.com")},
		{ID: 4, Names: names("www.*")},
		{ID: 5, Names: names("www.example.*")},
		{ID: 6, Names: names(`~^www\.`, `~^(?P<sub>[a-z]+)\.example\.net$`)},
		{ID: 7, Names: names(`~example\.net$`)},
		{ID: 8, Names: names(".example.org", "")},
		{ID: 9, Names: names("mail.*", "*.mail.example.org")},
	}
	tab, warns, err := NewNames("0.0.0.0:80", servers, 0)
	if err != nil || len(warns) != 0 {
		t.Fatalf("NewNames: %v %v", err, warns)
	}
	cases := []struct {
		host    string
		id      int
		matched bool
	}{
		{"www.example.com", 1, true},    // exact beats *.example.com and www.*
		{"x.example.com", 2, true},      // leading wildcard
		{"x.y.example.com", 2, true},    // any number of labels
		{"example.com", 0, false},       // "*." does not match the bare name
		{"a.example.com", 2, true},      // "*.a.example.com" needs one more label
		{"b.a.example.com", 3, true},    // longest leading wildcard
		{"c.b.a.example.com", 3, true},  // longest leading wildcard
		{"www.example.net", 5, true},    // longest trailing wildcard beats www.*
		{"www.other.net", 4, true},      // trailing wildcard beats regex
		{"www", 0, false},               // "www.*" needs a dot: regex ^www\. fails too
		{"wwwx", 0, false},              // nothing
		{"sub.example.net", 6, true},    // first matching regex in config order
		{"a.b.example.net", 7, true},    // second regex
		{"example.org", 8, true},        // ".x" matches x
		{"q.example.org", 8, true},      // and *.x
		{"mail.example.org", 8, true},   // leading wildcard beats trailing "mail.*"
		{"x.mail.example.org", 9, true}, // longest leading wildcard
		{"mail.example.com", 2, true},   // leading wildcard beats trailing
		{"mail.test", 9, true},          // trailing wildcard
		{"", 8, true},                   // "" for requests without Host
		{"default.test", 0, true},       // the default server by name
		{".example.com", 2, true},       // as nginx: an empty first label matches "*."
		{"WWW.example.com", 2, true},    // hosts must be lowercased first; only the suffix matched here
	}
	for _, c := range cases {
		id, ok := tab.Find([]byte(c.host), nil)
		if id != c.id || ok != c.matched {
			t.Errorf("Find(%q) = %d, %v; want %d, %v", c.host, id, ok, c.id, c.matched)
		}
	}
}

func TestNamesCaptures(t *testing.T) {
	tab, _, err := NewNames("0.0.0.0:80", []NamedServer{
		{ID: 0, Names: names("a")},
		{ID: 1, Names: names(`~^(?P<sub>[a-z]+)\.example\.net$`)},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var caps Captures
	id, ok := tab.Find([]byte("shop.example.net"), &caps)
	if id != 1 || !ok {
		t.Fatalf("Find = %d %v", id, ok)
	}
	if v, _ := caps.Named("sub"); string(v) != "shop" {
		t.Errorf("$sub = %q", v)
	}
	if v, _ := caps.Group(1); string(v) != "shop" {
		t.Errorf("$1 = %q", v)
	}
	if v, _ := caps.Group(0); string(v) != "shop.example.net" {
		t.Errorf("$0 = %q", v)
	}
	if _, ok := caps.Named("nope"); ok {
		t.Error("unknown name found")
	}
}

func TestNamesConflicts(t *testing.T) {
	cases := []struct {
		name    string
		servers []NamedServer
		warns   []string
		find    map[string]int // -1: no match, the default server
	}{
		{
			name: "exact twice",
			servers: []NamedServer{
				{ID: 0, Names: names("a.test")},
				{ID: 1, Names: names("A.test", "b.test")},
			},
			warns: []string{`conflicting server name "a.test" on 0.0.0.0:80, ignored`},
			find:  map[string]int{"a.test": 0, "b.test": 1},
		},
		{
			name: "same server twice",
			servers: []NamedServer{
				{ID: 0, Names: names("a.test", "a.test")},
				{ID: 1, Names: names("b.test")},
			},
			warns: []string{`conflicting server name "a.test" on 0.0.0.0:80, ignored`},
		},
		{
			name: "dot form after exact is wholly ignored",
			servers: []NamedServer{
				{ID: 0, Names: names("example.com")},
				{ID: 1, Names: names(".example.com")},
			},
			warns: []string{`conflicting server name ".example.com" on 0.0.0.0:80, ignored`},
			find:  map[string]int{"example.com": 0, "x.example.com": -1},
		},
		{
			name: "exact after dot form",
			servers: []NamedServer{
				{ID: 0, Names: names(".example.com")},
				{ID: 1, Names: names("example.com")},
			},
			warns: []string{`conflicting server name "example.com" on 0.0.0.0:80, ignored`},
			find:  map[string]int{"example.com": 0, "x.example.com": 0},
		},
		{
			name: "star and dot forms conflict",
			servers: []NamedServer{
				{ID: 0, Names: names("*.example.com")},
				{ID: 1, Names: names(".example.com", "example.com")},
			},
			// the ignored ".example.com" still claims the exact name
			warns: []string{
				`conflicting server name ".example.com" on 0.0.0.0:80, ignored`,
				`conflicting server name "example.com" on 0.0.0.0:80, ignored`,
			},
			find: map[string]int{"example.com": -1, "x.example.com": 0},
		},
		{
			name: "empty names of servers without server_name",
			servers: []NamedServer{
				{ID: 0, Names: names("")},
				{ID: 1, Names: names("")},
			},
			warns: []string{`conflicting server name "" on 0.0.0.0:80, ignored`},
			find:  map[string]int{"": 0},
		},
		{
			name: "trailing wildcards",
			servers: []NamedServer{
				{ID: 0, Names: names("www.*")},
				{ID: 1, Names: names("www.*", "www.x.*")},
			},
			warns: []string{`conflicting server name "www.*" on 0.0.0.0:80, ignored`},
			find:  map[string]int{"www.y": 0, "www.x.y": 1},
		},
		{
			name: "regex names never conflict",
			servers: []NamedServer{
				{ID: 0, Names: names(`~^a`)},
				{ID: 1, Names: names(`~^a`)},
			},
			find: map[string]int{"abc": 0},
		},
	}
	for _, c := range cases {
		tab, warns, err := NewNames("0.0.0.0:80", c.servers, 0)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, w := range warns {
			got = append(got, w.String())
		}
		if !reflect.DeepEqual(got, c.warns) {
			t.Errorf("%s: warnings %q, want %q", c.name, got, c.warns)
		}
		for host, want := range c.find {
			id, ok := tab.Find([]byte(host), nil)
			if want < 0 && (ok || id != 0) || want >= 0 && (id != want || !ok) {
				t.Errorf("%s: Find(%q) = %d %v, want %d", c.name, host, id, ok, want)
			}
		}
	}
}

func TestNamesInvalid(t *testing.T) {
	for _, n := range []string{"w*.example.com", "www.*.example.com", "*.*", "a..b", "*", "*.", "**.x", "a\x00b"} {
		_, _, err := NewNames("127.0.0.1:8443", []NamedServer{{ID: 0, Names: names("ok")}, {ID: 1, Names: names(n)}}, 0)
		var ne *NameError
		if !errors.Is(err, ErrInvalidName) || !errors.As(err, &ne) {
			t.Errorf("%q: err = %v", n, err)
			continue
		}
		want := `invalid server name or wildcard "` + n + `" on 127.0.0.1:8443`
		if err.Error() != want {
			t.Errorf("%q: %q, want %q", n, err.Error(), want)
		}
	}
}

func TestNamesSingleServer(t *testing.T) {
	// One server on an address: nginx builds no table, so nothing matches
	// (which matters for the SNI/Host 421 check), nothing is checked.
	tab, warns, err := NewNames("0.0.0.0:80", []NamedServer{{ID: 7, Names: names("a", "a", "w*.x")}}, 7)
	if err != nil || len(warns) != 0 {
		t.Fatalf("%v %v", err, warns)
	}
	if id, ok := tab.Find([]byte("a"), nil); id != 7 || ok {
		t.Errorf("Find = %d %v", id, ok)
	}
	// ... unless its last regex name has captures.
	tab, _, err = NewNames("0.0.0.0:80", []NamedServer{{ID: 7, Names: names("a", `~^(x)`)}}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tab.Find([]byte("a"), nil); id != 7 || !ok {
		t.Errorf("Find = %d %v", id, ok)
	}
	var caps Captures
	if _, ok := tab.Find([]byte("xyz"), &caps); !ok {
		t.Error("regex did not match")
	}
	if g, _ := caps.Group(1); string(g) != "x" {
		t.Errorf("$1 = %q", g)
	}
	tab, _, _ = NewNames("0.0.0.0:80", []NamedServer{{ID: 7, Names: names(`~^(x)`, `~^y`)}}, 7)
	if _, ok := tab.Find([]byte("xyz"), nil); ok {
		t.Error("last regex without captures still built a table")
	}
	var nilTab *Names
	if _, ok := nilTab.Find([]byte("x"), nil); ok {
		t.Error("nil table matched")
	}
}

func TestNamesRegexNotForEmptyHost(t *testing.T) {
	tab, _, _ := NewNames("0.0.0.0:80", []NamedServer{{ID: 0, Names: names("a")}, {ID: 1, Names: names(`~.*`)}}, 0)
	if id, ok := tab.Find(nil, nil); id != 0 || ok {
		t.Errorf("Find(empty) = %d %v", id, ok)
	}
	if id, ok := tab.Find([]byte("b"), nil); id != 1 || !ok {
		t.Errorf("Find(b) = %d %v", id, ok)
	}
}

func TestNamesNoAllocs(t *testing.T) {
	if raceEnabled {
		// Under -race sync.Pool drops items at random, so regexp's pooled
		// machines are sometimes reallocated; scripts/test.sh runs this
		// test again without -race.
		t.Skip("allocation counts are not meaningful under -race")
	}
	tab, _, _ := NewNames("0.0.0.0:80", []NamedServer{
		{ID: 0, Names: names("www.example.com")},
		{ID: 1, Names: names("*.example.com", ".example.org")},
		{ID: 2, Names: names("mail.*")},
		{ID: 3, Names: names(`~^static\d+\.`)},
	}, 0)
	for _, h := range []string{"www.example.com", "a.b.example.com", "example.org", "mail.x.y", "static1.cdn", "nothing.here"} {
		host := []byte(h)
		if n := testing.AllocsPerRun(100, func() { tab.Find(host, nil) }); n != 0 {
			t.Errorf("Find(%q): %v allocs", h, n)
		}
	}
}
