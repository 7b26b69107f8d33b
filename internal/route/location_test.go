package route

import (
	"errors"
	"regexp"
	"testing"
)

func pre(name string, children ...*Location) *Location {
	return &Location{Modifier: Prefix, Name: name, Payload: name, Children: children}
}

func exact(name string) *Location {
	return &Location{Modifier: Exact, Name: name, Payload: "=" + name}
}

func noRe(name string, children ...*Location) *Location {
	return &Location{Modifier: PrefixNoRegex, Name: name, Payload: "^~" + name, Children: children}
}

func re(pattern string, children ...*Location) *Location {
	return &Location{Modifier: Regex, Name: pattern, Regexp: regexp.MustCompile(pattern), Payload: "~" + pattern, Children: children}
}

func reI(pattern string, children ...*Location) *Location {
	return &Location{Modifier: RegexCaseless, Name: pattern, Regexp: regexp.MustCompile("(?i)" + pattern), Payload: "~*" + pattern, Children: children}
}

func proxied(l *Location) *Location {
	l.Proxy = true
	return l
}

func payload(m Match) string {
	if m.Location == nil {
		return "<server>"
	}
	return m.Location.Payload.(string)
}

type locCase struct {
	uri      string
	want     string
	redirect string
}

func runLocCases(t *testing.T, locs []*Location, cases []locCase) {
	t.Helper()
	tree, err := NewLocations(locs)
	if err != nil {
		t.Fatalf("NewLocations: %v", err)
	}
	for _, c := range cases {
		var caps Captures
		m := tree.Find([]byte(c.uri), &caps)
		if got := payload(m); got != c.want || m.Redirect != c.redirect {
			t.Errorf("Find(%q) = %q redirect %q, want %q redirect %q", c.uri, got, m.Redirect, c.want, c.redirect)
		}
	}
}

// The worked example of the nginx documentation for "location".
func TestLocationWorkedExample(t *testing.T) {
	a := exact("/")
	a.Payload = "A"
	b := pre("/")
	b.Payload = "B"
	c := pre("/documents/")
	c.Payload = "C"
	d := noRe("/images/")
	d.Payload = "D"
	e := reI(`\.(gif|jpg|jpeg)$`)
	e.Payload = "E"
	runLocCases(t, []*Location{a, b, c, d, e}, []locCase{
		{uri: "/", want: "A"},
		{uri: "/index.html", want: "B"},
		{uri: "/documents/document.html", want: "C"},
		{uri: "/images/1.gif", want: "D"},
		{uri: "/documents/1.jpg", want: "E"},
		{uri: "/documents/1.JPG", want: "E"},
		{uri: "/images/", want: "D"},
		{uri: "/images", want: "B"},
	})
}

func TestLocationLongestPrefix(t *testing.T) {
	// Configuration order must not matter for prefixes.
	runLocCases(t, []*Location{
		pre("/a/b/"), pre("/a"), pre("/a/b/c"), pre("/ab"), pre("/b"),
	}, []locCase{
		{uri: "/", want: "<server>"},
		{uri: "/a", want: "/a"},
		{uri: "/a/", want: "/a"},
		{uri: "/a/b", want: "/a"},
		{uri: "/a/b/", want: "/a/b/"},
		{uri: "/a/b/c", want: "/a/b/c"},
		{uri: "/a/b/cd", want: "/a/b/c"},
		{uri: "/a/b/d", want: "/a/b/"},
		{uri: "/ab", want: "/ab"},
		{uri: "/abc", want: "/ab"},
		{uri: "/aa", want: "/a"},
		{uri: "/a0", want: "/a"},
		{uri: "/b/x", want: "/b"},
		{uri: "/c", want: "<server>"},
		{uri: "/A", want: "<server>"}, // case-sensitive
	})
}

func TestLocationExactAndPrefixCoexist(t *testing.T) {
	runLocCases(t, []*Location{
		pre("/x"), exact("/x"), re(`^/x`),
	}, []locCase{
		{uri: "/x", want: "=/x"},   // exact stops, no regex
		{uri: "/xy", want: "~^/x"}, // prefix then regex
		{uri: "/", want: "<server>"},
	})
}

