package nginxconf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks, for any input: no panic; every positioned error names
// the file and a line within the input; parsing is deterministic; and for
// accepted input Parse(Format(Parse(x))) equals Parse(x).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a;", "}", "a {", "a \"b\"c;", "events {}\nhttp { server { listen 80; } }\n",
		"a ${x}y \\d \"\\n\" '' \"\";", "if ($a = \"b\") { return 200; }", "a#b; # c\n",
		"a\r\nb;", "include x;", "include a b;", "a \\", "a \"\\\"", "${{;", "a)b \"c\")d;",
	} {
		f.Add([]byte(s))
	}
	for _, dir := range []string{"testdata/errors", "testdata/valid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil && len(data) < 2048 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// Includes must not reach the real file system.
		opts := Options{
			ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
			Glob:     func(string) ([]string, error) { return nil, nil },
		}
		tree, err := ParseBytes("fuzz.conf", src, opts)
		if tree == nil {
			t.Fatal("nil tree")
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.Pos != (Pos{}) && (e.Pos.File != "fuzz.conf" || e.Pos.Line < 1 || e.Pos.Line > lines) {
				t.Fatalf("error position %v outside the input's %d lines: %v", e.Pos, lines, err)
			}
		}
		checkPositions(t, tree.Directives, lines)

		tree2, err2 := ParseBytes("fuzz.conf", src, opts)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) ||
			!Equal(tree.Directives, tree2.Directives) {
			t.Fatal("parsing is not deterministic")
		}
		if err != nil {
			return
		}

		out := Format(tree.Directives)
		// A long word may straddle nginx's 4 KiB buffer differently once
		// reformatted (escapes change its length); the property is about
		// syntax, so check such output in -g mode, which has no limit.
		var again *Tree
		if len(out) > confBuffer/2 {
			if hasBlock(tree.Directives) {
				return
			}
			again, err = ParseCommandLine(string(out), opts)
		} else {
			again, err = ParseBytes("formatted.conf", out, opts)
		}
		if err != nil {
			t.Fatalf("Format output does not parse: %v\n%s", err, out)
		}
		if !Equal(tree.Directives, again.Directives) {
			t.Fatalf("Format output parses differently:\n%s", out)
		}
		if out2 := Format(again.Directives); !bytes.Equal(out, out2) {
			t.Fatalf("Format is not stable:\n%s\nthen:\n%s", out, out2)
		}
	})
}

func checkPositions(t *testing.T, dirs []*Directive, lines int) {
	t.Helper()
	for _, d := range dirs {
		if d.Pos.File != "fuzz.conf" || d.Pos.Line < 1 || d.Pos.Line > lines {
			t.Fatalf("directive %q has position %v, input has %d lines", d.Name, d.Pos, lines)
		}
		if d.IsBlock() && d.End != (Pos{}) && (d.End.Line < d.Pos.Line || d.End.Line > lines) {
			t.Fatalf("block %q ends at %v before it starts at %v", d.Name, d.End, d.Pos)
		}
		if len(d.Quoted) != len(d.Args) {
			t.Fatalf("directive %q has %d args but %d quoted flags", d.Name, len(d.Args), len(d.Quoted))
		}
		checkPositions(t, d.Block, lines)
	}
}

func hasBlock(dirs []*Directive) bool {
	for _, d := range dirs {
		if d.IsBlock() {
			return true
		}
	}
	return false
}

// BenchmarkParse measures parsing a realistic configuration (the product's
// example) from memory.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("testdata/valid/complete-example.conf")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := ParseBytes("bench.conf", src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormat measures writing the same configuration back.
func BenchmarkFormat(b *testing.B) {
	src, err := os.ReadFile("testdata/valid/complete-example.conf")
	if err != nil {
		b.Fatal(err)
	}
	tree, err := ParseBytes("bench.conf", src, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Format(tree.Directives)
	}
}
