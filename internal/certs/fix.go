package certs

import (
	"crypto/x509"
	"strconv"
	"strings"
)

// verifyFix names what fixes a chain verification failure.
func verifyFix(r *VerifyResult, peer []*x509.Certificate) string {
	subj := func(c *x509.Certificate) string {
		if c == nil {
			return ""
		}
		return `"` + RawDN(c.RawSubject) + `"`
	}
	iss := func(c *x509.Certificate) string {
		if c == nil {
			return ""
		}
		return `"` + RawDN(c.RawIssuer) + `"`
	}
	var top *x509.Certificate
	if len(r.Chain) > 0 {
		top = r.Chain[len(r.Chain)-1]
	} else if len(peer) > 0 {
		top = peer[len(peer)-1]
	}
	switch r.Code {
	case VerifyDepthZeroSelfSigned:
		return "add its CA to proxy_ssl_trusted_certificate"
	case VerifySelfSignedInChain:
		return "add the root CA " + subj(top) + " to proxy_ssl_trusted_certificate"
	case VerifyUnableToGetIssuerLocal, VerifyUnableToVerifyLeaf:
		fix := "add the issuing CA " + iss(top) + " to proxy_ssl_trusted_certificate"
		if len(peer) == 1 && !selfIssued(peer[0]) {
			fix += ", or make the upstream send its intermediate certificates"
		}
		return fix
	case VerifyUnableToGetIssuer:
		return "proxy_ssl_trusted_certificate holds " + subj(top) + " but not its issuer " + iss(top) + ": add that root CA"
	case VerifyChainTooLong:
		if r.NeedDepth >= 0 {
			return "raise proxy_ssl_verify_depth to " + strconv.Itoa(r.NeedDepth)
		}
		return "raise proxy_ssl_verify_depth (the chain has more intermediates than allowed) and add the issuing CA to proxy_ssl_trusted_certificate"
	case VerifyNotYetValid:
		return "certificate " + subj(r.Cert) + " is not valid before " + r.Cert.NotBefore.UTC().Format("2006-01-02 15:04:05") + " UTC: check the upstream's certificate and both clocks"
	case VerifyExpired:
		return "certificate " + subj(r.Cert) + " expired " + r.Cert.NotAfter.UTC().Format("2006-01-02 15:04:05") + " UTC: renew it on the upstream"
	case VerifyInvalidPurpose:
		return "certificate " + subj(r.Cert) + " is not for TLS server authentication (its extended key usage lacks serverAuth): issue one with serverAuth"
	case VerifyInvalidCA:
		return "certificate " + subj(r.Cert) + " signs others but is not a CA: fix the chain the upstream sends or proxy_ssl_trusted_certificate"
	case VerifyPathLengthExceeded:
		return "CA " + subj(r.Cert) + " forbids this many intermediates below it (pathLenConstraint): fix the upstream's chain"
	case VerifyKeyUsageNoCertSign:
		return "CA " + subj(r.Cert) + " is not allowed to sign certificates (key usage): fix the upstream's chain"
	case VerifySignatureFailure:
		return "the signature of " + subj(r.Cert) + " does not verify: check the chain the upstream sends and proxy_ssl_trusted_certificate"
	case VerifyRevoked:
		return "certificate " + subj(r.Cert) + " is revoked by proxy_ssl_crl: replace it on the upstream"
	case VerifyUnableToGetCRL:
		return "proxy_ssl_crl has no CRL from " + iss(r.Cert) + " (every certificate of the chain, the root included, needs one): add it"
	case VerifyCRLExpired, VerifyCRLNotYetValid:
		return "refresh the CRL from " + iss(r.Cert) + " in proxy_ssl_crl"
	case VerifyKeyUsageNoCRLSign:
		return "the CA " + iss(r.Cert) + " is not allowed to sign CRLs (its key usage lacks cRLSign): fix its CRL in proxy_ssl_crl"
	case VerifyCRLSignatureFailure:
		return "the CRL from " + iss(r.Cert) + " in proxy_ssl_crl is not signed by that CA: replace it"
	case VerifyUnhandledCriticalExt:
		return "certificate " + subj(r.Cert) + " has a critical extension that cannot be checked: reissue it"
	}
	return "check the upstream's certificate chain and proxy_ssl_trusted_certificate"
}

// nameFix names what fixes a name mismatch.
func (u *Upstream) nameFix(c *x509.Certificate, name string) string {
	if name == "" {
		return "set proxy_ssl_name (the name to verify is empty)"
	}
	var names []string
	names = append(names, c.DNSNames...)
	if u.opts.Rules == NginxNames && len(c.DNSNames) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if u.opts.Rules == SecureNames {
		for _, ip := range c.IPAddresses {
			names = append(names, ip.String())
		}
	}
	if len(names) == 0 {
		if u.opts.Rules == SecureNames && len(c.DNSNames) == 0 && c.Subject.CommonName != "" {
			return "the certificate names " + c.Subject.CommonName + " only in its subject CN, which is not checked: reissue it with a subjectAltName"
		}
		return "the certificate names no host: reissue it with a subjectAltName"
	}
	return "set proxy_ssl_name to one of the names above (" + strings.Join(names, ", ") + ")"
}
