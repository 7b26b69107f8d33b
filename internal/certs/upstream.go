package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"sync"
	"syscall"
	"time"
)

// UpstreamOptions are the proxy_ssl_* settings of one TLS context (one
// location after inheritance), in plain form.
type UpstreamOptions struct {
	// Verify is proxy_ssl_verify.
	Verify bool
	// TrustedCertificate is proxy_ssl_trusted_certificate. Empty with
	// Verify means the system trust store (gatehouse's secure defaults;
	// nginx rejects that configuration, which the config package checks).
	TrustedCertificate string
	// VerifyDepth is proxy_ssl_verify_depth.
	VerifyDepth int
	// Name is proxy_ssl_name (a ":port" suffix is stripped). It is the
	// name verified and, with ServerName, sent as SNI.
	Name string
	// ServerName is proxy_ssl_server_name: send SNI (never for an IP
	// literal).
	ServerName bool
	// Certificate and CertificateKey are proxy_ssl_certificate and
	// proxy_ssl_certificate_key: the client certificate presented.
	Certificate, CertificateKey string
	// PasswordFile is proxy_ssl_password_file ("" for none): the
	// passwords tried on an encrypted CertificateKey.
	PasswordFile string
	// Protocols is proxy_ssl_protocols; zero means DefaultProtocols.
	Protocols ProtocolSet
	// Ciphers is proxy_ssl_ciphers; empty means crypto/tls's defaults.
	Ciphers string
	// SessionReuse is proxy_ssl_session_reuse.
	SessionReuse bool
	// CRL is proxy_ssl_crl (used only with Verify).
	CRL string
	// Rules selects nginx's or gatehouse's secure name matching.
	Rules NameRules
	// Now is the clock used for verification; nil means time.Now.
	Now func() time.Time
	// MaxPeers bounds the per-peer state (sessions and configurations);
	// zero means 4096.
	MaxPeers int
}

// Upstream is the client-side TLS of one proxy_ssl_* context, built once at
// configuration time. Handshake runs one upstream TLS handshake; the
// *tls.Config it uses is created once per (peer, name) and never per
// request.
type Upstream struct {
	opts     UpstreamOptions
	name     string
	trust    *Trust // the trusted file (with CRLs), or only CRLs when system
	system   bool   // verify against the system trust store
	base     *tls.Config
	cache    *sessionCache
	warnings []string
	now      func() time.Time
	noCache  bool // tests and benchmarks: never remember a verification

	mu    sync.RWMutex
	peers map[peerKey]*tls.Config

	// verified remembers presented chains that verified, indexed by the
	// parsed leaf. crypto/tls hands a resumed session's certificates back
	// as the same *x509.Certificate values (and shares parsed certificates
	// between connections), so an abbreviated handshake need not redo the
	// signature checks (OpenSSL keeps the verify result in the session).
	// The result depends on the whole presented chain (the same leaf with
	// another chain may not verify), on the trust store, depth, purpose and
	// CRLs (fixed for one Upstream) and on the time (the window); the name
	// is checked on every handshake. An entry is used only when all match.
	vmu      sync.Mutex
	verified map[*x509.Certificate]verifiedChain
}

// verifiedChain is one remembered verification: the chain the peer
// presented and the time range in which its result stays true.
type verifiedChain struct {
	presented   []*x509.Certificate
	from, until time.Time
}

// sameChain reports whether two presented chains are the same
// certificates in the same order.
func sameChain(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !bytes.Equal(a[i].Raw, b[i].Raw) {
			return false
		}
	}
	return true
}

// peerKey identifies the per-peer configuration (and session slot).
type peerKey struct{ peer, name string }

