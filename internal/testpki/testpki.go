// Package testpki makes certificate authorities, intermediates and leaf
// certificates at test time, so that no key material is ever committed and
// every awkward case (expired, not yet valid, wrong name, unknown CA, chains
// too deep, wrong key usage, revoked) is an option rather than a file.
//
// It is for tests only: constructors take a testing.TB and fail the test on
// any error instead of returning one.
package testpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType int

const (
	// ECDSAP256 is the default: fast to generate and sign with.
	ECDSAP256 KeyType = iota
	// RSA2048 is available for tests that need an RSA key; it is slow to
	// generate, so use it sparingly.
	RSA2048
)

// Usage selects the extended key usage of a generated certificate.
type Usage int

const (
	// UsageBoth sets serverAuth and clientAuth (the leaf default).
	UsageBoth Usage = iota
	// UsageServer sets serverAuth only.
	UsageServer
	// UsageClient sets clientAuth only.
	UsageClient
	// UsageNone omits the extended key usage extension (any purpose).
	UsageNone
	// UsageCodeSigning sets only codeSigning: valid for neither TLS side.
	UsageCodeSigning
)

// Option customises a certificate made by NewCA, Intermediate, Leaf or
// SelfSigned.
type Option func(*options)

type options struct {
	cn        string
	org       string
	dns       []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
	key       KeyType
	usage     Usage
	usageSet  bool
	serial    *big.Int
	noExt     bool
	noBC      bool
	notCA     bool
	maxPath   int
	maxPathOK bool
}

// WithCN sets the subject common name.
func WithCN(cn string) Option { return func(o *options) { o.cn = cn } }

// WithOrg sets the subject organisation.
func WithOrg(org string) Option { return func(o *options) { o.org = org } }

// WithDNS adds DNS subjectAltNames. The first one also becomes the CN
// unless WithCN is given.
func WithDNS(names ...string) Option {
	return func(o *options) { o.dns = append(o.dns, names...) }
}

// WithIP adds IP-address subjectAltNames; an unparsable address is ignored.
func WithIP(addrs ...string) Option {
	return func(o *options) {
		for _, a := range addrs {
			if ip := net.ParseIP(a); ip != nil {
				o.ips = append(o.ips, ip)
			}
		}
	}
}

// WithValidity sets notBefore and notAfter explicitly.
func WithValidity(notBefore, notAfter time.Time) Option {
	return func(o *options) { o.notBefore, o.notAfter = notBefore, notAfter }
}

// Expired makes a certificate that expired a day ago.
func Expired() Option {
	now := time.Now()
	return WithValidity(now.Add(-72*time.Hour), now.Add(-24*time.Hour))
}

// NotYetValid makes a certificate that becomes valid in a day.
func NotYetValid() Option {
	now := time.Now()
	return WithValidity(now.Add(24*time.Hour), now.Add(72*time.Hour))
}

// WithKey selects the key type (ECDSA P-256 by default).
func WithKey(k KeyType) Option { return func(o *options) { o.key = k } }

// WithUsage selects the extended key usage. Leaves default to UsageBoth,
// CAs to UsageNone.
func WithUsage(u Usage) Option {
	return func(o *options) { o.usage, o.usageSet = u, true }
}

// WithSerial sets the serial number (random 128-bit by default).
func WithSerial(serial int64) Option {
	return func(o *options) { o.serial = big.NewInt(serial) }
}

// NotCA makes Intermediate produce a certificate without the CA flag that
// nonetheless signs others, for "invalid CA certificate" tests.
func NotCA() Option { return func(o *options) { o.notCA = true } }

// NoExtensions makes Intermediate produce a CA certificate without
// basicConstraints and keyUsage (crypto/x509 still adds the authority key
// identifier), as old or hand-made CAs are, for "invalid CA certificate"
// tests.
func NoExtensions() Option { return func(o *options) { o.noExt = true } }

// NoBasicConstraints makes Intermediate produce a CA certificate whose
// keyUsage allows certificate signing but which has no basicConstraints.
func NoBasicConstraints() Option { return func(o *options) { o.noBC = true } }

// WithMaxPathLen sets the basicConstraints pathLenConstraint of a CA.
func WithMaxPathLen(n int) Option {
	return func(o *options) { o.maxPath, o.maxPathOK = n, true }
}

// CA is a certificate authority: a self-signed root from NewCA or an
// intermediate from (*CA).Intermediate.
type CA struct {
	t      testing.TB
	Cert   *x509.Certificate
	Key    crypto.Signer
	Parent *CA // nil for a root
}

// Leaf is an end-entity certificate with its key and issuer.
type Leaf struct {
	t      testing.TB
	Cert   *x509.Certificate
	Key    crypto.Signer
	Issuer *CA // nil for SelfSigned
}

