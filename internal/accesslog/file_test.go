package accesslog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/variables"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func TestSharedFileAndReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "access.log")
	fs := NewFiles(FilesOptions{})
	defer fs.Close()
	a, err := fs.Open(p, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.Open(p, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("same path opened twice")
	}
	a.Write([]byte("one\n"))
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	b.Write([]byte("two\n")) // still the renamed file until reopen
	if err := fs.Reopen(); err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("three\n"))
	if got := readFile(t, p+".1"); got != "one\ntwo\n" {
		t.Errorf("rotated file %q", got)
	}
	if got := readFile(t, p); got != "three\n" {
		t.Errorf("new file %q", got)
	}
	if a.Path() != p {
		t.Error("Path")
	}
}

func TestBufferedBySize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.log")
	fs := NewFiles(FilesOptions{})
	f, err := fs.Open(p, 16, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("aaaaaa\n")) // 7
	f.Write([]byte("bbbbbb\n")) // 14
	if got := readFile(t, p); got != "" {
		t.Fatalf("written before the buffer filled: %q", got)
	}
	f.Write([]byte("cccccc\n")) // does not fit: flush the first two
	if got := readFile(t, p); got != "aaaaaa\nbbbbbb\n" {
		t.Fatalf("after overflow: %q", got)
	}
	big := []byte(strings.Repeat("x", 40) + "\n")
	f.Write(big) // larger than the buffer: flush, then write directly
	if got := readFile(t, p); got != "aaaaaa\nbbbbbb\ncccccc\n"+string(big) {
		t.Fatalf("after big line: %q", got)
	}
	f.Write([]byte("dd\n"))
	if err := fs.Reopen(); err != nil { // reopen flushes
		t.Fatal(err)
	}
	if got := readFile(t, p); !strings.HasSuffix(got, "dd\n") {
		t.Fatalf("reopen did not flush: %q", got)
	}
	f.Write([]byte("ee\n"))
	fs.Flush()
	if got := readFile(t, p); !strings.HasSuffix(got, "ee\n") {
		t.Fatalf("Flush did not flush: %q", got)
	}
	f.Write([]byte("ff\n"))
	if err := fs.Close(); err != nil { // close flushes
		t.Fatal(err)
	}
	if got := readFile(t, p); !strings.HasSuffix(got, "ff\n") {
		t.Fatalf("close did not flush: %q", got)
	}
	f.Write([]byte("dropped\n")) // after close: ignored, no panic
	if got := readFile(t, p); strings.Contains(got, "dropped") {
		t.Fatal("write after close reached the file")
	}
}

func TestBufferedFlushTimer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.log")
	synctest.Test(t, func(t *testing.T) {
		fs := NewFiles(FilesOptions{})
		defer fs.Close()
		f, err := fs.Open(p, 4096, 5*time.Second, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("first\n"))
		time.Sleep(4 * time.Second) // virtual time inside the bubble
		synctest.Wait()
		if got := readFile(t, p); got != "" {
			t.Fatalf("flushed early: %q", got)
		}
		f.Write([]byte("second\n")) // buffer not empty: does not re-arm
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		if got := readFile(t, p); got != "first\nsecond\n" {
			t.Fatalf("after flush time: %q", got)
		}
		f.Write([]byte("third\n")) // empty buffer: arms again
		time.Sleep(5*time.Second + time.Millisecond)
		synctest.Wait()
		if got := readFile(t, p); got != "first\nsecond\nthird\n" {
			t.Fatalf("second flush: %q", got)
		}
	})
}

func TestConflictingParameters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.log")
	fs := NewFiles(FilesOptions{})
	defer fs.Close()
	if _, err := fs.Open(p, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open(p, 1024, time.Second, 0); err != nil { // first buffered use sets it
		t.Fatal(err)
	}
	if _, err := fs.Open(p, 1024, time.Second, 0); err != nil { // same again: fine
		t.Fatal(err)
	}
	if _, err := fs.Open(p, 0, 0, 0); err != nil { // unbuffered use shares the buffer
		t.Fatal(err)
	}
	_, err := fs.Open(p, 2048, time.Second, 0)
	if !errors.Is(err, ErrConflict) || err.Error() != `access_log "`+p+`" already defined with conflicting parameters` {
		t.Fatalf("err = %v", err)
	}
	bad := filepath.Join(p, "not-a-dir")
	_, err = fs.Open(bad, 0, 0, 0)
	var oe *errorlog.OpenError
	if !errors.As(err, &oe) || err.Error() != `open() "`+bad+`" failed (20: Not a directory)` {
		t.Fatalf("opening under a file: %v", err)
	}
}

