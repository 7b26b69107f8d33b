package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

// doctorConf writes an http block around body and returns the prefix and
// the configuration file.
func doctorConf(t *testing.T, top, body string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	conf := filepath.Join(dir, "gatehouse.conf")
	text := top + "\nhttp {\n" + body + "\n}\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir + "/", conf
}

// tableRow is the line of doctor's table for addr.
func tableRow(t *testing.T, out, addr string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[1] == addr {
			return f
		}
	}
	t.Fatalf("no table row for %s in:\n%s", addr, out)
	return nil
}

// section is the details block doctor prints for addr.
func section(t *testing.T, out, addr string) string {
	t.Helper()
	i := strings.Index(out, " "+addr+"\n  ")
	if i < 0 {
		t.Fatalf("no details for %s in:\n%s", addr, out)
	}
	s := out[i:]
	if j := strings.Index(s, "\n\n"); j >= 0 {
		s = s[:j]
	}
	return s
}

func addrOf(b *backend) string { return b.srv.Listener.Addr().String() }

// TestDoctorMixedGroup dials a group with one good, one expired and one
// wrongly named backend and checks each verdict, the explanation of each
// failure and the exit status.
func TestDoctorMixedGroup(t *testing.T) {
	ca := testpki.NewCA(t)
	good := newBackend(t, ca.Leaf(testpki.WithDNS("backend.test")).TLSCertificate(), nil, false)
	expired := newBackend(t, ca.Leaf(testpki.WithDNS("backend.test"), testpki.Expired()).TLSCertificate(), nil, false)
	wrong := newBackend(t, ca.Leaf(testpki.WithDNS("other.test")).TLSCertificate(), nil, false)
	prefix, conf := doctorConf(t, "", fmt.Sprintf(`
    upstream backend.test {
        server %s;
        server %s;
        server %s;
    }
    server {
        listen 127.0.0.1:%d;
        location /api/ {
            proxy_pass https://backend.test;
            proxy_ssl_trusted_certificate %s;
        }
    }`, addrOf(good), addrOf(expired), addrOf(wrong), freePort(t), ca.CertFile()))
	code, out, stderr := runCLI(t, "doctor", "-p", prefix, "-c", conf)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", code, out, stderr)
	}

	row := tableRow(t, out, addrOf(good))
	if want := []string{"backend.test", addrOf(good), "/api/", "ok", "TLSv1.3"}; strings.Join(row[:5], " ") != strings.Join(want, " ") {
		t.Errorf("good row %q, want it to start with %q", row, want)
	}
	if row[len(row)-4] != "yes" || row[len(row)-3] != "none" || row[len(row)-1] != "days" {
		t.Errorf("good row %q: want resumed yes, ALPN none, an expiry in days", row)
	}
	g := section(t, out, addrOf(good))
	for _, w := range []string{
		`chain 0: subject "CN=`, "SANs: DNS:backend.test", "days left)",
		"nginx: nginx would not verify this upstream (proxy_ssl_verify is off by default in nginx)",
		"nginx: nginx would not send SNI",
	} {
		if !strings.Contains(g, w) {
			t.Errorf("good backend's details lack %q:\n%s", w, g)
		}
	}
	if strings.Contains(g, "error:") || strings.Contains(g, "fix:") {
		t.Errorf("good backend has an error:\n%s", g)
	}

	if row := tableRow(t, out, addrOf(expired)); !strings.Contains(strings.Join(row, " "), "FAIL: certificate has expired") || row[len(row)-1] != "expired" {
		t.Errorf("expired row %q", row)
	}
	e := section(t, out, addrOf(expired))
	for _, w := range []string{
		"error: upstream SSL certificate verify error: (10:certificate has expired)",
		"expires: ", "(expired 1 day ago)",
		"fix: certificate \"CN=", "UTC: renew it on the upstream",
		"SANs: DNS:backend.test",
	} {
		if !strings.Contains(e, w) {
			t.Errorf("expired backend's details lack %q:\n%s", w, e)
		}
	}

	if row := tableRow(t, out, addrOf(wrong)); !strings.Contains(strings.Join(row, " "), "FAIL: name mismatch") {
		t.Errorf("wrong-name row %q", row)
	}
	w := section(t, out, addrOf(wrong))
	for _, want := range []string{
		`error: upstream SSL certificate does not match "backend.test"`,
		"SANs: DNS:other.test",
		"fix: set proxy_ssl_name to one of the names above (other.test)",
	} {
		if !strings.Contains(w, want) {
			t.Errorf("wrong-name backend's details lack %q:\n%s", want, w)
		}
	}
	if !strings.HasSuffix(out, "3 upstream address(es), 2 failed\n") {
		t.Errorf("summary line:\n%s", out)
	}
}

