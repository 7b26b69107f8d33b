// Package tlsterm terminates TLS for clients the way nginx does: one
// *tls.Config per listening socket whose GetConfigForClient picks the
// virtual server by SNI (nginx.md §3.4), client certificates that never fail
// the handshake but are verified with OpenSSL's rules and codes and judged
// per request for the Host-selected server (§7, including the 421 rule),
// and the $ssl_* variables in nginx's exact formats (§8.1).
//
// Everything expensive is built once per configuration (New) or computed
// lazily once per connection (Info); the per-request path (Info.Check,
// Info.AppendVar) neither parses strings nor allocates.
//
// Use per connection:
//
//	c := l.Server(raw)              // *tls.Conn on l.Config()
//	err := c.HandshakeContext(ctx)
//	info := l.Info(c)               // keep with the connection
//	...
//	switch v := info.Check(host, serverIndex); v { ... }   // per request
//	dst, ok = info.AppendVar(dst, variables.SSLClientSDN)  // per variable
//
// Where crypto/tls cannot do what nginx with OpenSSL does, gatehouse
// differs as follows:
//
//   - Sessions resume through tickets only (no server-side session cache),
//     with ticket keys per server block rather than per socket, so a
//     session never resumes on another server's TLS context. A ticket
//     cannot be revoked after a 495/496 as nginx removes a cached session;
//     a resumed session is verified again and gets the same verdict.
//   - The TLS 1.3 cross-name resumption guard falls back to a full
//     handshake instead of failing with access_denied.
//   - $ssl_session_id is derived from the connection's keying material and
//     is not carried over to resumed connections; $ssl_early_data is always
//     empty (crypto/tls servers do not accept 0-RTT data).
//   - crypto/tls refuses a ClientHello whose SNI ends with a dot, where
//     nginx would strip the dot.
//   - Client certificates are verified by certs.Trust, which emulates
//     OpenSSL's chain building, depth, purpose, CA, path-length, CRL,
//     signature and validity checks, but not name constraints, policies or
//     OCSP. The $ssl_client_*_dn values are printed by certs.AppendDN and
//     certs.AppendLegacyDN.
//   - ssl_prefer_server_ciphers has no effect: crypto/tls orders suites.
package tlsterm