func build(opts []Option, defaultUsage Usage) options {
	now := time.Now()
	o := options{
		notBefore: now.Add(-time.Hour),
		notAfter:  now.Add(24 * time.Hour),
		usage:     defaultUsage,
	}
	for _, f := range opts {
		f(&o)
	}
	if !o.usageSet {
		o.usage = defaultUsage
	}
	return o
}

func newKey(t testing.TB, k KeyType) crypto.Signer {
	t.Helper()
	var (
		key crypto.Signer
		err error
	)
	switch k {
	case RSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatalf("testpki: generate key: %v", err)
	}
	return key
}

func randomSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testpki: serial: %v", err)
	}
	return n.Add(n, big.NewInt(1))
}

func randomTag(t testing.TB) string {
	t.Helper()
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testpki: random: %v", err)
	}
	return hex.EncodeToString(b[:])
}

func (o *options) template(t testing.TB, defaultCN string) *x509.Certificate {
	t.Helper()
	cn := o.cn
	if cn == "" && len(o.dns) > 0 {
		cn = o.dns[0]
	}
	if cn == "" {
		cn = defaultCN
	}
	serial := o.serial
	if serial == nil {
		serial = randomSerial(t)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    o.notBefore,
		NotAfter:     o.notAfter,
		DNSNames:     o.dns,
		IPAddresses:  o.ips,
	}
	if o.org != "" {
		tmpl.Subject.Organization = []string{o.org}
	}
	switch o.usage {
	case UsageBoth:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	case UsageServer:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case UsageClient:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case UsageCodeSigning:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	return tmpl
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatalf("testpki: create certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testpki: parse certificate: %v", err)
	}
	return c
}

