package tlsterm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

const nginxBinary = "/usr/sbin/nginx"

// nginxVars is what the differential servers return, one value a line.
var nginxVars = []struct {
	name string
	id   variables.ID
}{
	{"ssl_client_verify", variables.SSLClientVerify},
	{"ssl_client_s_dn", variables.SSLClientSDN},
	{"ssl_client_i_dn", variables.SSLClientIDN},
	{"ssl_client_s_dn_legacy", variables.SSLClientSDNLegacy},
	{"ssl_client_i_dn_legacy", variables.SSLClientIDNLegacy},
	{"ssl_client_serial", variables.SSLClientSerial},
	{"ssl_client_fingerprint", variables.SSLClientFingerprint},
	{"ssl_client_v_start", variables.SSLClientVStart},
	{"ssl_client_v_end", variables.SSLClientVEnd},
	{"ssl_client_escaped_cert", variables.SSLClientEscapedCert},
	{"ssl_server_name", variables.SSLServerName},
	{"ssl_session_reused", variables.SSLSessionReused},
}

// nginxServer is one server block of the differential configuration.
type nginxServer struct {
	mode  VerifyMode
	depth int
	crl   bool
	port  int
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func writePEM(t *testing.T, path, typ string, blocks ...[]byte) {
	t.Helper()
	var b bytes.Buffer
	for _, der := range blocks {
		_ = pem.Encode(&b, &pem.Block{Type: typ, Bytes: der})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startNginx runs nginx in the foreground with one TLS server per entry
// of servers and returns when every port accepts connections.
func startNginx(t *testing.T, dir string, servers []nginxServer) {
	t.Helper()
	var conf strings.Builder
	fmt.Fprintf(&conf, "daemon off; master_process off; worker_processes 1;\n")
	fmt.Fprintf(&conf, "error_log %s/error.log info; pid %s/nginx.pid;\n", dir, dir)
	fmt.Fprintf(&conf, "events { worker_connections 64; }\nhttp {\n access_log off;\n")
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&conf, " %s_temp_path %s/tmp_%s;\n", p, dir, p)
	}
	var body strings.Builder
	for _, v := range nginxVars {
		body.WriteString("$" + v.name + "\\n")
	}
	for _, s := range servers {
		fmt.Fprintf(&conf, " server {\n  listen 127.0.0.1:%d ssl;\n  server_name mtls.test;\n", s.port)
		fmt.Fprintf(&conf, "  ssl_certificate %s/server.crt; ssl_certificate_key %s/server.key;\n", dir, dir)
		fmt.Fprintf(&conf, "  ssl_client_certificate %s/ca.crt; ssl_verify_client %s; ssl_verify_depth %d;\n", dir, s.mode, s.depth)
		if s.crl {
			fmt.Fprintf(&conf, "  ssl_crl %s/crl.pem;\n", dir)
		}
		fmt.Fprintf(&conf, "  error_page 495 = /e495; error_page 496 = /e496;\n")
		fmt.Fprintf(&conf, "  location / { return 200 \"200\\n%s\"; }\n", body.String())
		fmt.Fprintf(&conf, "  location = /e495 { return 200 \"495\\n%s\"; }\n", body.String())
		fmt.Fprintf(&conf, "  location = /e496 { return 200 \"496\\n%s\"; }\n }\n", body.String())
	}
	conf.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, nginxBinary, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skipf("cannot start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for _, s := range servers {
		for {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-exited:
				log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				t.Fatalf("nginx exited: %v\n%s\n%s", err, stderr.Bytes(), log)
			case <-deadline:
				t.Fatalf("nginx did not listen on %d", s.port)
			case <-tick.C:
			}
		}
	}
}

