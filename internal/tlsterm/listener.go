package tlsterm

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/httphost"
)

// VerifyMode is the value of ssl_verify_client.
type VerifyMode uint8

// The ssl_verify_client modes.
const (
	VerifyOff          VerifyMode = iota // off: no certificate is requested
	VerifyOn                             // on: a valid certificate is required (else 495/496)
	VerifyOptional                       // optional: none is fine, an invalid one is 495
	VerifyOptionalNoCA                   // optional_no_ca: untrusted issuers are tolerated too
)

// String returns the directive argument for m.
func (m VerifyMode) String() string {
	switch m {
	case VerifyOff:
		return "off"
	case VerifyOn:
		return "on"
	case VerifyOptional:
		return "optional"
	case VerifyOptionalNoCA:
		return "optional_no_ca"
	}
	return fmt.Sprintf("VerifyMode(%d)", uint8(m))
}

// Server is the compiled TLS configuration of one virtual server (one
// server block) on a listening socket. Values are taken as given: the
// configuration layer applies nginx's or gatehouse's defaults.
type Server struct {
	// Certificates are the ssl_certificate/ssl_certificate_key pairs, with
	// their Leaf set. Several key types may be given; ECDSA ones are offered
	// first, as OpenSSL usually picks them. Empty means the server has no TLS
	// context of its own and the default server's is used (§3.4).
	Certificates []tls.Certificate

	// MinVersion, MaxVersion, CipherSuites (TLS 1.2 only; nil means Go's
	// defaults), CurvePreferences (nil means Go's defaults) and
	// PreferServerCiphers come from ssl_protocols, ssl_ciphers,
	// ssl_ecdh_curve and ssl_prefer_server_ciphers. As in nginx 1.28 only
	// the default server's values are used for the socket. crypto/tls
	// orders cipher suites and groups itself, so PreferServerCiphers has
	// no effect and CurvePreferences only says which groups may be used.
	MinVersion, MaxVersion uint16
	CipherSuites           []uint16
	CurvePreferences       []tls.CurveID
	PreferServerCiphers    bool

	// NextProtos are the ALPN protocols offered (for example "h2",
	// "http/1.1"); ALPN is chosen by the SNI-selected server as in nginx.
	NextProtos []string

	// SessionTimeout is ssl_session_timeout: how long a session ticket may
	// be used to resume. Zero means nginx's 5m.
	SessionTimeout time.Duration
	// SessionTicketsOff is "ssl_session_tickets off".
	SessionTicketsOff bool
	// SessionTicketKeys are the ssl_session_ticket_key keys: the first
	// encrypts new tickets, all decrypt. Empty means keys crypto/tls
	// makes and rotates itself, valid in this Listener only.
	SessionTicketKeys [][32]byte

	// VerifyClient, VerifyDepth, ClientCAs (ssl_client_certificate: used
	// for verification and advertised to clients), TrustedCAs
	// (ssl_trusted_certificate: used but not advertised) and CRLs (ssl_crl)
	// drive client-certificate verification.
	VerifyClient VerifyMode
	VerifyDepth  int
	ClientCAs    []*x509.Certificate
	TrustedCAs   []*x509.Certificate
	CRLs         []*x509.RevocationList

	// RejectHandshake is ssl_reject_handshake on.
	RejectHandshake bool
}

