package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unitSettings are the Key=Value lines of a systemd unit, keys repeated
// in order.
func unitSettings(text string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// TestServiceUnit checks dist/gatehouse.service: a simple (never forking)
// service that tests its configuration first, reloads with HUP, stops
// gracefully with QUIT, and is hardened; then systemd-analyze verify
// accepts it, when the tool is installed.
func TestServiceUnit(t *testing.T) {
	data, err := os.ReadFile("../../dist/gatehouse.service")
	if err != nil {
		t.Fatal(err)
	}
	s := unitSettings(string(data))
	for k, want := range map[string]string{
		"Type":                  "simple",
		"User":                  "gatehouse",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
		"KillSignal":            "SIGQUIT",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"AmbientCapabilities":   "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
	} {
		if got := s[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"TimeoutStopSec", "PIDFile", "ReadWritePaths", "ExecStart", "ExecStartPre"} {
		if len(s[k]) != 1 {
			t.Errorf("%s: %q, want one", k, s[k])
		}
	}
	if len(s["ExecStart"]) == 1 && len(s["ExecStartPre"]) == 1 {
		start, pre := s["ExecStart"][0], s["ExecStartPre"][0]
		bin, args, _ := strings.Cut(start, " ")
		if pre != bin+" -t -q "+args {
			t.Errorf("ExecStartPre=%q, want the ExecStart command with -t -q: %q", pre, bin+" -t -q "+args)
		}
		// The pid file is the default one under the -p prefix, which is
		// writable.
		m := regexp.MustCompile(`-p (\S+)`).FindStringSubmatch(start)
		if m == nil || len(s["PIDFile"]) != 1 || s["PIDFile"][0] != m[1]+defaultPidRel || !strings.HasPrefix(m[1], s["ReadWritePaths"][0]) {
			t.Errorf("ExecStart %q, PIDFile %q, ReadWritePaths %q: the pid file must be %s under the writable prefix", start, s["PIDFile"], s["ReadWritePaths"], defaultPidRel)
		}
	}

	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit is not verified by systemd")
	}
	// verify wants the binaries to exist: point the unit at a stand-in.
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "gatehouse.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(data), "/usr/local/bin/gatehouse", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", unit).CombinedOutput()
	// systemd-analyze exits 0 after many complaints: any line about the
	// unit is a failure.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "gatehouse.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// defaultPidRel is the pid file's default place under the prefix.
const defaultPidRel = "logs/gatehouse.pid"

// shellWords splits a Dockerfile RUN line as sh would for the simple
// quoting it uses: words separated by blanks, with "..." quoting kept
// together and the quotes removed.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted, in = !quoted, true
		case (c == ' ' || c == '\t') && !quoted:
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words
}

// TestDockerfileStaticBuild checks that dist/Dockerfile builds
// ./cmd/gatehouse with CGO_ENABLED=0 into the file the final stage copies,
// runs as a non-root user, and that the same go build here yields a
// static binary: no program interpreter and no shared libraries.
func TestDockerfileStaticBuild(t *testing.T) {
	data, err := os.ReadFile("../../dist/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var build []string
	for _, line := range strings.Split(text, "\n") {
		if w := shellWords(line); len(w) > 2 && w[0] == "RUN" && strings.Contains(line, "go build") {
			if build != nil {
				t.Fatalf("two go build lines in the Dockerfile")
			}
			build = w[1:]
		}
	}
	if build == nil {
		t.Fatal("no RUN ... go build line in the Dockerfile")
	}
	var env []string
	for len(build) > 0 && strings.Contains(build[0], "=") {
		env, build = append(env, build[0]), build[1:]
	}
	if len(env) != 1 || env[0] != "CGO_ENABLED=0" {
		t.Errorf("build environment %q, want CGO_ENABLED=0", env)
	}
	if len(build) < 3 || build[0] != "go" || build[1] != "build" || build[len(build)-1] != "./cmd/gatehouse" {
		t.Fatalf("build command %q, want go build ... ./cmd/gatehouse", build)
	}
	out := ""
	for i, w := range build {
		if w == "-o" && i+1 < len(build) {
			out = build[i+1]
		}
	}
	for _, want := range []string{
		"COPY --from=build " + out + " /gatehouse\n",
		"\nUSER 65532:65532\n",
		"\nENTRYPOINT [\"/gatehouse\"]\n",
		"\nCMD [\"-c\", \"/etc/gatehouse/gatehouse.conf\"]\n",
		"\nFROM golang:1.26 AS build\n",
	} {
		if out == "" || !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^EXPOSE \d+`).MatchString(text) {
		t.Error("Dockerfile exposes no port")
	}

	if testing.Short() {
		t.Skip("-short: the static build is not run")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH: the static build is not run")
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	args := append([]string(nil), build[2:]...)
	for i := range args {
		if i > 0 && args[i-1] == "-o" {
			args[i] = bin
		}
	}
	cmd := exec.Command(goTool, append([]string{"build"}, args...)...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter (PT_INTERP): it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) != 0 {
		t.Errorf("the binary needs shared libraries (DT_NEEDED): %q", libs)
	}
}
