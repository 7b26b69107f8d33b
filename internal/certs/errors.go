package certs

import (
	"crypto/x509"
	"errors"
	"strings"
)

// Classification sentinels for upstream TLS failures: test with errors.Is.
var (
	// ErrVerify marks a certificate that failed verification (chain, purpose,
	// validity, revocation) or did not match the expected name.
	ErrVerify = errors.New("upstream SSL certificate verification failed")
	// ErrHandshake marks a TLS handshake the upstream or we aborted: alerts,
	// no common protocol or cipher, a rejected client certificate.
	ErrHandshake = errors.New("upstream SSL handshake failed")
	// ErrTimeout marks a handshake that did not finish in time.
	ErrTimeout = errors.New("upstream SSL handshake timed out")
)

// LoadKind says which kind of file a LoadError is about.
type LoadKind int

// The kinds of TLS material files.
const (
	LoadCertificate LoadKind = iota // ssl_certificate, proxy_ssl_certificate
	LoadKey                         // ssl_certificate_key, proxy_ssl_certificate_key
	LoadKeyMismatch                 // key does not belong to the certificate
	LoadCA                          // ssl_client_certificate, *_trusted_certificate
	LoadCRL                         // ssl_crl, proxy_ssl_crl
)

// LoadError is a failure to load TLS material, worded exactly as nginx 1.28
// words it after "[emerg] " (for example `cannot load certificate "/x.crt":
// BIO_new_file() failed (SSL: error:80000002:...)`). Err is the cause
// (often an *fs.PathError, so errors.Is(err, fs.ErrNotExist) works).
type LoadError struct {
	Kind LoadKind
	Path string
	Msg  string
	Err  error
}

// Error returns nginx's message (without "[emerg] ").
func (e *LoadError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *LoadError) Unwrap() error { return e.Err }

// FailureKind says which check an upstream TLS failure comes from.
type FailureKind int

// The kinds of upstream TLS failure.
const (
	// FailVerify: the chain did not verify; Code says why.
	FailVerify FailureKind = iota + 1
	// FailName: the certificate does not match the expected name.
	FailName
	// FailClientCert: the upstream rejected or required our client certificate.
	FailClientCert
	// FailProtocol: no protocol version or cipher in common.
	FailProtocol
	// FailHandshake: any other handshake failure.
	FailHandshake
	// FailTimeout: the handshake did not complete in time.
	FailTimeout
)

// PeerInfo is what an upstream presented, for error messages.
type PeerInfo struct {
	Subject   string   // RFC 2253 form, e.g. "CN=b1.test,O=Example"
	Issuer    string   // RFC 2253 form
	DNSNames  []string // DNS subjectAltNames
	IPs       []string // IP subjectAltNames
	NotBefore string   // YYYY-MM-DD (UTC)
	NotAfter  string   // YYYY-MM-DD (UTC)
	ChainLen  int      // number of certificates the peer sent
}

// DescribePeer summarises a peer chain (leaf first) for error messages.
func DescribePeer(chain []*x509.Certificate) *PeerInfo {
	if len(chain) == 0 || chain[0] == nil {
		return nil
	}
	c := chain[0]
	p := &PeerInfo{
		Subject:   c.Subject.String(), // Go's form, if OpenSSL's fails
		Issuer:    c.Issuer.String(),
		DNSNames:  c.DNSNames,
		NotBefore: c.NotBefore.UTC().Format("2006-01-02"),
		NotAfter:  c.NotAfter.UTC().Format("2006-01-02"),
		ChainLen:  len(chain),
	}
	if r := RawDN(c.RawSubject); r != "" {
		p.Subject = r
	}
	if r := RawDN(c.RawIssuer); r != "" {
		p.Issuer = r
	}
	for _, ip := range c.IPAddresses {
		p.IPs = append(p.IPs, ip.String())
	}
	return p
}

// SANs formats the subjectAltNames as OpenSSL prints them:
// "DNS:a.example, IP:10.0.0.1".
func (p *PeerInfo) SANs() string {
	var parts []string
	for _, d := range p.DNSNames {
		parts = append(parts, "DNS:"+d)
	}
	for _, ip := range p.IPs {
		parts = append(parts, "IP:"+ip)
	}
	return strings.Join(parts, ", ")
}

