package nginxconf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

// writeFiles creates files (path relative to dir → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// flatten lists every directive as "name args @file:line", depth-first,
// with the directory prefix replaced by "D".
func flatten(dir string, dirs []*Directive) []string {
	var out []string
	var walk func(ds []*Directive, depth int)
	walk = func(ds []*Directive, depth int) {
		for _, d := range ds {
			file := d.Pos.File
			if dir != "" {
				file = strings.Replace(file, dir, "D", 1)
			}
			s := strings.Repeat(">", depth) + strings.Join(append([]string{d.Name}, d.Args...), " ") +
				" @" + file + ":" + strconv.Itoa(d.Pos.Line)
			out = append(out, s)
			walk(d.Block, depth+1)
		}
	}
	walk(dirs, 0)
	return out
}

func TestInclude(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // nginx.conf is the main file
		want    []string          // flatten output
		wantErr string            // with D for the directory
		files2  []string          // Tree.Files paths, if checked
	}{
		{
			name: "relative to the main file's directory",
			files: map[string]string{
				"nginx.conf":  "http {\n    include sub/a.conf;\n}\n",
				"sub/a.conf":  "server {\n    include b.conf;\n}\n",
				"b.conf":      "listen 1;\n",
				"sub/b.conf":  "listen 2;\n",
				"sub/unused":  "x;",
				"other/b.con": "y;",
			},
			want: []string{
				"http @D/nginx.conf:1",
				">server @D/sub/a.conf:1",
				">>listen 1 @D/b.conf:1",
			},
			files2: []string{"D/nginx.conf", "D/sub/a.conf", "D/b.conf"},
		},
		{
			name: "spliced in place between siblings",
			files: map[string]string{
				"nginx.conf": "a;\ninclude x.conf;\nb {\n    c;\n    include x.conf;\n    d;\n}\ne;\n",
				"x.conf":     "\n\nx1;\nx2 {\n    x3;\n}\n",
			},
			want: []string{
				"a @D/nginx.conf:1",
				"x1 @D/x.conf:3",
				"x2 @D/x.conf:4",
				">x3 @D/x.conf:5",
				"b @D/nginx.conf:3",
				">c @D/nginx.conf:4",
				">x1 @D/x.conf:3",
				">x2 @D/x.conf:4",
				">>x3 @D/x.conf:5",
				">d @D/nginx.conf:6",
				"e @D/nginx.conf:8",
			},
			// Each file is listed once although read twice.
			files2: []string{"D/nginx.conf", "D/x.conf"},
		},
		{
			name: "glob in sorted order without hidden files",
			files: map[string]string{
				"nginx.conf":      "include conf.d/*.conf;\n",
				"conf.d/z.conf":   "z;",
				"conf.d/a.conf":   "a;",
				"conf.d/B.conf":   "B;",
				"conf.d/10.conf":  "ten;",
				"conf.d/9.conf":   "nine;",
				"conf.d/.h.conf":  "hidden;",
				"conf.d/a.conf~":  "backup;",
				"conf.d/sub/x.cf": "deep;",
			},
			want: []string{
				"ten @D/conf.d/10.conf:1",
				"nine @D/conf.d/9.conf:1",
				"B @D/conf.d/B.conf:1",
				"a @D/conf.d/a.conf:1",
				"z @D/conf.d/z.conf:1",
			},
		},
		{
			name: "glob with brackets, question mark and wildcard directories",
			files: map[string]string{
				"nginx.conf": "include s[a-b]/?.conf;\ninclude s*/[!a].conf;\n",
				"sa/a.conf":  "sa_a;",
				"sb/b.conf":  "sb_b;",
				"sc/c.conf":  "sc_c;",
				"sa/ab.conf": "sa_ab;",
			},
			want: []string{
				"sa_a @D/sa/a.conf:1",
				"sb_b @D/sb/b.conf:1",
				"sb_b @D/sb/b.conf:1",
				"sc_c @D/sc/c.conf:1",
			},
		},
		{
			name: "a directory matched by a glob fails on read, without position",
			files: map[string]string{
				"nginx.conf": "a;\ninclude d*;\n",
				"d1/x":       "x;",
			},
			want:    []string{"a @D/nginx.conf:1"},
			wantErr: `pread() "D/d1" failed (21: Is a directory)`,
		},
		{
			name: "glob matching nothing is not an error",
			files: map[string]string{
				"nginx.conf": "include none/*.conf;\ninclude *.none;\na;\n",
			},
			want: []string{"a @D/nginx.conf:3"},
		},
		{
			name: "missing file",
			files: map[string]string{
				"nginx.conf": "a;\n\ninclude missing.conf;\nb;\n",
			},
			want:    []string{"a @D/nginx.conf:1"},
			wantErr: `open() "D/missing.conf" failed (2: No such file or directory) in D/nginx.conf:3`,
		},
		{
			name: "missing file in a nested include",
			files: map[string]string{
				"nginx.conf": "http {\n    include a.conf;\n}\n",
				"a.conf":     "server {\n    listen 1;\n\n    include ../gone.conf;\n}\n",
			},
			want:    []string{"http @D/nginx.conf:1", ">server @D/a.conf:1", ">>listen 1 @D/a.conf:2"},
			wantErr: `open() "D/../gone.conf" failed (2: No such file or directory) in D/a.conf:4`,
		},
		{
			name: "syntax error inside an included file",
			files: map[string]string{
				"nginx.conf": "events {}\ninclude a.conf;\n",
				"a.conf":     "ok;\n\nbad \"x\"y;\n",
			},
			want:    []string{"events @D/nginx.conf:1", "ok @D/a.conf:1"},
			wantErr: `unexpected "y" in D/a.conf:3`,
		},
		{
			name: "a block may not span files",
			files: map[string]string{
				"nginx.conf": "http {\n    include a.conf;\n",
				"a.conf":     "server {}\n}\n",
			},
			want:    []string{"http @D/nginx.conf:1", ">server @D/a.conf:1"},
			wantErr: `unexpected "}" in D/a.conf:2`,
		},
		{
			name: "self include",
			files: map[string]string{
				"nginx.conf": "a;\ninclude nginx.conf;\n",
			},
			want:    []string{"a @D/nginx.conf:1"},
			wantErr: `include of "D/nginx.conf" is recursive in D/nginx.conf:2`,
		},
		{
			name: "include cycle through a glob",
			files: map[string]string{
				"nginx.conf": "include c/*.conf;\n",
				"c/1.conf":   "one;\n",
				"c/2.conf":   "two;\ninclude ./c/3.conf;\n",
				"c/3.conf":   "three;\n\ninclude c/2.conf;\n",
			},
			want:    []string{"one @D/c/1.conf:1", "two @D/c/2.conf:1", "three @D/./c/3.conf:1"},
			wantErr: `include of "D/c/2.conf" is recursive in D/./c/3.conf:3`,
		},
		{
			name: "argument count",
			files: map[string]string{
				"nginx.conf": "include a.conf b.conf;\n",
			},
			wantErr: `invalid number of arguments in "include" directive in D/nginx.conf:1`,
		},
		{
			name: "quoted include name and path",
			files: map[string]string{
				"nginx.conf":      "\"include\" 'my dir/a b.conf';\n",
				"my dir/a b.conf": "x;\n",
			},
			want: []string{"x @D/my dir/a b.conf:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			tree, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %s", tt.wantErr)
				}
				if got := strings.ReplaceAll(err.Error(), dir, "D"); got != tt.wantErr {
					t.Errorf("error\n got: %s\nwant: %s", got, tt.wantErr)
				}
			}
			if got := flatten(dir, tree.Directives); !slices.Equal(got, tt.want) {
				t.Errorf("directives\n got: %q\nwant: %q", got, tt.want)
			}
			if tt.files2 != nil {
				var got []string
				for _, f := range tree.Files {
					got = append(got, strings.Replace(f.Path, dir, "D", 1))
					want, _ := os.ReadFile(f.Path)
					if string(f.Content) != string(want) {
						t.Errorf("content of %s differs from the file", f.Path)
					}
				}
				if !slices.Equal(got, tt.files2) {
					t.Errorf("Files\n got: %q\nwant: %q", got, tt.files2)
				}
			}
		})
	}
}