// nginxGet makes one request with the given client certificate and
// returns the verdict nginx reached and the variable values.
func nginxGet(t *testing.T, port int, root *x509.CertPool, cert *tls.Certificate) (Verdict, []string) {
	t.Helper()
	cfg := &tls.Config{RootCAs: root, ServerName: "mtls.test", GetClientCertificate: sendAlways(cert)}
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
	if err != nil {
		t.Fatalf("dial nginx: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: mtls.test\r\nConnection: close\r\n\r\n")
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("nginx answered %q, %v", status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(r)
	lines := strings.Split(rest.String(), "\n")
	verdict := map[string]Verdict{"200": Proceed, "495": CertError, "496": NoCert}[lines[0]]
	return verdict, lines[1 : 1+len(nginxVars)]
}

// leafWithSubject signs a client certificate with an arbitrary raw subject.
func leafWithSubject(t *testing.T, ca *testpki.CA, subject []byte, serial int64) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		RawSubject:   subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// TestAgainstNginx presents the same client certificates to nginx and to
// tlsterm, in every verification mode, and compares the verdicts and the
// variables. It needs nginx built with OpenSSL 3 at /usr/sbin/nginx.
func TestAgainstNginx(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("differential test needs nginx at %s", nginxBinary)
	}
	if testing.Short() {
		t.Skip("starts nginx")
	}
	dir := t.TempDir()
	root := testpki.NewCA(t, testpki.WithCN("Diff Root"), testpki.WithOrg("Example, Inc."))
	inter := root.Intermediate(testpki.WithCN("Diff Intermediate"))
	inter2 := inter.Intermediate(testpki.WithCN("Diff Intermediate 2"))
	stranger := testpki.NewCA(t, testpki.WithCN("Stranger Root"))
	strangerInt := stranger.Intermediate(testpki.WithCN("Stranger Intermediate"))
	server := root.Leaf(testpki.WithDNS("mtls.test"))
	revoked := root.Leaf(testpki.WithCN("revoked"))
	writePEM(t, filepath.Join(dir, "server.crt"), "CERTIFICATE", server.Cert.Raw)
	if err := os.WriteFile(filepath.Join(dir, "server.key"), server.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", root.Cert.Raw)
	crls := [][]byte{root.CRL(revoked.Cert), inter.CRL()}
	if err := os.WriteFile(filepath.Join(dir, "crl.pem"), bytes.Join(crls, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	var crlList []*x509.RevocationList
	for _, c := range crls {
		crlList = append(crlList, parseCRL(t, c))
	}

	var servers []nginxServer
	for _, m := range []VerifyMode{VerifyOn, VerifyOptional, VerifyOptionalNoCA} {
		for _, depth := range []int{1, 2} {
			servers = append(servers, nginxServer{mode: m, depth: depth, port: freePort(t)})
		}
	}
	servers = append(servers, nginxServer{mode: VerifyOptional, depth: 2, crl: true, port: freePort(t)})
	startNginx(t, dir, servers)

	own := func(ca *testpki.CA, opts ...testpki.Option) tls.Certificate { return ca.Leaf(opts...).TLSCertificate() }
	tricky := leafWithSubject(t, root, buildName(t,
		one(prn(oidC, "US")),
		one(utf8(oidO, `Acme, "Q" <R&D>; x+y`)),
		[]tv{utf8(oidOU, "#ops "), tv{oidDC, asn1.TagIA5String, "corp"}},
		one(utf8(oidCN, " café \x01")),
		one(tv{oidEmail, asn1.TagIA5String, "a@b.test"}),
		one(utf8(oidOdd, "odd")),
		one(tv{oidCN, asn1.TagBMPString, "\x00A\x20\xac"}),
		one(tv{oidCN, asn1.TagT61String, "\xe9"}),
	), 1)
	zeroSerial := leafWithSubject(t, root, buildName(t, one(utf8(oidCN, "zero"))), 4096)
	clients := []struct {
		name string
		cert *tls.Certificate
	}{
		{"none", nil},
		{"valid", ptr(own(root, testpki.WithCN("valid"), testpki.WithSerial(1)))},
		{"valid via intermediate", ptr(own(inter, testpki.WithCN("via int")))},
		{"two intermediates", ptr(own(inter2, testpki.WithCN("via int2")))},
		{"unknown CA, leaf only", ptr(stranger.Leaf(testpki.WithCN("stranger")).LeafOnlyTLSCertificate())},
		{"unknown CA with intermediate", ptr(own(strangerInt, testpki.WithCN("stranger2")))},
		{"self-signed", ptr(testpki.SelfSigned(t, testpki.WithCN("self")).TLSCertificate())},
		{"expired", ptr(own(root, testpki.WithCN("expired"), testpki.Expired()))},
		{"not yet valid", ptr(own(root, testpki.WithCN("future"), testpki.NotYetValid()))},
		{"expired from unknown CA", ptr(stranger.Leaf(testpki.WithCN("x"), testpki.Expired()).LeafOnlyTLSCertificate())},
		{"server-only EKU", ptr(own(root, testpki.WithCN("srv"), testpki.WithUsage(testpki.UsageServer)))},
		{"revoked", ptr(revoked.TLSCertificate())},
		{"tricky subject", &tricky},
		{"serial 4096", &zeroSerial},
	}
	for _, s := range servers {
		l, err := New(Options{
			Servers: []Server{{
				Certificates: []tls.Certificate{server.TLSCertificate()},
				VerifyClient: s.mode, VerifyDepth: s.depth,
				ClientCAs: []*x509.Certificate{root.Cert},
				CRLs: func() []*x509.RevocationList {
					if s.crl {
						return crlList
					}
					return nil
				}(),
			}},
			LookupSNI: nameTable(map[string]int{"mtls.test": 0}),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range clients {
			name := fmt.Sprintf("%s/depth%d/crl=%v/%s", s.mode, s.depth, s.crl, c.name)
			t.Run(name, func(t *testing.T) {
				wantVerdict, wantVars := nginxGet(t, s.port, root.Pool(), c.cert)
				cfg := clientConfig(root.Pool(), "mtls.test")
				cfg.GetClientCertificate = sendAlways(c.cert)
				r := handshake(t, l, cfg)
				if r.clientErr != nil || r.serverErr != nil {
					t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
				}
				if got := r.info.Check([]byte("mtls.test"), 0); got != wantVerdict {
					t.Errorf("verdict = %v, nginx: %v ($ssl_client_verify %q)", got, wantVerdict, wantVars[0])
				}
				for k, v := range nginxVars {
					if got := varString(t, r.info, v.id); got != wantVars[k] {
						t.Errorf("$%s = %q, nginx: %q", v.name, got, wantVars[k])
					}
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }
