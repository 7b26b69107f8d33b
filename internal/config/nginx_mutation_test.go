package config

import (
	"context"
	"gatehouse/internal/testproc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/nginxconf"
)

// differ compares gatehouse (under "defaults nginx") and nginx -t on
// generated configurations, reporting where their first [emerg] differs.
type differ struct {
	t                    *testing.T
	dir                  string
	compared, nginxFails int
}

func newDiffer(t *testing.T) *differ {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("%s not installed; the differential test needs nginx", nginxBinary)
	}
	dir := t.TempDir()
	for _, sub := range []string{"logs", "run", "html", "temp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeTestCert(t, dir)
	return &differ{t: t, dir: dir}
}

// environmental are nginx failures that come from the machine, not the
// configuration (files that do not exist, the user database).
var environmental = []string{"cannot load certificate", "BIO_new", "open()", "mkdir()", "getgrnam", "getpwnam"}

// deliberate are gatehouse messages that differ from nginx on purpose.
var deliberate = []string{"not supported by gatehouse", "cannot be compiled", "pcre2_compile() failed"}

func (d *differ) check(label, src string) {
	d.t.Helper()
	conf := filepath.Join(d.dir, "m.conf")
	// "defaults nginx;" shares the first line so line numbers stay put.
	tree, err := nginxconf.ParseBytes(conf, []byte("defaults nginx; "+src), nginxconf.Options{})
	if err != nil {
		return
	}
	cfg, cerr := Compile(tree, testOptions())
	ourWarns := Warnings(cerr)
	if cfg != nil {
		ourWarns = cfg.Warnings
	}
	var ow []string
	for _, w := range ourWarns {
		if nginxWarnings.MatchString(w.Msg) {
			ow = append(ow, w.Error())
		}
	}
	if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
		d.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	out, _ := testproc.CombinedOutput(d.t, exec.CommandContext(ctx, nginxBinary, "-t", "-q", "-p", d.dir+"/", "-c", conf, "-e", "stderr"))
	cancel()
	theirs := ""
	var tw []string
	for _, line := range strings.Split(string(out), "\n") {
		m := nginxLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[1] == "warn" {
			tw = append(tw, m[2])
			continue
		}
		theirs = m[2]
		break
	}
	ours := ""
	if cerr != nil {
		ours = cerr.Error()
	}
	for _, s := range environmental {
		if strings.Contains(theirs, s) {
			return
		}
	}
	for _, s := range deliberate {
		if strings.Contains(ours, s) {
			return
		}
	}
	d.compared++
	if theirs != "" {
		d.nginxFails++
	}
	if ours != theirs {
		d.t.Errorf("%s:\n  ours:  %s\n  nginx: %s", label, ours, theirs)
	} else if strings.Join(ow, "\n") != strings.Join(tw, "\n") {
		d.t.Errorf("%s: warnings differ\n  ours:  %q\n  nginx: %q", label, ow, tw)
	}
}

// TestNginxContexts puts one sample of every directive into every
// context and checks that gatehouse and nginx accept or reject each the
// same way, with the same message.
func TestNginxContexts(t *testing.T) {
	d := newDiffer(t)
	b, err := os.ReadFile("testdata/accept/everything.conf")
	if err != nil {
		t.Fatal(err)
	}
	var samples []string
	seen := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasSuffix(l, ";") || strings.HasPrefix(l, "#") {
			continue
		}
		if name := strings.Fields(l)[0]; !seen[name] {
			seen[name] = true
			samples = append(samples, l)
		}
	}
	samples = append(samples, "keepalive 4;", "least_conn;", "hash $remote_addr;", "random;", "ip_hash;",
		"server 127.0.0.1;", "return 204;", "proxy_pass http://127.0.0.1;", "listen 18081;", "server_name x;",
		"location /x { }", "upstream v { server 127.0.0.1; }", "server { listen 18082; }", "events { }", "http { }")
	skel := "#MAIN\nevents {\n#EVENTS\n}\nhttp {\n#HTTP\n    upstream u {\n        server 127.0.0.1;\n#UP\n    }\n" +
		"    server {\n        listen 18080;\n#SERVER\n        location / {\n#LOC\n        }\n    }\n}\n"
	for _, s := range samples {
		for _, slot := range []string{"#MAIN", "#EVENTS", "#HTTP", "#UP", "#SERVER", "#LOC"} {
			d.check(s+" at "+slot, strings.Replace(skel, slot, s, 1))
		}
	}
	t.Logf("%d comparisons, %d failing in nginx", d.compared, d.nginxFails)
	if d.compared < 400 || d.nginxFails < 200 {
		t.Errorf("only %d comparisons, %d failing in nginx", d.compared, d.nginxFails)
	}
}

// TestNginxMutations deletes, then doubles, each line of every golden
// case and checks that gatehouse and nginx still agree on the outcome.
func TestNginxMutations(t *testing.T) {
	d := newDiffer(t)
	files, _ := filepath.Glob("testdata/golden/*.conf")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "defaults") || strings.Contains(string(b), "http2") || strings.Contains(string(b), "user ") {
			continue
		}
		lines := strings.Split(string(b), "\n")
		for i := range lines {
			for _, dup := range []bool{false, true} {
				mut := append([]string{}, lines[:i]...)
				if dup {
					mut = append(mut, lines[i]+" "+lines[i])
				} else {
					mut = append(mut, "")
				}
				mut = append(mut, lines[i+1:]...)
				src := strings.Join(mut, "\n")
				if !strings.Contains(src, "events") {
					src += "\nevents {}\n"
				}
				d.check(filepath.Base(f)+" line "+lines[i], src)
			}
		}
	}
	t.Logf("%d comparisons, %d failing in nginx", d.compared, d.nginxFails)
	if d.compared < 500 {
		t.Errorf("only %d comparisons", d.compared)
	}
}

// TestNginxValues replaces each argument of each directive of the
// everything configuration with odd values and checks that gatehouse and
// nginx reject the same ones with the same message. OpenSSL cipher
// strings and curve lists are left out: nginx checks them through
// OpenSSL, gatehouse when the TLS configuration is built.
func TestNginxValues(t *testing.T) {
	d := newDiffer(t)
	b, err := os.ReadFile("testdata/accept/everything.conf")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	vals := []string{"x", "0", "-1", "1y", "500ms", "ON", "99999", "''", "a:b"}
	for i, l := range lines {
		tl := strings.TrimSpace(l)
		if !strings.HasSuffix(tl, ";") || strings.HasPrefix(tl, "#") || strings.Contains(tl, "ciphers") ||
			strings.Contains(tl, "ssl_ecdh_curve") || strings.Contains(tl, "certificate") || strings.Contains(tl, "key.pem") {
			continue
		}
		f := strings.Fields(strings.TrimSuffix(tl, ";"))
		for k := 1; k < len(f); k++ {
			for _, v := range vals {
				if f[0] == "server" && k == 1 && (v == "0" || v == "99999") {
					continue // the C library reads these as IPv4 addresses; resolvers differ
				}
				g := append([]string{}, f...)
				g[k] = v
				mut := append([]string{}, lines...)
				mut[i] = strings.Join(g, " ") + ";"
				d.check(mut[i], strings.Join(mut, "\n"))
			}
		}
	}
	t.Logf("%d comparisons, %d failing in nginx", d.compared, d.nginxFails)
	if d.compared < 400 {
		t.Errorf("only %d comparisons", d.compared)
	}
}
