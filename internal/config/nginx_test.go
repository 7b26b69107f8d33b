package config

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"gatehouse/internal/testproc"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/nginxconf"
)

const nginxBinary = "/usr/sbin/nginx"

// notComparable lists golden cases whose message nginx (Debian's 1.22)
// cannot reproduce, with the reason.
var notComparable = map[string]string{
	"defaults-in-http.conf":              "gatehouse extension",
	"defaults-invalid.conf":              "gatehouse extension",
	"http2-on.conf":                      "http2 directive is newer than 1.22; gatehouse rejects it",
	"listen-http2.conf":                  "gatehouse rejects listen ... http2",
	"proxy-ssl-conf-command.conf":        "gatehouse rejects OpenSSL commands",
	"location-bad-regex.conf":            "PCRE and Go word regexp errors differently",
	"map-bad-regex.conf":                 "PCRE and Go word regexp errors differently",
	"rewrite-bad-regex.conf":             "PCRE and Go word regexp errors differently",
	"post-no-client-ca.conf":             "wording changed in 1.27.2",
	"ok-secure-no-trusted.conf":          "defaults secure differs from nginx on purpose",
	"ok-no-events-secure.conf":           "defaults secure differs from nginx on purpose",
	"listen-host-not-found.conf":         "needs DNS",
	"upstream-host-not-found.conf":       "needs DNS",
	"proxy-pass-host-not-found.conf":     "needs DNS",
	"user-dup.conf":                      "nginx as root looks the user up first",
	"error-page-local.conf":              "gatehouse has no internal redirects",
	"error-page-named.conf":              "gatehouse has no internal redirects",
	"real-ip-header-proxy-protocol.conf": "gatehouse has no PROXY protocol",
}

var nginxLine = regexp.MustCompile(`\[(emerg|warn)\] \d+#\d+: (.*)`)

// TestNginxDifferential runs nginx -t on every golden case that must fail
// and checks that nginx's first [emerg] equals ours, file path aside.
func TestNginxDifferential(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("%s not installed; the differential test needs nginx", nginxBinary)
	}
	files, _ := filepath.Glob("testdata/golden/*.conf")
	compared := 0
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "ok-") {
			continue
		}
		if _, skip := notComparable[base]; skip {
			continue
		}
		t.Run(base, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := nginxconf.ParseFile(f, nginxconf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, ours := Compile(tree, testOptions())
			if ours == nil {
				t.Skip("compiles without error; nothing to compare")
			}
			if strings.Contains(ours.Error(), "is not supported by gatehouse") {
				t.Skip("a refusal of a directive nginx accepts; TestNginxAcceptsKnownDirectives checks nginx knows it")
			}
			dir := t.TempDir()
			// nginx does not know "defaults"; keep line numbers.
			src = bytes.ReplaceAll(src, []byte("defaults nginx;"), nil)
			conf := filepath.Join(dir, base)
			if err := os.WriteFile(conf, src, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, _ := testproc.CombinedOutput(t, exec.CommandContext(ctx, nginxBinary, "-t", "-q", "-p", dir+"/", "-c", conf, "-e", "stderr"))
			var theirs string
			for _, line := range strings.Split(string(out), "\n") {
				if m := nginxLine.FindStringSubmatch(line); m != nil && m[1] == "emerg" {
					theirs = m[2]
					break
				}
			}
			if theirs == "" {
				t.Fatalf("nginx reported no [emerg]:\n%s", out)
			}
			got := strings.ReplaceAll(ours.Error(), f, "F")
			want := strings.ReplaceAll(theirs, conf, "F")
			if got != want {
				var e *nginxconf.Error
				errors.As(ours, &e)
				t.Errorf("ours:  %s\nnginx: %s", got, want)
			}
		})
		compared++
	}
	if compared < 40 {
		t.Errorf("only %d cases compared", compared)
	}
}