// NewUpstream builds the TLS context, loading files through store (a new
// Store per configuration load). Errors are *LoadError or *CipherError.
func NewUpstream(o UpstreamOptions, store *Store) (*Upstream, error) {
	if store == nil {
		store = NewStore(nil)
	}
	u := &Upstream{opts: o, name: StripPort(o.Name), now: o.Now, peers: map[peerKey]*tls.Config{}}
	if u.now == nil {
		u.now = time.Now
	}
	if u.opts.MaxPeers <= 0 {
		u.opts.MaxPeers = 4096
	}
	protos := o.Protocols
	if protos == 0 {
		protos = DefaultProtocols
	}
	minV, maxV, warns, ok := protos.Range()
	u.warnings = warns
	if !ok {
		return nil, &CipherError{Ciphers: protos.String(), Reason: "error:0A0000BF:SSL routines::no protocols available"}
	}
	cfg := &tls.Config{
		MinVersion:         minV,
		MaxVersion:         maxV,
		InsecureSkipVerify: true, // verification is ours, in VerifyConnection
		// Full 16 KB records, as OpenSSL writes nginx's buffers: a
		// request body goes out in as few records and writes as it can.
		DynamicRecordSizingDisabled: true,
	}
	if o.Ciphers != "" {
		cl, err := ParseCiphers(o.Ciphers)
		if err != nil {
			return nil, err
		}
		cfg.CipherSuites = cl.IDs
	}
	if o.Certificate != "" {
		pair, err := store.KeyPairPasswords(o.Certificate, o.CertificateKey, o.PasswordFile)
		if err != nil {
			return nil, err
		}
		// Always present the configured certificate, as OpenSSL does, even
		// when the upstream's acceptable-CA list does not name its issuer.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return pair, nil }
	}
	if o.Verify && o.TrustedCertificate != "" {
		t, err := store.Trust(o.TrustedCertificate, o.CRL)
		if err != nil {
			return nil, err
		}
		u.trust = t
	} else if o.Verify && o.CRL != "" {
		crls, err := store.CRLs(o.CRL)
		if err != nil {
			return nil, err
		}
		u.trust = NewTrust(nil, crls, true)
	}
	u.system = o.Verify && o.TrustedCertificate == ""
	if o.SessionReuse {
		u.cache = newSessionCache(u.opts.MaxPeers)
	}
	u.base = cfg
	return u, nil
}

// Warnings returns configuration warnings (protocol holes, unsupported
// protocols) for the config package to log.
func (u *Upstream) Warnings() []string { return u.warnings }

// Name returns the configured name (port stripped).
func (u *Upstream) Name() string { return u.name }

// Config returns the TLS configuration for a connection to peer (an
// address such as "10.0.0.1:443"; "" for a peer resolved per request,
// which never reuses sessions) verified against name. The same
// configuration is returned for the same (peer, name) for the life of u.
func (u *Upstream) Config(peer, name string) *tls.Config {
	key := peerKey{peer, name}
	u.mu.RLock()
	cfg, ok := u.peers[key]
	u.mu.RUnlock()
	if ok {
		return cfg
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if cfg, ok := u.peers[key]; ok {
		return cfg
	}
	cfg = u.base.Clone()
	if u.opts.ServerName && name != "" && !IsIPLiteral(name) {
		cfg.ServerName = name
	}
	if u.cache != nil && peer != "" {
		cfg.ClientSessionCache = &peerSessions{c: u.cache, key: key}
	}
	if u.opts.Verify {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return u.verify(cs.PeerCertificates, name) }
	}
	if len(u.peers) >= u.opts.MaxPeers {
		for k := range u.peers {
			delete(u.peers, k)
			break
		}
	}
	u.peers[key] = cfg
	return cfg
}

// Handshake runs the TLS handshake to peer over conn with the configured
// name, honouring ctx's deadline (nginx uses proxy_connect_timeout). On
// failure conn is closed and the error is an *UpstreamError.
func (u *Upstream) Handshake(ctx context.Context, conn net.Conn, peer string) (*tls.Conn, error) {
	return u.HandshakeName(ctx, conn, peer, u.name)
}

// HandshakeName is Handshake with a per-request name (proxy_ssl_name with
// variables); the port suffix must already be stripped.
func (u *Upstream) HandshakeName(ctx context.Context, conn net.Conn, peer, name string) (*tls.Conn, error) {
	tc := tls.Client(conn, u.Config(peer, name))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, u.classify(err, tc, ctx, "SSL_do_handshake()")
	}
	return tc, nil
}

// ReadError classifies an error met while reading from or writing to an
// upstream TLS connection after the handshake. With TLS 1.3 an upstream
// rejects our client certificate only after our side of the handshake has
// finished, so the alert arrives on the first read; ReadError turns such
// alerts into an *UpstreamError and returns other errors unchanged.
func (u *Upstream) ReadError(err error, conn *tls.Conn) error {
	if err == nil {
		return nil
	}
	if _, ok := remoteAlert(err); !ok {
		return err
	}
	return u.classify(err, conn, nil, "SSL_read()")
}

