package main

import (
	"bufio"
	"gatehouse/internal/testproc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nginxBinary returns Debian's nginx, or skips: the differential tests
// compare gatehouse with it and need it installed (.ci/run does).
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	t.Skip("nginx is not installed; the differential test needs it (apt-get install nginx)")
	return ""
}

// startNginx runs nginx in the foreground on conf (DIR replaced by a
// temporary directory, which it returns) until the test ends, and waits
// until it serves.
func startNginx(t *testing.T, conf string) string {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	conf = "events {}\nerror_log stderr notice;\npid DIR/nginx.pid;\ndaemon off;\n" + conf
	conf = strings.ReplaceAll(conf, "DIR", dir)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", path, "-e", "stderr")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testproc.Start(t, cmd); err != nil {
		t.Fatal(err)
	}
	// nginx logs "start worker processes" once its sockets are bound.
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "start worker process") {
			go func() {
				for sc.Scan() {
				}
			}()
			return dir
		}
	}
	t.Fatalf("nginx did not start:\n%s", strings.Join(seen, "\n"))
	return ""
}
