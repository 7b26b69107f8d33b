package errorlog

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// fixedClock returns a clock stuck at 2025-10-10 13:55:36 in a zone east
// of UTC, so that the test also proves local time is printed as given.
func fixedClock() func() time.Time {
	zone := time.FixedZone("TEST", 2*3600)
	return func() time.Time { return time.Date(2025, 10, 10, 13, 55, 36, 999_000_000, zone) }
}

// syncBuffer is a bytes.Buffer safe for the concurrent test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newStderrLogger(t *testing.T, level Level, echo bool) (*Logger, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	l, err := New([]Target{{Path: "stderr", Level: level}}, Options{PID: 4711, Now: fixedClock(), Stderr: &buf, Echo: echo})
	if err != nil {
		t.Fatal(err)
	}
	return l, &buf
}

func TestLineGolden(t *testing.T) {
	cases := []struct {
		name  string
		level Level
		ctx   *Context
		msg   string
	}{
		{"no context", Notice, nil, "start worker processes"},
		{"connection only", Info, &Context{Conn: 3, Client: "203.0.113.7", Server: "0.0.0.0:443", Action: "SSL handshaking"},
			"client sent no required SSL certificate"},
		{"all parts", Error, &Context{
			Conn:      17,
			Action:    "SSL handshaking to upstream",
			Client:    "203.0.113.7",
			Server:    "www.example.com",
			InRequest: true,
			Request:   []byte("GET /upstream HTTP/1.1"),
			Upstream:  []byte("https://192.0.2.10:443/upstream"),
			Host:      []byte("www.example.com"),
			Referrer:  []byte("https://ref.example/"),
		}, "upstream SSL certificate verify error: (20:unable to get local issuer certificate)"},
		{"request with empty server name", Info, &Context{Conn: 9, Client: "::1", InRequest: true, Request: []byte("GET / HTTP/1.1")},
			"client sent invalid header line"},
		{"warn level", Warn, &Context{Conn: 1}, "upstream server temporarily disabled"},
		{"emerg", Emerg, nil, `unknown "foo" variable`},
		{"debug has no context", Debug, &Context{Conn: 12, Client: "203.0.113.7", Action: "reading upstream"}, "http upstream process"},
	}
	var got bytes.Buffer
	for _, c := range cases {
		l, buf := newStderrLogger(t, Debug, false)
		l.Log(c.level, c.ctx, c.msg)
		fmt.Fprintf(&got, "# %s\n%s", c.name, buf.String())
	}
	golden := filepath.Join("testdata", "lines.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got.String() != string(want) {
		t.Errorf("lines differ from %s:\n--- got\n%s--- want\n%s", golden, got.String(), want)
	}
}