func (u *Upstream) classify(err error, tc *tls.Conn, ctx context.Context, op string) error {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue
	}
	e := &UpstreamError{Kind: FailHandshake, Op: op, Err: err}
	if tc != nil {
		if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
			e.Peer = DescribePeer(pc)
		}
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) ||
		(ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)):
		e.Kind = FailTimeout
		e.Fix = "the upstream did not complete the TLS handshake in time; check that it speaks TLS on this port, or raise proxy_connect_timeout"
		return e
	}
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh):
		e.Text = op + " failed (SSL: error:0A00010B:SSL routines::wrong version number)"
		e.Fix = "the upstream does not speak TLS on this port: use http:// in proxy_pass or the upstream's TLS port"
		return e
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		e.Text = "peer closed connection in SSL handshake"
		if op != "SSL_do_handshake()" {
			e.Text = "upstream prematurely closed connection"
		}
		e.Fix = "the upstream closed the connection during the TLS handshake: check its TLS configuration and logs"
		return e
	case errors.Is(err, syscall.ECONNRESET):
		e.Text = "peer closed connection in SSL handshake (104: Connection reset by peer)"
		if op != "SSL_do_handshake()" {
			e.Text = "recv() failed (104: Connection reset by peer)"
		}
		e.Fix = "the upstream reset the connection during the TLS handshake: check its TLS configuration and logs"
		return e
	}
	if a, ok := remoteAlert(err); ok {
		e.Alert = a
		switch a {
		case 116, 41, 42, 43, 44, 45, 46, 48, 49:
			e.Kind = FailClientCert
			if u.opts.Certificate == "" {
				e.Fix = "the upstream requires a client certificate: set proxy_ssl_certificate and proxy_ssl_certificate_key"
			} else {
				e.Fix = "check proxy_ssl_certificate: the upstream rejected it (" + alertReasons[a] + ")"
			}
		case 40, 70, 71:
			e.Kind = FailProtocol
			e.Fix = "proxy_ssl_protocols/proxy_ssl_ciphers have nothing in common with the upstream (proxy_ssl_protocols " + u.protocols().String() + ")"
		case 112:
			e.Fix = "the upstream does not know the name sent as SNI: check proxy_ssl_name and proxy_ssl_server_name"
		}
	}
	return e
}

func (u *Upstream) protocols() ProtocolSet {
	if u.opts.Protocols == 0 {
		return DefaultProtocols
	}
	return u.opts.Protocols
}

// remoteAlert extracts the alert number from crypto/tls's "remote error"
// (a *net.OpError wrapping its unexported alert type, a uint8).
func remoteAlert(err error) (uint8, bool) {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return 0, false
	}
	v := reflect.ValueOf(oe.Err)
	if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return 0, false
	}
	return uint8(v.Uint()), true
}

// verify is the VerifyConnection check: chain, then name, as nginx checks
// SSL_get_verify_result and then X509_check_host.
func (u *Upstream) verify(peer []*x509.Certificate, name string) error {
	now := u.now()
	if len(peer) == 0 {
		return &UpstreamError{Kind: FailVerify, Code: VerifyUnspecified, Fix: "the upstream sent no certificate"}
	}
	if u.cachedOK(peer, now) {
		if !MatchName(peer[0], name, u.opts.Rules) {
			return &UpstreamError{Kind: FailName, Name: name, Peer: DescribePeer(peer), Fix: u.nameFix(peer[0], name)}
		}
		return nil
	}
	var res VerifyResult
	if !u.system {
		res = u.trust.Verify(peer, VerifyOptions{Depth: u.opts.VerifyDepth, Purpose: PurposeServer, Now: now, ExplainDepth: true})
	} else {
		res = u.verifySystem(peer, now)
	}
	if !res.OK() {
		return &UpstreamError{Kind: FailVerify, Code: res.Code, Depth: res.Depth, Peer: DescribePeer(peer), Fix: verifyFix(&res, peer)}
	}
	u.rememberOK(peer, res.Chain)
	if !MatchName(peer[0], name, u.opts.Rules) {
		return &UpstreamError{Kind: FailName, Name: name, Peer: DescribePeer(peer), Fix: u.nameFix(peer[0], name)}
	}
	return nil
}

