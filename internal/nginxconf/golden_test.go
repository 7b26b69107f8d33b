package nginxconf

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata")

// checkGolden compares got with the golden file at path, or rewrites the
// file under -update.
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

func confFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in %s (%v)", dir, err)
	}
	return files
}

// TestGoldenErrors parses each testdata/errors/*.conf, which must fail, and
// compares the error text, as nginx prints it after "[emerg] ", with the
// .golden file beside it.
func TestGoldenErrors(t *testing.T) {
	for _, f := range confFiles(t, "testdata/errors") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tree, err := ParseFile(f, Options{})
			if err == nil {
				t.Fatalf("parsed without error:\n%s", Format(tree.Directives))
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if tree == nil {
				t.Fatal("nil tree returned with the error")
			}
			checkGolden(t, strings.TrimSuffix(f, ".conf")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

// TestGoldenValid parses each testdata/valid/*.conf, which must succeed,
// compares Format's output with the .golden file, and checks that the
// output parses back to the same directives and formats identically.
func TestGoldenValid(t *testing.T) {
	for _, f := range confFiles(t, "testdata/valid") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tree, err := ParseFile(f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out := Format(tree.Directives)
			checkGolden(t, strings.TrimSuffix(f, ".conf")+".golden", out)

			again, err := ParseBytes("formatted", out, Options{ConfPrefix: "/nonexistent"})
			if err != nil {
				t.Fatalf("Format output does not parse: %v\n%s", err, out)
			}
			if !Equal(tree.Directives, again.Directives) {
				t.Errorf("Format output parses differently:\n%s", out)
			}
			if out2 := Format(again.Directives); !bytes.Equal(out, out2) {
				t.Errorf("Format is not stable:\n%s\nthen:\n%s", out, out2)
			}
		})
	}
}
