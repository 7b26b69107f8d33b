package certs

import (
	"crypto/tls"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"gatehouse/internal/testpki"
)

// TestParseCurves: OpenSSL 3's names (case-sensitive, with the P-NNN
// aliases), nginx's "auto", and OpenSSL's refusals as nginx words them
// (checked against nginx 1.22 with OpenSSL 3.0 by TestCurvesAsNginx).
func TestParseCurves(t *testing.T) {
	tests := []struct {
		in     string
		want   []tls.CurveID
		err    string
		unsupp bool
	}{
		{in: "auto"},
		{in: "prime256v1", want: []tls.CurveID{tls.CurveP256}},
		{in: "X25519:secp521r1:P-384", want: []tls.CurveID{tls.X25519, tls.CurveP521, tls.CurveP384}},
		{in: "x25519:secp256r1", want: []tls.CurveID{tls.X25519, tls.CurveP256}},
		{in: "X25519MLKEM768:X25519", want: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}},
		{in: "bogus", err: `SSL_CTX_set1_curves_list("bogus") failed (SSL: error:0A080106:SSL routines::passed invalid argument:group 'bogus' cannot be set)`},
		{in: "prime256v1:bogus", err: `SSL_CTX_set1_curves_list("prime256v1:bogus") failed (SSL: error:0A080106:SSL routines::passed invalid argument:group 'bogus' cannot be set)`},
		{in: "AUTO", err: `SSL_CTX_set1_curves_list("AUTO") failed (SSL: error:0A080106:SSL routines::passed invalid argument:group 'AUTO' cannot be set)`},
		{in: "PRIME256V1", err: `SSL_CTX_set1_curves_list("PRIME256V1") failed (SSL: error:0A080106:SSL routines::passed invalid argument:group 'PRIME256V1' cannot be set)`},
		{in: "", err: `SSL_CTX_set1_curves_list("") failed`},
		{in: ":", err: `SSL_CTX_set1_curves_list(":") failed`},
		{in: "prime256v1:", err: `SSL_CTX_set1_curves_list("prime256v1:") failed`},
		{in: "secp256r1:P-256", err: `SSL_CTX_set1_curves_list("secp256r1:P-256") failed`},
		{in: "X448", unsupp: true},
		{in: "X25519:ffdhe2048", unsupp: true},
	}
	for _, tt := range tests {
		got, err := ParseCurves(tt.in)
		var ue *UnsupportedCurveError
		var ce *CurveError
		switch {
		case tt.unsupp:
			if !errors.As(err, &ue) {
				t.Errorf("%q: %v, want an UnsupportedCurveError", tt.in, err)
			}
		case tt.err != "":
			if !errors.As(err, &ce) || err.Error() != tt.err {
				t.Errorf("%q: %v, want %s", tt.in, err, tt.err)
			}
		case err != nil || !slices.Equal(got, tt.want):
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestCurvesAsNginx runs nginx -t on each ssl_ecdh_curve value that the
// OpenSSL it is built with shares with crypto/tls, and compares its
// verdict and message with ParseCurves'.
func TestCurvesAsNginx(t *testing.T) {
	const nginx = "/usr/sbin/nginx"
	if _, err := os.Stat(nginx); err != nil {
		t.Skip("nginx is not installed at " + nginx + ": differential test skipped")
	}
	dir := t.TempDir()
	cert, key := testpki.NewCA(t).Leaf(testpki.WithDNS("a.test")).Files()
	emerg := regexp.MustCompile(`\[emerg\] [0-9#]+: (.*)`)
	for _, v := range []string{"auto", "bogus", "AUTO", "prime256v1", "PRIME256V1", "P-256", "p-256", "secp384r1:x25519",
		"X25519:secp521r1:P-384", "prime256v1:bogus", `""`, ":", "prime256v1:", "prime256v1::X25519", "secp256r1:P-256"} {
		conf := filepath.Join(dir, "nginx.conf")
		src := "error_log " + dir + "/error.log; pid " + dir + "/nginx.pid;\nevents {}\nhttp {\n server {\n  listen 127.0.0.1:1 ssl;\n" +
			"  ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n  ssl_ecdh_curve " + v + ";\n }\n}\n"
		if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, nerr := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", conf).CombinedOutput()
		want := ""
		if m := emerg.FindSubmatch(out); m != nil {
			want = string(m[1])
		} else if nerr != nil {
			t.Fatalf("%s: nginx -t: %v\n%s", v, nerr, out)
		}
		if v == `""` {
			v = ""
		}
		_, err := ParseCurves(v)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("ssl_ecdh_curve %q: gatehouse %q, nginx %q", v, got, want)
		}
	}
}

// FuzzParseCurves: any value is either refused or gives distinct groups
// crypto/tls implements.
func FuzzParseCurves(f *testing.F) {
	for _, s := range []string{"auto", "X25519:prime256v1", "P-256:secp256r1", "X448", "", ":", "bogus"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseCurves(s)
		if err != nil {
			return
		}
		seen := map[tls.CurveID]bool{}
		for _, id := range ids {
			if id == 0 || seen[id] {
				t.Fatalf("%q: %v", s, ids)
			}
			seen[id] = true
		}
		if s != "auto" && len(ids) == 0 {
			t.Fatalf("%q: no groups", s)
		}
	})
}