// Options configure a Listener: every server sharing one address:port.
type Options struct {
	// Servers in configuration order; Default is the index of the default
	// server of the address:port.
	Servers []Server
	Default int

	// LookupSNI maps a server name normalised by httphost.Validate
	// (lowercase, no port, no trailing dot) to a server index with nginx's
	// exact → *.x → x.* → regex order, reporting false when no server_name
	// matches: (*route.Names).Find without captures. It must be safe for
	// concurrent use and must not retain name. Nil means no server ever
	// matches by name.
	LookupSNI func(name []byte) (int, bool)

	// CipherName returns OpenSSL's name for a cipher suite ("" if unknown)
	// and ProtocolName OpenSSL's name for a protocol version; nil means
	// certs.CipherName and certs.VersionName. Names they do not know are
	// printed as nginx prints them, "0x" and four hex digits.
	CipherName   func(id uint16) string
	ProtocolName func(version uint16) string

	// Now is the clock for verification, ticket lifetimes and
	// $ssl_client_v_remain; nil means time.Now. Rand is the randomness
	// source for ticket keys and handshakes; nil means crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Errors returned by New and by handshakes.
var (
	// ErrNoServers: a listener needs at least one server.
	ErrNoServers = errors.New("tlsterm: no servers")
	// ErrDefaultServer: Options.Default is not the index of a server.
	ErrDefaultServer = errors.New("tlsterm: default server out of range")
	// ErrNoCertificate: the default server has neither a certificate nor
	// ssl_reject_handshake on (nginx: no "ssl_certificate" is defined for
	// the "listen ... ssl" directive).
	ErrNoCertificate = errors.New("tlsterm: default server has no certificate")
	// ErrHandshakeRejected: the handshake landed on a server with
	// ssl_reject_handshake on and was aborted with unrecognized_name.
	ErrHandshakeRejected = errors.New("tlsterm: handshake rejected (ssl_reject_handshake)")
)

// Listener holds the TLS state of one listening socket. It is immutable
// after New and safe for concurrent use; a reload builds a new one.
type Listener struct {
	servers  []serverTLS
	def      int
	lookup   func([]byte) (int, bool)
	cipherNm func(uint16) string
	protoNm  func(uint16) string
	now      func() time.Time
	base     *tls.Config
}

// serverTLS is one server's compiled state.
type serverTLS struct {
	verify  VerifyMode
	reject  bool
	cfg     *tls.Config  // nil: no certificate of its own
	trust   *certs.Trust // verification material of cfg's owner
	depth   int          // ssl_verify_depth
	timeout time.Duration
}

// New compiles the per-server tls.Configs once. The returned Listener's
// Config is what the socket's handshakes use.
func New(opts Options) (*Listener, error) {
	if len(opts.Servers) == 0 {
		return nil, ErrNoServers
	}
	if opts.Default < 0 || opts.Default >= len(opts.Servers) {
		return nil, fmt.Errorf("%w: %d of %d servers", ErrDefaultServer, opts.Default, len(opts.Servers))
	}
	def := &opts.Servers[opts.Default]
	if len(def.Certificates) == 0 && !def.RejectHandshake {
		return nil, ErrNoCertificate
	}
	l := &Listener{
		servers:  make([]serverTLS, len(opts.Servers)),
		def:      opts.Default,
		lookup:   opts.LookupSNI,
		cipherNm: opts.CipherName,
		protoNm:  opts.ProtocolName,
		now:      opts.Now,
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.cipherNm == nil {
		l.cipherNm = certs.CipherName
	}
	if l.protoNm == nil {
		l.protoNm = certs.VersionName
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	for i := range opts.Servers {
		s := &opts.Servers[i]
		st := &l.servers[i]
		st.verify = s.VerifyClient
		st.reject = s.RejectHandshake
		st.timeout = s.SessionTimeout
		if st.timeout <= 0 {
			st.timeout = 5 * time.Minute
		}
		if len(s.Certificates) == 0 {
			continue
		}
		st.cfg = l.serverConfig(s, def, rnd, st.timeout)
		cas := make([]*x509.Certificate, 0, len(s.ClientCAs)+len(s.TrustedCAs))
		cas = append(cas, s.ClientCAs...)
		cas = append(cas, s.TrustedCAs...)
		st.trust = certs.NewTrust(cas, s.CRLs, len(s.CRLs) > 0)
		st.depth = s.VerifyDepth
	}
	l.base = &tls.Config{
		GetConfigForClient: l.configForClient,
		Time:               l.now,
		Rand:               rnd,
		MinVersion:         def.MinVersion,
		MaxVersion:         def.MaxVersion,
	}
	return l, nil
}

// serverConfig builds the tls.Config of one server that has certificates.
func (l *Listener) serverConfig(s, def *Server, rnd io.Reader, timeout time.Duration) *tls.Config {
	certs := make([]tls.Certificate, 0, len(s.Certificates))
	for _, c := range s.Certificates {
		if isECDSA(c) {
			certs = append(certs, c)
		}
	}
	for _, c := range s.Certificates {
		if !isECDSA(c) {
			certs = append(certs, c)
		}
	}
	cfg := &tls.Config{
		Certificates:           certs,
		MinVersion:             def.MinVersion,
		MaxVersion:             def.MaxVersion,
		CipherSuites:           def.CipherSuites,
		CurvePreferences:       def.CurvePreferences,
		NextProtos:             s.NextProtos,
		Time:                   l.now,
		Rand:                   rnd,
		SessionTicketsDisabled: s.SessionTicketsOff,
		// Full 16 KB records from the first byte, as nginx sends with its
		// default ssl_buffer_size: crypto/tls would otherwise start each
		// connection with MSS-sized records, one write system call each.
		DynamicRecordSizingDisabled: true,
	}
	if s.VerifyClient != VerifyOff {
		// Never fail the handshake over a client certificate (§7 step 1);
		// only ssl_client_certificate is advertised.
		cfg.ClientAuth = tls.RequestClientCert
		if len(s.ClientCAs) > 0 {
			pool := x509.NewCertPool()
			for _, c := range s.ClientCAs {
				if c != nil {
					pool.AddCert(c)
				}
			}
			cfg.ClientCAs = pool
		}
	}
	if len(s.SessionTicketKeys) > 0 {
		cfg.SetSessionTicketKeys(s.SessionTicketKeys)
	}
	if !s.SessionTicketsOff {
		// Tickets are sealed with this config's ticket keys: the
		// ssl_session_ticket_key ones, shared by every listener (and
		// every instance) that reads the same files, or else keys
		// crypto/tls creates and rotates, so that a ticket from another
		// server block (or an older configuration) does not decrypt here.
		cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
			created := l.now().Unix()
			if cs.DidResume && cs.Version <= tls.VersionTLS12 {
				// A TLS 1.2 resumption re-issues the ticket of the same
				// session: its age counts from the full handshake, as
				// ssl_session_timeout does in nginx, not from now.
				created = sessionCreated(ss, cs.Version)
			}
			ss.Extra = append(ss.Extra, sessionExtra(created, cs.ServerName))
			return cfg.EncryptTicket(cs, ss)
		}
		cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
			ss, err := cfg.DecryptTicket(identity, cs)
			if err != nil || ss == nil {
				return nil, err
			}
			if !l.resumable(ss, cs.ServerName, timeout) {
				return nil, nil
			}
			return ss, nil
		}
	}
	return cfg
}

func isECDSA(c tls.Certificate) bool {
	if c.Leaf != nil {
		return c.Leaf.PublicKeyAlgorithm == x509.ECDSA
	}
	if len(c.Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil {
			return leaf.PublicKeyAlgorithm == x509.ECDSA
		}
	}
	return false
}

// sessionExtraTag marks the Extra entry gatehouse stores in tickets: the
// creation time (for ssl_session_timeout) and the SNI the session was made
// for (for the TLS 1.3 cross-server resumption guard of §3.4).
const sessionExtraTag = "gatehouse-tlsterm-1\x00"

func sessionExtra(created int64, sni string) []byte {
	b := make([]byte, 0, len(sessionExtraTag)+8+len(sni))
	b = append(b, sessionExtraTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(created))
	return append(b, sni...)
}

// sessionCreated returns the creation time (Unix seconds) crypto/tls keeps
// in ss: for a TLS 1.2 ticket re-issued on resumption, that of the
// original session. crypto/tls exposes it only in the encoding of
// SessionState.Bytes (version, type, cipher suite, creation time); if that
// does not look as expected the result is 0, so the ticket is never
// resumed rather than living past ssl_session_timeout.
// TestSessionTimeoutFromFirstHandshake fails if the encoding changes.
func sessionCreated(ss *tls.SessionState, version uint16) int64 {
	b, err := ss.Bytes()
	if err != nil || len(b) < 13 || binary.BigEndian.Uint16(b) != version || b[2] != 1 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b[5:13]))
}

