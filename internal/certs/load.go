package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// errNoStartLine is the cause when a file holds no PEM block of the wanted
// type.
var errNoStartLine = errors.New("no PEM block of the expected type")

// bioError formats the OpenSSL error queue nginx prints when fopen fails.
func bioError(path string, err error) string {
	return "BIO_new_file() failed (SSL: " + bioQueue(path, err) + ")"
}

// bioQueue is OpenSSL's error queue after a failed fopen of path.
func bioQueue(path string, err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		text := errno.Error()
		if text != "" {
			text = strings.ToUpper(text[:1]) + text[1:]
		}
		if errno == syscall.ENOENT {
			return fmt.Sprintf("error:80000002:system library::%s:calling fopen(%s, r) error:10000080:BIO routines::no such file", text, path)
		}
		return fmt.Sprintf("error:%08X:system library::%s:calling fopen(%s, r) error:10080002:BIO routines::system lib", 0x80000000|uint32(errno), text, path)
	}
	return fmt.Sprintf("error:80000002:system library::%s:calling fopen(%s, r)", err, path)
}

const (
	pemNoStartLine = "error:0480006C:PEM routines::no start line"
	pemASN1Lib     = "error:0488000D:PEM routines::ASN1 lib"
)

func loadErr(kind LoadKind, path, msg string, cause error) *LoadError {
	return &LoadError{Kind: kind, Path: path, Msg: msg, Err: cause}
}

// readErr wraps a failure to read path in nginx's words for kind.
func readErr(kind LoadKind, path string, err error) *LoadError {
	if kind == LoadCRL {
		return crlErr(path, bioQueue(path, err)+" error:05880002:x509 certificate routines::system lib", err)
	}
	return loadErr(kind, path, prefix(kind, path)+bioError(path, err), err)
}

// crlErr is ngx_ssl_crl's failure: X509_LOOKUP_load_file and OpenSSL's
// error queue, without a "cannot load" prefix.
func crlErr(path, queue string, cause error) *LoadError {
	return loadErr(LoadCRL, path, `X509_LOOKUP_load_file("`+path+`") failed (SSL: `+queue+`)`, cause)
}

func prefix(kind LoadKind, path string) string {
	switch kind {
	case LoadKey:
		return `cannot load certificate key "` + path + `": `
	}
	return `cannot load certificate "` + path + `": `
}

// isCertBlock reports whether PEM_read_bio_X509(_AUX) accepts the block type.
func isCertBlock(t string, aux bool) bool {
	return t == "CERTIFICATE" || t == "X509 CERTIFICATE" || (aux && t == "TRUSTED CERTIFICATE")
}

// ParseCertificates parses a certificate file the way nginx's
// ngx_ssl_cache_cert_create does: the first certificate block (other blocks,
// such as a key, are skipped) is the leaf, the rest is its chain. path is
// used only in error texts.
func ParseCertificates(path string, data []byte) ([]*x509.Certificate, error) {
	return parseCerts(LoadCertificate, path, data)
}

// ParseCAs parses a CA bundle (ssl_client_certificate,
// ssl_trusted_certificate, proxy_ssl_trusted_certificate).
func ParseCAs(path string, data []byte) ([]*x509.Certificate, error) {
	return parseCerts(LoadCA, path, data)
}

func parseCerts(kind LoadKind, path string, data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		first := len(out) == 0
		if !isCertBlock(block.Type, first || kind == LoadCA) {
			continue
		}
		der := block.Bytes
		if block.Type == "TRUSTED CERTIFICATE" {
			// The DER certificate is followed by OpenSSL's trust settings.
			der = firstDER(der)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			fn := "PEM_read_bio_X509()"
			if first || kind == LoadCA {
				fn = "PEM_read_bio_X509_AUX()"
			}
			return nil, loadErr(kind, path, prefix(kind, path)+fn+" failed (SSL: "+pemASN1Lib+")", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, loadErr(kind, path, prefix(kind, path)+"PEM_read_bio_X509_AUX() failed (SSL: "+pemNoStartLine+":Expecting: TRUSTED CERTIFICATE)", errNoStartLine)
	}
	return out, nil
}

// firstDER returns the first DER element of b (or b itself if it cannot
// tell where that ends).
func firstDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	n := int(b[1])
	hdr := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return b
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		hdr += k
	}
	if hdr+n > len(b) || n < 0 {
		return b
	}
	return b[:hdr+n]
}

