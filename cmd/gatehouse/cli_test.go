package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// runCLI runs gatehouse with args and returns its exit status, stdout and
// stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	out, errb := &syncBuffer{}, &syncBuffer{}
	code := run(args, stdio{out: out, err: errb, resolve: testResolve})
	return code, out.String(), errb.String()
}

// seedTree writes the seed's complete example into a temporary directory,
// with the absolute certificate paths it names moved under that directory
// (nothing else changed), and the files present.
func seedTree(t *testing.T) (dir, conf string) {
	t.Helper()
	src, err := os.ReadFile("../../../shared/seed/complete-example.conf")
	if err != nil {
		t.Skipf("the seed configuration is not beside the project: %v", err)
	}
	dir = t.TempDir()
	text := strings.ReplaceAll(string(src), " /etc/", " "+dir+"/etc/")
	conf = filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ca := testpki.NewCA(t)
	// A year of validity: certificates closer to expiry are warned about.
	year := testpki.WithValidity(time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
	server := ca.Leaf(testpki.WithDNS("backend.example.com", "backend1.example.com", "backend2.example.com"), year)
	client := ca.Leaf(testpki.WithCN("www.example.com"), testpki.WithUsage(testpki.UsageClient), year)
	files := map[string][]byte{
		"etc/nginx/client.pem":          client.ChainPEM(),
		"etc/nginx/client.key":          client.KeyPEM(),
		"etc/nginx/trusted_ca_cert.crt": ca.CertPEM(),
		"etc/ssl/certs/server.crt":      server.ChainPEM(),
		"etc/ssl/certs/server.key":      server.KeyPEM(),
		"etc/ssl/certs/ca.crt":          ca.CertPEM(),
		"logs/.keep":                    nil,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, conf
}

func TestSeedConfigTest(t *testing.T) {
	dir, conf := seedTree(t)
	code, _, stderr := runCLI(t, "-t", "-p", dir, "-c", conf)
	want := `gatehouse: [warn] "proxy_ssl_protocols" enables TLSv1, TLSv1.1, which are deprecated and weak (RFC 8996) in ` + conf + `:27
gatehouse: the configuration file ` + conf + ` syntax is ok
gatehouse: configuration file ` + conf + ` test is successful
`
	if code != 0 || stderr != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}

	// -T adds every file read, as nginx -T prints them.
	code, stdout, _ := runCLI(t, "-T", "-q", "-p", dir, "-c", conf)
	if code != 0 || !strings.HasPrefix(stdout, "# configuration file "+conf+":\n") || !strings.Contains(stdout, "proxy_ssl_verify_depth        2;") {
		t.Fatalf("-T: exit %d, stdout:\n%s", code, stdout)
	}
}

func TestSeedConfigCertificateProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(dir string)
		want   *regexp.Regexp
	}{
		{"missing certificate", func(dir string) { os.Remove(filepath.Join(dir, "etc/ssl/certs/server.crt")) },
			regexp.MustCompile(`^gatehouse: \[emerg\] cannot load certificate ".*/etc/ssl/certs/server.crt": BIO_new_file\(\) failed \(SSL: error:80000002:system library::No such file or directory`)},
		{"key of another certificate", func(dir string) {
			other := testpki.SelfSigned(t)
			os.WriteFile(filepath.Join(dir, "etc/nginx/client.key"), other.KeyPEM(), 0o600)
		}, regexp.MustCompile(`^gatehouse: \[emerg\] SSL_CTX_use_PrivateKey\(".*/etc/nginx/client.key"\) failed \(SSL: error:05800074:x509 certificate routines::key values mismatch\)`)},
		{"not PEM", func(dir string) {
			os.WriteFile(filepath.Join(dir, "etc/nginx/trusted_ca_cert.crt"), []byte("hello"), 0o600)
		},
			regexp.MustCompile(`^gatehouse: \[emerg\] .*trusted_ca_cert.crt`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, conf := seedTree(t)
			tc.break_(dir)
			code, _, stderr := runCLI(t, "-t", "-q", "-p", dir, "-c", conf)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if code != 1 || len(lines) < 2 || !tc.want.MatchString(lines[len(lines)-2]) || last != "gatehouse: configuration file "+conf+" test failed" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		code       int
		stderrWant string
	}{
		{[]string{"-v"}, 0, "nginx version: nginx/1.28.3 (gatehouse 0.1.0)\n"},
		{[]string{"-x"}, 1, "gatehouse: invalid option: \"x\"\n"},
		{[]string{"foo"}, 1, "gatehouse: invalid option: \"foo\"\n"},
		{[]string{"-c"}, 1, "gatehouse: option \"-c\" requires file name\n"},
		{[]string{"-p"}, 1, "gatehouse: option \"-p\" requires directory name\n"},
		{[]string{"-g"}, 1, "gatehouse: option \"-g\" requires parameter\n"},
		{[]string{"-s", "restart"}, 1, "gatehouse: invalid option: \"-s restart\"\n"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || stderr != tc.stderrWant {
			t.Errorf("%v: exit %d stderr %q, want %d %q", tc.args, code, stderr, tc.code, tc.stderrWant)
		}
	}
	code, _, stderr := runCLI(t, "-V")
	if code != 0 || !strings.Contains(stderr, "TLS SNI support enabled\n") || !strings.Contains(stderr, "configure arguments: ") || strings.Contains(stderr, "=dynamic") {
		t.Errorf("-V: %d %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "-h")
	if code != 0 || !strings.Contains(stderr, "Usage: gatehouse [-?hvVtTq]") {
		t.Errorf("-h: %d %q", code, stderr)
	}
}

func TestSignalWithoutPidFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "g.conf")
	os.WriteFile(conf, []byte("pid "+dir+"/g.pid;\nhttp {}\n"), 0o644)
	code, _, stderr := runCLI(t, "-s", "reload", "-c", conf)
	want := `gatehouse: [error] open() "` + dir + `/g.pid" failed (2: No such file or directory)` + "\n"
	if code != 1 || stderr != want {
		t.Fatalf("exit %d stderr %q, want %q", code, stderr, want)
	}
	os.WriteFile(dir+"/g.pid", []byte("\n"), 0o644)
	code, _, stderr = runCLI(t, "-s", "reload", "-c", conf)
	if code != 1 || stderr != `gatehouse: [error] invalid PID number "" in "`+dir+`/g.pid"`+"\n" {
		t.Fatalf("garbage pid: exit %d stderr %q", code, stderr)
	}
}