// cachedOK reports whether the presented chain verified before and the
// result still holds at now.
func (u *Upstream) cachedOK(peer []*x509.Certificate, now time.Time) bool {
	u.vmu.Lock()
	defer u.vmu.Unlock()
	w, ok := u.verified[peer[0]]
	return ok && sameChain(w.presented, peer) && !now.Before(w.from) && !now.After(w.until)
}

// rememberOK records that the presented chain peer verified, building
// chain; the result holds while every certificate of chain and every CRL
// checked is current.
func (u *Upstream) rememberOK(peer, chain []*x509.Certificate) {
	if len(chain) == 0 || u.noCache {
		return
	}
	w := verifiedChain{presented: append([]*x509.Certificate(nil), peer...), from: chain[0].NotBefore, until: chain[0].NotAfter}
	for _, c := range chain[1:] {
		if c.NotBefore.After(w.from) {
			w.from = c.NotBefore
		}
		if c.NotAfter.Before(w.until) {
			w.until = c.NotAfter
		}
	}
	if u.trust != nil && u.trust.crlCheck {
		for _, crl := range u.trust.crls {
			if crl.ThisUpdate.After(w.from) {
				w.from = crl.ThisUpdate
			}
			if !crl.NextUpdate.IsZero() && crl.NextUpdate.Before(w.until) {
				w.until = crl.NextUpdate
			}
		}
	}
	u.vmu.Lock()
	defer u.vmu.Unlock()
	if u.verified == nil || len(u.verified) >= 2*u.opts.MaxPeers {
		u.verified = map[*x509.Certificate]verifiedChain{}
	}
	u.verified[peer[0]] = w
}

// verifySystem verifies against the system trust store (secure defaults
// without proxy_ssl_trusted_certificate), mapping crypto/x509's errors to
// OpenSSL codes and applying the depth rule and CRLs.
func (u *Upstream) verifySystem(peer []*x509.Certificate, now time.Time) VerifyResult {
	r := VerifyResult{NeedDepth: -1}
	if len(peer) == 0 {
		r.Code = VerifyUnspecified
		return r
	}
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	leaf := peer[0]
	chains, err := leaf.Verify(x509.VerifyOptions{Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		r.Cert = leaf
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua):
			switch {
			case selfSigned(leaf) && len(peer) == 1:
				r.Code = VerifyDepthZeroSelfSigned
			case selfSigned(peer[len(peer)-1]) && len(peer) > 1:
				r.Code, r.Depth = VerifySelfSignedInChain, len(peer)-1
			case len(peer) == 1:
				r.Code = VerifyUnableToVerifyLeaf
			default:
				r.Code, r.Depth = VerifyUnableToGetIssuerLocal, len(peer)-1
			}
		case errors.As(err, &ci):
			switch ci.Reason {
			case x509.Expired:
				r.Code = VerifyExpired
				if ci.Cert != nil && now.Before(ci.Cert.NotBefore) {
					r.Code = VerifyNotYetValid
				}
			case x509.NotAuthorizedToSign, x509.CANotAuthorizedForThisName:
				r.Code = VerifyInvalidCA
			case x509.TooManyIntermediates:
				r.Code = VerifyPathLengthExceeded
			case x509.IncompatibleUsage:
				r.Code = VerifyInvalidPurpose
			default:
				r.Code = VerifyUnspecified
			}
			if ci.Cert != nil {
				r.Cert = ci.Cert
			}
		default:
			r.Code = VerifyUnspecified
		}
		return r
	}
	best := chains[0]
	for _, c := range chains[1:] {
		if len(c) < len(best) {
			best = c
		}
	}
	r.Chain, r.Trusted = best, true
	if n := len(best) - 2; n > u.opts.VerifyDepth {
		r.Code, r.Depth, r.NeedDepth = VerifyChainTooLong, len(best)-1, n
		return r
	}
	if u.trust != nil && u.trust.crlCheck {
		for i, x := range best {
			if code := u.trust.checkCRL(best, i, now); code != VerifyOK {
				r.Code, r.Depth, r.Cert = code, i, x
			}
		}
	}
	return r
}
