package route

import (
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// This file is a literal transcription of nginx's static location tree
// (ngx_http_init_static_location_trees, ngx_http_create_locations_list,
// ngx_http_create_locations_tree) and of ngx_http_core_find_location /
// ngx_http_core_find_static_location, used as an oracle for the map and
// sorted-slice structure of location.go.

type refNode struct {
	left, right, tree *refNode
	exact, inclusive  *Location
	autoRedirect      bool
	name              string
}

type refLevel struct {
	static *refNode
	regex  []*Location
}

type refQueue struct {
	name             string
	exact, inclusive *Location
	list             []*refQueue
}

type reference struct {
	levels map[*Location]*refLevel // nil key: the server level
}

func newReference(locs []*Location) *reference {
	r := &reference{levels: make(map[*Location]*refLevel)}
	r.build(nil, locs)
	return r
}

func (r *reference) build(parent *Location, locs []*Location) {
	lv := &refLevel{}
	var static []*Location
	for _, l := range locs {
		switch l.Modifier {
		case Regex, RegexCaseless:
			lv.regex = append(lv.regex, l)
		case Named:
			continue
		default:
			static = append(static, l)
		}
		r.build(l, l.Children)
	}
	// ngx_http_cmp_locations: by name, an exact location before the
	// inclusive one of the same name.
	sort.SliceStable(static, func(i, j int) bool {
		if static[i].Name != static[j].Name {
			return static[i].Name < static[j].Name
		}
		return static[i].Modifier == Exact && static[j].Modifier != Exact
	})
	// ngx_http_join_exact_locations
	var q []*refQueue
	for _, l := range static {
		e := &refQueue{name: l.Name}
		if l.Modifier == Exact {
			e.exact = l
		} else {
			e.inclusive = l
		}
		if n := len(q); n > 0 && q[n-1].name == l.Name {
			q[n-1].inclusive = e.inclusive
			continue
		}
		q = append(q, e)
	}
	q = refList(q)
	if len(q) > 0 {
		lv.static = refTree(q, 0)
	}
	r.levels[parent] = lv
}

func refList(q []*refQueue) []*refQueue {
	var out []*refQueue
	for i := 0; i < len(q); {
		e := q[i]
		i++
		if e.inclusive != nil {
			j := i
			for j < len(q) && strings.HasPrefix(q[j].name, e.name) {
				j++
			}
			e.list = refList(q[i:j])
			i = j
		}
		out = append(out, e)
	}
	return out
}

func autoRedirect(l *Location) bool {
	return l != nil && l.Proxy && strings.HasSuffix(l.Name, "/")
}

func refTree(q []*refQueue, prefix int) *refNode {
	m := len(q) / 2
	e := q[m]
	n := &refNode{
		name:         e.name[prefix:],
		exact:        e.exact,
		inclusive:    e.inclusive,
		autoRedirect: autoRedirect(e.exact) || autoRedirect(e.inclusive),
	}
	if m > 0 {
		n.left = refTree(q[:m], prefix)
	}
	if m+1 < len(q) {
		n.right = refTree(q[m+1:], prefix)
	}
	if len(e.list) > 0 {
		n.tree = refTree(e.list, len(e.name))
	}
	return n
}

const (
	refOK = iota
	refAgain
	refDone
	refDeclined
)

func refStatic(cur **Location, node *refNode, uri string) int {
	rv := refDeclined
	for node != nil {
		n := min(len(uri), len(node.name))
		if c := strings.Compare(uri[:n], node.name[:n]); c != 0 {
			if c < 0 {
				node = node.left
			} else {
				node = node.right
			}
			continue
		}
		if len(uri) > len(node.name) {
			if node.inclusive != nil {
				*cur = node.inclusive
				rv = refAgain
				node = node.tree
				uri = uri[n:]
				continue
			}
			node = node.right
			continue
		}
		if len(uri) == len(node.name) {
			if node.exact != nil {
				*cur = node.exact
				return refOK
			}
			*cur = node.inclusive
			return refAgain
		}
		if len(uri)+1 == len(node.name) && node.autoRedirect {
			if node.exact != nil {
				*cur = node.exact
			} else {
				*cur = node.inclusive
			}
			rv = refDone
		}
		node = node.left
	}
	return rv
}

func (r *reference) find(cur **Location, uri string) int {
	lv := r.levels[*cur]
	if lv == nil {
		return refDeclined
	}
	rc := refStatic(cur, lv.static, uri)
	noregex := false
	if rc == refAgain {
		noregex = (*cur).Modifier == PrefixNoRegex
		rc = r.find(cur, uri)
	}
	if rc == refOK || rc == refDone {
		return rc
	}
	if !noregex {
		for _, l := range lv.regex {
			if l.Regexp.MatchString(uri) {
				*cur = l
				r.find(cur, uri)
				return refOK
			}
		}
	}
	return rc
}

// randomLocations builds a random but valid location configuration over a
// small alphabet so that prefixes, exact names and redirects collide often.
func randomLocations(rng *rand.Rand, parent *Location, depth int) []*Location {
	n := rng.IntN(7)
	if depth > 0 {
		n = rng.IntN(4)
	}
	seen := map[string]bool{}
	var out []*Location
	base := "/"
	if parent != nil {
		base = parent.Name
	}
	for range n {
		var l *Location
		switch k := rng.IntN(10); {
		case k < 6: // prefix, ^~ or exact
			name := base + randString(rng, "ab/", rng.IntN(4))
			mod := []Modifier{Prefix, Prefix, PrefixNoRegex, Exact}[rng.IntN(4)]
			key := name
			if mod == Exact {
				key = "=" + name
			}
			if seen[key] || parent != nil && parent.Modifier != Prefix && parent.Modifier != PrefixNoRegex && mod != Exact && parent.Regexp != nil && !strings.HasPrefix(name, parent.Name) {
				continue
			}
			seen[key] = true
			l = &Location{Modifier: mod, Name: name, Proxy: rng.IntN(2) == 0}
		default:
			pats := []string{`a$`, `^/b`, `/a`, `b/`, `\.`, `^/a/b`, `/$`}
			p := pats[rng.IntN(len(pats))]
			mod := Regex
			expr := p
			if rng.IntN(3) == 0 {
				mod = RegexCaseless
				expr = "(?i)" + p
			}
			l = &Location{Modifier: mod, Name: p, Regexp: regexp.MustCompile(expr)}
		}
		if l.Modifier != Exact && depth < 2 {
			l.Children = randomLocations(rng, l, depth+1)
		}
		out = append(out, l)
	}
	return out
}

func randString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func describe(l *Location) string {
	if l == nil {
		return "<server>"
	}
	return l.Modifier.String() + " " + l.Name
}

func dumpLocations(sb *strings.Builder, locs []*Location, indent string) {
	for _, l := range locs {
		sb.WriteString(indent + "location " + describe(l))
		if l.Proxy {
			sb.WriteString(" (proxy)")
		}
		sb.WriteString("\n")
		dumpLocations(sb, l.Children, indent+"  ")
	}
}

func TestLocationAgainstNginxTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		locs := randomLocations(rng, nil, 0)
		tree, err := NewLocations(locs)
		if err != nil {
			t.Fatalf("config %d: %v", iter, err)
		}
		ref := newReference(locs)
		for range 40 {
			uri := "/" + randString(rng, "ab/.A", rng.IntN(7))
			m := tree.Find([]byte(uri), nil)
			var cur *Location
			rc := ref.find(&cur, uri)
			wantRedirect := rc == refDone
			if m.Location != cur || (m.Redirect != "") != wantRedirect {
				var sb strings.Builder
				dumpLocations(&sb, locs, "  ")
				t.Fatalf("config %d, uri %q: got %s redirect %q, nginx tree gives %s redirect %v\n%s",
					iter, uri, describe(m.Location), m.Redirect, describe(cur), wantRedirect, sb.String())
			}
		}
	}
}

