package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/nginxconf"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata")

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("mismatch with %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// messages renders a load's outcome as the CLI prints it: each warning as
// "[warn] ...", then "[emerg] ..." or "ok".
func messages(cfg *Config, err error) []byte {
	var b bytes.Buffer
	warns := Warnings(err)
	if cfg != nil {
		warns = cfg.Warnings
	}
	for _, w := range warns {
		b.WriteString("[warn] " + w.Error() + "\n")
	}
	if err != nil {
		b.WriteString("[emerg] " + err.Error() + "\n")
	} else {
		b.WriteString("ok\n")
	}
	return b.Bytes()
}

// TestGolden compiles each testdata/golden/*.conf and compares the
// warnings and the error, exactly as printed, with the .golden file.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tree, err := nginxconf.ParseFile(f, nginxconf.Options{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			cfg, err := Compile(tree, testOptions())
			if err != nil {
				var e *nginxconf.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is %T, want *nginxconf.Error", err, err)
				}
				// Only the CLI's own wording ends in a position; every
				// error with one must name this file.
				if e.Pos.File != "" && e.Pos.File != f {
					t.Errorf("error position %v names another file", e.Pos)
				}
			}
			out := messages(cfg, err)
			if strings.Contains(f, "ok-") && err != nil {
				t.Errorf("%s must compile: %v", f, err)
			}
			checkGolden(t, strings.TrimSuffix(f, ".conf")+".golden", out)
		})
	}
}
