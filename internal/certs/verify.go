package certs

import (
	"bytes"
	"crypto/x509"
	"time"
)

// Purpose is the TLS role a verified certificate must be fit for.
type Purpose int

const (
	// PurposeServer checks an upstream's certificate (serverAuth).
	PurposeServer Purpose = iota
	// PurposeClient checks a client certificate (clientAuth).
	PurposeClient
)

// Trust is a compiled trust store: the certificates of a CA bundle and,
// optionally, CRLs. As in OpenSSL, only self-signed certificates in the
// bundle are trust anchors; other certificates in it may complete chains.
type Trust struct {
	certs     []*x509.Certificate
	bySubject map[string][]*x509.Certificate
	crls      []*x509.RevocationList
	crlsBy    map[string][]*x509.RevocationList // by raw issuer name
	crlCheck  bool
}

// NewTrust compiles a trust store; nil entries and repeated certificates
// are skipped. With crlCheck, every certificate of a chain (anchor
// included) must be covered by a CRL from crls, as nginx's
// ssl_crl/proxy_ssl_crl (X509_V_FLAG_CRL_CHECK|X509_V_FLAG_CRL_CHECK_ALL)
// require.
func NewTrust(cas []*x509.Certificate, crls []*x509.RevocationList, crlCheck bool) *Trust {
	t := &Trust{
		certs:     make([]*x509.Certificate, 0, len(cas)),
		bySubject: make(map[string][]*x509.Certificate, len(cas)),
		crls:      make([]*x509.RevocationList, 0, len(crls)),
		crlsBy:    make(map[string][]*x509.RevocationList, len(crls)),
		crlCheck:  crlCheck,
	}
	for _, c := range cas {
		if c == nil || inChain(t.bySubject[string(c.RawSubject)], c) {
			continue
		}
		t.certs = append(t.certs, c)
		t.bySubject[string(c.RawSubject)] = append(t.bySubject[string(c.RawSubject)], c)
	}
	for _, l := range crls {
		if l == nil {
			continue
		}
		t.crls = append(t.crls, l)
		t.crlsBy[string(l.RawIssuer)] = append(t.crlsBy[string(l.RawIssuer)], l)
	}
	return t
}

// Certificates returns the certificates of the trust store.
func (t *Trust) Certificates() []*x509.Certificate { return t.certs }

// Pool returns the trust store's certificates as an x509.CertPool.
func (t *Trust) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range t.certs {
		p.AddCert(c)
	}
	return p
}

// VerifyOptions are the parameters of one verification.
type VerifyOptions struct {
	// Depth is nginx's *_verify_depth: the number of intermediate CA
	// certificates allowed between the leaf and the trust anchor.
	Depth int
	// Purpose is the role the leaf must be fit for.
	Purpose Purpose
	// Now is the verification time.
	Now time.Time
	// ExplainDepth makes a chain longer than Depth end chain building with
	// "certificate chain too long" (22) and sets VerifyResult.NeedDepth, so
	// that the message can name the depth that would do. Without it the
	// result is nginx's: its verify callback accepts every error, so
	// OpenSSL goes on to report the untrusted top of the truncated chain
	// (20, 19 or 2), which then is the result unless a later check fails.
	// The upstream side sets it; client certificates are reported exactly
	// as nginx reports them.
	ExplainDepth bool
}

// VerifyResult is the outcome of Trust.Verify, in OpenSSL's terms.
type VerifyResult struct {
	// Code is the final verify result (SSL_get_verify_result): with nginx's
	// always-continue callback, the last error OpenSSL met.
	Code VerifyCode
	// Depth is the chain position Code refers to (0 = leaf).
	Depth int
	// Cert is the certificate Code refers to.
	Cert *x509.Certificate
	// Chain is the chain as built, leaf first.
	Chain []*x509.Certificate
	// Trusted reports whether Chain ends at a trust anchor.
	Trusted bool
	// NeedDepth, with ExplainDepth and a chain longer than Depth, is the
	// smallest depth that would let the chain reach a trust anchor, or -1
	// if none would.
	NeedDepth int
}

// OK reports whether verification succeeded.
func (r *VerifyResult) OK() bool { return r.Code == VerifyOK }

// noWellDefinedExpiration is RFC 5280's 99991231235959Z, which OpenSSL
// treats as never expiring.
var noWellDefinedExpiration = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// maxChain bounds chain building whatever the configured depth.
const maxChain = 32

// Verify verifies a peer chain (leaf first, then what the peer sent) the way
// OpenSSL 3's X509_verify_cert does for nginx: trusted-first chain building
// limited by depth, then extension and purpose checks, CRLs, signatures and
// validity, continuing after each error (nginx's verify callback accepts
// every one) so that the last one is the result, SSL_get_verify_result.
// Name constraints, policies and OCSP are not checked.
func (t *Trust) Verify(peer []*x509.Certificate, o VerifyOptions) VerifyResult {
	r := VerifyResult{NeedDepth: -1}
	if len(peer) == 0 || peer[0] == nil {
		r.Code = VerifyUnspecified
		return r
	}
	depth := o.Depth
	if depth < 0 {
		depth = 0
	}
	if depth > maxChain {
		depth = maxChain
	}
	chain, numUntrusted, trusted := t.build(peer, depth, o.Now)
	r.Chain, r.Trusted = chain, trusted
	fail := func(code VerifyCode, d int) {
		r.Code, r.Depth = code, d
		if d >= 0 && d < len(chain) {
			r.Cert = chain[d]
		}
	}
	num := len(chain)
	if !trusted {
		top := chain[num-1]
		tooLong := num > depth+1
		if tooLong {
			fail(VerifyChainTooLong, num-1)
			if o.ExplainDepth {
				if full, _, ok := t.build(peer, maxChain, o.Now); ok {
					r.NeedDepth = max(len(full)-2, 0)
				}
			}
		}
		switch {
		case tooLong && o.ExplainDepth:
			// 22 stays the chain-building result.
		case selfSigned(top) && num == 1:
			fail(VerifyDepthZeroSelfSigned, 0)
		case selfSigned(top):
			fail(VerifySelfSignedInChain, num-1)
		case numUntrusted < num:
			fail(VerifyUnableToGetIssuer, num-1)
		default:
			fail(VerifyUnableToGetIssuerLocal, num-1)
		}
	}

	// check_extensions
	plen := 0
	for i, x := range chain {
		if len(x.UnhandledCriticalExtensions) > 0 {
			fail(VerifyUnhandledCriticalExt, i)
		}
		if i > 0 {
			ca := checkCA(x)
			if ca == 0 || (i+1 < num && ca != 1) {
				fail(VerifyInvalidCA, i)
			}
		}
		if !checkPurpose(x, o.Purpose, i > 0) {
			fail(VerifyInvalidPurpose, i)
		}
		if i > 1 && x.BasicConstraintsValid && x.MaxPathLen >= 0 && plen > x.MaxPathLen {
			fail(VerifyPathLengthExceeded, i)
		}
		if i > 0 && !selfIssued(x) {
			plen++
		}
	}

	// check_revocation
	if t.crlCheck {
		for i := range chain {
			if code := t.checkCRL(chain, i, o.Now); code != VerifyOK {
				fail(code, i)
			}
		}
	}

	// internal_verify: signatures and validity, from the top down.
	n := num - 1
	xi := chain[n]
	xs := xi
	if !issuedBy(xi, xi) {
		// The top is not self-issued: nothing can check its signature.
		if n > 0 {
			n--
			xs = chain[n]
		} else {
			fail(VerifyUnableToVerifyLeaf, 0)
		}
	}
	for n >= 0 {
		if xs != xi {
			if xi.KeyUsage != 0 && xi.KeyUsage&x509.KeyUsageCertSign == 0 {
				fail(VerifyKeyUsageNoCertSign, n+1)
			}
			if err := xi.CheckSignature(xs.SignatureAlgorithm, xs.RawTBSCertificate, xs.Signature); err != nil {
				fail(VerifySignatureFailure, n)
			}
		}
		if o.Now.Before(xs.NotBefore) {
			fail(VerifyNotYetValid, n)
		}
		if o.Now.After(xs.NotAfter) && !xs.NotAfter.Equal(noWellDefinedExpiration) {
			fail(VerifyExpired, n)
		}
		n--
		if n >= 0 {
			xi = xs
			xs = chain[n]
		}
	}
	return r
}

