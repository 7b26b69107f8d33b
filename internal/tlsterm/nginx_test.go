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
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"gatehouse/internal/testproc"
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
	crl   string // "" (none), "crl.pem" or "crl_lookalike.pem"
	full  bool   // the CA file also holds the intermediate
	port  int
}

func freePort(t *testing.T) int { return testproc.FreePort(t) }

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
// of servers and returns when it accepts connections.
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
		ca := "ca.crt"
		if s.full {
			ca = "ca_full.crt"
		}
		fmt.Fprintf(&conf, "  ssl_client_certificate %s/%s; ssl_verify_client %s; ssl_verify_depth %d;\n", dir, ca, s.mode, s.depth)
		if s.crl != "" {
			fmt.Fprintf(&conf, "  ssl_crl %s/%s;\n", dir, s.crl)
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
	// nginx binds every listening socket before it accepts on any.
	startNginxConf(t, dir, servers[0].port)
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

// issue signs tmpl for a new P-256 key with parent's key (self-signed when
// parent is nil) and returns the certificate and its key.
func issue(t *testing.T, tmpl, parent *x509.Certificate, parentKey any) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// leafWithSubject signs a client certificate with an arbitrary raw subject;
// a nil ca makes it self-signed (and, its key usage being digitalSignature
// only, not allowed to sign certificates).
func leafWithSubject(t *testing.T, ca *testpki.CA, subject []byte, serial int64) tls.Certificate {
	t.Helper()
	var parent *x509.Certificate
	var parentKey any
	if ca != nil {
		parent, parentKey = ca.Cert, ca.Key
	}
	leaf, key := issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		RawSubject:   subject,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, parent, parentKey)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

// underSigningNonCA is a client certificate sent with its issuer, which has
// basicConstraints CA:FALSE but a key usage that allows keyCertSign: not a
// CA (79), and so not fit for the purpose either (26).
func underSigningNonCA(t *testing.T, root *testpki.CA) *tls.Certificate {
	t.Helper()
	inter, interKey := issue(t, &x509.Certificate{
		SerialNumber:          big.NewInt(78),
		Subject:               pkix.Name{CommonName: "CA:FALSE with keyCertSign"},
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, root.Cert, root.Key)
	leaf, key := issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(79),
		Subject:      pkix.Name{CommonName: "under a signing non-CA"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, inter, interKey)
	return &tls.Certificate{Certificate: [][]byte{leaf.Raw, inter.Raw}, PrivateKey: key, Leaf: leaf}
}

// Attribute OIDs of the differential subject.
var (
	oidC     = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU    = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCN    = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidDC    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidOdd   = asn1.ObjectIdentifier{1, 2, 3, 4}
)

// attr is one attribute of a hand-built subject: its OID, ASN.1 string
// tag and content bytes.
type attr struct {
	oid asn1.ObjectIdentifier
	tag int
	val string
}

// subject encodes a name whose values keep the given string types, one
// RDN per argument (encoding/asn1 sorts the members of a multi-valued RDN).
func subject(t *testing.T, rdns ...[]attr) []byte {
	t.Helper()
	var seq pkix.RDNSequence
	for _, rdn := range rdns {
		var set pkix.RelativeDistinguishedNameSET
		for _, a := range rdn {
			set = append(set, pkix.AttributeTypeAndValue{Type: a.oid, Value: asn1.RawValue{Tag: a.tag, Bytes: []byte(a.val)}})
		}
		seq = append(seq, set)
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return der
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
	notCA := root.Intermediate(testpki.WithCN("Not A CA"), testpki.NotCA())
	noExt := root.Intermediate(testpki.WithCN("No Extensions"), testpki.NoExtensions())
	noBC := root.Intermediate(testpki.WithCN("No Basic Constraints"), testpki.NoBasicConstraints())
	writePEM(t, filepath.Join(dir, "server.crt"), "CERTIFICATE", server.Cert.Raw)
	if err := os.WriteFile(filepath.Join(dir, "server.key"), server.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", root.Cert.Raw)
	writePEM(t, filepath.Join(dir, "ca_full.crt"), "CERTIFICATE", root.Cert.Raw, inter.Cert.Raw)
	crls := [][]byte{root.CRL(revoked.Cert), inter.CRL()}
	if err := os.WriteFile(filepath.Join(dir, "crl.pem"), bytes.Join(crls, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	// The intermediate's CRL replaced by one from a look-alike CA: same
	// name, another key, so its authority key identifier matches no
	// certificate of the chain.
	lookalike := testpki.NewCA(t, testpki.WithCN("Diff Intermediate"))
	lookalikeCRLs := [][]byte{root.CRL(), lookalike.CRL()}
	if err := os.WriteFile(filepath.Join(dir, "crl_lookalike.pem"), bytes.Join(lookalikeCRLs, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	crlLists := map[string][]*x509.RevocationList{}
	for name, set := range map[string][][]byte{"crl.pem": crls, "crl_lookalike.pem": lookalikeCRLs} {
		for _, c := range set {
			crlLists[name] = append(crlLists[name], parseCRL(t, c))
		}
	}

	var servers []nginxServer
	for _, m := range []VerifyMode{VerifyOn, VerifyOptional, VerifyOptionalNoCA} {
		for _, depth := range []int{0, 1, 2} {
			servers = append(servers, nginxServer{mode: m, depth: depth, port: freePort(t)})
		}
	}
	servers = append(servers, nginxServer{mode: VerifyOptional, depth: 2, crl: "crl.pem", port: freePort(t)},
		nginxServer{mode: VerifyOptionalNoCA, depth: 1, crl: "crl.pem", port: freePort(t)},
		nginxServer{mode: VerifyOptional, depth: 1, crl: "crl_lookalike.pem", port: freePort(t)},
		nginxServer{mode: VerifyOptional, depth: 0, full: true, port: freePort(t)},
		nginxServer{mode: VerifyOptional, depth: 1, full: true, port: freePort(t)})
	startNginx(t, dir, servers)

	own := func(ca *testpki.CA, opts ...testpki.Option) tls.Certificate { return ca.Leaf(opts...).TLSCertificate() }
	tricky := leafWithSubject(t, root, subject(t,
		[]attr{{oidC, asn1.TagPrintableString, "US"}},
		[]attr{{oidO, asn1.TagUTF8String, `Acme, "Q" <R&D>; x+y`}},
		[]attr{{oidOU, asn1.TagUTF8String, "#ops "}, {oidDC, asn1.TagIA5String, "corp"}},
		[]attr{{oidCN, asn1.TagUTF8String, " café \x01"}},
		[]attr{{oidEmail, asn1.TagIA5String, "a@b.test"}},
		[]attr{{oidOdd, asn1.TagUTF8String, "odd"}},
		[]attr{{oidCN, asn1.TagBMPString, "\x00A\x20\xac"}},
		[]attr{{oidCN, asn1.TagT61String, "\xe9"}},
	), 1)
	zeroSerial := leafWithSubject(t, root, subject(t, []attr{{oidCN, asn1.TagUTF8String, "zero"}}), 4096)
	clients := []struct {
		name string
		cert *tls.Certificate
	}{
		{"none", nil},
		{"valid", ptr(own(root, testpki.WithCN("valid"), testpki.WithSerial(1)))},
		{"valid via intermediate", ptr(own(inter, testpki.WithCN("via int")))},
		{"intermediate not sent", ptr(inter.Leaf(testpki.WithCN("int not sent")).LeafOnlyTLSCertificate())},
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
		{"root sent along", withExtra(inter.Leaf(testpki.WithCN("with root")), root.Cert)},
		{"intermediate without CA flag", ptr(own(notCA, testpki.WithCN("under not-CA")))},
		{"intermediate without extensions", ptr(own(noExt, testpki.WithCN("under no-ext")))},
		{"intermediate without basicConstraints", ptr(own(noBC, testpki.WithCN("under no-bc")))},
		{"no EKU", ptr(own(root, testpki.WithCN("no eku"), testpki.WithUsage(testpki.UsageNone)))},
		{"code-signing EKU", ptr(own(root, testpki.WithCN("codesign"), testpki.WithUsage(testpki.UsageCodeSigning)))},
		{"unknown root sent along", withExtra(strangerInt.Leaf(testpki.WithCN("with stranger root")), stranger.Cert)},
		{"serial 4096", &zeroSerial},
		{"intermediate CA:FALSE with keyCertSign", underSigningNonCA(t, root)},
		{"self-signed without keyCertSign", ptr(leafWithSubject(t, nil, subject(t, []attr{{oidCN, asn1.TagUTF8String, "self, no keyCertSign"}}), 77))},
	}
	for _, s := range servers {
		l, err := New(Options{
			Servers: []Server{{
				Certificates: []tls.Certificate{server.TLSCertificate()},
				VerifyClient: s.mode, VerifyDepth: s.depth,
				ClientCAs: func() []*x509.Certificate {
					if s.full {
						return []*x509.Certificate{root.Cert, inter.Cert}
					}
					return []*x509.Certificate{root.Cert}
				}(),
				CRLs: crlLists[s.crl],
			}},
			LookupSNI: nameTable(map[string]int{"mtls.test": 0}),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range clients {
			name := fmt.Sprintf("%s/depth%d/crl=%s/full=%v/%s", s.mode, s.depth, s.crl, s.full, c.name)
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

// withExtra is l's certificate chain with more certificates appended.
func withExtra(l *testpki.Leaf, extra ...*x509.Certificate) *tls.Certificate {
	c := l.TLSCertificate()
	for _, e := range extra {
		c.Certificate = append(c.Certificate, e.Raw)
	}
	return &c
}

// TestAgainstNginxSNI compares SNI selection, ssl_reject_handshake and the
// 421 rule with nginx: several servers on one port, requests with every
// combination of SNI and Host.
func TestAgainstNginxSNI(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("differential test needs nginx at %s", nginxBinary)
	}
	if testing.Short() {
		t.Skip("starts nginx")
	}
	dir := t.TempDir()
	root := testpki.NewCA(t)
	names := []string{"default.test", "secure.test", "plain.test", "reject.test", "optional.test", "nocert.test"}
	modes := []VerifyMode{VerifyOff, VerifyOn, VerifyOff, VerifyOff, VerifyOptionalNoCA, VerifyOn}
	var servers []Server
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "daemon off; master_process off; worker_processes 1;\nerror_log %s/error.log info; pid %s/nginx.pid;\n", dir, dir)
	fmt.Fprintf(&conf, "events { worker_connections 64; }\nhttp {\n access_log off;\n")
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&conf, " %s_temp_path %s/tmp_%s;\n", p, dir, p)
	}
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", root.Cert.Raw)
	for k, n := range names {
		leaf := root.Leaf(testpki.WithDNS(n))
		writePEM(t, filepath.Join(dir, n+".crt"), "CERTIFICATE", leaf.Cert.Raw)
		if err := os.WriteFile(filepath.Join(dir, n+".key"), leaf.KeyPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		s := Server{VerifyClient: modes[k], VerifyDepth: 1}
		fmt.Fprintf(&conf, " server {\n  listen 127.0.0.1:%d ssl;\n  server_name %s;\n", port, n)
		if n != "nocert.test" {
			s.Certificates = []tls.Certificate{leaf.TLSCertificate()}
			fmt.Fprintf(&conf, "  ssl_certificate %s/%s.crt; ssl_certificate_key %s/%s.key;\n", dir, n, dir, n)
		}
		conf.WriteString("  ssl_protocols TLSv1.2 TLSv1.3;\n")
		if modes[k] != VerifyOff {
			fmt.Fprintf(&conf, "  ssl_client_certificate %s/ca.crt; ssl_verify_client %s;\n", dir, modes[k])
			s.ClientCAs = []*x509.Certificate{root.Cert}
		}
		if n == "reject.test" {
			conf.WriteString("  ssl_reject_handshake on;\n")
			s.RejectHandshake = true
		}
		fmt.Fprintf(&conf, "  location / { return 200 \"%s\\n$ssl_server_name\\n$ssl_client_verify\\n$ssl_protocol\\n$ssl_cipher\\n$ssl_curve\\n$ssl_curves\\n$ssl_session_reused\\n\"; }\n }\n", n)
		servers = append(servers, s)
	}
	conf.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	startNginxConf(t, dir, port)

	lookup := map[string]int{}
	for k, n := range names {
		lookup[n] = k
	}
	l, err := New(Options{Servers: servers, LookupSNI: nameTable(lookup)})
	if err != nil {
		t.Fatal(err)
	}
	client := root.Leaf(testpki.WithCN("client")).TLSCertificate()
	stranger := testpki.NewCA(t).Leaf(testpki.WithCN("stranger")).LeafOnlyTLSCertificate()
	hosts := []string{"default.test", "secure.test", "plain.test", "optional.test", "nocert.test", "unknown.test"}
	snis := []string{"", "default.test", "secure.test", "plain.test", "reject.test", "optional.test", "nocert.test", "unknown.test"}
	for _, sni := range snis {
		for _, host := range hosts {
			for k, cert := range []*tls.Certificate{&client, &stranger, nil} {
				certName := map[*tls.Certificate]string{&client: "client", &stranger: "stranger", nil: "none"}[cert]
				// Alternate TLS 1.3 and 1.2 so both name tables are compared.
				version := []uint16{tls.VersionTLS13, tls.VersionTLS12}[(k+len(host))%2]
				t.Run(fmt.Sprintf("sni=%s/host=%s/cert=%s/%x", sni, host, certName, version), func(t *testing.T) {
					// OpenSSL 3.0 has no ML-KEM groups: offer classic ones only.
					cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true, GetClientCertificate: sendAlways(cert),
						CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
						MaxVersion:       version}
					status, body, nerr := rawGet(port, cfg, host)
					r := handshake(t, l, cfg)
					if (nerr != nil) != (r.clientErr != nil) {
						t.Fatalf("handshake: nginx %v, tlsterm %v", nerr, r.clientErr)
					}
					if nerr != nil {
						if !strings.Contains(nerr.Error(), "unrecognized name") || !strings.Contains(r.clientErr.Error(), "unrecognized name") {
							t.Errorf("alerts differ: nginx %v, tlsterm %v", nerr, r.clientErr)
						}
						return
					}
					idx, ok := lookup[host]
					if !ok {
						idx = 0
					}
					v := r.info.Check([]byte(host), idx)
					want := map[int]Verdict{200: Proceed, 421: Misdirected}[status]
					if status == 400 {
						want = map[bool]Verdict{true: CertError, false: NoCert}[strings.Contains(body, "The SSL certificate error")]
					}
					if v != want {
						t.Errorf("verdict = %v, nginx answered %d", v, status)
					}
					if status == 200 {
						lines := strings.Split(body, "\n")
						if got := varString(t, r.info, variables.SSLServerName); got != lines[1] {
							t.Errorf("$ssl_server_name = %q, nginx %q", got, lines[1])
						}
						for k, id := range []variables.ID{variables.SSLClientVerify, variables.SSLProtocol, variables.SSLCipher, variables.SSLCurve, variables.SSLCurves, variables.SSLSessionReused} {
							if got := varString(t, r.info, id); got != lines[2+k] {
								t.Errorf("variable %d = %q, nginx %q", id, got, lines[2+k])
							}
						}
					}
				})
			}
		}
	}
}

// startNginxConf starts nginx on dir/nginx.conf and waits for port.
func startNginxConf(t *testing.T, dir string, port int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, nginxBinary, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	proc, err := testproc.Start(t, cmd)
	if err != nil {
		cancel()
		t.Skipf("cannot start nginx: %v", err)
	}
	t.Cleanup(cancel)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-proc.Done():
			err := proc.Err()
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, stderr.Bytes(), log)
		case <-deadline:
			t.Fatalf("nginx did not listen on %d", port)
		case <-tick.C:
		}
	}
}

// rawGet makes one HTTP/1.1 request over TLS and returns the status code
// and body, or the handshake error.
func rawGet(port int, cfg *tls.Config, host string) (int, string, error) {
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
	var resp bytes.Buffer
	_, _ = resp.ReadFrom(c)
	head, body, _ := strings.Cut(resp.String(), "\r\n\r\n")
	var code int
	_, _ = fmt.Sscanf(head, "HTTP/1.1 %d", &code)
	return code, body, nil
}

// TestAgainstNginxEmptyIsNotFound: nginx's ngx_http_ssl_variable makes an
// empty TLS variable "not found", which the access log writes as "-".
// A client without a certificate (ssl_verify_client optional), with and
// without SNI, is logged by nginx with every TLS variable; each one is "-"
// there exactly when AppendVar reports it not found.
func TestAgainstNginxEmptyIsNotFound(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("differential test needs nginx at %s", nginxBinary)
	}
	if testing.Short() {
		t.Skip("starts nginx")
	}
	dir := t.TempDir()
	root := testpki.NewCA(t)
	server := root.Leaf(testpki.WithDNS("mtls.test"))
	writePEM(t, filepath.Join(dir, "server.crt"), "CERTIFICATE", server.Cert.Raw)
	if err := os.WriteFile(filepath.Join(dir, "server.key"), server.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", root.Cert.Raw)
	vars := []struct {
		name string
		id   variables.ID
	}{
		{"ssl_protocol", variables.SSLProtocol}, {"ssl_cipher", variables.SSLCipher},
		{"ssl_server_name", variables.SSLServerName}, {"ssl_session_reused", variables.SSLSessionReused},
		{"ssl_alpn_protocol", variables.SSLALPNProtocol}, {"ssl_early_data", variables.SSLEarlyData},
		{"ssl_client_verify", variables.SSLClientVerify}, {"ssl_client_s_dn", variables.SSLClientSDN},
		{"ssl_client_i_dn", variables.SSLClientIDN}, {"ssl_client_s_dn_legacy", variables.SSLClientSDNLegacy},
		{"ssl_client_i_dn_legacy", variables.SSLClientIDNLegacy}, {"ssl_client_serial", variables.SSLClientSerial},
		{"ssl_client_fingerprint", variables.SSLClientFingerprint}, {"ssl_client_raw_cert", variables.SSLClientRawCert},
		{"ssl_client_cert", variables.SSLClientCert}, {"ssl_client_escaped_cert", variables.SSLClientEscapedCert},
		{"ssl_client_v_start", variables.SSLClientVStart}, {"ssl_client_v_end", variables.SSLClientVEnd},
		{"ssl_client_v_remain", variables.SSLClientVRemain}, {"https", variables.HTTPS},
	}
	var format strings.Builder
	for k, v := range vars {
		if k > 0 {
			format.WriteByte('|')
		}
		format.WriteString("$" + v.name)
	}
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "daemon off; master_process off; worker_processes 1;\nerror_log %s/error.log info; pid %s/nginx.pid;\n", dir, dir)
	fmt.Fprintf(&conf, "events { worker_connections 64; }\nhttp {\n log_format v '%s';\n access_log %s/access.log v;\n", format.String(), dir)
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&conf, " %s_temp_path %s/tmp_%s;\n", p, dir, p)
	}
	fmt.Fprintf(&conf, " server {\n  listen 127.0.0.1:%d ssl;\n  server_name mtls.test;\n", port)
	fmt.Fprintf(&conf, "  ssl_certificate %s/server.crt; ssl_certificate_key %s/server.key;\n", dir, dir)
	fmt.Fprintf(&conf, "  ssl_client_certificate %s/ca.crt; ssl_verify_client optional;\n  location / { return 200 ok; }\n }\n}\n", dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	startNginxConf(t, dir, port)
	l, err := New(Options{
		Servers:   []Server{{Certificates: []tls.Certificate{server.TLSCertificate()}, VerifyClient: VerifyOptional, VerifyDepth: 1, ClientCAs: []*x509.Certificate{root.Cert}}},
		LookupSNI: nameTable(map[string]int{"mtls.test": 0}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, sni := range []string{"mtls.test", ""} {
		cfg := clientConfig(root.Pool(), sni)
		if status, _, err := rawGet(port, cfg, "mtls.test"); err != nil || status != 200 {
			t.Fatalf("nginx: %d, %v", status, err)
		}
		log, err := os.ReadFile(filepath.Join(dir, "access.log"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
		if len(lines) != i+1 {
			t.Fatalf("access log has %d lines, want %d", len(lines), i+1)
		}
		fields := strings.Split(lines[i], "|")
		r := handshake(t, l, clientConfig(root.Pool(), sni))
		if r.clientErr != nil || r.serverErr != nil {
			t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
		}
		for k, v := range vars {
			_, found := r.info.AppendVar(nil, v.id)
			if nginxFound := fields[k] != "-"; found != nginxFound {
				t.Errorf("SNI %q: $%s found %v, nginx logs %q", sni, v.name, found, fields[k])
			}
		}
	}
}