// String is the "peer presented ..." sentence used in error details.
func (p *PeerInfo) String() string {
	if p == nil {
		return "peer presented no certificate"
	}
	var b strings.Builder
	b.WriteString(`peer presented subject "`)
	b.WriteString(p.Subject)
	b.WriteString(`", SANs "`)
	b.WriteString(p.SANs())
	b.WriteString(`", issuer "`)
	b.WriteString(p.Issuer)
	b.WriteString(`", valid `)
	b.WriteString(p.NotBefore)
	b.WriteString(" to ")
	b.WriteString(p.NotAfter)
	b.WriteString(", chain length ")
	b.WriteString(itoa(p.ChainLen))
	return b.String()
}

// UpstreamError is a failed TLS connection to an upstream. Message gives
// nginx's exact text (the start of the log line, before " while SSL
// handshaking to upstream"), Detail the explanation gatehouse adds: what
// the peer presented and the directive that fixes it.
type UpstreamError struct {
	Kind FailureKind
	// Code is the OpenSSL verify code for FailVerify, else VerifyOK.
	Code VerifyCode
	// Depth is the chain position the verify code refers to (0 = leaf).
	Depth int
	// Name is the name checked, for FailName.
	Name string
	// Alert is the TLS alert received or sent, if any (0 when none).
	Alert uint8
	// Peer is what the upstream presented; nil if nothing was received.
	Peer *PeerInfo
	// Fix names the directive or action that fixes the failure.
	Fix string
	// Op is the OpenSSL call nginx would name for handshake failures,
	// "SSL_do_handshake()" or "SSL_read()".
	Op string
	// Text, when set, is nginx's message for a failure that is not an
	// alert (for example "peer closed connection in SSL handshake").
	Text string
	// Err is the underlying error, if any.
	Err error
}

// Message returns nginx's text for the failure, e.g.
// "upstream SSL certificate verify error: (18:self-signed certificate)" or
// `upstream SSL certificate does not match "b1.test"`.
func (e *UpstreamError) Message() string {
	switch e.Kind {
	case FailVerify:
		return "upstream SSL certificate verify error: " + e.Code.Paren()
	case FailName:
		return `upstream SSL certificate does not match "` + e.Name + `"`
	case FailTimeout:
		return "upstream timed out (110: Connection timed out)"
	}
	if e.Text != "" {
		return e.Text
	}
	op := e.Op
	if op == "" {
		op = "SSL_do_handshake()"
	}
	if e.Alert != 0 {
		return op + " failed (SSL: " + alertOpenSSL(e.Alert) + ")"
	}
	if e.Err != nil {
		return op + " failed (" + e.Err.Error() + ")"
	}
	return op + " failed"
}

// Detail returns the explanation sentence: what the peer presented and the
// fix, e.g. `peer presented subject "CN=b1.test", ...; fix: add its CA to
// proxy_ssl_trusted_certificate`.
func (e *UpstreamError) Detail() string {
	var b strings.Builder
	if e.Peer != nil {
		b.WriteString(e.Peer.String())
	} else if e.Kind == FailVerify || e.Kind == FailName {
		b.WriteString("peer presented no certificate")
	}
	if e.Fix != "" {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString("fix: ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Error returns Message and Detail joined by "; ".
func (e *UpstreamError) Error() string {
	d := e.Detail()
	if d == "" {
		return e.Message()
	}
	return e.Message() + "; " + d
}

// Unwrap returns the underlying error.
func (e *UpstreamError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel for e's kind.
func (e *UpstreamError) Is(target error) bool {
	switch target {
	case ErrVerify:
		return e.Kind == FailVerify || e.Kind == FailName
	case ErrHandshake:
		return e.Kind == FailHandshake || e.Kind == FailClientCert || e.Kind == FailProtocol
	case ErrTimeout:
		return e.Kind == FailTimeout
	}
	return false
}

// Timeout reports whether the failure was a timeout (net.Error style).
func (e *UpstreamError) Timeout() bool { return e.Kind == FailTimeout }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