// ParseKey parses the first private key in a PEM file, as
// PEM_read_bio_PrivateKey does (PKCS#8, PKCS#1 RSA or SEC 1 EC). An
// encrypted key fails as in nginx without ssl_password_file.
func ParseKey(path string, data []byte) (crypto.Signer, error) {
	return ParseKeyPasswords(path, data, nil)
}

// ParseKeyPasswords is ParseKey for a key that may be encrypted: each of
// passwords (from ParsePasswords) is tried in order, as nginx tries the
// lines of ssl_password_file. nil passwords means no password file.
func ParseKeyPasswords(path string, data []byte, passwords [][]byte) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return decryptKey(path, block, passwords)
		}
		key, err := parseKeyDER(block.Type, block.Bytes)
		if err != nil {
			break
		}
		return key, nil
	}
	return nil, loadErr(LoadKey, path, prefix(LoadKey, path)+"PEM_read_bio_PrivateKey() failed (SSL: error:1E08010C:DECODER routines::unsupported:No supported data to decode.  Input type: PEM)", errNoStartLine)
}

func parseKeyDER(typ string, der []byte) (crypto.Signer, error) {
	switch typ {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(der)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key cannot sign")
	}
	return s, nil
}

// publicKeysEqual reports whether pub is the public half of key.
func publicKeysEqual(pub crypto.PublicKey, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := key.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		if e, ok := k.(equaler); ok {
			return e.Equal(pub)
		}
	}
	return false
}

// KeyPair combines a certificate chain and key into a tls.Certificate,
// failing with nginx's "key values mismatch" text when they do not belong
// together.
func KeyPair(certPath string, chain []*x509.Certificate, keyPath string, key crypto.Signer) (*tls.Certificate, error) {
	if len(chain) == 0 {
		return nil, loadErr(LoadCertificate, certPath, prefix(LoadCertificate, certPath)+"PEM_read_bio_X509_AUX() failed (SSL: "+pemNoStartLine+":Expecting: TRUSTED CERTIFICATE)", errNoStartLine)
	}
	if !publicKeysEqual(chain[0].PublicKey, key) {
		return nil, loadErr(LoadKeyMismatch, keyPath, `SSL_CTX_use_PrivateKey("`+keyPath+`") failed (SSL: error:05800074:x509 certificate routines::key values mismatch)`, errKeyMismatch)
	}
	c := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}

// errKeyMismatch is the cause of a LoadKeyMismatch error.
var errKeyMismatch = errors.New("private key does not match the certificate")

// errNoCRL is the cause when a CRL file holds neither a CRL nor a
// certificate.
var errNoCRL = errors.New("no certificate or CRL found")

// ParseCRLs parses a PEM file of CRLs (ssl_crl, proxy_ssl_crl) as
// ngx_ssl_crl's X509_LOOKUP_load_file does: the file must hold at least one
// CRL or certificate (so an empty file fails, as in nginx). Certificates
// in it are checked and then ignored; OpenSSL would add them to the trust
// store, which gatehouse does not do.
func ParseCRLs(path string, data []byte) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	found := 0
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var err error
		switch {
		case block.Type == "X509 CRL":
			var crl *x509.RevocationList
			if crl, err = x509.ParseRevocationList(block.Bytes); err == nil {
				out = append(out, crl)
			}
		case isCertBlock(block.Type, true):
			der := block.Bytes
			if block.Type == "TRUSTED CERTIFICATE" {
				der = firstDER(der)
			}
			_, err = x509.ParseCertificate(der)
		default:
			continue
		}
		if err != nil {
			return nil, crlErr(path, pemASN1Lib+" error:05880009:x509 certificate routines::PEM lib", err)
		}
		found++
	}
	if found == 0 {
		return nil, crlErr(path, "error:05800088:x509 certificate routines::no certificate or crl found", errNoCRL)
	}
	return out, nil
}