// resumable decides whether a decrypted session may be resumed: it must
// carry gatehouse's data, be younger than ssl_session_timeout, and not
// cross from one server name to another onto a server that verifies
// clients. nginx aborts such a handshake (access_denied); gatehouse falls
// back to a full handshake instead, which is just as safe.
func (l *Listener) resumable(ss *tls.SessionState, sni string, timeout time.Duration) bool {
	for _, e := range ss.Extra {
		if len(e) < len(sessionExtraTag)+8 || string(e[:len(sessionExtraTag)]) != sessionExtraTag {
			continue
		}
		created := int64(binary.BigEndian.Uint64(e[len(sessionExtraTag):]))
		age := l.now().Unix() - created
		if age < 0 || time.Duration(age)*time.Second > timeout {
			return false
		}
		orig := string(e[len(sessionExtraTag)+8:])
		if orig != sni {
			if idx, ok, _ := l.sniServer(sni); ok && l.servers[idx].verify != VerifyOff {
				return false
			}
		}
		return true
	}
	return false
}

// sniServer maps a raw SNI value to (server index, matched) and returns
// the normalised name when it matched. Invalid names select the default
// server, as ngx_http_validate_host's NGX_DECLINED does.
func (l *Listener) sniServer(raw string) (int, bool, string) {
	if raw == "" || l.lookup == nil {
		return l.def, false, ""
	}
	var buf [256]byte
	name, ok := httphost.Validate(buf[:0], []byte(raw))
	if !ok {
		return l.def, false, ""
	}
	idx, ok := l.lookup(name)
	if !ok || idx < 0 || idx >= len(l.servers) {
		return l.def, false, ""
	}
	return idx, true, string(name)
}

