package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// noEffect are the compiled fields that nothing outside this package
// reads on purpose: their directives are accepted and have no effect
// (README.md says so: the text given must appear there).
var noEffect = map[string]string{
	// One process serves everything, in the foreground (README.md,
	// "Differences from nginx").
	"Config.Daemon":             "daemon",
	"Config.WorkerRlimitNofile": "worker_rlimit_nofile",
	"Config.Events":             "events",
	"Events.Present":            "events",
	"Events.Use":                "use",
	"Events.MultiAccept":        "multi_accept",
	"Events.WorkerConnections":  "worker_connections",
	// "user" is accepted only as the running user, which the
	// configuration checks; there is nothing to switch to.
	"Config.User": "user",
	// No temporary files for responses: proxy_buffering applies
	// back-pressure instead of spooling.
	"ServerCore.ProxyTempPath": "proxy_temp_path",
	// A body held in memory is always one buffer.
	"LocationCore.ClientBodyInSingleBuffer": "client_body_in_single_buffer",
	// Only "off" is accepted; "on" and the listen parameters are refused.
	"ServerCore.HTTP2":     "http2 off",
	"Socket.HTTP2":         "http2 off",
	"Listen.HTTP2":         "http2 off",
	"Socket.ProxyProtocol": "proxy_protocol",
	"Listen.ProxyProtocol": "proxy_protocol",
	// Go has no DHE suites; accepted with a warning.
	"ServerSSL.DHParam": "ssl_dhparam",
	// gatehouse writes to the client with blocking writes, during which
	// it does not read from the upstream, so no buffer is ever "busy
	// sending" while more is read; the value is still checked as nginx
	// checks it.
	"Proxy.BusyBuffersSize": "proxy_busy_buffers_size",
	// The header is read into one buffer of large_client_header_buffers'
	// size, whose limits are nginx's; the smaller first buffer nginx
	// starts with saves memory and changes no answer.
	"ServerCore.ClientHeaderBufferSize": "client_header_buffer_size",
}

// TestEveryCompiledFieldIsRead fails when an exported field of the
// compiled configuration (the struct types of types.go) is read by no
// non-test code outside this package: a directive parsed into such a
// field would be accepted and silently ignored. The check is by field
// name, so a name read on another type counts (a collision can hide an
// unread field, never invent one).
func TestEveryCompiledFieldIsRead(t *testing.T) {
	fset := token.NewFileSet()
	types, err := parser.ParseFile(fset, "types.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var readers, own []*ast.File
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if filepath.Dir(path) == self {
			own = append(own, f)
		} else {
			readers = append(readers, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) < 20 {
		t.Fatalf("only %d files found under %s", len(readers), root)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	unread := unreadFields([]*ast.File{types}, readers, own)
	for _, f := range unread {
		if strings.HasSuffix(f, "Pos") {
			// Positions (VerifyPos, KeyPos, ...) are where a
			// directive was written, for messages, not values.
			continue
		}
		d, ok := noEffect[f]
		switch {
		case !ok:
			t.Errorf("%s is compiled but read by nothing outside internal/config: honour its directive, refuse it, or list it in noEffect (and README.md)", f)
		case !strings.Contains(string(readme), d):
			t.Errorf("%s is listed as having no effect, but README.md does not mention `%s`", f, d)
		}
	}
	for _, list := range []map[string]string{noEffect} {
		for f := range list {
			if !slices.Contains(unread, f) {
				t.Errorf("%s is read now: remove it from its allow-list", f)
			}
		}
	}
}

// unreadFields returns, sorted, "Type.Field" for each exported field of
// an exported struct type declared in decls whose name is selected
// (x.Field) nowhere in readers or own other than on the left of an
// assignment. own are this package's files, where the raw directive
// values share the compiled fields' names: a selector used as an
// opt[T] (x.Field.V, .Set, .Pos or .or) is a raw value and not counted.
func unreadFields(decls, readers, own []*ast.File) []string {
	read := map[string]bool{}
	for i, f := range append(readers[:len(readers):len(readers)], own...) {
		isOwn := i >= len(readers)
		written := map[*ast.SelectorExpr]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok && isOwn {
				if inner, ok := s.X.(*ast.SelectorExpr); ok {
					switch s.Sel.Name {
					case "V", "Set", "Pos", "or":
						written[inner] = true
					}
				}
			}
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok == token.ASSIGN {
					for _, l := range n.Lhs {
						if s, ok := l.(*ast.SelectorExpr); ok {
							written[s] = true
						}
					}
				}
			case *ast.SelectorExpr:
				if !written[n] {
					read[n.Sel.Name] = true
				}
			}
			return true
		})
	}
	var unread []string
	for _, f := range decls {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok || !ts.Name.IsExported() {
					continue
				}
				for _, fl := range st.Fields.List {
					for _, n := range fl.Names {
						if n.IsExported() && !read[n.Name] {
							unread = append(unread, ts.Name.Name+"."+n.Name)
						}
					}
				}
			}
		}
	}
	sort.Strings(unread)
	return unread
}

// TestUnreadFields checks the checker on small sources.
func TestUnreadFields(t *testing.T) {
	const decls = `package config
type A struct {
	X, Y int
	Z    string
	low  int
}
type B struct{ X int }
type hidden struct{ W int }
`
	cases := []struct {
		name, reader string
		own          bool // the reader is in package config
		want         []string
	}{
		{"all read", `package p; func f(a A, b B) any { return []any{a.X, a.Y, a.Z} }`, false, nil},
		{"one unread", `package p; func f(a A) any { return []any{a.X, a.Z} }`, false, []string{"A.Y"}},
		{"written only", `package p; func f(a *A) any { a.Y = 1; return []any{a.X, a.Z} }`, false, []string{"A.Y"}},
		{"read and written", `package p; func f(a *A) any { a.Y = a.Y + 1; return []any{a.X, a.Z} }`, false, nil},
		{"a compound assignment reads", `package p; func f(a *A) any { a.Y += 1; return []any{a.X, a.Z} }`, false, nil},
		{"nothing read", `package p`, false, []string{"A.X", "A.Y", "A.Z", "B.X"}},
		{"a raw value in package config", `package config; func f(cf *conf, a A) any { return []any{cf.Y.V, cf.X.or(1), a.Z} }`, true, []string{"A.X", "A.Y", "B.X"}},
		{"a compiled value in package config", `package config; func f(a A) any { return []any{a.X, a.Y, a.Z} }`, true, nil},
		{"opt-like use outside package config counts", `package p; func f(a A) any { return []any{a.X.V, a.Y, a.Z} }`, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			d, err := parser.ParseFile(fset, "types.go", decls, 0)
			if err != nil {
				t.Fatal(err)
			}
			r, err := parser.ParseFile(fset, "r.go", tc.reader, 0)
			if err != nil {
				t.Fatal(err)
			}
			var readers, own []*ast.File
			if tc.own {
				own = append(own, r)
			} else {
				readers = append(readers, r)
			}
			if got := unreadFields([]*ast.File{d}, readers, own); !slices.Equal(got, tc.want) {
				t.Errorf("unread %q, want %q", got, tc.want)
			}
		})
	}
}
