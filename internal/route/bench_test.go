package route

import (
	"fmt"
	"regexp"
	"testing"
)

func benchLocations(b *testing.B) *Locations {
	b.Helper()
	locs := []*Location{exact("/"), pre("/")}
	for i := range 40 {
		locs = append(locs, proxied(pre(fmt.Sprintf("/app%d/", i),
			pre(fmt.Sprintf("/app%d/v1/", i)),
			pre(fmt.Sprintf("/app%d/v2/", i)),
		)))
	}
	locs = append(locs, noRe("/static/"), re(`\.php$`), reI(`^/api/(\d+)/(?P<rest>.*)$`))
	tree, err := NewLocations(locs)
	if err != nil {
		b.Fatal(err)
	}
	return tree
}

func BenchmarkLocationFind(b *testing.B) {
	tree := benchLocations(b)
	for _, c := range []struct{ name, uri string }{
		{"exact", "/"},
		{"prefix", "/static/css/site.css"},
		{"nested", "/app17/v2/users/42"},
		{"redirect", "/app17"},
		{"regex-miss", "/index.html"},
		{"regex-captures", "/api/7/users"},
	} {
		uri := []byte(c.uri)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var caps Captures
			for b.Loop() {
				if m := tree.Find(uri, &caps); m.Location == nil {
					b.Fatal("no match")
				}
			}
		})
	}
}

func BenchmarkNamesFind(b *testing.B) {
	var servers []NamedServer
	for i := range 50 {
		servers = append(servers, NamedServer{ID: i, Names: []Name{
			{Name: fmt.Sprintf("www.site%d.example", i)},
			{Name: fmt.Sprintf("*.site%d.example", i)},
			{Name: fmt.Sprintf("mail%d.*", i)},
		}})
	}
	servers = append(servers, NamedServer{ID: 50, Names: []Name{{Name: `~^(?P<sub>[a-z]+)\.dyn\.example$`, Regexp: regexp.MustCompile(`^(?P<sub>[a-z]+)\.dyn\.example$`)}}})
	tab, _, err := NewNames("0.0.0.0:443", servers, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, host string }{
		{"exact", "www.site33.example"},
		{"leading-wildcard", "a.b.site33.example"},
		{"trailing-wildcard", "mail33.example.org"},
		{"miss", "unknown.host.example"},
		{"regex-captures", "shop.dyn.example"},
	} {
		host := []byte(c.host)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var caps Captures
			for b.Loop() {
				tab.Find(host, &caps)
			}
		})
	}
}

func BenchmarkNormalizeURI(b *testing.B) {
	for _, c := range []struct{ name, uri string }{
		{"simple", "/app17/v2/users/42?x=1"},
		{"complex", "/app17/./v2//users/../users/%34%32?x=1"},
	} {
		in := []byte(c.uri)
		buf := make([]byte, 0, len(in)+1)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizeURI(buf, in, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
