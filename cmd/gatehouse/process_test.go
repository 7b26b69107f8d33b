package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// buildBinary builds gatehouse once for the tests that drive the real
// process with real signals.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a gatehouse process whose stderr carries its error log.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), lines: make(chan string, 100), done: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// waitFor reads stderr lines until one contains s, failing if the
// process ends first.
func (p *proc) waitFor(t *testing.T, s string) string {
	t.Helper()
	var seen []string
	for line := range p.lines {
		seen = append(seen, line)
		if strings.Contains(line, s) {
			return line
		}
	}
	t.Fatalf("gatehouse ended without logging %q:\n%s", s, strings.Join(seen, "\n"))
	return ""
}

func (p *proc) wait(t *testing.T) int {
	for range p.lines {
	}
	err := <-p.done
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func TestProcessLifecycle(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "gatehouse.conf")
	good := fmt.Sprintf(`
pid %[1]s/gatehouse.pid;
error_log stderr notice;
http {
    access_log %[1]s/access.log;
    server { listen 127.0.0.1:%[2]d; location / { return 200 "up\n"; } }
}
`, dir, port)
	os.WriteFile(conf, []byte(good), 0o644)
	p := startProc(t, bin, "-p", dir+"/", "-c", conf)
	p.waitFor(t, "start worker processes")

	// Readiness: the pid file holds the process's pid once it serves.
	data, err := os.ReadFile(filepath.Join(dir, "gatehouse.pid"))
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(p.cmd.Process.Pid) {
		t.Fatalf("pid file %q (%v), want %d", data, err, p.cmd.Process.Pid)
	}
	if code, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); code != 200 || body != "up\n" {
		t.Fatalf("got %d %q", code, body)
	}

	// A broken configuration on reload (through -s reload) is logged and
	// the old one keeps serving.
	os.WriteFile(conf, []byte(good+"\nbogus;\n"), 0o644)
	syscall.Kill(p.cmd.Process.Pid, syscall.SIGHUP)
	p.waitFor(t, `[emerg]`)
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); code != 200 {
		t.Fatalf("after a failed reload: %d", code)
	}

	// USR1 reopens the access log after it was moved away.
	os.Rename(filepath.Join(dir, "access.log"), filepath.Join(dir, "access.log.1"))
	syscall.Kill(p.cmd.Process.Pid, syscall.SIGUSR1)
	p.waitFor(t, "reopening logs")
	// The notice comes just before the files are reopened; the new file
	// exists once they are.
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "access.log")); err == nil {
			break
		}
		if i > 1e7 {
			t.Fatal("access.log was not reopened")
		}
		runtime.Gosched()
	}
	get(t, fmt.Sprintf("http://127.0.0.1:%d/after-reopen", port))

	// -s quit reads the pid file and stops the process gracefully.
	os.WriteFile(conf, []byte(good), 0o644)
	out, err := exec.Command(bin, "-p", dir+"/", "-c", conf, "-s", "quit").CombinedOutput()
	if err != nil {
		t.Fatalf("-s quit: %v\n%s", err, out)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d after QUIT", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind after QUIT: %v", err)
	}
	rotated, _ := os.ReadFile(filepath.Join(dir, "access.log"))
	if !strings.Contains(string(rotated), "GET /after-reopen") {
		t.Errorf("the reopened access log lacks the request sent after USR1: %q", rotated)
	}
}

func TestProcessBadConfig(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "gatehouse.conf")
	os.WriteFile(conf, []byte("pid "+dir+"/g.pid;\nhttp {\n    server { listen 127.0.0.1:1; location / { proxy_pass ftp://x; } }\n}\n"), 0o644)
	cmd := exec.Command(bin, "-p", dir+"/", "-c", conf)
	stderr, _ := cmd.StderrPipe()
	cmd.Start()
	msg, _ := io.ReadAll(stderr)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1", err)
	}
	want := "gatehouse: [emerg] invalid URL prefix in " + conf + ":3\n"
	if string(msg) != want {
		t.Errorf("stderr %q, want %q", msg, want)
	}
	if _, err := os.Stat(dir + "/g.pid"); !os.IsNotExist(err) {
		t.Errorf("a pid file was written for a bad configuration")
	}
}

func TestEarlyErrorLog(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "g.conf")
	os.WriteFile(conf, []byte("bogus;\n"), 0o644)
	code, _, stderr := runCLI(t, "-p", dir+"/", "-c", conf, "-e", "early.log")
	want := "gatehouse: [emerg] unknown directive \"bogus\" in " + conf + ":1\n"
	if code != 1 || stderr != want {
		t.Fatalf("exit %d stderr %q, want %q", code, stderr, want)
	}
	logged, _ := os.ReadFile(filepath.Join(dir, "early.log"))
	if !strings.Contains(string(logged), "[emerg]") || !strings.Contains(string(logged), `unknown directive "bogus"`) {
		t.Errorf("-e file holds %q", logged)
	}
}
