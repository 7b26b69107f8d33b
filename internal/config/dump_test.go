package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/nginxconf"
)

var posJSON = regexp.MustCompile(`\{\s*"File": "([^"]*)",\s*"Line": (\d+)\s*\}`)

// dump renders a Config deterministically for golden files: JSON of the
// typed values, with pointers between parts replaced by names so that
// each part is printed once.
func dump(cfg *Config) string {
	var b strings.Builder
	j := func(label string, v any) {
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			out = []byte(err.Error())
		}
		out = posJSON.ReplaceAll(out, []byte(`"$1:$2"`))
		out = bytes.ReplaceAll(out, []byte(`":0"`), []byte(`"-"`))
		fmt.Fprintf(&b, "%s %s\n", label, out)
	}
	main := *cfg
	main.HTTP, main.Warnings = nil, nil
	j("main", main)
	if cfg.HTTP == nil {
		return b.String()
	}
	srvName := map[*Server]string{}
	for i, s := range cfg.HTTP.Servers {
		srvName[s] = fmt.Sprintf("server#%d", i)
	}
	for _, sk := range cfg.HTTP.Sockets {
		var names []string
		for _, s := range sk.Servers {
			names = append(names, srvName[s])
		}
		var ignored []string
		for _, ig := range sk.Ignored {
			ignored = append(ignored, srvName[ig.Server]+":"+ig.Name)
		}
		opts, _ := json.Marshal(sk.Options)
		fmt.Fprintf(&b, "socket %s ssl=%v default=%s servers=%v ignored=%v options=%s\n",
			sk.Addr, sk.SSL, srvName[sk.Default], names, ignored, opts)
	}
	for _, u := range cfg.HTTP.Upstreams {
		j("upstream", u)
	}
	for i, s := range cfg.HTTP.Servers {
		cp := *s
		cp.Locations, cp.Level = nil, nil
		j(fmt.Sprintf("server#%d", i), cp)
		var walk func(prefix string, ls []*Location)
		walk = func(prefix string, ls []*Location) {
			for _, l := range ls {
				lc := *l
				lc.Children = nil
				if lc.ProxyPass != nil {
					pp := *lc.ProxyPass
					if pp.Upstream != nil {
						pp.Upstream = &Upstream{Name: pp.Upstream.Name}
					}
					lc.ProxyPass = &pp
				}
				j(prefix+" location "+l.Name, lc)
				walk(prefix+"  ", l.Children)
			}
		}
		walk(fmt.Sprintf("server#%d", i), s.Locations)
	}
	return b.String()
}

// TestGoldenTyped renders what each testdata/typed/*.conf compiles to.
func TestGoldenTyped(t *testing.T) {
	files, _ := filepath.Glob("testdata/typed/*.conf")
	if len(files) == 0 {
		t.Fatal("no typed golden inputs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tree, err := nginxconf.ParseFile(f, nginxconf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Compile(tree, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(f, ".conf")+".golden", []byte(dump(cfg)))
		})
	}
}