// FuzzLocationFind compares the search with the nginx tree for arbitrary
// URIs on a fixed configuration that exercises every rule.
func FuzzLocationFind(f *testing.F) {
	locs := []*Location{
		exact("/"),
		pre("/",
			noRe("/static/", re(`\.gz$`)),
			re(`\.txt$`),
		),
		proxied(pre("/api/", proxied(pre("/api/v1/")), exact("/api/v1"))),
		proxied(exact("/ex/")),
		pre("/documents/"),
		noRe("/images/"),
		reI(`\.(gif|jpg|jpeg)$`),
		re(`^/u/(?P<user>[^/]+)`, re(`/edit$`)),
		re(`/r`, proxied(pre(`/r/x/`))),
	}
	tree, err := NewLocations(locs)
	if err != nil {
		f.Fatal(err)
	}
	ref := newReference(locs)
	for _, s := range []string{"/", "/index.html", "/documents/a.jpg", "/images/1.gif", "/api", "/api/v1", "/api/v1/x", "/ex", "/static/a.txt", "/u/bob/edit", "/r/x", "/a/r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		var caps Captures
		m := tree.Find([]byte(uri), &caps)
		var cur *Location
		rc := ref.find(&cur, uri)
		if m.Location != cur || (m.Redirect != "") != (rc == refDone) {
			t.Fatalf("uri %q: got %s redirect %q, nginx tree gives %s redirect %v", uri, describe(m.Location), m.Redirect, describe(cur), rc == refDone)
		}
	})
}
