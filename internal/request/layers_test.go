package request

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is the module path; imports under it are the house's own.
const module = "gatehouse"

// imports reads the non-test Go files under root and returns, for each
// package directory ("internal/proxy", "cmd/gatehouse"), the module
// packages it imports, the same way.
func imports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		for _, s := range f.Imports {
			p := strings.Trim(s.Path.Value, `"`)
			if q, ok := strings.CutPrefix(p, module+"/"); ok && !slices.Contains(out[rel], q) {
				out[rel] = append(out[rel], q)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportLayers keeps the house one-way: nginxconf ← config ← leaf
// packages ← request ← proxy ← server ← cmd. Leaf packages never import
// config or anything above them; config produces the leaves' types but
// imports nothing above them; request knows no protocol-specific
// consumer (proxy) nor server; proxy is only the upstream hop.
func TestImportLayers(t *testing.T) {
	graph := imports(t, filepath.Join("..", ".."))
	if len(graph["internal/request"]) == 0 || len(graph["internal/server"]) == 0 {
		t.Fatalf("the tree was not read: %v", graph)
	}
	above := []string{"internal/config", "internal/request", "internal/proxy", "internal/server"}
	// forbidden lists, per package (or "leaf" for every other internal
	// package), what it must not import.
	forbidden := map[string][]string{
		"internal/nginxconf": {"internal/"},
		"internal/config":    {"internal/request", "internal/proxy", "internal/server"},
		"internal/request":   {"internal/config", "internal/proxy", "internal/server"},
		"internal/proxy":     {"internal/config", "internal/route", "internal/server"},
		"internal/server":    {"cmd/"},
		"internal/http1":     {"internal/config", "internal/route"},
	}
	for pkg, deps := range graph {
		rules, ok := forbidden[pkg]
		if !ok && strings.HasPrefix(pkg, "internal/") {
			rules = above // a leaf
		}
		if strings.HasPrefix(pkg, "internal/") {
			rules = append(rules, "cmd/")
		}
		for _, d := range deps {
			for _, r := range rules {
				if d == r || (strings.HasSuffix(r, "/") && strings.HasPrefix(d, r)) {
					t.Errorf("%s imports %s", pkg, d)
				}
			}
		}
	}
	// Only cmd wires the server.
	for pkg, deps := range graph {
		if slices.Contains(deps, "internal/server") && !strings.HasPrefix(pkg, "cmd/") {
			t.Errorf("%s imports internal/server", pkg)
		}
	}
}
