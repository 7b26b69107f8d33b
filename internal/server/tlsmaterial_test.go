package server

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

// TestTLSMaterialAsNginx runs nginx -t and gatehouse's -t (compile and
// Build) on the same configurations with encrypted keys, password files,
// session ticket key files and CRL files, and compares verdict and
// message. nginx reports ssl_session_ticket_key failures at the end of
// the http block (it reads the files when merging); gatehouse names the
// directive, so for those only the text before " in " is compared.
func TestTLSMaterialAsNginx(t *testing.T) {
	const nginx = "/usr/sbin/nginx"
	if _, err := os.Stat(nginx); err != nil {
		t.Skip("nginx is not installed at " + nginx + ": differential test skipped")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed: cannot encrypt keys as nginx users do")
	}
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	leaf := ca.Leaf(testpki.WithDNS("a.test"), testpki.WithKey(testpki.RSA2048))
	cert, plain := leaf.Files()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	enc := func(out string, args ...string) {
		args = append(args, "-in", plain, "-out", filepath.Join(dir, out), "-passout", "pass:right")
		if b, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, b)
		}
	}
	enc("p8.key", "pkcs8", "-topk8", "-v2", "aes-256-cbc")
	enc("legacy.key", "rsa", "-aes256", "-traditional")
	write("pw", []byte("wrong\nright\n"))
	write("bad", []byte("wrong\n"))
	write("empty", nil)
	write("long", []byte(strings.Repeat("a", 5000)))
	key48, key80, key47 := make([]byte, 48), make([]byte, 80), make([]byte, 47)
	for _, b := range [][]byte{key48, key80, key47} {
		_, _ = rand.Read(b)
	}
	write("t48", key48)
	write("t80", key80)
	write("t47", key47)
	write("empty.crl", nil)
	write("ca.crt", ca.CertPEM())
	write("good.crl", ca.CRL())

	emerg := regexp.MustCompile(`\[emerg\] [0-9#]+: (.*)`)
	tests := []struct {
		name, directives string
		lineDiffers      bool
	}{
		{"PKCS#8 key, right password second", "ssl_certificate_key DIR/p8.key; ssl_password_file DIR/pw;", false},
		{"legacy key, right password second", "ssl_certificate_key DIR/legacy.key; ssl_password_file DIR/pw;", false},
		{"PKCS#8 key, wrong password", "ssl_certificate_key DIR/p8.key; ssl_password_file DIR/bad;", false},
		{"legacy key, wrong password", "ssl_certificate_key DIR/legacy.key; ssl_password_file DIR/bad;", false},
		{"PKCS#8 key, empty password file", "ssl_certificate_key DIR/p8.key; ssl_password_file DIR/empty;", false},
		{"plain key with password file", "ssl_certificate_key " + plain + "; ssl_password_file DIR/bad;", false},
		{"missing password file", "ssl_certificate_key DIR/p8.key; ssl_password_file DIR/nope;", false},
		{"too long password line", "ssl_certificate_key DIR/p8.key; ssl_password_file DIR/long;", false},
		{"ticket keys 48 and 80", "ssl_certificate_key " + plain + "; ssl_session_ticket_key DIR/t48; ssl_session_ticket_key DIR/t80;", false},
		{"ticket key 47 bytes", "ssl_certificate_key " + plain + "; ssl_session_ticket_key DIR/t47;", true},
		{"missing ticket key", "ssl_certificate_key " + plain + "; ssl_session_ticket_key DIR/nope;", true},
		{"empty CRL", "ssl_certificate_key " + plain + "; ssl_client_certificate DIR/ca.crt; ssl_verify_client on; ssl_crl DIR/empty.crl;", false},
		{"certificate as CRL", "ssl_certificate_key " + plain + "; ssl_client_certificate DIR/ca.crt; ssl_verify_client on; ssl_crl DIR/ca.crt;", false},
		{"good CRL", "ssl_certificate_key " + plain + "; ssl_client_certificate DIR/ca.crt; ssl_verify_client on; ssl_crl DIR/good.crl;", false},
		{"proxy key, right password second", "ssl_certificate_key " + plain + "; location / { proxy_pass https://127.0.0.1:1; proxy_ssl_certificate " + cert + "; proxy_ssl_certificate_key DIR/p8.key; proxy_ssl_password_file DIR/pw; }", false},
		{"proxy key, wrong password", "ssl_certificate_key " + plain + "; location / { proxy_pass https://127.0.0.1:1; proxy_ssl_certificate " + cert + "; proxy_ssl_certificate_key DIR/legacy.key; proxy_ssl_password_file DIR/bad; }", false},
		{"proxy empty CRL", "ssl_certificate_key " + plain + "; location / { proxy_pass https://127.0.0.1:1; proxy_ssl_verify on; proxy_ssl_trusted_certificate DIR/ca.crt; proxy_ssl_crl DIR/empty.crl; }", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "error_log DIR/error.log; pid DIR/nginx.pid;\nevents {}\nhttp {\n access_log off;\n server {\n  listen 127.0.0.1:1 ssl;\n  ssl_certificate " + cert + ";\n  " +
				tt.directives + "\n }\n}\n"
			conf := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(conf, []byte(strings.ReplaceAll(src, "DIR", dir)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, nerr := exec.Command(nginx, "-t", "-q", "-p", dir+"/", "-c", conf).CombinedOutput()
			want := ""
			if m := emerg.FindSubmatch(out); m != nil {
				want = strings.ReplaceAll(string(m[1]), conf, "FILE")
			} else if nerr != nil {
				t.Fatalf("nginx -t: %v\n%s", nerr, out)
			}
			rt, err := load(t, dir, src)
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), filepath.Join(dir, "test.conf"), "FILE")
			} else {
				rt.Close()
			}
			if tt.lineDiffers {
				got, _, _ = strings.Cut(got, " in FILE:")
				want, _, _ = strings.Cut(want, " in FILE:")
			}
			// Guard against a silently passing comparison: these cases are
			// ones nginx refuses.
			refused := regexp.MustCompile(`wrong|missing|empty|long|47|nope`).MatchString(tt.name) && !strings.Contains(tt.name, "second")
			if (want != "") != refused {
				t.Fatalf("nginx -t verdict %q is not the expected one (refused: %v)", want, refused)
			}
			if got != want {
				t.Errorf("gatehouse: %q\n    nginx: %q", got, want)
			}
		})
	}
}
