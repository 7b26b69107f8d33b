package certs

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// Encrypted private keys (ssl_password_file, proxy_ssl_password_file).
// OpenSSL's PEM_read_bio_PrivateKey reads two encrypted forms, and so does
// gatehouse: PKCS#8 "ENCRYPTED PRIVATE KEY" with PBES2 (PBKDF2 with an
// HMAC-SHA-1/2 PRF, AES-CBC or DES-EDE3-CBC), what "openssl pkcs8 -topk8"
// and OpenSSL 3's "openssl rsa -aes256" write; and the legacy
// "Proc-Type: 4,ENCRYPTED" PEM headers of "openssl rsa -traditional".

// maxPasswordLen is OpenSSL's PEM_BUFSIZE: ngx_ssl_password_callback
// truncates longer passwords to it.
const maxPasswordLen = 1024

// Causes of a failed decryption, for errors.Is on a LoadError.
var (
	// ErrWrongPassword: no password in the password file decrypted the key.
	ErrWrongPassword = errors.New("no password decrypts the private key")
	// ErrNoPassword: the key is encrypted and no password file is set.
	ErrNoPassword = errors.New("private key is encrypted and no password file is set")
	// ErrKeyEncryption: the key is encrypted with a scheme gatehouse does
	// not implement.
	ErrKeyEncryption = errors.New("private key encryption scheme not supported")
)

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// pbes2 is a parsed PBES2 encryption: what deriving the key needs.
type pbes2 struct {
	prf        func() hash.Hash
	salt       []byte
	iterations int
	keyLen     int
	block      func([]byte) (cipher.Block, error)
	blockSize  int
	iv         []byte
	data       []byte
}

// parsePKCS8Encrypted parses an EncryptedPrivateKeyInfo (RFC 5958) whose
// scheme is PBES2 (RFC 8018). Errors wrap ErrKeyEncryption.
func parsePKCS8Encrypted(der []byte) (*pbes2, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: malformed EncryptedPrivateKeyInfo", ErrKeyEncryption)
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: %v (only PBES2 is; re-encrypt with \"openssl pkcs8 -topk8 -v2 aes-256-cbc\")", ErrKeyEncryption, info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("%w: malformed PBES2 parameters", ErrKeyEncryption)
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("%w: key derivation %v (only PBKDF2 is)", ErrKeyEncryption, params.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("%w: malformed PBKDF2 parameters", ErrKeyEncryption)
	}
	p := &pbes2{salt: kdf.Salt, iterations: kdf.Iterations, data: info.Data}
	if p.iterations < 1 || p.iterations > 1<<24 {
		return nil, fmt.Errorf("%w: PBKDF2 iteration count %d", ErrKeyEncryption, p.iterations)
	}
	switch prf := kdf.PRF.Algorithm; {
	case len(prf) == 0 || prf.Equal(oidHMACSHA1):
		p.prf = sha1.New
	case prf.Equal(oidHMACSHA224):
		p.prf = sha256.New224
	case prf.Equal(oidHMACSHA256):
		p.prf = sha256.New
	case prf.Equal(oidHMACSHA384):
		p.prf = sha512.New384
	case prf.Equal(oidHMACSHA512):
		p.prf = sha512.New
	default:
		return nil, fmt.Errorf("%w: PBKDF2 PRF %v", ErrKeyEncryption, prf)
	}
	switch s := params.Scheme.Algorithm; {
	case s.Equal(oidAES128CBC):
		p.keyLen, p.block, p.blockSize = 16, aes.NewCipher, aes.BlockSize
	case s.Equal(oidAES192CBC):
		p.keyLen, p.block, p.blockSize = 24, aes.NewCipher, aes.BlockSize
	case s.Equal(oidAES256CBC):
		p.keyLen, p.block, p.blockSize = 32, aes.NewCipher, aes.BlockSize
	case s.Equal(oidDESEDE3CBC):
		p.keyLen, p.block, p.blockSize = 24, des.NewTripleDESCipher, des.BlockSize
	default:
		return nil, fmt.Errorf("%w: cipher %v (AES-CBC and DES-EDE3-CBC are)", ErrKeyEncryption, s)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != p.keyLen {
		return nil, fmt.Errorf("%w: PBKDF2 key length %d for a %d-byte key", ErrKeyEncryption, kdf.KeyLength, p.keyLen)
	}
	if _, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &p.iv); err != nil {
		return nil, fmt.Errorf("%w: malformed cipher parameters", ErrKeyEncryption)
	}
	if bs := p.blockSize; len(p.iv) != bs || len(p.data) == 0 || len(p.data)%bs != 0 {
		return nil, fmt.Errorf("%w: malformed ciphertext", ErrKeyEncryption)
	}
	return p, nil
}

// decrypt returns the PKCS#8 PrivateKeyInfo DER under password, or
// ErrWrongPassword when the padding or the DER does not check out.
func (p *pbes2) decrypt(password []byte) ([]byte, error) {
	key, err := pbkdf2.Key(p.prf, string(password), p.salt, p.iterations, p.keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyEncryption, err)
	}
	b, err := p.block(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyEncryption, err)
	}
	out := make([]byte, len(p.data))
	cipher.NewCBCDecrypter(b, p.iv).CryptBlocks(out, p.data)
	n := int(out[len(out)-1])
	if n == 0 || n > b.BlockSize() {
		return nil, ErrWrongPassword
	}
	pad := out[len(out)-n:]
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(n)
	}
	if !hmac.Equal(pad, want) {
		return nil, ErrWrongPassword
	}
	return out[:len(out)-n], nil
}

