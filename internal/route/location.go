package route

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gatehouse/internal/variables"
)

// Modifier is the kind of a location block.
type Modifier uint8

// Location modifiers, as written between "location" and the pattern.
const (
	// Prefix is "location /x": longest-prefix match.
	Prefix Modifier = iota
	// Exact is "location = /x": matches the URI /x only and stops the search.
	Exact
	// PrefixNoRegex is "location ^~ /x": a prefix that, when it is the
	// longest prefix of its level, keeps that level's regexes from being
	// tried.
	PrefixNoRegex
	// Regex is "location ~ re": case-sensitive regular expression.
	Regex
	// RegexCaseless is "location ~* re": case-insensitive regular
	// expression (the caller compiles it with (?i)).
	RegexCaseless
	// Named is "location @name": reachable only by internal redirects.
	Named
)

// String returns the modifier as written in the configuration.
func (m Modifier) String() string {
	switch m {
	case Prefix:
		return ""
	case Exact:
		return "="
	case PrefixNoRegex:
		return "^~"
	case Regex:
		return "~"
	case RegexCaseless:
		return "~*"
	case Named:
		return "@"
	}
	return fmt.Sprintf("Modifier(%d)", uint8(m))
}

// Location is one location block as the configuration built it. The
// routing code never changes it; Payload carries whatever the caller needs
// once the location is selected.
type Location struct {
	Modifier Modifier
	// Name is the URI (prefix or exact), the regular expression text, or
	// the name including its "@".
	Name string
	// Regexp is the compiled expression of a Regex or RegexCaseless
	// location.
	Regexp *regexp.Regexp
	// Proxy marks a location whose handler is proxy_pass (or another
	// upstream handler); with a Name ending in "/" it enables nginx's
	// trailing-slash auto-redirect.
	Proxy bool
	// Children are the nested locations in configuration order.
	Children []*Location
	// Payload is the caller's data for this location.
	Payload any
}

// ErrDuplicateLocation classifies two exact, or two prefix, locations with
// the same name on one level (also two named locations with one name).
var ErrDuplicateLocation = errors.New("duplicate location")

// ErrLocationNesting classifies a location nested where nginx does not
// allow it.
var ErrLocationNesting = errors.New("invalid location nesting")

// ErrLocationRegexp classifies a regex location without a compiled
// expression.
var ErrLocationRegexp = errors.New("regex location without compiled expression")

// LocationError reports a location that cannot be built; its text is
// nginx's, without the file position, and Location lets the caller find
// that position.
type LocationError struct {
	Location *Location
	Err      error
	text     string
}

// Error returns nginx's message for the location.
func (e *LocationError) Error() string { return e.text }

// Unwrap returns the error's class.
func (e *LocationError) Unwrap() error { return e.Err }

// Locations is the immutable location search structure of one server. It
// is safe for concurrent use.
type Locations struct {
	root  *level
	named map[string]*Location
}

// level holds the locations of the server, or the locations nested in one
// location.
type level struct {
	exact    map[string]*Location
	prefix   map[string]*node  // prefix and ^~ locations by name
	redirect map[string]target // name without its trailing "/"
	sorted   []*node           // prefix and ^~ locations sorted by name
	regex    []*node           // in configuration order
}

type node struct {
	loc      *Location
	name     string
	parent   int    // index in sorted of the longest proper prefix, or -1
	children *level // nil when the location has no nested locations
}

type target struct {
	loc *Location
	to  string
}

// NewLocations builds the search structure from a server's locations in
// configuration order.
func NewLocations(locs []*Location) (*Locations, error) {
	t := &Locations{named: make(map[string]*Location)}
	root, err := t.build(nil, locs)
	if err != nil {
		return nil, err
	}
	t.root = root
	return t, nil
}

func (t *Locations) build(parent *Location, locs []*Location) (*level, error) {
	if len(locs) == 0 {
		return nil, nil
	}
	lv := &level{
		exact:    make(map[string]*Location),
		prefix:   make(map[string]*node),
		redirect: make(map[string]target),
	}
	for _, l := range locs {
		if l == nil {
			continue
		}
		if parent != nil {
			switch {
			case parent.Modifier == Exact:
				return nil, locErr(l, ErrLocationNesting, "location \"%s\" cannot be inside the exact location \"%s\"", l.Name, parent.Name)
			case parent.Modifier == Named:
				return nil, locErr(l, ErrLocationNesting, "location \"%s\" cannot be inside the named location \"%s\"", l.Name, parent.Name)
			case l.Modifier == Named:
				return nil, locErr(l, ErrLocationNesting, "named location \"%s\" can be on the server level only", l.Name)
			case l.Modifier != Regex && l.Modifier != RegexCaseless && !strings.HasPrefix(l.Name, parent.Name):
				return nil, locErr(l, ErrLocationNesting, "location \"%s\" is outside location \"%s\"", l.Name, parent.Name)
			}
		}
		switch l.Modifier {
		case Named:
			if _, dup := t.named[l.Name]; dup {
				return nil, locErr(l, ErrDuplicateLocation, "duplicate location \"%s\"", l.Name)
			}
			t.named[l.Name] = l
			if _, err := t.build(l, l.Children); err != nil {
				return nil, err
			}
			continue
		case Exact:
			if _, dup := lv.exact[l.Name]; dup {
				return nil, locErr(l, ErrDuplicateLocation, "duplicate location \"%s\"", l.Name)
			}
			lv.exact[l.Name] = l
			if _, err := t.build(l, l.Children); err != nil {
				return nil, err
			}
			continue
		}
		n := &node{loc: l, name: l.Name, parent: -1}
		children, err := t.build(l, l.Children)
		if err != nil {
			return nil, err
		}
		n.children = children
		switch l.Modifier {
		case Prefix, PrefixNoRegex:
			if _, dup := lv.prefix[l.Name]; dup {
				return nil, locErr(l, ErrDuplicateLocation, "duplicate location \"%s\"", l.Name)
			}
			lv.prefix[l.Name] = n
			lv.sorted = append(lv.sorted, n)
		case Regex, RegexCaseless:
			if l.Regexp == nil {
				return nil, locErr(l, ErrLocationRegexp, "location \"%s\" has no compiled regular expression", l.Name)
			}
			lv.regex = append(lv.regex, n)
		default:
			return nil, locErr(l, ErrLocationNesting, "location \"%s\" has unknown modifier %d", l.Name, uint8(l.Modifier))
		}
	}

	sort.Slice(lv.sorted, func(i, j int) bool { return lv.sorted[i].name < lv.sorted[j].name })
	for i, n := range lv.sorted {
		n.parent = -1
		for j := i - 1; j >= 0; j = lv.sorted[j].parent {
			if strings.HasPrefix(n.name, lv.sorted[j].name) {
				n.parent = j
				break
			}
		}
	}

	// The auto-redirect belongs to the name: nginx sets it on the tree
	// node shared by "= /x/" and "/x/" if either has a proxy handler, and
	// then answers with the exact location if there is one.
	names := make(map[string]struct{})
	for name := range lv.exact {
		names[name] = struct{}{}
	}
	for name := range lv.prefix {
		names[name] = struct{}{}
	}
	for name := range names {
		if len(name) == 0 || name[len(name)-1] != '/' {
			continue
		}
		e := lv.exact[name]
		p := lv.prefix[name]
		if !(e != nil && e.Proxy) && !(p != nil && p.loc.Proxy) {
			continue
		}
		loc := e
		if loc == nil {
			loc = p.loc
		}
		lv.redirect[name[:len(name)-1]] = target{loc: loc, to: escapeURI(name)}
	}
	return lv, nil
}