// Config returns the socket's tls.Config. Use it with Server (preferred:
// it records the ClientHello details behind $ssl_ciphers and $ssl_curves)
// or with tls.Server directly.
func (l *Listener) Config() *tls.Config { return l.base }

// Server wraps an accepted connection as a server-side TLS connection.
func (l *Listener) Server(raw net.Conn) *tls.Conn {
	return tls.Server(&helloConn{Conn: raw}, l.base)
}

// helloConn carries what GetConfigForClient learnt from the ClientHello to
// the Info of the connection, without any shared map.
type helloConn struct {
	net.Conn
	hello helloState
}

type helloState struct {
	seen       bool
	sniIdx     int
	sniMatched bool
	sniName    string
	ciphers    []uint16
	curves     []tls.CurveID
}

// unrecognizedName is a plaintext fatal unrecognized_name(112) alert.
var unrecognizedName = []byte{21, 3, 3, 0, 2, 2, 112}

func (l *Listener) configForClient(chi *tls.ClientHelloInfo) (*tls.Config, error) {
	idx, matched, name := l.sniServer(chi.ServerName)
	if hc, ok := chi.Conn.(*helloConn); ok {
		hc.hello = helloState{seen: true, sniIdx: idx, sniMatched: matched, sniName: name, ciphers: chi.CipherSuites, curves: chi.SupportedCurves}
	}
	if l.servers[idx].reject {
		// crypto/tls would send internal_error; nginx sends
		// unrecognized_name, so write that alert first ourselves.
		if chi.Conn != nil {
			_, _ = chi.Conn.Write(unrecognizedName)
		}
		return nil, ErrHandshakeRejected
	}
	cfg := l.servers[idx].cfg
	if cfg == nil {
		cfg = l.servers[l.def].cfg
	}
	if cfg == nil {
		return nil, ErrNoCertificate
	}
	return cfg, nil
}

// tlsServer is the index of the server whose tls.Config a handshake with
// the given SNI outcome used.
func (l *Listener) tlsServer(sniIdx int) int {
	if l.servers[sniIdx].cfg != nil {
		return sniIdx
	}
	return l.def
}