func TestIncludeErrorCause(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"nginx.conf": "include nope.conf;\n"})
	_, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Pos.Line != 1 || e.Pos.File != filepath.Join(dir, "nginx.conf") {
		t.Errorf("error %#v, want *Error at nginx.conf:1", err)
	}

	writeFiles(t, dir, map[string]string{"self.conf": "include self.conf;\n"})
	_, err = ParseFile(filepath.Join(dir, "self.conf"), Options{})
	if !errors.Is(err, ErrRecursiveInclude) {
		t.Errorf("errors.Is(%v, ErrRecursiveInclude) = false", err)
	}

	_, err = ParseFile(filepath.Join(dir, "absent.conf"), Options{})
	want := `open() "` + dir + `/absent.conf" failed (2: No such file or directory)`
	if err == nil || err.Error() != want {
		t.Errorf("main file missing: got %v, want %s (no position, as nginx)", err, want)
	}
}

// TestIncludeHooks reads from an in-memory file system through
// Options.ReadFile and Options.Glob, and checks errno rendering for
// errors the OS would give.
func TestIncludeHooks(t *testing.T) {
	mfs := fstest.MapFS{
		"etc/nginx/nginx.conf":       {Data: []byte("http {\n    include conf.d/*.conf;\n    include /etc/secret.conf;\n}\n")},
		"etc/nginx/conf.d/b.conf":    {Data: []byte("b;\n")},
		"etc/nginx/conf.d/a.conf":    {Data: []byte("a;\n")},
		"etc/nginx/conf.d/c.notconf": {Data: []byte("c;\n")},
	}
	opts := Options{
		ReadFile: func(name string) ([]byte, error) {
			if name == "/etc/secret.conf" {
				return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
			}
			return fs.ReadFile(mfs, strings.TrimPrefix(name, "/"))
		},
		Glob: func(pattern string) ([]string, error) {
			m, err := fs.Glob(mfs, strings.TrimPrefix(pattern, "/"))
			for i := range m {
				m[i] = "/" + m[i]
			}
			return m, err
		},
	}
	tree, err := ParseFile("/etc/nginx/nginx.conf", opts)
	want := `open() "/etc/secret.conf" failed (13: Permission denied) in /etc/nginx/nginx.conf:3`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false", err)
	}
	got := flatten("", tree.Directives)
	wantDirs := []string{
		"http @/etc/nginx/nginx.conf:1",
		">a @/etc/nginx/conf.d/a.conf:1",
		">b @/etc/nginx/conf.d/b.conf:1",
	}
	if !slices.Equal(got, wantDirs) {
		t.Errorf("got %q, want %q", got, wantDirs)
	}
	if tree.Directives[0].End != (Pos{}) {
		t.Errorf("unclosed block has End %v, want zero", tree.Directives[0].End)
	}

	// A missing file from a file system that does not return an errno.
	delete(mfs, "etc/nginx/conf.d/a.conf")
	mfs["etc/nginx/nginx.conf"] = &fstest.MapFile{Data: []byte("include x.conf;\n")}
	_, err = ParseFile("/etc/nginx/nginx.conf", opts)
	want = `open() "/etc/nginx/x.conf" failed (2: No such file or directory) in /etc/nginx/nginx.conf:1`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestConfPrefixOption(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"inc/a.conf": "a;\n"})
	for _, prefix := range []string{dir, dir + "/"} {
		tree, err := ParseCommandLine("include inc/a.conf; b;", Options{ConfPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		got := flatten(dir, tree.Directives)
		want := []string{"a @D/inc/a.conf:1", "b @command line:1"}
		if !slices.Equal(got, want) {
			t.Errorf("prefix %q: got %q, want %q", prefix, got, want)
		}
		if len(tree.Files) != 1 || tree.Files[0].Path != dir+"/inc/a.conf" {
			t.Errorf("Files = %v, want only the included file", tree.Files)
		}
	}
}

func TestOSGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.conf", "a.conf", true},
		{"*.conf", "a.conf~", false},
		{"*.conf", ".a.conf", false},
		{".*.conf", ".a.conf", true},
		{"*", "", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"?.conf", "ab.conf", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[a-]", "-", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"[abc", "[abc", true},
		{"[abc", "a", false},
		{`[\]]`, "]", true},
	}
	for _, tt := range tests {
		if got := matchComponent(tt.pattern, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