func (o *options) caTemplate(t testing.TB, defaultCN string) *x509.Certificate {
	tmpl := o.template(t, defaultCN)
	if o.noExt {
		return tmpl
	}
	if o.noBC {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		return tmpl
	}
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = !o.notCA
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	if o.notCA {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if o.maxPathOK {
		tmpl.MaxPathLen = o.maxPath
		tmpl.MaxPathLenZero = o.maxPath == 0
	} else {
		tmpl.MaxPathLen = -1
	}
	return tmpl
}

// NewCA makes a self-signed root CA. Its CN defaults to "Test Root CA"
// followed by a random tag, so two roots in one test never share a name.
// CAs carry no extended key usage unless WithUsage says otherwise.
func NewCA(t testing.TB, opts ...Option) *CA {
	t.Helper()
	o := build(opts, UsageNone)
	key := newKey(t, o.key)
	tmpl := o.caTemplate(t, "Test Root CA "+randomTag(t))
	return &CA{t: t, Cert: sign(t, tmpl, tmpl, key.Public(), key), Key: key}
}

// Intermediate makes a CA certificate signed by ca.
func (ca *CA) Intermediate(opts ...Option) *CA {
	ca.t.Helper()
	o := build(opts, UsageNone)
	key := newKey(ca.t, o.key)
	tmpl := o.caTemplate(ca.t, "Test Intermediate CA "+randomTag(ca.t))
	return &CA{t: ca.t, Cert: sign(ca.t, tmpl, ca.Cert, key.Public(), ca.Key), Key: key, Parent: ca}
}

// Leaf makes an end-entity certificate signed by ca. Without options it has
// no SANs, CN "leaf", serverAuth+clientAuth, and is valid from an hour ago
// for a day.
func (ca *CA) Leaf(opts ...Option) *Leaf {
	ca.t.Helper()
	o := build(opts, UsageBoth)
	key := newKey(ca.t, o.key)
	tmpl := o.template(ca.t, "leaf")
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if o.key == RSA2048 {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	return &Leaf{t: ca.t, Cert: sign(ca.t, tmpl, ca.Cert, key.Public(), ca.Key), Key: key, Issuer: ca}
}

// SelfSigned makes a self-signed end-entity certificate (not a CA), as many
// test upstreams present.
func SelfSigned(t testing.TB, opts ...Option) *Leaf {
	t.Helper()
	o := build(opts, UsageBoth)
	key := newKey(t, o.key)
	tmpl := o.template(t, "self-signed")
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	return &Leaf{t: t, Cert: sign(t, tmpl, tmpl, key.Public(), key), Key: key}
}

// Root returns the root CA at the top of ca's chain.
func (ca *CA) Root() *CA {
	for ca.Parent != nil {
		ca = ca.Parent
	}
	return ca
}

// Intermediates returns the CA certificates between ca and the root,
// starting with ca itself and excluding the root; empty for a root.
func (ca *CA) Intermediates() []*x509.Certificate {
	var out []*x509.Certificate
	for c := ca; c != nil && c.Parent != nil; c = c.Parent {
		out = append(out, c.Cert)
	}
	return out
}

// Pool returns a pool holding only ca's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// CertPEM returns ca's certificate in PEM.
func (ca *CA) CertPEM() []byte { return CertsPEM(ca.Cert) }

// CertFile writes ca's certificate to a PEM file in a temporary directory
// and returns its path (a one-certificate CA bundle).
func (ca *CA) CertFile() string {
	ca.t.Helper()
	return WriteFile(ca.t, "ca-*.crt", ca.CertPEM())
}

// CRL returns a PEM CRL issued by ca listing the given certificates as
// revoked, valid from an hour ago for a day.
func (ca *CA) CRL(revoked ...*x509.Certificate) []byte {
	ca.t.Helper()
	now := time.Now()
	return ca.CRLAt(now.Add(-time.Hour), now.Add(24*time.Hour), revoked...)
}

// CRLAt is CRL with explicit thisUpdate and nextUpdate times.
func (ca *CA) CRLAt(thisUpdate, nextUpdate time.Time, revoked ...*x509.Certificate) []byte {
	ca.t.Helper()
	tmpl := &x509.RevocationList{
		Number:     randomSerial(ca.t),
		ThisUpdate: thisUpdate,
		NextUpdate: nextUpdate,
	}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   c.SerialNumber,
			RevocationTime: thisUpdate,
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		ca.t.Fatalf("testpki: create CRL: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// CRLFile writes CRL(revoked...) to a temporary file and returns its path.
func (ca *CA) CRLFile(revoked ...*x509.Certificate) string {
	ca.t.Helper()
	return WriteFile(ca.t, "crl-*.pem", ca.CRL(revoked...))
}

// Chain returns the leaf followed by its issuing intermediates (the root is
// not included), in the order a server sends them.
func (l *Leaf) Chain() []*x509.Certificate {
	out := []*x509.Certificate{l.Cert}
	if l.Issuer != nil {
		out = append(out, l.Issuer.Intermediates()...)
	}
	return out
}

// CertPEM returns only the leaf certificate in PEM.
func (l *Leaf) CertPEM() []byte { return CertsPEM(l.Cert) }

// ChainPEM returns the leaf followed by its intermediates in PEM, as
// ssl_certificate and proxy_ssl_certificate files hold them.
func (l *Leaf) ChainPEM() []byte { return CertsPEM(l.Chain()...) }

// KeyPEM returns the private key in PKCS#8 PEM ("PRIVATE KEY").
func (l *Leaf) KeyPEM() []byte {
	l.t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		l.t.Fatalf("testpki: marshal key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TLSCertificate returns the leaf, its intermediates and key as a
// tls.Certificate (Leaf field set).
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{PrivateKey: l.Key, Leaf: l.Cert}
	for _, x := range l.Chain() {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

// LeafOnlyTLSCertificate is TLSCertificate without the intermediates, for
// peers that do not send their chain.
func (l *Leaf) LeafOnlyTLSCertificate() tls.Certificate {
	return tls.Certificate{PrivateKey: l.Key, Leaf: l.Cert, Certificate: [][]byte{l.Cert.Raw}}
}

// Files writes the chain (leaf first) and the key to two PEM files in a
// temporary directory and returns their paths.
func (l *Leaf) Files() (certFile, keyFile string) {
	l.t.Helper()
	return WriteFile(l.t, "cert-*.crt", l.ChainPEM()), WriteFile(l.t, "cert-*.key", l.KeyPEM())
}

// LeafOnlyFiles is Files with only the leaf certificate in the cert file.
func (l *Leaf) LeafOnlyFiles() (certFile, keyFile string) {
	l.t.Helper()
	return WriteFile(l.t, "cert-*.crt", l.CertPEM()), WriteFile(l.t, "cert-*.key", l.KeyPEM())
}

// Pool returns a pool holding the given CA certificates.
func Pool(cas ...*CA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

// Bundle returns the PEM concatenation of the given CA certificates.
func Bundle(cas ...*CA) []byte {
	var b bytes.Buffer
	for _, ca := range cas {
		b.Write(ca.CertPEM())
	}
	return b.Bytes()
}

// BundleFile writes Bundle(cas...) to a temporary file and returns its path,
// for ssl_client_certificate and proxy_ssl_trusted_certificate.
func BundleFile(t testing.TB, cas ...*CA) string {
	t.Helper()
	return WriteFile(t, "bundle-*.crt", Bundle(cas...))
}

// CertsPEM encodes certificates as concatenated PEM blocks.
func CertsPEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// WriteFile writes data to a new file in t.TempDir() named after pattern
// (as os.CreateTemp) and returns its path.
func WriteFile(t testing.TB, pattern string, data []byte) string {
	t.Helper()
	pattern = strings.ReplaceAll(pattern, string(filepath.Separator), "_")
	f, err := os.CreateTemp(t.TempDir(), pattern)
	if err != nil {
		t.Fatalf("testpki: %v", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		t.Fatalf("testpki: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("testpki: %v", err)
	}
	return f.Name()
}
