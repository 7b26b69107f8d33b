package certs

import "strconv"

// VerifyCode is an OpenSSL X509_V_* verification result code, for
// upstream certificates and client certificates alike. Its String method
// gives OpenSSL 3.x's text, as nginx logs it after the number and puts it
// into $ssl_client_verify after "FAILED:".
type VerifyCode int

// The OpenSSL verify codes gatehouse can produce or report.
const (
	VerifyOK                     VerifyCode = 0
	VerifyUnspecified            VerifyCode = 1
	VerifyUnableToGetIssuer      VerifyCode = 2
	VerifyUnableToGetCRL         VerifyCode = 3
	VerifySignatureFailure       VerifyCode = 7
	VerifyCRLSignatureFailure    VerifyCode = 8
	VerifyNotYetValid            VerifyCode = 9
	VerifyExpired                VerifyCode = 10
	VerifyCRLNotYetValid         VerifyCode = 11
	VerifyCRLExpired             VerifyCode = 12
	VerifyDepthZeroSelfSigned    VerifyCode = 18
	VerifySelfSignedInChain      VerifyCode = 19
	VerifyUnableToGetIssuerLocal VerifyCode = 20
	VerifyUnableToVerifyLeaf     VerifyCode = 21
	VerifyChainTooLong           VerifyCode = 22
	VerifyRevoked                VerifyCode = 23
	VerifyNoIssuerPublicKey      VerifyCode = 24
	// VerifyInvalidCA is X509_V_ERR_INVALID_CA, which OpenSSL 3 numbers
	// 79 (1.1.1 used 24, now X509_V_ERR_NO_ISSUER_PUBLIC_KEY).
	VerifyInvalidCA               VerifyCode = 79
	VerifyPathLengthExceeded      VerifyCode = 25
	VerifyInvalidPurpose          VerifyCode = 26
	VerifyUntrusted               VerifyCode = 27
	VerifyRejected                VerifyCode = 28
	VerifyKeyUsageNoCertSign      VerifyCode = 32
	VerifyUnhandledCriticalExt    VerifyCode = 34
	VerifyKeyUsageNoCRLSign       VerifyCode = 35
	VerifyUnhandledCriticalCRLExt VerifyCode = 36
	VerifyHostnameMismatch        VerifyCode = 62
	VerifyIPAddressMismatch       VerifyCode = 64
	VerifyUnableToDecodeIssuerKey VerifyCode = 6
)

// verifyTexts are OpenSSL 3.x's X509_verify_cert_error_string texts
// (crypto/x509/x509_txt.c).
var verifyTexts = map[VerifyCode]string{
	0:  "ok",
	1:  "unspecified certificate verification error",
	2:  "unable to get issuer certificate",
	3:  "unable to get certificate CRL",
	4:  "unable to decrypt certificate's signature",
	5:  "unable to decrypt CRL's signature",
	6:  "unable to decode issuer public key",
	7:  "certificate signature failure",
	8:  "CRL signature failure",
	9:  "certificate is not yet valid",
	10: "certificate has expired",
	11: "CRL is not yet valid",
	12: "CRL has expired",
	13: "format error in certificate's notBefore field",
	14: "format error in certificate's notAfter field",
	15: "format error in CRL's lastUpdate field",
	16: "format error in CRL's nextUpdate field",
	17: "out of memory",
	18: "self-signed certificate",
	19: "self-signed certificate in certificate chain",
	20: "unable to get local issuer certificate",
	21: "unable to verify the first certificate",
	22: "certificate chain too long",
	23: "certificate revoked",
	24: "issuer certificate doesn't have a public key",
	25: "path length constraint exceeded",
	26: "unsuitable certificate purpose",
	27: "certificate not trusted",
	28: "certificate rejected",
	32: "key usage does not include certificate signing",
	34: "unhandled critical extension",
	35: "key usage does not include CRL signing",
	36: "unhandled critical CRL extension",
	62: "hostname mismatch",
	64: "IP address mismatch",
	79: "invalid CA certificate",
}

// String returns OpenSSL's text for the code; an unknown code is "error
// number N", as X509_verify_cert_error_string words it.
func (c VerifyCode) String() string {
	if s, ok := verifyTexts[c]; ok {
		return s
	}
	return "error number " + strconv.Itoa(int(c))
}

// Paren formats the code as nginx logs it: "(20:unable to get local issuer
// certificate)".
func (c VerifyCode) Paren() string { return string(c.AppendParen(nil)) }

// AppendParen appends the Paren form to dst without allocating (for a
// known code and a dst with room).
func (c VerifyCode) AppendParen(dst []byte) []byte {
	dst = append(dst, '(')
	dst = strconv.AppendInt(dst, int64(c), 10)
	dst = append(dst, ':')
	if s, ok := verifyTexts[c]; ok {
		dst = append(dst, s...)
	} else {
		dst = append(dst, "error number "...)
		dst = strconv.AppendInt(dst, int64(c), 10)
	}
	return append(dst, ')')
}
