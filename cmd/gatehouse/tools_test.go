package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

// tool returns the path of an outside program, or skips.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed; this test needs it (apt-get install %s)", name, name)
	}
	return p
}

// sniConfig is two TLS servers on one port with their own certificates.
func sniConfig(t *testing.T) (port int, caFile string, client *testpki.Leaf) {
	ca := testpki.NewCA(t)
	a := ca.Leaf(testpki.WithDNS("a.example.com"), testpki.WithCN("a.example.com"))
	b := ca.Leaf(testpki.WithDNS("b.example.com"), testpki.WithCN("b.example.com"))
	client = ca.Leaf(testpki.WithCN("carol"), testpki.WithUsage(testpki.UsageClient))
	ac, ak := a.Files()
	bc, bk := b.Files()
	port = freePort(t)
	start(t, fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    server {
        listen 127.0.0.1:%d ssl;
        server_name a.example.com;
        ssl_certificate %s;
        ssl_certificate_key %s;
        location / { return 200 "a $ssl_server_name $ssl_protocol $ssl_client_verify\n"; }
    }
    server {
        listen 127.0.0.1:%[1]d ssl;
        server_name b.example.com;
        ssl_certificate %[4]s;
        ssl_certificate_key %[5]s;
        ssl_client_certificate %[6]s;
        ssl_verify_client on;
        location / { return 200 "b $ssl_server_name $ssl_protocol $ssl_client_verify $ssl_client_s_dn\n"; }
    }
}
`, port, ac, ak, bc, bk, ca.CertFile()))
	return port, ca.CertFile(), client
}

func TestCurlNegotiates(t *testing.T) {
	curl := tool(t, "curl")
	port, caFile, client := sniConfig(t)
	cert, key := client.Files()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"sni a", []string{"--resolve", fmt.Sprintf("a.example.com:%d:127.0.0.1", port), fmt.Sprintf("https://a.example.com:%d/", port)},
			"a a.example.com TLSv1.3 NONE\n"},
		{"sni b with client certificate", []string{"--cert", cert, "--key", key, "--resolve", fmt.Sprintf("b.example.com:%d:127.0.0.1", port), fmt.Sprintf("https://b.example.com:%d/", port)},
			"b b.example.com TLSv1.3 SUCCESS CN=carol\n"},
		{"tls 1.2", []string{"--tls-max", "1.2", "--resolve", fmt.Sprintf("a.example.com:%d:127.0.0.1", port), fmt.Sprintf("https://a.example.com:%d/", port)},
			"a a.example.com TLSv1.2 NONE\n"},
	} {
		out, err := exec.Command(curl, append([]string{"-sS", "--cacert", caFile}, tc.args...)...).CombinedOutput()
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: %v\n%s\nwant %q", tc.name, err, out, tc.want)
		}
	}
}

func TestOpenSSLSClientSeesCertificateBySNI(t *testing.T) {
	openssl := tool(t, "openssl")
	port, caFile, _ := sniConfig(t)
	for _, name := range []string{"a.example.com", "b.example.com"} {
		cmd := exec.Command(openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port),
			"-servername", name, "-CAfile", caFile, "-verify_return_error", "-brief")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		s := string(out)
		if err != nil || !strings.Contains(s, "Peer certificate: CN = "+name) || !strings.Contains(s, "Protocol version: TLSv1.3") || !strings.Contains(s, "Verification: OK") {
			t.Errorf("openssl s_client -servername %s: %v\n%s", name, err, s)
		}
	}
}