func TestLocationRegexOrderAndCase(t *testing.T) {
	runLocCases(t, []*Location{
		pre("/"),
		re(`\.PHP$`),
		reI(`\.php$`),
		re(`\.php$`),
		re(`^/api/`),
	}, []locCase{
		{uri: "/a.php", want: `~*\.php$`}, // first match in config order
		{uri: "/a.PHP", want: `~\.PHP$`},
		{uri: "/a.Php", want: `~*\.php$`},
		{uri: "/api/x.php", want: `~*\.php$`},
		{uri: "/api/x", want: `~^/api/`},
		{uri: "/other", want: "/"},
	})
}

func TestLocationNested(t *testing.T) {
	runLocCases(t, []*Location{
		pre("/",
			pre("/app/",
				exact("/app/login"),
				re(`\.js$`),
			),
			re(`\.css$`),
		),
		re(`\.(css|js)$`),
		reI(`^/OTHER/`),
	}, []locCase{
		{uri: "/", want: "/"},
		{uri: "/x.css", want: `~\.css$`},     // nested regex of "/" wins over outer regex
		{uri: "/x.js", want: `~\.(css|js)$`}, // nested has no js regex; outer regex applies
		{uri: "/app/login", want: "=/app/login"},
		{uri: "/app/a.js", want: `~\.js$`},
		{uri: "/app/a.css", want: `~\.css$`}, // "/" level regexes after "/app/" found nothing
		{uri: "/app/x", want: "/app/"},
		{uri: "/app", want: "/"},
		{uri: "/Other/x.js", want: `~\.(css|js)$`},
		{uri: "/Other/x", want: "~*^/OTHER/"},
	})
}

func TestLocationNestedRegexRefinement(t *testing.T) {
	runLocCases(t, []*Location{
		re(`^/r/`,
			re(`\.png$`),
			pre(`^/r/`), // odd but legal: prefix "^/r/" nested under the regex
		),
		pre("/"),
	}, []locCase{
		{uri: "/r/a.png", want: `~\.png$`},
		{uri: "/r/a.gif", want: `~^/r/`},
		{uri: "/x", want: "/"},
	})
}

func TestLocationNoRegexPerLevel(t *testing.T) {
	runLocCases(t, []*Location{
		pre("/",
			noRe("/static/",
				re(`\.gz$`),
			),
			re(`\.txt$`),
		),
		re(`\.(txt|bin)$`),
		noRe("/top/"),
		pre("/top/sub/"),
	}, []locCase{
		// ^~ /static/ suppresses its sibling regex (\.txt$) but not the
		// outer level's regexes, and its own nested regexes still run.
		{uri: "/static/a.txt", want: `~\.(txt|bin)$`},
		{uri: "/static/a.gz", want: `~\.gz$`},
		{uri: "/static/a", want: "^~/static/"},
		{uri: "/a.txt", want: `~\.txt$`},
		{uri: "/a.bin", want: `~\.(txt|bin)$`},
		// ^~ counts only if it is the longest prefix of its level.
		{uri: "/top/a.txt", want: "^~/top/"},
		{uri: "/top/sub/a.txt", want: `~\.(txt|bin)$`},
	})
}

func TestLocationAutoRedirect(t *testing.T) {
	runLocCases(t, []*Location{
		pre("/"),
		proxied(pre("/api/")),
		proxied(pre("/both/")),
		exact("/both"),
		proxied(pre("/pre/")),
		pre("/pre"),
		pre("/plain/"),
		proxied(exact("/ex/")),
		proxied(pre("/sp ace/")),
		re(`^/api$`),
		pre("/nest/",
			proxied(pre("/nest/in/")),
		),
	}, []locCase{
		{uri: "/api", want: "/api/", redirect: "/api/"}, // before any regex
		{uri: "/api/", want: "/api/"},
		{uri: "/api/x", want: "/api/"},
		{uri: "/both", want: "=/both"},
		{uri: "/pre", want: "/pre"},
		{uri: "/plain", want: "/"},
		{uri: "/ex", want: "=/ex/", redirect: "/ex/"},
		{uri: "/sp ace", want: "/sp ace/", redirect: "/sp%20ace/"},
		{uri: "/nest/in", want: "/nest/in/", redirect: "/nest/in/"},
		{uri: "/nest/i", want: "/nest/"},
	})
}

