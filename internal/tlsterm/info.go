package tlsterm

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/pem"
	"strconv"
	"sync"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/variables"
)

// Info is the TLS state of one client connection after its handshake: the
// SNI outcome, the client-certificate verification result and the $ssl_*
// values. Expensive values are computed on first use and cached for the
// life of the connection; Info is safe for concurrent use (HTTP/2 streams).
type Info struct {
	l          *Listener
	cs         tls.ConnectionState
	sniName    string // normalised SNI, set only when it matched a server
	sniMatched bool
	sniIdx     int // SNI-selected server (default when none matched)
	tlsIdx     int // server whose tls.Config and trust store served the handshake
	ciphers    []uint16
	curves     []tls.CurveID
	at         time.Time // when the handshake completed: the verification time

	verifyOnce sync.Once
	verifyRes  certs.VerifyCode

	certOnce    sync.Once
	sDN, iDN    []byte
	sDNL, iDNL  []byte
	serial      []byte
	fingerprint []byte
	vStart      []byte
	vEnd        []byte

	pemOnce                sync.Once
	rawPEM, tabPEM, escPEM []byte

	sidOnce sync.Once
	sid     []byte
}

// Info returns the TLS state of c, which must have completed its handshake
// on a connection made by l.Server (or tls.Server with l.Config()). Call it
// once per connection and keep the result with the connection.
func (l *Listener) Info(c *tls.Conn) *Info {
	i := &Info{l: l, cs: c.ConnectionState(), at: l.now()}
	if hc, ok := c.NetConn().(*helloConn); ok && hc.hello.seen {
		i.sniIdx, i.sniMatched, i.sniName = hc.hello.sniIdx, hc.hello.sniMatched, hc.hello.sniName
		i.ciphers, i.curves = hc.hello.ciphers, hc.hello.curves
	} else {
		i.sniIdx, i.sniMatched, i.sniName = l.sniServer(i.cs.ServerName)
	}
	i.tlsIdx = l.tlsServer(i.sniIdx)
	return i
}

// SNIServer returns the server index the SNI selected and whether a
// server_name matched (false: no or unknown SNI, the default server).
// This server handles what happens before a Host header selects one: the
// request line's checks, and the errors of requests rejected while their
// header is read. A request served without a Host header does not stay
// in it: as nginx does, the server named "" takes it if there is one,
// else the address's default server.
func (i *Info) SNIServer() (int, bool) {
	if i == nil {
		return 0, false
	}
	return i.sniIdx, i.sniMatched
}

// State returns the connection state captured after the handshake (nil
// for a nil Info).
func (i *Info) State() *tls.ConnectionState {
	if i == nil {
		return nil
	}
	return &i.cs
}

// HasClientCert reports whether the client presented a certificate.
func (i *Info) HasClientCert() bool { return i != nil && len(i.cs.PeerCertificates) > 0 }

// VerifyResult returns OpenSSL's verification result for the client's
// certificate (certs.VerifyOK when none was sent), computed once per
// connection against the trust store and depth of the server that served
// the handshake, at the time of the handshake, as SSL_get_verify_result
// reports it under nginx's accept-all verify callback.
func (i *Info) VerifyResult() certs.VerifyCode {
	if i == nil {
		return certs.VerifyOK
	}
	i.verifyOnce.Do(func() {
		if len(i.cs.PeerCertificates) == 0 {
			return
		}
		st := &i.l.servers[i.tlsIdx]
		if st.trust == nil || st.verify == VerifyOff {
			return
		}
		i.verifyRes = st.trust.Verify(i.cs.PeerCertificates, certs.VerifyOptions{Depth: st.depth, Purpose: certs.PurposeClient, Now: i.at}).Code
	})
	return i.verifyRes
}

// untrustedIssuer reports whether c is one of the errors that
// "ssl_verify_client optional_no_ca" tolerates (ngx_ssl_verify_error_optional).
func untrustedIssuer(c certs.VerifyCode) bool {
	switch c {
	case certs.VerifyDepthZeroSelfSigned, certs.VerifySelfSignedInChain,
		certs.VerifyUnableToGetIssuerLocal, certs.VerifyUnableToVerifyLeaf, certs.VerifyUntrusted:
		return true
	}
	return false
}

// Verdict is the outcome of the per-request TLS checks nginx makes once
// the request header has been read.
type Verdict uint8

// The verdicts. The HTTP layer renders CertError and NoCert as nginx's
// special 400 pages (§5.8) and Misdirected as 421.
const (
	Proceed     Verdict = iota
	Misdirected         // 421 Misdirected Request
	CertError           // 495: 400 "The SSL certificate error"
	NoCert              // 496: 400 "No required SSL certificate was sent"
)

