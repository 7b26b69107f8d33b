package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/nginxconf"
)

// FuzzCompile parses arbitrary text and compiles what parses: Compile and
// CheckDirectives must never panic, and every error must be a
// *nginxconf.Error whose position, when it has one, names the input file
// and a line that exists.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.conf")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(inheritConf)
	f.Add("http { server { listen [::1]:8443 ssl default_server; server_name .x ~^(?<a>.+)$; location ~* \\.(gif)$ { proxy_pass https://$a; } } }")
	f.Add("http { upstream u { hash $x consistent; server unix:/s weight=2; keepalive 2; least_conn; } }")
	f.Fuzz(func(t *testing.T, src string) {
		tree, perr := nginxconf.ParseBytes("/f.conf", []byte(src), nginxconf.Options{
			ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
			Glob:     func(string) ([]string, error) { return nil, nil },
		})
		if tree == nil {
			return
		}
		lines := strings.Count(src, "\n") + 1
		check := func(err error) {
			if err == nil {
				return
			}
			var e *nginxconf.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T", err, err)
			}
			if e.Pos.File != "" && (e.Pos.File != "/f.conf" || e.Pos.Line < 1 || e.Pos.Line > lines) {
				t.Fatalf("error %q has position %v outside the input (%d lines)", e.Msg, e.Pos, lines)
			}
		}
		check(CheckDirectives(tree.Directives, testOptions()))
		if perr != nil {
			return
		}
		cfg, err := Compile(tree, testOptions())
		check(err)
		if cfg != nil {
			for _, w := range cfg.Warnings {
				check(w)
			}
		}
	})
}