func locErr(l *Location, class error, format string, args ...any) error {
	return &LocationError{Location: l, Err: class, text: fmt.Sprintf(format, args...)}
}

// escapeURI escapes a location name for the Location header of the
// auto-redirect the way nginx's ngx_escape_uri(NGX_ESCAPE_URI) does.
func escapeURI(s string) string { return string(variables.AppendEscapedURI(nil, []byte(s))) }

// Named returns the named location ("@name", with the "@"), or nil.
func (t *Locations) Named(name string) *Location {
	if t == nil {
		return nil
	}
	return t.named[name]
}

// Match is the outcome of a location search.
type Match struct {
	// Location is the selected location; nil means no location matched
	// and the server-level configuration applies.
	Location *Location
	// Redirect, when not empty, means nginx's trailing-slash
	// auto-redirect: answer 301 with "Location: " + Redirect (plus "?" and
	// the arguments if there are any, made absolute as usual). Location is
	// then the location that asked for it.
	Redirect string
}

// Find selects the location for a normalised URI exactly as nginx's
// ngx_http_core_find_location: on each level the exact location equal to
// the URI wins at once; otherwise the longest prefix is remembered and its
// nested locations are searched; unless that prefix is "^~", the level's
// regexes are then tried in configuration order and the first match (refined
// by its own nested locations) wins; failing that the deepest prefix found
// is used. The auto-redirect of a proxied "/x/" for the URI "/x" is decided
// before any regex is tried.
//
// Prefix and exact matching do not allocate. When a regex with capture
// groups matches and caps is not nil, caps receives its submatches (which
// allocates); pass the Captures already filled by a regex server_name to
// keep nginx's rule that $1..$9 come from the last regex with captures.
func (t *Locations) Find(uri []byte, caps *Captures) Match {
	var m Match
	if t == nil || t.root == nil {
		return m
	}
	t.root.find(uri, caps, &m)
	return m
}

const (
	declined = iota
	again
	done // exact match, or a regex location with its nested search
	redirect
)

func (lv *level) find(uri []byte, caps *Captures, m *Match) int {
	rc, p := lv.findStatic(uri, m)
	noregex := false
	if rc == again {
		noregex = p.loc.Modifier == PrefixNoRegex
		if p.children != nil {
			rc = p.children.find(uri, caps, m)
		}
	}
	if rc == done || rc == redirect {
		return rc
	}
	if !noregex {
		for _, r := range lv.regex {
			if !match(r.loc.Regexp, uri, caps) {
				continue
			}
			m.Location = r.loc
			if r.children != nil {
				r.children.find(uri, caps, m)
				// nginx reports a nested search below a regex as
				// plain success: an auto-redirect found there selects
				// its location but does not redirect.
				m.Redirect = ""
			}
			return done
		}
	}
	return rc
}

// findStatic is ngx_http_core_find_static_location for one level.
func (lv *level) findStatic(uri []byte, m *Match) (int, *node) {
	if lv == nil {
		return declined, nil
	}
	if l, ok := lv.exact[string(uri)]; ok {
		m.Location = l
		return done, nil
	}
	if n, ok := lv.prefix[string(uri)]; ok {
		m.Location = n.loc
		return again, n
	}
	if r, ok := lv.redirect[string(uri)]; ok {
		m.Location = r.loc
		m.Redirect = r.to
		return redirect, nil
	}
	// The last name <= uri; if it is not a prefix of uri, the longest
	// prefix of uri is among that name's own prefixes.
	lo, hi := 0, len(lv.sorted)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if lv.sorted[mid].name <= string(uri) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo - 1; i >= 0; i = lv.sorted[i].parent {
		n := lv.sorted[i]
		if len(uri) >= len(n.name) && string(uri[:len(n.name)]) == n.name {
			m.Location = n.loc
			return again, n
		}
	}
	return declined, nil
}
