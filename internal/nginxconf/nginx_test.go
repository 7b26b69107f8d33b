package nginxconf

import (
	"bytes"
	"context"
	"errors"
	"gatehouse/internal/testproc"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const nginxBinary = "/usr/sbin/nginx"

// nginxLine finds the first error nginx logged to stderr ("-e stderr"
// format: "DATE TIME [emerg] PID#TID: MESSAGE", where MESSAGE may span
// lines when a quoted word holds a newline).
var nginxLine = regexp.MustCompile(`(?s)\[(?:emerg|crit|alert)\] \d+#\d+: (.*?)\n(?:nginx: configuration file|\d{4}/)`)

// nginxTest runs "nginx -t" on the configuration file conf (in dir) with
// optional -g text and returns the first error message it printed.
func nginxTest(t *testing.T, dir, conf, g string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	args := []string{"-t", "-q", "-e", "stderr", "-p", dir + "/", "-c", conf}
	if g != "" {
		args = append(args, "-g", g)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, nginxBinary, args...)
	cmd.Stderr = &stderr
	if err := testproc.Run(t, cmd); err == nil {
		t.Fatalf("nginx accepted %s; every input here must fail", conf)
	}
	m := nginxLine.FindSubmatch(stderr.Bytes())
	if m == nil {
		t.Fatalf("no error line in nginx's output:\n%s", stderr.Bytes())
	}
	return string(m[1])
}

func requireNginx(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("differential test needs nginx at %s: %v", nginxBinary, err)
	}
}

// copyTree copies the files under src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNginxErrorFiles checks that nginx reports the same message, file and
// line as ParseFile for every syntax-error input in testdata/errors.
func TestNginxErrorFiles(t *testing.T) {
	requireNginx(t)
	dir := t.TempDir()
	copyTree(t, "testdata/errors", dir)
	files := confFiles(t, dir)
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "include-self") || strings.HasPrefix(name, "include-loop") {
			continue // nginx recurses until it runs out of file descriptors
		}
		t.Run(name, func(t *testing.T) {
			_, err := ParseFile(f, Options{})
			if err == nil {
				t.Fatal("ParseFile accepted it")
			}
			if got, want := err.Error(), nginxTest(t, dir, f, ""); got != want {
				t.Errorf("\n got: %s\nnginx: %s", got, want)
			}
		})
	}
}

// noEvents is what nginx -t says about a configuration whose syntax is fine
// but that has no events block; inputs we accept must get exactly this.
const noEvents = `no "events" section in configuration`

// expectNginx predicts nginx's first message for src parsed (tree, err):
// nginx acts on each directive when its terminator is read, and only "env"
// with one argument is known and valid among the names used here, so the
// first other directive preempts a later syntax error.
func expectNginx(tree *Tree, err error) string {
	e := &Error{Msg: noEvents}
	var pe *Error
	if errors.As(err, &pe) {
		e = pe
	}
	for _, d := range tree.Directives {
		if d.Name != "env" {
			e = Errorf(d.Pos, `unknown directive "%s"`, d.Name)
		} else if d.Block != nil {
			e = Errorf(d.Pos, `directive "env" is not terminated by ";"`)
		} else if len(d.Args) != 1 {
			e = Errorf(d.Pos, `invalid number of arguments in "env" directive`)
		} else {
			continue
		}
		break
	}
	return e.Error()
}

// TestNginxBufferBoundaries checks the over-long token errors around
// nginx's 4 KiB read buffer, where the outcome depends on what follows the
// token.
func TestNginxBufferBoundaries(t *testing.T) {
	requireNginx(t)
	dir := t.TempDir()
	z := func(n int) string { return strings.Repeat("z", n) }
	cases := map[string]string{
		"quoted-4093-two-spaces":  `env "` + z(4093) + `"  ;`,
		"quoted-4094-two-spaces":  `env "` + z(4094) + `"  ;`,
		"quoted-4094-semicolon":   `env "` + z(4094) + `";`,
		"quoted-4095-semicolon":   `env "` + z(4095) + `";`,
		"quoted-4096-semicolon":   `env "` + z(4096) + `";`,
		"word-4091-semicolon":     `env ` + z(4091) + `;`,
		"word-4092-semicolon":     `env ` + z(4092) + `;`,
		"word-4093-semicolon":     `env ` + z(4093) + `;`,
		"word-4095-space":         "env\n" + z(4095) + " ;",
		"word-4096-at-start":      z(4096) + ";",
		"word-4095-at-start":      z(4095) + ";",
		"word-after-4000-spaces":  strings.Repeat(" ", 4000) + "env " + z(300) + ";",
		"comment-longer-than-buf": "# " + z(9000) + "\nenv a;",
		"squote-unterminated":     "env\n'" + strings.Repeat("a\n", 3000),
		"escapes-long":            `env "` + strings.Repeat(`\"`, 2100) + `";`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, name+".conf")
			if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			tree, err := ParseFile(f, Options{})
			if got, want := expectNginx(tree, err), nginxTest(t, dir, f, ""); got != want {
				t.Errorf("\n got: %s\nnginx: %s", got, want)
			}
		})
	}
}