// String names v for diagnostics.
func (v Verdict) String() string {
	switch v {
	case Proceed:
		return "proceed"
	case Misdirected:
		return "421 misdirected request"
	case CertError:
		return "495 SSL certificate error"
	case NoCert:
		return "496 no required SSL certificate"
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Status returns nginx's internal status for v (421, 495, 496), 0 for
// Proceed. 495 and 496 go on the wire and into $status as 400.
func (v Verdict) Status() int {
	switch v {
	case Misdirected:
		return 421
	case CertError:
		return 495
	case NoCert:
		return 496
	}
	return 0
}

// Check applies nginx's request-time rules (§3.4, §7) for the server the
// Host selected. host is the validated request host (lowercase, no port,
// no trailing dot; empty when the request had none) and server the index
// the router chose for it (the default server when no name matched).
// It does not allocate. A nil Info (plain HTTP) always proceeds.
func (i *Info) Check(host []byte, server int) Verdict {
	if i == nil {
		return Proceed
	}
	if server < 0 || server >= len(i.l.servers) {
		server = i.l.def
	}
	mode := i.l.servers[server].verify
	if i.sniMatched && len(host) > 0 && string(host) != i.sniName && mode != VerifyOff {
		return Misdirected
	}
	if mode == VerifyOff {
		return Proceed
	}
	if res := i.VerifyResult(); res != certs.VerifyOK && !(mode == VerifyOptionalNoCA && untrustedIssuer(res)) {
		return CertError
	}
	if mode == VerifyOn && len(i.cs.PeerCertificates) == 0 {
		return NoCert
	}
	return Proceed
}

// AppendReason appends the info-level log text nginx writes for v, e.g.
// "client SSL certificate verify error: (10:certificate has expired)".
func (i *Info) AppendReason(dst []byte, v Verdict) []byte {
	switch v {
	case Misdirected:
		return append(dst, "client attempted to request the server name different from the one that was negotiated"...)
	case CertError:
		if i == nil {
			return dst
		}
		dst = append(dst, "client SSL certificate verify error: "...)
		return i.VerifyResult().AppendParen(dst)
	case NoCert:
		return append(dst, "client sent no required SSL certificate"...)
	}
	return dst
}

// AppendVar appends the value of a TLS variable (§8.1) or $https and
// reports whether it is found. Use a nil *Info for plain-HTTP connections:
// TLS variables are then not found and $https is empty. As in nginx's
// ngx_http_ssl_variable, a TLS variable whose value is empty (no client
// certificate, no SNI, ...) is not found, so the access log shows "-";
// $ssl_protocol and $ssl_cipher (ngx_http_ssl_static_variable) and $https
// are always found.
func (i *Info) AppendVar(dst []byte, id variables.ID) ([]byte, bool) {
	n := len(dst)
	dst, ok := i.appendVar(dst, id)
	if ok && len(dst) == n && id != variables.HTTPS && id != variables.SSLProtocol && id != variables.SSLCipher {
		return dst, false
	}
	return dst, ok
}

func (i *Info) appendVar(dst []byte, id variables.ID) ([]byte, bool) {
	if id == variables.HTTPS {
		if i == nil {
			return dst, true
		}
		return append(dst, "on"...), true
	}
	if _, ok := variables.SSLIndex(id); !ok || i == nil {
		return dst, false
	}
	switch id {
	case variables.SSLProtocol:
		return i.appendProtocol(dst), true
	case variables.SSLCipher:
		return i.appendCipher(dst, i.cs.CipherSuite), true
	case variables.SSLCiphers:
		for k, c := range i.ciphers {
			if k > 0 {
				dst = append(dst, ':')
			}
			dst = i.appendCipher(dst, c)
		}
		return dst, true
	case variables.SSLCurve:
		if i.cs.CurveID == 0 {
			return dst, true
		}
		return appendCurve(dst, i.cs.CurveID), true
	case variables.SSLCurves:
		for k, c := range i.curves {
			if k > 0 {
				dst = append(dst, ':')
			}
			dst = appendCurve(dst, c)
		}
		return dst, true
	case variables.SSLServerName:
		return append(dst, i.cs.ServerName...), true
	case variables.SSLSessionID:
		return append(dst, i.sessionID()...), true
	case variables.SSLSessionReused:
		if i.cs.DidResume {
			return append(dst, 'r'), true
		}
		return append(dst, '.'), true
	case variables.SSLALPNProtocol:
		return append(dst, i.cs.NegotiatedProtocol...), true
	case variables.SSLEarlyData:
		return dst, true // crypto/tls servers never accept 0-RTT data
	case variables.SSLClientVerify:
		if len(i.cs.PeerCertificates) == 0 {
			return append(dst, "NONE"...), true
		}
		res := i.VerifyResult()
		if res == certs.VerifyOK {
			return append(dst, "SUCCESS"...), true
		}
		return append(append(dst, "FAILED:"...), res.String()...), true
	case variables.SSLClientVRemain:
		if len(i.cs.PeerCertificates) == 0 {
			return dst, true
		}
		return appendRemain(dst, i.cs.PeerCertificates[0].NotAfter.Unix(), i.l.now().Unix()), true
	case variables.SSLClientRawCert, variables.SSLClientCert, variables.SSLClientEscapedCert:
		if len(i.cs.PeerCertificates) == 0 {
			return dst, true
		}
		i.pemOnce.Do(i.buildPEM)
		switch id {
		case variables.SSLClientRawCert:
			return append(dst, i.rawPEM...), true
		case variables.SSLClientCert:
			return append(dst, i.tabPEM...), true
		}
		return append(dst, i.escPEM...), true
	}
	if len(i.cs.PeerCertificates) == 0 {
		return dst, true
	}
	i.certOnce.Do(i.buildCert)
	switch id {
	case variables.SSLClientSDN:
		return append(dst, i.sDN...), true
	case variables.SSLClientIDN:
		return append(dst, i.iDN...), true
	case variables.SSLClientSDNLegacy:
		return append(dst, i.sDNL...), true
	case variables.SSLClientIDNLegacy:
		return append(dst, i.iDNL...), true
	case variables.SSLClientSerial:
		return append(dst, i.serial...), true
	case variables.SSLClientFingerprint:
		return append(dst, i.fingerprint...), true
	case variables.SSLClientVStart:
		return append(dst, i.vStart...), true
	case variables.SSLClientVEnd:
		return append(dst, i.vEnd...), true
	}
	return dst, false
}

// appendRemain is $ssl_client_v_remain: whole days left, 0 under a day.
func appendRemain(dst []byte, end, now int64) []byte {
	if end < now+86400 {
		return append(dst, '0')
	}
	return strconv.AppendInt(dst, (end-now)/86400, 10)
}

func (i *Info) appendProtocol(dst []byte) []byte {
	if n := i.l.protoNm(i.cs.Version); n != "" {
		return append(dst, n...)
	}
	return appendHex16(dst, i.cs.Version)
}

func (i *Info) appendCipher(dst []byte, id uint16) []byte {
	if n := i.l.cipherNm(id); n != "" {
		return append(dst, n...)
	}
	return appendHex16(dst, id)
}

// appendHex16 writes nginx's "0x%04xd" form for values without a name.
func appendHex16(dst []byte, v uint16) []byte {
	const lower = "0123456789abcdef"
	return append(dst, '0', 'x', lower[v>>12], lower[v>>8&15], lower[v>>4&15], lower[v&15])
}

// appendCurve writes OpenSSL's short name for a group (OBJ_nid2sn), or
// "0x%04x" for groups OpenSSL has no NID for, such as the ML-KEM hybrids.
func appendCurve(dst []byte, c tls.CurveID) []byte {
	switch c {
	case tls.X25519:
		return append(dst, "X25519"...)
	case tls.CurveP256:
		return append(dst, "prime256v1"...)
	case tls.CurveP384:
		return append(dst, "secp384r1"...)
	case tls.CurveP521:
		return append(dst, "secp521r1"...)
	case 30:
		return append(dst, "X448"...)
	}
	return appendHex16(dst, uint16(c))
}

// buildCert computes the certificate-derived strings of the leaf.
func (i *Info) buildCert() {
	leaf := i.cs.PeerCertificates[0]
	var err error
	if i.sDN, err = certs.AppendDN(nil, leaf.RawSubject); err != nil {
		i.sDN = nil
	}
	if i.iDN, err = certs.AppendDN(nil, leaf.RawIssuer); err != nil {
		i.iDN = nil
	}
	if i.sDNL, err = certs.AppendLegacyDN(nil, leaf.RawSubject); err != nil {
		i.sDNL = nil
	}
	if i.iDNL, err = certs.AppendLegacyDN(nil, leaf.RawIssuer); err != nil {
		i.iDNL = nil
	}
	i.serial = appendSerial(nil, leaf)
	sum := sha1.Sum(leaf.Raw)
	const lower = "0123456789abcdef"
	i.fingerprint = make([]byte, 0, 2*len(sum))
	for _, b := range sum {
		i.fingerprint = append(i.fingerprint, lower[b>>4], lower[b&15])
	}
	i.vStart = appendASN1Time(nil, leaf.NotBefore)
	i.vEnd = appendASN1Time(nil, leaf.NotAfter)
}

// buildPEM computes the three PEM forms of the leaf certificate.
func (i *Info) buildPEM() {
	i.rawPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.cs.PeerCertificates[0].Raw})
	i.tabPEM = appendTabbedPEM(nil, i.rawPEM)
	i.escPEM = appendEscapedPEM(nil, i.rawPEM)
}

// appendTabbedPEM is $ssl_client_cert: the PEM without its final newline,
// its lines joined by a space. nginx joins them with LF and TAB, a header
// folded over several lines (obs-fold), which an HTTP recipient must
// unfold to a space before it reads the value (RFC 9112, section 5.2):
// this is the value the upstream sees from nginx, in one line, because
// gatehouse never writes a CR or LF inside a header field.
func appendTabbedPEM(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	for _, b := range p[:len(p)-1] {
		if b == '\n' {
			b = ' '
		}
		dst = append(dst, b)
	}
	return dst
}

// appendEscapedPEM is $ssl_client_escaped_cert: every byte except
// A-Z a-z 0-9 - . _ ~ percent-encoded in uppercase hex.
func appendEscapedPEM(dst, p []byte) []byte {
	for _, b := range p {
		switch {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9',
			b == '-', b == '.', b == '_', b == '~':
			dst = append(dst, b)
		default:
			dst = append(dst, '%', upperHex[b>>4], upperHex[b&15])
		}
	}
	return dst
}