// TestDoctorAllGood exits 0 when every upstream is reachable and verifies;
// a plain-HTTP upstream is listed as such and does not fail the check.
func TestDoctorAllGood(t *testing.T) {
	ca := testpki.NewCA(t)
	a := newBackend(t, ca.Leaf(testpki.WithDNS("backend.test")).TLSCertificate(), nil, false)
	b := newBackend(t, ca.Leaf(testpki.WithDNS("backend.test")).TLSCertificate(), nil, false)
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	plainAddr := plain.Listener.Addr().String()
	prefix, conf := doctorConf(t, "", fmt.Sprintf(`
    upstream backend.test { server %s; server %s; }
    server {
        listen 127.0.0.1:%d;
        location /api/ {
            proxy_pass https://backend.test;
            proxy_ssl_verify on;
            proxy_ssl_server_name on;
            proxy_ssl_trusted_certificate %s;
        }
        location /old/ { proxy_pass http://%s; }
    }`, addrOf(a), addrOf(b), freePort(t), ca.CertFile(), plainAddr))
	code, out, stderr := runCLI(t, "doctor", "-p", prefix, "-c", conf)
	if code != 0 {
		t.Fatalf("exit %d, want 0; stdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, addr := range []string{addrOf(a), addrOf(b)} {
		if row := tableRow(t, out, addr); row[3] != "ok" {
			t.Errorf("row %q, want ok", row)
		}
		// Everything is set explicitly: nginx would do the same.
		if s := section(t, out, addr); strings.Contains(s, "nginx:") {
			t.Errorf("nginx notes for explicit settings:\n%s", s)
		}
	}
	if row := strings.Join(tableRow(t, out, plainAddr), " "); !strings.Contains(row, "/old/ plain HTTP, not authenticated") {
		t.Errorf("plain row %q", row)
	}
	if !strings.HasSuffix(out, "3 upstream address(es), 0 failed\n") {
		t.Errorf("summary line:\n%s", out)
	}
}

// TestDoctorUnreachable reports a closed port as unreachable with nginx's
// connect() text and exits 1; the other rows are still checked.
func TestDoctorUnreachable(t *testing.T) {
	ca := testpki.NewCA(t)
	good := newBackend(t, ca.Leaf(testpki.WithIP("127.0.0.1")).TLSCertificate(), nil, false)
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	prefix, conf := doctorConf(t, "", fmt.Sprintf(`
    server {
        listen 127.0.0.1:%d;
        proxy_ssl_trusted_certificate %s;
        proxy_connect_timeout 5s;
        location /a/ { proxy_pass https://%s; }
        location /b/ { proxy_pass https://%s; }
        location /c/ { proxy_pass http://%s; }
    }`, freePort(t), ca.CertFile(), addrOf(good), closed, closed))
	code, out, _ := runCLI(t, "doctor", "-p", prefix, "-c", conf)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if row := tableRow(t, out, addrOf(good)); row[3] != "ok" {
		t.Errorf("good row %q", row)
	}
	var n int
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[1] == closed {
			n++
			if f[3] != "unreachable" {
				t.Errorf("closed port row %q", f)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d rows for the closed port, want 2 (https and http):\n%s", n, out)
	}
	if !strings.Contains(out, "error: connect() failed (111: Connection refused) while connecting to upstream") {
		t.Errorf("no connect() error:\n%s", out)
	}
	// The IP literal is verified against the IP SAN, which nginx does not
	// match, and gets no SNI from either.
	if s := section(t, out, addrOf(good)); strings.Contains(s, "would not send SNI") {
		t.Errorf("SNI note for an IP literal:\n%s", s)
	}
}

// TestTestMigrationNotices checks -t's notices: one per https proxy_pass
// whose location leaves proxy_ssl_verify at gatehouse's default, before
// nginx's two summary lines; none under "defaults nginx", for an explicit
// proxy_ssl_verify, or with -q.
func TestTestMigrationNotices(t *testing.T) {
	body := `
    upstream app { server 127.0.0.1:9443; }
    server {
        listen 127.0.0.1:%d;
        location /a/ { proxy_pass https://app; }
        location /b/ { proxy_pass https://app; proxy_ssl_verify on; proxy_ssl_trusted_certificate %s; }
        location /c/ { proxy_pass http://app; }
    }`
	ca := testpki.NewCA(t)
	prefix, conf := doctorConf(t, "", fmt.Sprintf(body, freePort(t), ca.CertFile()))
	code, _, stderr := runCLI(t, "-t", "-p", prefix, "-c", conf)
	want := `gatehouse: [notice] upstream "app" (` + conf + `:7): gatehouse verifies its certificate; nginx would not (proxy_ssl_verify is off by default in nginx)
gatehouse: the configuration file ` + conf + ` syntax is ok
gatehouse: configuration file ` + conf + ` test is successful
`
	if code != 0 || stderr != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
	if code, _, stderr := runCLI(t, "-t", "-q", "-p", prefix, "-c", conf); code != 0 || stderr != "" {
		t.Errorf("-t -q: exit %d, stderr:\n%s", code, stderr)
	}
	prefix, conf = doctorConf(t, "defaults nginx;\nevents {}", fmt.Sprintf(body, freePort(t), ca.CertFile()))
	if code, _, stderr := runCLI(t, "-t", "-p", prefix, "-c", conf); code != 0 || strings.Contains(stderr, "[notice]") {
		t.Errorf("defaults nginx: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestDoctorClientCertificate dials an upstream that requires a client
// certificate from two locations: the one without proxy_ssl_certificate
// fails with the fix naming it (a TLS 1.3 upstream says so only after the
// handshake), the one with it verifies.
func TestDoctorClientCertificate(t *testing.T) {
	ca := testpki.NewCA(t)
	clients := testpki.NewCA(t)
	b := newBackend(t, ca.Leaf(testpki.WithDNS("backend.test")).TLSCertificate(), clients, false)
	cert, key := clients.Leaf(testpki.WithCN("front"), testpki.WithUsage(testpki.UsageClient)).Files()
	prefix, conf := doctorConf(t, "", fmt.Sprintf(`
    upstream backend.test { server %s; }
    server {
        listen 127.0.0.1:%d;
        proxy_ssl_trusted_certificate %s;
        location /anon/ { proxy_pass https://backend.test; }
        location /mtls/ {
            proxy_pass https://backend.test;
            proxy_ssl_certificate %s;
            proxy_ssl_certificate_key %s;
        }
    }`, addrOf(b), freePort(t), ca.CertFile(), cert, key))
	code, out, _ := runCLI(t, "doctor", "-p", prefix, "-c", conf)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[1] == addrOf(b) {
			rows[f[2]] = strings.Join(f[3:], " ")
		}
	}
	if !strings.HasPrefix(rows["/anon/"], "FAIL: client certificate") || !strings.HasPrefix(rows["/mtls/"], "ok TLSv1.3") {
		t.Errorf("rows %q:\n%s", rows, out)
	}
	if !strings.Contains(out, "fix: the upstream requires a client certificate: set proxy_ssl_certificate and proxy_ssl_certificate_key") {
		t.Errorf("no client certificate fix:\n%s", out)
	}
}