func TestLocationAutoRedirectBelowRegex(t *testing.T) {
	// Below a regex location nginx turns the nested search's redirect
	// into a plain match of the redirecting location.
	runLocCases(t, []*Location{
		re(`/r`, proxied(pre(`/r/x/`))),
	}, []locCase{
		{uri: "/r/x", want: "/r/x/"},
		{uri: "/a/r", want: "~/r"},
	})
}

func TestLocationNamedAndEmpty(t *testing.T) {
	fb := &Location{Modifier: Named, Name: "@fallback"}
	tree, err := NewLocations([]*Location{fb})
	if err != nil {
		t.Fatal(err)
	}
	if tree.Named("@fallback") != fb || tree.Named("@x") != nil {
		t.Error("Named lookup")
	}
	if m := tree.Find([]byte("/"), nil); m.Location != nil {
		t.Errorf("named location matched a URI: %+v", m)
	}
	empty, err := NewLocations(nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := empty.Find([]byte("/x"), nil); m.Location != nil || m.Redirect != "" {
		t.Errorf("empty: %+v", m)
	}
	var nilTree *Locations
	if m := nilTree.Find([]byte("/x"), nil); m.Location != nil {
		t.Error("nil tree matched")
	}
}

func TestLocationCaptures(t *testing.T) {
	tree, err := NewLocations([]*Location{
		re(`^/u/(?P<user>[a-z]+)/(\d+)$`),
		re(`^/plain`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var caps Captures
	m := tree.Find([]byte("/u/bob/42"), &caps)
	if m.Location == nil {
		t.Fatal("no match")
	}
	if g, _ := caps.Group(1); string(g) != "bob" {
		t.Errorf("$1 = %q", g)
	}
	if g, _ := caps.Group(2); string(g) != "42" {
		t.Errorf("$2 = %q", g)
	}
	if g, _ := caps.Named("user"); string(g) != "bob" {
		t.Errorf("$user = %q", g)
	}
	if _, ok := caps.Group(3); ok {
		t.Error("$3 exists")
	}
	// A regex without groups leaves earlier captures in place.
	tree.Find([]byte("/plain"), &caps)
	if g, _ := caps.Group(1); string(g) != "bob" {
		t.Errorf("after group-less match $1 = %q", g)
	}
}

func TestLocationBuildErrors(t *testing.T) {
	cases := []struct {
		name string
		locs []*Location
		err  error
		text string
	}{
		{"dup prefix", []*Location{pre("/a"), noRe("/a")}, ErrDuplicateLocation, `duplicate location "/a"`},
		{"dup exact", []*Location{exact("/a"), exact("/a")}, ErrDuplicateLocation, `duplicate location "/a"`},
		{"dup nested", []*Location{pre("/a", pre("/a/b"), pre("/a/b"))}, ErrDuplicateLocation, `duplicate location "/a/b"`},
		{"inside exact", []*Location{{Modifier: Exact, Name: "/a", Children: []*Location{pre("/a/b")}}}, ErrLocationNesting, `location "/a/b" cannot be inside the exact location "/a"`},
		{"outside", []*Location{pre("/a", pre("/b"))}, ErrLocationNesting, `location "/b" is outside location "/a"`},
		{"named nested", []*Location{pre("/a", &Location{Modifier: Named, Name: "@x"})}, ErrLocationNesting, `named location "@x" can be on the server level only`},
		{"no regexp", []*Location{{Modifier: Regex, Name: "x"}}, ErrLocationRegexp, `location "x" has no compiled regular expression`},
	}
	for _, c := range cases {
		_, err := NewLocations(c.locs)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			continue
		}
		if err.Error() != c.text {
			t.Errorf("%s: text %q, want %q", c.name, err.Error(), c.text)
		}
		var le *LocationError
		if !errors.As(err, &le) || le.Location == nil {
			t.Errorf("%s: no LocationError with location", c.name)
		}
	}
}

func TestEscapeURI(t *testing.T) {
	for in, want := range map[string]string{
		"/a/":               "/a/",
		"/a b/":             "/a%20b/",
		"/%?#/":             "/%25%3F%23/",
		"/é/":               "/%C3%A9/",
		"/<>\\^`{}|":        "/%3C%3E%5C%5E%60%7B%7D%7C",
		"/~!$&'()*+,;=:@[]": "/~!$&'()*+,;=:@[]",
	} {
		if got := escapeURI(in); got != want {
			t.Errorf("escapeURI(%q) = %q, want %q", in, got, want)
		}
	}
}