// TestNginxCommandLine compares ParseCommandLine with nginx's -g handling.
func TestNginxCommandLine(t *testing.T) {
	requireNginx(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte("env a;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.inc"), []byte("env\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{
		"env x; http {",
		"env x",
		`env "x`,
		"}",
		";",
		"env x; }",
		"env x;\nenv y z;",
		"include bad.inc;",
		"include missing.inc;",
		`env "a"b;`,
		"env " + strings.Repeat("z", 5000) + ";",
	} {
		t.Run(g, func(t *testing.T) {
			tree, err := ParseCommandLine(g, Options{ConfPrefix: dir})
			if got, want := expectNginx(tree, err), nginxTest(t, dir, conf, g); got != want {
				t.Errorf("\n got: %s\nnginx: %s", got, want)
			}
		})
	}
}

// TestNginxRandom compares the outcome on random statements built from the
// characters the lexer treats specially, which is where a lexer most often
// drifts from nginx's.
func TestNginxRandom(t *testing.T) {
	requireNginx(t)
	n := 300
	if testing.Short() {
		n = 40
	}
	dir := t.TempDir()
	pieces := []string{"env", "env", "env", "e", " ", " ", "\n", "\t", "\r", `"`, `'`,
		";", ";", "{", "}", "#", `\`, "$", "(", ")", "x", "x"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		var b strings.Builder
		for range 1 + rng.IntN(14) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		src := b.String()
		f := filepath.Join(dir, "r.conf")
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		tree, err := ParseFile(f, Options{})
		if got, want := expectNginx(tree, err), nginxTest(t, dir, f, ""); got != want {
			t.Errorf("case %d %q:\n got: %s\nnginx: %s", i, src, got, want)
		}
	}

	// The same for -g text, which has its own end-of-input message and no
	// blocks; the main file is valid, so nginx reports the -g problem.
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte("env a;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range n / 3 {
		var b strings.Builder
		for range 1 + rng.IntN(14) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		g := b.String()
		tree, err := ParseCommandLine(g, Options{ConfPrefix: dir})
		if got, want := expectNginx(tree, err), nginxTest(t, dir, conf, g); got != want {
			t.Errorf("-g case %d %q:\n got: %s\nnginx: %s", i, g, got, want)
		}
	}
}

// nginxDump runs "nginx -T" on conf and returns its standard output.
func nginxDump(t *testing.T, dir, conf string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, nginxBinary, "-T", "-q", "-e", "stderr", "-p", dir+"/", "-c", conf)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := testproc.Run(t, cmd); err != nil {
		t.Fatalf("nginx -T: %v\n%s", err, stderr.Bytes())
	}
	return stdout.String()
}

// TestNginxGlobAndDump compares, for a set of include masks, the files
// nginx reads, in the order and number "nginx -T" prints them, with
// Tree.Dump.
func TestNginxGlobAndDump(t *testing.T) {
	requireNginx(t)
	dir := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"a.conf", "b.conf", "B.conf", "10.conf", "9.conf", ".hidden.conf",
		"a.conf~", "[x].conf", "*.conf", "ab", "-", "]", "sub1/c.conf", "sub2/c.conf", "sub2/.d.conf", ".sub/e.conf"} {
		files["g/"+name] = "env " + strings.NewReplacer("*", "star", "[", "", "]", "br", "/", "_").Replace(name) + ";\n"
	}
	files["g/nonl.conf"] = "env nonl;" // no final newline: -T adds one
	writeFiles(t, dir, files)
	for _, mask := range []string{
		"g/*.conf", "g/*", "g/?.conf", "g/??.conf", "g/[ab].conf", "g/[!ab]*", "g/[^a-z]*",
		`g/\*.conf`, `g/\[x].conf`, "g/[x].conf", "g/[]]", "g/[a-]", "g/*/c.conf", "g/*/*",
		"g/.*", "g/[.]*", "g/sub?/*.conf", "g/nomatch*", "g/[", "g/a.conf", "g/[a].conf",
	} {
		t.Run(mask, func(t *testing.T) {
			conf := filepath.Join(dir, "nginx.conf")
			// nginx -t creates the pid file and opens the error log; keep
			// both away from the system's.
			src := "pid " + dir + "/nginx.pid;\nerror_log stderr;\nevents {}\n" +
				"include '" + mask + "';\ninclude '" + mask + "';\n"
			if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			tree, err := ParseFile(conf, Options{})
			if err != nil {
				// Masks matching a directory fail on reading it.
				if got, want := err.Error(), nginxTest(t, dir, conf, ""); got != want {
					t.Errorf("\n got: %s\nnginx: %s", got, want)
				}
				return
			}
			if got, want := string(tree.Dump()), nginxDump(t, dir, conf); got != want {
				t.Errorf("\n got:\n%s\nnginx:\n%s", got, want)
			}
		})
	}
}