// TestLineExample pins the example line of nginx.md §10.2 independently of
// the golden file.
func TestLineExample(t *testing.T) {
	l, buf := newStderrLogger(t, Error, false)
	l.Log(Error, &Context{
		Conn: 17, Action: "SSL handshaking to upstream", Client: "203.0.113.7", Server: "www.example.com",
		InRequest: true, Request: []byte("GET /upstream HTTP/1.1"), Upstream: []byte("https://192.0.2.10:443/upstream"),
		Host: []byte("www.example.com"),
	}, "upstream SSL certificate verify error: (20:unable to get local issuer certificate)")
	want := `2025/10/10 13:55:36 [error] 4711#4711: *17 upstream SSL certificate verify error: (20:unable to get local issuer certificate) while SSL handshaking to upstream, client: 203.0.113.7, server: www.example.com, request: "GET /upstream HTTP/1.1", upstream: "https://192.0.2.10:443/upstream", host: "www.example.com"` + "\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

func TestLevelFiltering(t *testing.T) {
	dir := t.TempDir()
	warnPath := filepath.Join(dir, "warn.log")
	infoPath := filepath.Join(dir, "info.log")
	var stderr syncBuffer
	l, err := New([]Target{
		{Path: warnPath, Level: Warn},
		{Path: infoPath, Level: Info},
		{Path: "stderr", Level: Crit},
	}, Options{PID: 1, Now: fixedClock(), Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	all := []Level{Emerg, Alert, Crit, Error, Warn, Notice, Info, Debug}
	for _, lv := range all {
		l.Log(lv, nil, "m-"+lv.String())
	}
	check := func(name, content string, max Level) {
		t.Helper()
		for _, lv := range all {
			has := strings.Contains(content, "["+lv.String()+"] 1#1: m-"+lv.String()+"\n")
			if has != (lv <= max) {
				t.Errorf("%s: level %s present=%v, want %v", name, lv, has, lv <= max)
			}
		}
	}
	w, _ := os.ReadFile(warnPath)
	i, _ := os.ReadFile(infoPath)
	check("warn file", string(w), Warn)
	check("info file", string(i), Info)
	check("stderr", stderr.String(), Crit)
	if !l.Enabled(Info) || l.Enabled(Debug) {
		t.Error("Enabled does not follow the least severe output")
	}
	if !Warn.Includes(Error) || Warn.Includes(Notice) {
		t.Error("Includes")
	}
}

func TestSameFileTwice(t *testing.T) {
	p := filepath.Join(t.TempDir(), "e.log")
	l, err := New([]Target{{Path: p, Level: Error}, {Path: p, Level: Info}}, Options{PID: 2, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	l.Log(Error, nil, "x")
	l.Log(Info, nil, "y")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	// Like nginx, a message goes to every matching target, even if two
	// name the same file.
	if got := strings.Count(string(b), ": x\n"); got != 2 {
		t.Errorf("x written %d times:\n%s", got, b)
	}
	if got := strings.Count(string(b), ": y\n"); got != 1 {
		t.Errorf("y written %d times:\n%s", got, b)
	}
}

func TestEcho(t *testing.T) {
	p := filepath.Join(t.TempDir(), "e.log")
	var stderr syncBuffer
	l, err := New([]Target{{Path: p, Level: Info}}, Options{PID: 5, Now: fixedClock(), Stderr: &stderr, Echo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Log(Emerg, nil, `unknown directive "foo" in /etc/g.conf:3`)
	l.Log(Warn, &Context{Conn: 4, Client: "1.2.3.4"}, "something odd")
	l.Log(Notice, nil, "not echoed")
	l.SetEcho(false)
	l.Log(Error, nil, "running now")
	want := "gatehouse: [emerg] unknown directive \"foo\" in /etc/g.conf:3\n" +
		"gatehouse: [warn] something odd, client: 1.2.3.4\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%q\nwant\n%q", stderr.String(), want)
	}
	b, _ := os.ReadFile(p)
	if n := strings.Count(string(b), "\n"); n != 4 {
		t.Errorf("file has %d lines:\n%s", n, b)
	}

	// When stderr is itself an output at that level, nothing is doubled.
	l2, buf := newStderrLogger(t, Error, true)
	l2.Log(Error, nil, "once")
	l2.Log(Warn, nil, "echoed since stderr output is at error")
	want2 := "2025/10/10 13:55:36 [error] 4711#4711: once\ngatehouse: [warn] echoed since stderr output is at error\n"
	if buf.String() != want2 {
		t.Errorf("got %q, want %q", buf.String(), want2)
	}

	// Echo also works with no outputs at all (before the config is read).
	var b3 syncBuffer
	l3, err := New(nil, Options{Stderr: &b3, Echo: true, Program: "nginx"})
	if err != nil {
		t.Fatal(err)
	}
	l3.Logf(Emerg, nil, "bad %s", "thing")
	l3.Logf(Info, nil, "quiet")
	if b3.String() != "nginx: [emerg] bad thing\n" {
		t.Errorf("got %q", b3.String())
	}
}

func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "error.log")
	l, err := New([]Target{{Path: p, Level: Info}}, Options{PID: 7, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Log(Info, nil, "before")
	rotated := p + ".1"
	if err := os.Rename(p, rotated); err != nil {
		t.Fatal(err)
	}
	l.Log(Info, nil, "still old")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Log(Info, nil, "after")
	old, _ := os.ReadFile(rotated)
	cur, _ := os.ReadFile(p)
	if !strings.Contains(string(old), "before") || !strings.Contains(string(old), "still old") || strings.Contains(string(old), "after") {
		t.Errorf("rotated file:\n%s", old)
	}
	if !strings.HasSuffix(string(cur), ": after\n") || strings.Count(string(cur), "\n") != 1 {
		t.Errorf("new file:\n%s", cur)
	}
}

func TestReopenFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sub, "error.log")
	l, err := New([]Target{{Path: p, Level: Info}}, Options{PID: 7, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(sub, moved); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Reopen error %v, want not-exist", err)
	}
	l.Log(Info, nil, "kept")
	b, _ := os.ReadFile(filepath.Join(moved, "error.log"))
	if !strings.Contains(string(b), "kept") {
		t.Errorf("old descriptor not kept: %q", b)
	}
}

func TestReconfigure(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	l, err := New([]Target{{Path: a, Level: Error}}, Options{PID: 3, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Log(Error, nil, "one")
	if err := l.Reconfigure([]Target{{Path: a, Level: Info}, {Path: b, Level: Warn}}); err != nil {
		t.Fatal(err)
	}
	l.Log(Info, nil, "two")
	if err := l.Reconfigure([]Target{{Path: filepath.Join(dir, "missing", "x.log"), Level: Info}}); err == nil {
		t.Fatal("Reconfigure to an unopenable path succeeded")
	}
	l.Log(Warn, nil, "three")
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if strings.Count(string(ab), "\n") != 3 || !strings.Contains(string(ab), "two") {
		t.Errorf("a.log:\n%s", ab)
	}
	if strings.Count(string(bb), "\n") != 1 || !strings.Contains(string(bb), "three") {
		t.Errorf("b.log:\n%s", bb)
	}
}

func TestNewError(t *testing.T) {
	_, err := New([]Target{{Path: filepath.Join(t.TempDir(), "no", "such", "dir.log"), Level: Error}}, Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func TestParseLevel(t *testing.T) {
	for i, name := range []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"} {
		lv, err := ParseLevel(name)
		if err != nil || lv != Level(i+1) || lv.String() != name {
			t.Errorf("ParseLevel(%q) = %v %v", name, lv, err)
		}
	}
	for _, bad := range []string{"", "ERROR", "warning", "err"} {
		if _, err := ParseLevel(bad); !errors.Is(err, ErrInvalidLevel) {
			t.Errorf("ParseLevel(%q) err = %v", bad, err)
		}
	}
	if Level(0).String() != "level0" || Level(42).String() != "level42" {
		t.Error("String of invalid levels")
	}
}

func TestErrno(t *testing.T) {
	_, err := os.Open(filepath.Join(t.TempDir(), "missing"))
	if got := Errno(err); got != "2: No such file or directory" {
		t.Errorf("Errno = %q", got)
	}
	if got := Errno(fmt.Errorf("wrap: %w", syscall.EACCES)); got != "13: Permission denied" {
		t.Errorf("Errno = %q", got)
	}
	if got := Errno(errors.New("plain")); got != "plain" {
		t.Errorf("Errno = %q", got)
	}
}

func TestConcurrentLogAndReopen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.log")
	l, err := New([]Target{{Path: p, Level: Info}}, Options{PID: 8, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const workers, each = 4, 200
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l.Logf(Info, &Context{Conn: uint64(w*each + i + 1)}, "line %d", i)
			}
		}()
	}
	for range 5 {
		if err := l.Reopen(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	for _, ln := range lines {
		if !strings.HasPrefix(ln, "2025/10/10 13:55:36 [info] 8#8: *") {
			t.Fatalf("mangled line %q", ln)
		}
	}
}

func BenchmarkLog(b *testing.B) {
	p := filepath.Join(b.TempDir(), "b.log")
	l, err := New([]Target{{Path: p, Level: Error}}, Options{PID: 1, Now: fixedClock()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := &Context{Conn: 1, Action: "connecting to upstream", Client: "203.0.113.7", Server: "example.com",
		InRequest: true, Request: []byte("GET / HTTP/1.1"), Upstream: []byte("https://10.0.0.1:443/"), Host: []byte("example.com")}
	b.ReportAllocs()
	for b.Loop() {
		l.Log(Error, ctx, "connect() failed (111: Connection refused)")
	}
}

func BenchmarkLogFiltered(b *testing.B) {
	l, err := New(nil, Options{PID: 1, Now: fixedClock()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Log(Debug, nil, "dropped")
	}
}

func TestNilLogger(t *testing.T) {
	var l *Logger
	if l.Enabled(Emerg) {
		t.Error("nil logger enabled")
	}
	l.Log(Emerg, nil, "dropped")
	l.Logf(Emerg, nil, "dropped %d", 1)
}

func TestDeriveSharesFiles(t *testing.T) {
	dir := t.TempDir()
	main, srv := filepath.Join(dir, "error.log"), filepath.Join(dir, "server.log")
	root, err := New([]Target{{Path: main, Level: Error}}, Options{PID: 6, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	child, err := root.Derive([]Target{{Path: main, Level: Info}, {Path: srv, Level: Warn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(root.sh.files) != 2 {
		t.Fatalf("%d files open, want 2", len(root.sh.files))
	}
	child.Log(Info, nil, "child info")
	root.Log(Info, nil, "root info dropped")
	// Rotation: one Reopen (from the root, on USR1) serves both loggers.
	if err := os.Rename(main, main+".1"); err != nil {
		t.Fatal(err)
	}
	if err := root.Reopen(); err != nil {
		t.Fatal(err)
	}
	child.Log(Warn, nil, "after rotation")
	if got, _ := os.ReadFile(main); strings.Count(string(got), "after rotation") != 1 {
		t.Errorf("error.log after reopen: %q", got)
	}
	if got, _ := os.ReadFile(srv); !strings.Contains(string(got), "after rotation") {
		t.Errorf("server.log: %q", got)
	}
	// Closing the child closes only the file nobody else uses.
	if err := child.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := root.sh.files[srv]; ok || len(root.sh.files) != 1 {
		t.Errorf("files after child Close: %v", root.sh.files)
	}
	root.Log(Error, nil, "root still writes")
	if got, _ := os.ReadFile(main); !strings.Contains(string(got), "root still writes") {
		t.Errorf("error.log: %q", got)
	}
	if err := root.Close(); err != nil {
		t.Fatal(err)
	}
	if len(root.sh.files) != 0 {
		t.Errorf("files left open: %v", root.sh.files)
	}
	if _, err := root.Derive([]Target{{Path: filepath.Join(dir, "no", "x.log"), Level: Error}}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Derive error %v", err)
	}
}

func TestWriter(t *testing.T) {
	l, buf := newStderrLogger(t, Info, false)
	fmt.Fprintf(l.Writer(Info), "http2: server: error reading preface\n")
	want := "2025/10/10 13:55:36 [info] 4711#4711: http2: server: error reading preface\n"
	if buf.String() != want {
		t.Errorf("got %q", buf.String())
	}
}

func TestOpenErrorText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing", "error.log")
	_, err := New([]Target{{Path: p, Level: Error}}, Options{})
	var oe *OpenError
	if !errors.As(err, &oe) || err.Error() != `open() "`+p+`" failed (2: No such file or directory)` {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("OpenError does not unwrap to the cause")
	}
}

func TestMaxLine(t *testing.T) {
	long := strings.Repeat("x", 3000)
	l, buf := newStderrLogger(t, Info, false)
	l.Log(Error, &Context{Client: "1.2.3.4"}, long)
	if got := buf.String(); len(got) != DefaultMaxLine || !strings.HasSuffix(got, "xxx\n") {
		t.Errorf("line of %d bytes, ends %q", len(got), got[len(got)-5:])
	}
	var b2 syncBuffer
	l2, _ := New([]Target{{Path: "stderr", Level: Info}}, Options{Stderr: &b2, MaxLine: -1})
	l2.Log(Error, nil, long)
	if !strings.HasSuffix(b2.String(), long+"\n") {
		t.Error("unlimited line was cut")
	}
	var b3 syncBuffer
	l3, _ := New([]Target{{Path: "stderr", Level: Info}}, Options{Stderr: &b3, MaxLine: 40, PID: 1, Now: fixedClock()})
	l3.Log(Error, nil, "0123456789abcdef")
	if got := b3.String(); got != "2025/10/10 13:55:36 [error] 1#1: 012345\n" {
		t.Errorf("got %q", got)
	}
}

// TestClientBytesEscaped proves a client cannot forge a log line: a CR or
// LF in the request line, host or referrer, or one that reached a message,
// comes out as \xHH inside the one line, with quotes and backslashes
// escaped as the access log escapes them.
func TestClientBytesEscaped(t *testing.T) {
	fake := "\r2025/10/10 13:55:36 [emerg] 1#1: fake"
	cases := []struct {
		name string
		ctx  *Context
		msg  string
		want string
	}{
		{"request line", &Context{Client: "203.0.113.7", InRequest: true, Request: []byte("GET /" + fake + " HTTP/1.1")},
			"client sent invalid request",
			`client sent invalid request, client: 203.0.113.7, server: , request: "GET /\x0D2025/10/10 13:55:36 [emerg] 1#1: fake HTTP/1.1"`},
		{"host and referrer", &Context{InRequest: true, Request: []byte("GET / HTTP/1.1"), Host: []byte("a\"b\\c\nd"), Referrer: []byte("r\x00\x7f\xff")},
			"m", `m, server: , request: "GET / HTTP/1.1", host: "a\x22b\x5Cc\x0Ad", referrer: "r\x00\x7F\xFF"`},
		{"upstream", &Context{Upstream: []byte("http://u/\r\n")}, "m", `m, upstream: "http://u/\x0D\x0A"`},
		{"message", nil, "bad\r\nline\x7f \"quoted\" \\ é", `bad\x0D\x0Aline\x7F "quoted" \ é`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, buf := newStderrLogger(t, Info, false)
			l.Log(Info, c.ctx, c.msg)
			out := buf.String()
			if strings.Count(out, "\n") != 1 || strings.ContainsAny(out[:len(out)-1], "\r\n\x00") {
				t.Fatalf("not one clean line: %q", out)
			}
			prefix := "2025/10/10 13:55:36 [info] 4711#4711: "
			if got := strings.TrimSuffix(out, "\n"); got != prefix+c.want {
				t.Errorf("got  %q\nwant %q", got, prefix+c.want)
			}
		})
	}
}