func TestGzip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.log.gz")
	fs := NewFiles(FilesOptions{})
	f, err := fs.Open(p, 64, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 20 {
		line := strings.Repeat(string(rune('a'+i)), 10) + "\n"
		want.WriteString(line)
		f.Write([]byte(line))
	}
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr) // reads every member
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("decompressed %q", got)
	}
}

func TestWriteErrorAlertRateLimited(t *testing.T) {
	var stderr bytes.Buffer
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	el, err := errorlog.New([]errorlog.Target{{Path: "stderr", Level: errorlog.Error}}, errorlog.Options{PID: 1, Stderr: &stderr, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "e.log")
	fs := NewFiles(FilesOptions{ErrorLog: el, Now: func() time.Time { return now }})
	f, err := fs.Open(p, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Make writes fail by swapping in a read-only descriptor.
	ro, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.f.Close()
	f.f = ro
	f.mu.Unlock()
	f.Write([]byte("x\n"))
	f.Write([]byte("y\n"))
	now = now.Add(61 * time.Second)
	f.Write([]byte("z\n"))
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("alerts: %q", stderr.String())
	}
	if !strings.Contains(lines[0], `[alert] 1#1: write() to "`+p+`" failed (9: Bad file descriptor)`) {
		t.Errorf("alert line %q", lines[0])
	}
	fs.Close()
}

func TestLoggerIfAndSinks(t *testing.T) {
	dir := t.TempDir()
	reg := registry(t)
	short, err := NewFormat(reg, "short", EscapeDefault, "$status $uri")
	if err != nil {
		t.Fatal(err)
	}
	cond, err := reg.Compile("$arg_log")
	if err != nil {
		t.Fatal(err)
	}
	fs := NewFiles(FilesOptions{})
	all, _ := fs.Open(filepath.Join(dir, "all.log"), 0, 0, 0)
	some, _ := fs.Open(filepath.Join(dir, "some.log"), 0, 0, 0)
	l := NewLogger(Sink{File: all, Format: short}, Sink{File: some, Format: short, If: cond})
	for _, r := range []request{
		{"status": "200", "uri": "/a", "arg_log": "1"},
		{"status": "200", "uri": "/b", "arg_log": "0"},
		{"status": "404", "uri": "/c", "arg_log": ""},
		{"status": "500", "uri": "/d"},
		{"status": "201", "uri": "/e", "arg_log": "00"},
	} {
		l.Log(r)
	}
	var nilLogger *Logger
	nilLogger.Log(request{}) // access_log off
	fs.Close()
	if got := readFile(t, filepath.Join(dir, "all.log")); got != "200 /a\n200 /b\n404 /c\n500 /d\n201 /e\n" {
		t.Errorf("all.log %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "some.log")); got != "200 /a\n201 /e\n" {
		t.Errorf("some.log %q", got)
	}
}

func TestConcurrentLogging(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.log")
	reg := registry(t)
	f, _ := NewFormat(reg, "f", EscapeDefault, "$uri")
	fs := NewFiles(FilesOptions{})
	file, _ := fs.Open(p, 100, 0, 0)
	l := NewLogger(Sink{File: file, Format: f})
	var wg sync.WaitGroup
	const workers, each = 4, 250
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := request{"uri": "/" + strings.Repeat(string(rune('a'+w)), 20)}
			for range each {
				l.Log(req)
			}
		}()
	}
	for range 3 {
		if err := fs.Reopen(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	fs.Close()
	lines := strings.Split(strings.TrimSuffix(readFile(t, p), "\n"), "\n")
	if len(lines) != workers*each {
		t.Fatalf("%d lines", len(lines))
	}
	for _, ln := range lines {
		if len(ln) != 21 || strings.Count(ln, ln[1:2]) != 20 {
			t.Fatalf("torn line %q", ln)
		}
	}
}

// fastRequest is the allocation-free shape of a request context.
type fastRequest struct{ addr, line, ua []byte }

func (r *fastRequest) Var(id variables.ID, arg []byte, dst []byte) ([]byte, bool) {
	switch id {
	case variables.RemoteAddr:
		return append(dst, r.addr...), true
	case variables.Request:
		return append(dst, r.line...), true
	case variables.TimeLocal:
		return variables.AppendTimeLocal(dst, time.Unix(1760104536, 0).UTC()), true
	case variables.Status:
		return variables.AppendStatus(dst, 200), true
	case variables.BodyBytesSent:
		return append(dst, '6', '1', '2'), true
	case variables.HTTP:
		if string(arg) == "user_agent" {
			return append(dst, r.ua...), true
		}
	}
	return dst, false
}

func newBenchLogger(tb testing.TB, buffer int) (*Logger, *Files) {
	tb.Helper()
	reg := registry(tb)
	combined, _ := NewFormat(reg, "combined", EscapeDefault, Combined)
	fs := NewFiles(FilesOptions{})
	f, err := fs.Open(filepath.Join(tb.TempDir(), "bench.log"), buffer, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return NewLogger(Sink{File: f, Format: combined}), fs
}

func TestLogDoesNotAllocate(t *testing.T) {
	l, fs := newBenchLogger(t, 64*1024)
	defer fs.Close()
	var src variables.Source = &fastRequest{[]byte("203.0.113.7"), []byte("GET /x\"y HTTP/1.1"), []byte("curl/8.5.0")}
	l.Log(src) // warm the pool
	if n := testing.AllocsPerRun(200, func() { l.Log(src) }); n != 0 {
		t.Errorf("Log allocates %v times per line", n)
	}
}

func BenchmarkLogBuffered(b *testing.B) {
	l, fs := newBenchLogger(b, 64*1024)
	defer fs.Close()
	var src variables.Source = &fastRequest{[]byte("203.0.113.7"), []byte("GET /upstream/x HTTP/1.1"), []byte("curl/8.5.0")}
	b.ReportAllocs()
	for b.Loop() {
		l.Log(src)
	}
}

func BenchmarkLogUnbuffered(b *testing.B) {
	l, fs := newBenchLogger(b, 0)
	defer fs.Close()
	var src variables.Source = &fastRequest{[]byte("203.0.113.7"), []byte("GET /upstream/x HTTP/1.1"), []byte("curl/8.5.0")}
	b.ReportAllocs()
	for b.Loop() {
		l.Log(src)
	}
}

func TestDynamicPath(t *testing.T) {
	dir := t.TempDir()
	reg := registry(t)
	f, err := NewFormat(reg, "j", EscapeJSON, `{"uri":"$uri"}`)
	if err != nil {
		t.Fatal(err)
	}
	path, err := reg.Compile(dir + "/$host.log")
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	el, _ := errorlog.New([]errorlog.Target{{Path: "stderr", Level: errorlog.Error}}, errorlog.Options{PID: 1, Stderr: &stderr,
		Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }})
	fs := NewFiles(FilesOptions{ErrorLog: el})
	l := NewLogger(Sink{Path: path, Files: fs, Format: f})
	l.Log(request{"host": "a.example", "uri": "/x\"y"})
	l.Log(request{"host": "b.example", "uri": "/z"})
	l.Log(request{"host": "a.example", "uri": "/w"})
	l.Log(request{"host": "no/such/dir", "uri": "/lost"})
	if got := readFile(t, filepath.Join(dir, "a.example.log")); got != "{\"uri\":\"/x\\\"y\"}\n{\"uri\":\"/w\"}\n" {
		t.Errorf("a: %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "b.example.log")); got != "{\"uri\":\"/z\"}\n" {
		t.Errorf("b: %q", got)
	}
	want := `2025/01/01 00:00:00 [crit] 1#1: open() "` + dir + `/no/such/dir.log" failed (2: No such file or directory)` + "\n"
	if stderr.String() != want {
		t.Errorf("error log %q, want %q", stderr.String(), want)
	}
}

func TestReopenFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sub, "a.log")
	fs := NewFiles(FilesOptions{})
	defer fs.Close()
	f, err := fs.Open(p, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(sub, moved); err != nil {
		t.Fatal(err)
	}
	err = fs.Reopen()
	var oe *errorlog.OpenError
	if !errors.As(err, &oe) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Reopen: %v", err)
	}
	f.Write([]byte("kept\n"))
	if got := readFile(t, filepath.Join(moved, "a.log")); got != "kept\n" {
		t.Errorf("old descriptor not kept: %q", got)
	}
}