// build follows OpenSSL's build_chain with X509_V_FLAG_TRUSTED_FIRST (the
// default): at each step look for the issuer in the trust store first, then
// among the certificates the peer sent; stop extending once the chain has
// depth+2 certificates. It returns the chain, how many of its certificates
// came from the peer, and whether it ends at a trust anchor.
func (t *Trust) build(peer []*x509.Certificate, depth int, now time.Time) ([]*x509.Certificate, int, bool) {
	maxDepth := depth + 1
	chain := []*x509.Certificate{peer[0]}
	numUntrusted := 1
	pool := make([]*x509.Certificate, 0, len(peer)-1)
	for _, c := range peer[1:] {
		if c != nil {
			pool = append(pool, c)
		}
	}
	doUntrusted := len(pool) > 0
	for steps := 0; steps < 2*maxChain+4; steps++ {
		num := len(chain)
		curr := chain[num-1]
		var iss *x509.Certificate
		if num <= maxDepth {
			iss = bestIssuer(curr, t.bySubject[string(curr.RawIssuer)], nil, now)
		}
		if iss != nil {
			ok := true
			ss := selfSigned(curr)
			switch {
			case !ss:
				chain = append(chain, iss)
				ss = selfSigned(iss)
			case !bytes.Equal(curr.Raw, iss.Raw):
				ok = false // a self-signed look-alike of a trust anchor
			default:
				numUntrusted = num - 1
				chain[num-1] = iss
			}
			if ok {
				doUntrusted = false
				if checkTrust(chain, numUntrusted) {
					return chain, numUntrusted, true
				}
				if !ss {
					continue
				}
			}
		}
		if !doUntrusted {
			break
		}
		num = len(chain)
		curr = chain[num-1]
		iss = nil
		if !selfSigned(curr) && num <= maxDepth {
			iss = bestIssuer(curr, pool, chain, now)
		}
		if iss == nil {
			doUntrusted = false
			continue
		}
		for i, c := range pool {
			if c == iss {
				pool = append(pool[:i], pool[i+1:]...)
				break
			}
		}
		chain = append(chain, iss)
		numUntrusted++
	}
	return chain, numUntrusted, false
}

// checkTrust reports whether a certificate that came from the trust store
// is a trust anchor (self-signed, OpenSSL's trust_compat).
func checkTrust(chain []*x509.Certificate, numUntrusted int) bool {
	for i := numUntrusted; i < len(chain); i++ {
		if selfSigned(chain[i]) {
			return true
		}
	}
	return false
}

// bestIssuer picks among candidates an issuer of x, preferring one valid at
// now, else the one expiring last; certificates already in chain are
// skipped.
func bestIssuer(x *x509.Certificate, candidates, chain []*x509.Certificate, now time.Time) *x509.Certificate {
	var best *x509.Certificate
	for _, c := range candidates {
		if inChain(chain, c) && !(selfIssued(x) && len(chain) == 1) {
			continue
		}
		if !issuedBy(x, c) {
			continue
		}
		if !now.Before(c.NotBefore) && !now.After(c.NotAfter) {
			return c
		}
		if best == nil || c.NotAfter.After(best.NotAfter) {
			best = c
		}
	}
	return best
}

