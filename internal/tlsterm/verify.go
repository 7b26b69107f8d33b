package tlsterm

import (
	"bytes"
	"crypto/x509"
	"strconv"
	"time"
)

// VerifyCode is an OpenSSL X509_V_* certificate verification result. nginx
// logs it as "(CODE:TEXT)" and puts TEXT into $ssl_client_verify, so the
// numbers and texts are OpenSSL's own (3.x wording).
type VerifyCode int

// The verification results gatehouse can produce for client certificates.
const (
	CodeOK                       VerifyCode = 0
	CodeUnableToGetIssuerCert    VerifyCode = 2
	CodeUnableToGetCRL           VerifyCode = 3
	CodeCertSignatureFailure     VerifyCode = 7
	CodeCRLSignatureFailure      VerifyCode = 8
	CodeCertNotYetValid          VerifyCode = 9
	CodeCertHasExpired           VerifyCode = 10
	CodeCRLNotYetValid           VerifyCode = 11
	CodeCRLHasExpired            VerifyCode = 12
	CodeDepthZeroSelfSignedCert  VerifyCode = 18
	CodeSelfSignedCertInChain    VerifyCode = 19
	CodeUnableToGetIssuerLocally VerifyCode = 20
	CodeUnableToVerifyLeafSig    VerifyCode = 21
	CodeCertChainTooLong         VerifyCode = 22
	CodeCertRevoked              VerifyCode = 23
	CodeInvalidCA                VerifyCode = 24
	CodePathLengthExceeded       VerifyCode = 25
	CodeInvalidPurpose           VerifyCode = 26
	CodeCertUntrusted            VerifyCode = 27
	CodeKeyUsageNoCertSign       VerifyCode = 32
	CodeUnhandledCriticalExt     VerifyCode = 34
	CodeKeyUsageNoCRLSign        VerifyCode = 35
	CodeUnhandledCriticalCRLExt  VerifyCode = 36
	CodeUnspecified              VerifyCode = 1
)

// String returns OpenSSL's X509_verify_cert_error_string text for c.
func (c VerifyCode) String() string {
	switch c {
	case CodeOK:
		return "ok"
	case CodeUnspecified:
		return "unspecified certificate verification error"
	case CodeUnableToGetIssuerCert:
		return "unable to get issuer certificate"
	case CodeUnableToGetCRL:
		return "unable to get certificate CRL"
	case CodeCertSignatureFailure:
		return "certificate signature failure"
	case CodeCRLSignatureFailure:
		return "CRL signature failure"
	case CodeCertNotYetValid:
		return "certificate is not yet valid"
	case CodeCertHasExpired:
		return "certificate has expired"
	case CodeCRLNotYetValid:
		return "CRL is not yet valid"
	case CodeCRLHasExpired:
		return "CRL has expired"
	case CodeDepthZeroSelfSignedCert:
		return "self-signed certificate"
	case CodeSelfSignedCertInChain:
		return "self-signed certificate in certificate chain"
	case CodeUnableToGetIssuerLocally:
		return "unable to get local issuer certificate"
	case CodeUnableToVerifyLeafSig:
		return "unable to verify the first certificate"
	case CodeCertChainTooLong:
		return "certificate chain too long"
	case CodeCertRevoked:
		return "certificate revoked"
	case CodeInvalidCA:
		return "invalid CA certificate"
	case CodePathLengthExceeded:
		return "path length constraint exceeded"
	case CodeInvalidPurpose:
		return "unsuitable certificate purpose"
	case CodeCertUntrusted:
		return "certificate not trusted"
	case CodeKeyUsageNoCertSign:
		return "key usage does not include certificate signing"
	case CodeUnhandledCriticalExt:
		return "unhandled critical extension"
	case CodeKeyUsageNoCRLSign:
		return "key usage does not include CRL signing"
	case CodeUnhandledCriticalCRLExt:
		return "unhandled critical CRL extension"
	}
	return "unknown certificate verification error"
}

// appendParen appends "(CODE:TEXT)" as nginx writes it in its log lines.
func (c VerifyCode) appendParen(dst []byte) []byte {
	dst = append(dst, '(')
	dst = strconv.AppendInt(dst, int64(c), 10)
	dst = append(dst, ':')
	dst = append(dst, c.String()...)
	return append(dst, ')')
}

// untrustedIssuer reports whether c is one of the errors that
// "ssl_verify_client optional_no_ca" tolerates (ngx_ssl_verify_error_optional).
func (c VerifyCode) untrustedIssuer() bool {
	switch c {
	case CodeDepthZeroSelfSignedCert, CodeSelfSignedCertInChain,
		CodeUnableToGetIssuerLocally, CodeUnableToVerifyLeafSig, CodeCertUntrusted:
		return true
	}
	return false
}

// trustStore is the compiled verification material of one server: the
// union of ssl_client_certificate and ssl_trusted_certificate, and the CRLs
// of ssl_crl. It is built once per configuration and only read afterwards.
type trustStore struct {
	bySubject map[string][]*x509.Certificate
	crls      map[string][]*x509.RevocationList // by raw issuer name
	checkCRL  bool
	depth     int
}

func newTrustStore(cas []*x509.Certificate, crls []*x509.RevocationList, depth int) *trustStore {
	s := &trustStore{
		bySubject: make(map[string][]*x509.Certificate, len(cas)),
		crls:      make(map[string][]*x509.RevocationList, len(crls)),
		checkCRL:  len(crls) > 0,
		depth:     depth,
	}
	for _, c := range cas {
		if c == nil {
			continue
		}
		k := string(c.RawSubject)
		dup := false
		for _, o := range s.bySubject[k] {
			if bytes.Equal(o.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			s.bySubject[k] = append(s.bySubject[k], c)
		}
	}
	for _, l := range crls {
		if l == nil {
			continue
		}
		k := string(l.RawIssuer)
		s.crls[k] = append(s.crls[k], l)
	}
	return s
}

// checkAKID reports whether the authority key identifier of child, if any,
// matches the subject key identifier of issuer (X509_check_akid, key-id part).
func checkAKID(issuer, child *x509.Certificate) bool {
	if len(child.AuthorityKeyId) == 0 || len(issuer.SubjectKeyId) == 0 {
		return true
	}
	return bytes.Equal(child.AuthorityKeyId, issuer.SubjectKeyId)
}

// issued is OpenSSL's check_issued / ossl_x509_likely_issued: names chain
// and key identifiers agree. Signatures are checked later, as OpenSSL does.
func issued(issuer, child *x509.Certificate) bool {
	return bytes.Equal(child.RawIssuer, issuer.RawSubject) && checkAKID(issuer, child)
}

// selfSigned is OpenSSL 3's EXFLAG_SS: self-issued with a consistent AKID.
func selfSigned(c *x509.Certificate) bool { return issued(c, c) }

func timeValid(c *x509.Certificate, now time.Time) bool {
	return !now.Before(c.NotBefore) && !now.After(c.NotAfter)
}

// trustedIssuer finds an issuer of c among the trusted certificates,
// preferring one that is currently valid, else the latest-expiring one.
func (s *trustStore) trustedIssuer(c *x509.Certificate, now time.Time) *x509.Certificate {
	var best *x509.Certificate
	for _, cand := range s.bySubject[string(c.RawIssuer)] {
		if !issued(cand, c) {
			continue
		}
		if timeValid(cand, now) {
			return cand
		}
		if best == nil || cand.NotAfter.After(best.NotAfter) {
			best = cand
		}
	}
	return best
}

func untrustedIssuer(pool []*x509.Certificate, c *x509.Certificate, now time.Time) int {
	best := -1
	for i, cand := range pool {
		if cand == nil || !issued(cand, c) {
			continue
		}
		if timeValid(cand, now) {
			return i
		}
		if best < 0 || cand.NotAfter.After(pool[best].NotAfter) {
			best = i
		}
	}
	return best
}

// verify runs OpenSSL's X509_verify_cert over a client's certificate list
// (leaf first) the way nginx configures it: the verify callback accepts
// every error, so all checks run and the last error reported is the result
// (SSL_get_verify_result). The order of checks is OpenSSL's: chain building
// (with ssl_verify_depth), extensions and purpose, revocation, then
// signatures and validity from the top of the chain down to the leaf.
func (s *trustStore) verify(peer []*x509.Certificate, now time.Time) VerifyCode {
	if len(peer) == 0 || peer[0] == nil {
		return CodeOK
	}
	res := CodeOK
	report := func(c VerifyCode) { res = c }

	// build_chain, trusted-first.
	maxDepth := s.depth + 1
	if s.depth < 0 {
		maxDepth = 1
	}
	pool := make([]*x509.Certificate, 0, len(peer)-1)
	pool = append(pool, peer[1:]...)
	chain := make([]*x509.Certificate, 1, len(peer)+2)
	chain[0] = peer[0]
	numUntrusted := 1
	trusted := false
	searchUntrusted := true
	for {
		curr := chain[len(chain)-1]
		if len(chain) <= maxDepth {
			if iss := s.trustedIssuer(curr, now); iss != nil {
				if selfSigned(curr) {
					if bytes.Equal(curr.Raw, iss.Raw) {
						chain[len(chain)-1] = iss
						numUntrusted--
						trusted = true
						break
					}
					// A self-signed look-alike of a trust anchor: no match.
				} else {
					chain = append(chain, iss)
					searchUntrusted = false
					if selfSigned(iss) {
						trusted = true
						break
					}
					continue
				}
			}
		}
		if !searchUntrusted || selfSigned(curr) || len(chain) > maxDepth {
			break
		}
		i := untrustedIssuer(pool, curr, now)
		if i < 0 {
			break
		}
		chain = append(chain, pool[i])
		pool[i] = nil
		numUntrusted++
	}
	if !trusted {
		// build_chain's CB_FAIL_IF only stops when the callback says so;
		// nginx's never does, so "chain too long" is followed by the
		// untrusted-issuer error, which then becomes the result.
		num := len(chain)
		if num > maxDepth {
			report(CodeCertChainTooLong)
		}
		switch {
		case selfSigned(chain[num-1]) && num == 1:
			report(CodeDepthZeroSelfSignedCert)
		case selfSigned(chain[num-1]):
			report(CodeSelfSignedCertInChain)
		case numUntrusted < num:
			report(CodeUnableToGetIssuerCert)
		default:
			report(CodeUnableToGetIssuerLocally)
		}
	}

	// check_extensions: CA flags, purpose (TLS client), path length.
	plen := 0
	for i, c := range chain {
		if len(c.UnhandledCriticalExtensions) > 0 {
			report(CodeUnhandledCriticalExt)
		}
		if i > 0 && !isCA(c) {
			report(CodeInvalidCA)
		}
		if !clientPurpose(c, i > 0) {
			report(CodeInvalidPurpose)
		}
		if i > 1 && pathLenSet(c) && plen > c.MaxPathLen {
			report(CodePathLengthExceeded)
		}
		if i > 0 && !bytes.Equal(c.RawSubject, c.RawIssuer) {
			plen++
		}
	}

	// check_revocation with CRL_CHECK | CRL_CHECK_ALL.
	if s.checkCRL {
		for i, c := range chain {
			s.checkCRLFor(chain, i, c, now, report)
		}
	}

	// internal_verify: signatures and times, top down.
	n := len(chain) - 1
	xi := chain[n]
	xs := xi
	if !issued(xi, xi) {
		if n > 0 {
			n--
			xs = chain[n]
		} else {
			report(CodeUnableToVerifyLeafSig)
		}
	}
	for n >= 0 {
		if xs != xi {
			if xi.KeyUsage != 0 && xi.KeyUsage&x509.KeyUsageCertSign == 0 {
				report(CodeKeyUsageNoCertSign)
			}
			if xi.CheckSignature(xs.SignatureAlgorithm, xs.RawTBSCertificate, xs.Signature) != nil {
				report(CodeCertSignatureFailure)
			}
		}
		if now.Before(xs.NotBefore) {
			report(CodeCertNotYetValid)
		}
		if now.After(xs.NotAfter) {
			report(CodeCertHasExpired)
		}
		n--
		if n < 0 {
			break
		}
		xi = xs
		xs = chain[n]
	}
	return res
}

// checkCRLFor is OpenSSL's check_cert for chain[i]: find a CRL from its
// issuer whose signer is on the chain, check the CRL itself, then look the
// serial up.
func (s *trustStore) checkCRLFor(chain []*x509.Certificate, i int, c *x509.Certificate, now time.Time, report func(VerifyCode)) {
	var crl *x509.RevocationList
	var issuer *x509.Certificate
	fresh := false
	for _, l := range s.crls[string(c.RawIssuer)] {
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
		report(CodeUnableToGetCRL)
		return
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		report(CodeKeyUsageNoCRLSign)
	}
	if now.Before(crl.ThisUpdate) {
		report(CodeCRLNotYetValid)
	} else if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		report(CodeCRLHasExpired)
	}
	if crl.CheckSignatureFrom(issuer) != nil {
		report(CodeCRLSignatureFailure)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil && c.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			if e.ReasonCode == 8 { // removeFromCRL
				return
			}
			report(CodeCertRevoked)
			return
		}
	}
}