// nginxWarnings are the warnings nginx itself prints; gatehouse's own
// security warnings are not compared, nor "protocol options redefined",
// which nginx 1.22 predates.
var nginxWarnings = regexp.MustCompile(`^(duplicate value|conflicting server name|load balancing method redefined|server name .* has suspicious symbols|the "user" directive|the "ssl" directive is deprecated|duplicate extension|low address bits)`)

// TestNginxDifferentialWarnings runs nginx -t on cases that load and
// checks that nginx prints the same warnings as ours, in the same order.
func TestNginxDifferentialWarnings(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("%s not installed; the differential test needs nginx", nginxBinary)
	}
	for _, base := range []string{
		"ok-server-name-conflict.conf", "ok-upstream-method-redefined.conf", "bitmask-duplicate-value.conf",
		"flag-case.conf", "ok-location-nesting.conf", "ok-return.conf", "ok-time-forms.conf",
		"ok-logs.conf", "ok-proxy-pass-forms.conf", "ok-access-low-bits.conf",
	} {
		t.Run(base, func(t *testing.T) {
			f := filepath.Join("testdata/golden", base)
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := nginxconf.ParseFile(f, nginxconf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Compile(tree, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			var ours []string
			for _, w := range cfg.Warnings {
				if nginxWarnings.MatchString(w.Msg) {
					ours = append(ours, strings.ReplaceAll(w.Error(), f, "F"))
				}
			}
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(src, []byte("events")) {
				src = append(src, "events {\n}\n"...)
			}
			conf := filepath.Join(dir, base)
			if err := os.WriteFile(conf, src, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := testproc.CombinedOutput(t, exec.CommandContext(ctx, nginxBinary, "-t", "-p", dir+"/", "-c", conf, "-e", "stderr"))
			if err != nil {
				t.Fatalf("nginx -t failed: %v\n%s", err, out)
			}
			var theirs []string
			for _, line := range strings.Split(string(out), "\n") {
				if m := nginxLine.FindStringSubmatch(line); m != nil && m[1] == "warn" {
					theirs = append(theirs, strings.ReplaceAll(m[2], conf, "F"))
				}
			}
			if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
				t.Errorf("ours:\n%s\nnginx:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
			}
		})
	}
}

// writeTestCert writes a self-signed ECDSA certificate and its key as
// cert.pem and key.pem in dir.
func writeTestCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "www.example.com"},
		DNSNames:              []string{"www.example.com"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNginxAcceptsEverything loads testdata/accept/everything.conf, which
// uses every directive gatehouse implements, with a prefix and a conf
// directory that differ: both gatehouse and nginx -t must accept it, and
// certificates must resolve against the conf directory as nginx's do.
func TestNginxAcceptsEverything(t *testing.T) {
	src, err := os.ReadFile("testdata/accept/everything.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prefix, confDir := filepath.Join(dir, "prefix")+"/", filepath.Join(dir, "conf")
	for _, d := range []string{confDir, prefix + "logs", prefix + "run", prefix + "html", prefix + "temp"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeTestCert(t, confDir)
	conf := filepath.Join(confDir, "nginx.conf")
	if err := os.WriteFile(conf, src, 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := nginxconf.ParseFile(conf, nginxconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Prefix, opts.ConfPrefix = prefix, confDir
	cfg, err := Compile(tree, opts)
	if err != nil {
		t.Fatalf("gatehouse rejects it: %v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
	s := cfg.HTTP.Servers[0]
	if got := s.SSL.Certificates[0].Certificate; got != filepath.Join(confDir, "cert.pem") {
		t.Errorf("certificate path %q, want it in the conf directory", got)
	}
	if got := cfg.PID; got != prefix+"run/nginx.pid" {
		t.Errorf("pid %q, want it under the prefix", got)
	}

	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("%s not installed; nginx's side not checked", nginxBinary)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := testproc.CombinedOutput(t, exec.CommandContext(ctx, nginxBinary, "-t", "-p", prefix, "-c", conf, "-e", "stderr"))
	if err != nil {
		t.Fatalf("nginx -t rejects it: %v\n%s", err, out)
	}
}