func inChain(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if x == c || bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// issuedBy is OpenSSL's check_issued: names match and, when both are
// present, the authority key identifier matches the subject key identifier.
func issuedBy(x, issuer *x509.Certificate) bool {
	if !bytes.Equal(x.RawIssuer, issuer.RawSubject) {
		return false
	}
	if len(x.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(x.AuthorityKeyId, issuer.SubjectKeyId) {
		return false
	}
	return true
}

func selfIssued(x *x509.Certificate) bool { return bytes.Equal(x.RawSubject, x.RawIssuer) }

// selfSigned is OpenSSL 3's EXFLAG_SS: self-issued with consistent key
// identifiers. Unlike OpenSSL 1.1, key usage does not matter: a
// self-signed leaf without keyCertSign is still 18, as nginx reports.
func selfSigned(x *x509.Certificate) bool { return issuedBy(x, x) }

// checkCA is OpenSSL's check_ca: 0 not a CA, 1 basicConstraints CA, 3 v1
// self-signed root, 4 keyCertSign without basicConstraints.
func checkCA(x *x509.Certificate) int {
	if x.KeyUsage != 0 && x.KeyUsage&x509.KeyUsageCertSign == 0 {
		return 0
	}
	if x.BasicConstraintsValid {
		if x.IsCA {
			return 1
		}
		return 0
	}
	if x.Version == 1 && selfSigned(x) {
		return 3
	}
	if x.KeyUsage != 0 {
		return 4
	}
	return 0
}

// checkPurpose is OpenSSL's check_purpose_ssl_server / _ssl_client.
func checkPurpose(x *x509.Certificate, p Purpose, nonLeaf bool) bool {
	if len(x.ExtKeyUsage) > 0 || len(x.UnknownExtKeyUsage) > 0 {
		ok := false
		for _, u := range x.ExtKeyUsage {
			switch u {
			case x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageNetscapeServerGatedCrypto, x509.ExtKeyUsageMicrosoftServerGatedCrypto:
				ok = ok || p == PurposeServer
			case x509.ExtKeyUsageClientAuth:
				ok = ok || p == PurposeClient
			}
		}
		if !ok {
			return false
		}
	}
	if nonLeaf {
		return checkCA(x) != 0
	}
	if x.KeyUsage == 0 {
		return true
	}
	want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
	if p == PurposeServer {
		want |= x509.KeyUsageKeyEncipherment
	}
	return x.KeyUsage&want != 0
}

// checkCRL is OpenSSL's check_cert for chain[i]: find a CRL from its
// issuer whose signer is on the chain (preferring a current one), check the
// CRL itself, then look the serial up. It returns the last error met.
func (t *Trust) checkCRL(chain []*x509.Certificate, i int, now time.Time) VerifyCode {
	x := chain[i]
	var crl *x509.RevocationList
	var issuer *x509.Certificate
	fresh := false
	for _, l := range t.crlsBy[string(x.RawIssuer)] {
		iss := crlIssuerOnChain(chain, i, l)
		if iss == nil {
			continue
		}
		ok := !now.Before(l.ThisUpdate) && (l.NextUpdate.IsZero() || !now.After(l.NextUpdate))
		if crl == nil || (ok && !fresh) {
			crl, issuer, fresh = l, iss, ok
		}
	}
	if crl == nil {
		return VerifyUnableToGetCRL
	}
	code := VerifyOK
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		code = VerifyKeyUsageNoCRLSign
	}
	if now.Before(crl.ThisUpdate) {
		code = VerifyCRLNotYetValid
	} else if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		code = VerifyCRLExpired
	}
	// The signature alone, as X509_CRL_verify: CheckSignatureFrom would
	// also refuse an issuer without cRLSign, which is 35, not 8.
	if issuer.CheckSignature(crl.SignatureAlgorithm, crl.RawTBSRevocationList, crl.Signature) != nil {
		code = VerifyCRLSignatureFailure
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil && x.SerialNumber != nil && e.SerialNumber.Cmp(x.SerialNumber) == 0 {
			if e.ReasonCode != 8 { // removeFromCRL un-revokes
				code = VerifyRevoked
			}
			break
		}
	}
	return code
}

// crlIssuerOnChain is OpenSSL's crl_akid_check: the CRL's signer must be
// the next certificate up the chain (or the certificate itself at the top)
// or, failing that, a certificate further up with the CRL's issuer name;
// key identifiers must agree. A CRL whose signer is not on the chain is not
// used at all, which makes a truncated chain, or a CRL from a look-alike
// CA, fail with "unable to get certificate CRL" (3).
func crlIssuerOnChain(chain []*x509.Certificate, i int, l *x509.RevocationList) *x509.Certificate {
	akidOK := func(c *x509.Certificate) bool {
		return len(l.AuthorityKeyId) == 0 || len(c.SubjectKeyId) == 0 || bytes.Equal(l.AuthorityKeyId, c.SubjectKeyId)
	}
	cidx := i
	if cidx != len(chain)-1 {
		cidx++
	}
	if akidOK(chain[cidx]) {
		return chain[cidx]
	}
	for j := cidx + 1; j < len(chain); j++ {
		if bytes.Equal(chain[j].RawSubject, l.RawIssuer) && akidOK(chain[j]) {
			return chain[j]
		}
	}
	return nil
}