// crlIssuerOnChain is OpenSSL's crl_akid_check: the CRL's signer must be
// the next certificate up the chain (or the certificate itself at the top)
// or, failing that, a certificate further up with the CRL's issuer name;
// key identifiers must agree. A CRL whose signer is not on the chain is not
// used at all, which makes a truncated chain fail with "unable to get
// certificate CRL".
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

// isCA is X509_check_ca: a v3 CA (basicConstraints cA, keyCertSign if a
// key usage is present) or a self-signed v1 certificate.
func isCA(c *x509.Certificate) bool {
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return false
	}
	if c.BasicConstraintsValid {
		return c.IsCA
	}
	return c.Version == 1 && selfSigned(c)
}

func pathLenSet(c *x509.Certificate) bool {
	return c.BasicConstraintsValid && (c.MaxPathLen > 0 || (c.MaxPathLen == 0 && c.MaxPathLenZero))
}

// clientPurpose is OpenSSL's check_purpose_ssl_client: an extended key
// usage, when present, must list clientAuth (anyExtendedKeyUsage does not
// count), and a leaf's key usage, when present, must allow signing or key
// agreement.
func clientPurpose(c *x509.Certificate, ca bool) bool {
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		ok := false
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageClientAuth {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if !ca && c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement) == 0 {
		return false
	}
	return true
}