// Texts of OpenSSL 3's error queue for encrypted keys, as nginx prints them
// in "PEM_read_bio_PrivateKey() failed (SSL: ...)".
const (
	sslNoPassword     = "error:0480006D:PEM routines::problems getting password"
	sslLegacyBadCrypt = "error:1C800064:Provider routines::bad decrypt error:04800065:PEM routines::bad decrypt"
	sslPKCS8BadCrypt  = "error:1C800064:Provider routines::bad decrypt error:11800074:PKCS12 routines::pkcs12 cipherfinal error:"
)

// pkcs8BadDecrypt is the error queue of a PKCS#8 key the last password
// did not decrypt: OpenSSL's decoders try the key twice, so the queue
// holds the same two errors twice.
func pkcs8BadDecrypt(lastEmpty bool) string {
	why := "maybe wrong password"
	if lastEmpty {
		why = "empty password"
	}
	one := sslPKCS8BadCrypt + why
	return one + " " + one
}

// decryptKey decrypts an encrypted key block with each password in turn,
// as ngx_ssl_cache_pkey_create retries PEM_read_bio_PrivateKey, and
// returns the key of the first that works. nil passwords (no password
// file) fail as OpenSSL's callback does when it gets no password.
func decryptKey(path string, block *pem.Block, passwords [][]byte) (crypto.Signer, error) {
	fail := func(ssl string, cause error) error {
		return loadErr(LoadKey, path, prefix(LoadKey, path)+"PEM_read_bio_PrivateKey() failed (SSL: "+ssl+")", cause)
	}
	if passwords == nil {
		return nil, fail(sslNoPassword, ErrNoPassword)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		p, err := parsePKCS8Encrypted(block.Bytes)
		if err != nil {
			return nil, loadErr(LoadKey, path, prefix(LoadKey, path)+err.Error(), err)
		}
		last := false
		for _, pw := range passwords {
			pw = truncatePassword(pw)
			last = len(pw) == 0
			der, err := p.decrypt(pw)
			if errors.Is(err, ErrKeyEncryption) {
				return nil, loadErr(LoadKey, path, prefix(LoadKey, path)+err.Error(), err)
			}
			if err != nil {
				continue
			}
			if k, err := parseKeyDER("PRIVATE KEY", der); err == nil {
				return k, nil
			}
		}
		return nil, fail(pkcs8BadDecrypt(last), ErrWrongPassword)
	}
	for _, pw := range passwords {
		// The legacy PEM encryption (an MD5-based key derivation) is weak,
		// which is why crypto/x509 deprecates it; the key file's owner
		// chose it and OpenSSL reads it, so gatehouse reads it too.
		der, err := x509.DecryptPEMBlock(block, truncatePassword(pw)) //nolint:staticcheck // see above
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				continue
			}
			return nil, loadErr(LoadKey, path, prefix(LoadKey, path)+fmt.Sprintf("%v: %v", ErrKeyEncryption, err), fmt.Errorf("%w: %v", ErrKeyEncryption, err))
		}
		if k, err := parseKeyDER(block.Type, der); err == nil {
			return k, nil
		}
	}
	return nil, fail(sslLegacyBadCrypt, ErrWrongPassword)
}

func truncatePassword(pw []byte) []byte {
	if len(pw) > maxPasswordLen {
		return pw[:maxPasswordLen]
	}
	return pw
}
