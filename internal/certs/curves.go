package certs

import (
	"crypto/tls"
	"strings"
)

// CurveError is an ssl_ecdh_curve value OpenSSL would refuse, worded as
// nginx's ngx_ssl_ecdh_curve reports SSL_CTX_set1_curves_list failing
// (without a file:line, as nginx prints it). Reason is OpenSSL's error
// queue text, empty where OpenSSL queues none (an empty element or a
// group named twice).
type CurveError struct {
	Curves string
	Reason string
}

// Error returns nginx's message for the rejected curve list.
func (e *CurveError) Error() string {
	s := `SSL_CTX_set1_curves_list("` + e.Curves + `") failed`
	if e.Reason != "" {
		s += " (SSL: " + e.Reason + ")"
	}
	return s
}

// UnsupportedCurveError is a group OpenSSL accepts but crypto/tls does not
// implement (X448, the ffdhe groups, brainpool and binary curves), so the
// list cannot be honoured.
type UnsupportedCurveError struct {
	Curves string
	Name   string
}

// Error says which group is missing and what can be used instead.
func (e *UnsupportedCurveError) Error() string {
	return `the group "` + e.Name + `" in "ssl_ecdh_curve ` + e.Curves + `" is not supported by gatehouse: ` +
		`crypto/tls implements only X25519, prime256v1, secp384r1, secp521r1, X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024`
}

// curveNames maps OpenSSL's group names (TLS names, curve names and
// aliases, compared case-sensitively as OpenSSL 3 does) to crypto/tls's
// IDs; zero marks a group OpenSSL knows that crypto/tls lacks.
var curveNames = map[string]tls.CurveID{
	"secp256r1": tls.CurveP256, "prime256v1": tls.CurveP256, "P-256": tls.CurveP256,
	"secp384r1": tls.CurveP384, "P-384": tls.CurveP384,
	"secp521r1": tls.CurveP521, "P-521": tls.CurveP521,
	"x25519": tls.X25519, "X25519": tls.X25519,
	// The hybrid post-quantum groups of OpenSSL 3.5.
	"X25519MLKEM768":     tls.X25519MLKEM768,
	"SecP256r1MLKEM768":  tls.SecP256r1MLKEM768,
	"SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024,

	"x448": 0, "X448": 0,
	"ffdhe2048": 0, "ffdhe3072": 0, "ffdhe4096": 0, "ffdhe6144": 0, "ffdhe8192": 0,
	"brainpoolP256r1": 0, "brainpoolP384r1": 0, "brainpoolP512r1": 0,
	"brainpoolP256r1tls13": 0, "brainpoolP384r1tls13": 0, "brainpoolP512r1tls13": 0,
	"secp160k1": 0, "secp160r1": 0, "secp160r2": 0, "secp192k1": 0, "secp192r1": 0, "prime192v1": 0,
	"secp224k1": 0, "secp224r1": 0, "secp256k1": 0,
	"sect163k1": 0, "sect163r1": 0, "sect163r2": 0, "sect193r1": 0, "sect193r2": 0,
	"sect233k1": 0, "sect233r1": 0, "sect239k1": 0, "sect283k1": 0, "sect283r1": 0,
	"sect409k1": 0, "sect409r1": 0, "sect571k1": 0, "sect571r1": 0,
	"MLKEM512": 0, "MLKEM768": 0, "MLKEM1024": 0,
}

// ParseCurves compiles an ssl_ecdh_curve value: "auto" (exactly, as
// nginx compares it) gives nil, crypto/tls's default preference; otherwise
// a colon-separated list of OpenSSL group names in preference order.
// Errors are *CurveError (OpenSSL would refuse the list) or
// *UnsupportedCurveError.
func ParseCurves(s string) ([]tls.CurveID, error) {
	if s == "auto" {
		return nil, nil
	}
	var ids []tls.CurveID
	var unsupported string
	for name := range strings.SplitSeq(s, ":") {
		id, known := curveNames[name]
		switch {
		case name == "":
			return nil, &CurveError{Curves: s}
		case !known:
			return nil, &CurveError{Curves: s, Reason: "error:0A080106:SSL routines::passed invalid argument:group '" + name + "' cannot be set"}
		case id == 0:
			if unsupported == "" {
				unsupported = name
			}
			continue
		}
		for _, have := range ids {
			if have == id {
				return nil, &CurveError{Curves: s}
			}
		}
		ids = append(ids, id)
	}
	if unsupported != "" {
		return nil, &UnsupportedCurveError{Curves: s, Name: unsupported}
	}
	return ids, nil
}
