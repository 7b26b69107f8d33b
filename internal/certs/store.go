package certs

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"sync"
	"syscall"
)

// Store reads TLS material files once per configuration load: the same file
// named in many places is read and parsed once, and its error (if any) is
// reported identically each time. A reload makes a new Store, so every file
// is read again. A Store is safe for concurrent use.
type Store struct {
	read func(string) ([]byte, error)

	mu    sync.Mutex
	certs map[string]certsEntry
	keys  map[[2]string]keyEntry // by key file and password file ("" for none)
	cas   map[string]certsEntry
	crls  map[string]crlEntry
	pairs map[[3]string]pairEntry
	pwds  map[string]passwordsEntry
}

type passwordsEntry struct {
	pw  [][]byte
	err error
}

type certsEntry struct {
	certs []*x509.Certificate
	err   error
}

type keyEntry struct {
	key crypto.Signer
	err error
}

type crlEntry struct {
	crls []*x509.RevocationList
	err  error
}

type pairEntry struct {
	cert *tls.Certificate
	err  error
}

// NewStore returns an empty Store that reads files with readFile
// (os.ReadFile when nil).
func NewStore(readFile func(string) ([]byte, error)) *Store {
	if readFile == nil {
		readFile = os.ReadFile
	}
	return &Store{
		read:  readFile,
		certs: map[string]certsEntry{},
		keys:  map[[2]string]keyEntry{},
		pwds:  map[string]passwordsEntry{},
		cas:   map[string]certsEntry{},
		crls:  map[string]crlEntry{},
		pairs: map[[3]string]pairEntry{},
	}
}

// Certificates returns the certificate chain in path (leaf first).
func (s *Store) Certificates(path string) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certsLocked(path)
}

// readFile reads path; a directory reads as empty, as fopen() on a directory
// succeeds on Linux and OpenSSL then finds no PEM data in it.
func (s *Store) readFile(path string) ([]byte, error) {
	data, err := s.read(path)
	if errors.Is(err, syscall.EISDIR) {
		return nil, nil
	}
	return data, err
}

func (s *Store) certsLocked(path string) ([]*x509.Certificate, error) {
	if e, ok := s.certs[path]; ok {
		return e.certs, e.err
	}
	var e certsEntry
	data, err := s.readFile(path)
	if err != nil {
		e.err = readErr(LoadCertificate, path, err)
	} else {
		e.certs, e.err = ParseCertificates(path, data)
	}
	s.certs[path] = e
	return e.certs, e.err
}

// Key returns the private key in path.
func (s *Store) Key(path string) (crypto.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyLocked(path, "")
}

// Passwords returns the passwords of a password file (ssl_password_file,
// proxy_ssl_password_file), as ParsePasswords splits them. A failure is a
// *FileError.
func (s *Store) Passwords(path string) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.passwordsLocked(path)
}

func (s *Store) passwordsLocked(path string) ([][]byte, error) {
	if e, ok := s.pwds[path]; ok {
		return e.pw, e.err
	}
	var e passwordsEntry
	data, err := s.read(path)
	if err != nil {
		e.err = openErr(path, err)
	} else {
		e.pw, e.err = ParsePasswords(path, data)
	}
	s.pwds[path] = e
	return e.pw, e.err
}

// keyLocked loads the key in path, decrypting it with the passwords of
// pwFile ("" for no password file) if it is encrypted.
func (s *Store) keyLocked(path, pwFile string) (crypto.Signer, error) {
	k := [2]string{path, pwFile}
	if e, ok := s.keys[k]; ok {
		return e.key, e.err
	}
	var e keyEntry
	var pw [][]byte
	if pwFile != "" {
		pw, e.err = s.passwordsLocked(pwFile)
	}
	if e.err == nil {
		data, err := s.readFile(path)
		if err != nil {
			e.err = readErr(LoadKey, path, err)
		} else {
			e.key, e.err = ParseKeyPasswords(path, data, pw)
		}
	}
	s.keys[k] = e
	return e.key, e.err
}

// TicketKey returns the crypto/tls session ticket key made from an
// ssl_session_ticket_key file (see ParseTicketKey). A failure is a
// *FileError.
func (s *Store) TicketKey(path string) (TicketKey, error) {
	data, err := s.readFile(path)
	if err != nil {
		return TicketKey{}, openErr(path, err)
	}
	return ParseTicketKey(path, data)
}

// KeyPair returns the certificate in certPath with the key in keyPath, as
// ssl_certificate/ssl_certificate_key and proxy_ssl_certificate/
// proxy_ssl_certificate_key load them. The same pair yields the same
// *tls.Certificate for the life of the Store.
func (s *Store) KeyPair(certPath, keyPath string) (*tls.Certificate, error) {
	return s.KeyPairPasswords(certPath, keyPath, "")
}

// KeyPairPasswords is KeyPair with a password file for an encrypted key
// ("" for none): its passwords are tried in order, as nginx tries the
// lines of ssl_password_file. A failure to read the password file is a
// *FileError (nginx reports it at the directive), any other a *LoadError.
func (s *Store) KeyPairPasswords(certPath, keyPath, passwordFile string) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [3]string{certPath, keyPath, passwordFile}
	if e, ok := s.pairs[k]; ok {
		return e.cert, e.err
	}
	var e pairEntry
	chain, err := s.certsLocked(certPath)
	if err != nil {
		e.err = err
	} else if key, err := s.keyLocked(keyPath, passwordFile); err != nil {
		e.err = err
	} else {
		e.cert, e.err = KeyPair(certPath, chain, keyPath, key)
	}
	s.pairs[k] = e
	return e.cert, e.err
}

// CAs returns the certificates of a CA bundle.
func (s *Store) CAs(path string) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cas[path]; ok {
		return e.certs, e.err
	}
	var e certsEntry
	data, err := s.readFile(path)
	if err != nil {
		e.err = readErr(LoadCA, path, err)
	} else {
		e.certs, e.err = ParseCAs(path, data)
	}
	s.cas[path] = e
	return e.certs, e.err
}

// CRLs returns the revocation lists in path.
func (s *Store) CRLs(path string) ([]*x509.RevocationList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.crls[path]; ok {
		return e.crls, e.err
	}
	var e crlEntry
	data, err := s.readFile(path)
	if err != nil {
		e.err = readErr(LoadCRL, path, err)
	} else {
		e.crls, e.err = ParseCRLs(path, data)
	}
	s.crls[path] = e
	return e.crls, e.err
}

// Trust returns a verification Trust built from a CA bundle and an optional
// CRL file ("" for none).
func (s *Store) Trust(caPath, crlPath string) (*Trust, error) {
	cas, err := s.CAs(caPath)
	if err != nil {
		return nil, err
	}
	var crls []*x509.RevocationList
	if crlPath != "" {
		if crls, err = s.CRLs(crlPath); err != nil {
			return nil, err
		}
	}
	return NewTrust(cas, crls, crlPath != ""), nil
}

// Pool returns an x509.CertPool of the CA bundle in path, e.g. for
// tls.Config.ClientCAs (the acceptable-CA list a server advertises).
func (s *Store) Pool(path string) (*x509.CertPool, error) {
	cas, err := s.CAs(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	for _, c := range cas {
		p.AddCert(c)
	}
	return p, nil
}
