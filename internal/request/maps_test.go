package request

import (
	"regexp"
	"testing"

	"gatehouse/internal/variables"
	"gatehouse/internal/varmap"
)

// mapsFor builds the map variables "m" (on $uri, cached), "v" (the same,
// volatile) and "r" (a regex with a capture) into x's environment.
func mapsFor(t *testing.T, x *Ctx) (*variables.Registry, [3]variables.ID) {
	t.Helper()
	reg, err := variables.NewRegistry("m", "v", "r")
	if err != nil {
		t.Fatal(err)
	}
	uri, err := reg.Compile("$uri")
	if err != nil {
		t.Fatal(err)
	}
	tb := varmap.NewTable()
	if err := tb.Add("/a", 0, false); err != nil {
		t.Fatal(err)
	}
	rt := varmap.NewTable()
	rt.AddRegex(regexp.MustCompile(`^/(\w+)`), 0)
	one, err := reg.Compile("got-$1")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(vol bool) *varmap.Map {
		return &varmap.Map{Source: uri, Table: tb, Results: []*variables.Template{variables.Constant("A")}, Default: uri, Volatile: vol}
	}
	x.Env.Maps = []*varmap.Map{mk(false), mk(true), {Source: uri, Table: rt, Results: []*variables.Template{one}}}
	var ids [3]variables.ID
	for i, n := range []string{"m", "v", "r"} {
		ids[i], _, _ = reg.Lookup(n)
	}
	return reg, ids
}

// TestMapCache: a map's value is computed once per request (a later
// change of its source shows only through a volatile map) and afresh in
// the next request; a regex key's capture serves the result and stays
// set.
func TestMapCache(t *testing.T) {
	x := ctxFor(t, "/a", "front", false, "80")
	_, ids := mapsFor(t, x)
	get := func(id variables.ID) string {
		v, ok := x.Var(id, nil, nil)
		if !ok {
			t.Fatalf("%v not found", id)
		}
		return string(v)
	}
	if m, v := get(ids[0]), get(ids[1]); m != "A" || v != "A" {
		t.Fatalf("first use: m=%q v=%q", m, v)
	}
	x.URI.Path = []byte("/b") // as an internal redirect changes $uri
	if m, v := get(ids[0]), get(ids[1]); m != "A" || v != "/b" {
		t.Errorf("after the change: m=%q (want cached A) v=%q (want /b)", m, v)
	}
	if r := get(ids[2]); r != "got-b" {
		t.Errorf("regex result %q", r)
	}
	if c, _ := x.Var(variables.Capture, []byte("1"), nil); string(c) != "b" {
		t.Errorf("$1 after the map = %q, want b", c)
	}
	x.Reset(nil)
	x.URI.Path = []byte("/c")
	if m := get(ids[0]); m != "/c" {
		t.Errorf("next request: m=%q, want /c", m)
	}
}

// TestMapCycle: a map whose value needs itself is not found instead of
// recursing forever.
func TestMapCycle(t *testing.T) {
	x := ctxFor(t, "/a", "front", false, "80")
	reg, err := variables.NewRegistry("self")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := reg.Compile("[$self]")
	x.Env.Maps = []*varmap.Map{{Source: self, Table: varmap.NewTable(), Default: self}}
	id, _, _ := reg.Lookup("self")
	if v, ok := x.Var(id, nil, nil); !ok || string(v) != "[]" {
		t.Errorf("got %q, %v", v, ok)
	}
}

func TestMapAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	x := ctxFor(t, "/a", "front", false, "80")
	_, ids := mapsFor(t, x)
	buf := make([]byte, 0, 64)
	x.Var(ids[0], nil, buf)
	x.Var(ids[1], nil, buf)
	n := testing.AllocsPerRun(100, func() {
		x.Reset(nil)
		buf, _ = x.Var(ids[0], nil, buf[:0])
		buf, _ = x.Var(ids[1], nil, buf[:0])
		buf, _ = x.Var(ids[0], nil, buf[:0])
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
