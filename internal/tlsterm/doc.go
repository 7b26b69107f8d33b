// Package tlsterm terminates TLS for clients the way nginx does: one
// *tls.Config per listening socket whose GetConfigForClient picks the
// virtual server by SNI (nginx.md §3.4), client certificates that never fail
// the handshake but are verified afterwards with OpenSSL's rules and codes
// and judged per request by the Host-selected server (§7, including the 421
// rule), and the $ssl_* variables in nginx's exact formats (§8.1).
//
// Everything expensive is built once per configuration (New) or computed
// lazily once per connection (Info); the per-request path (Info.Check,
// Info.AppendVar) neither parses strings nor allocates.
//
// Deliberate differences from nginx, all forced by crypto/tls or chosen for
// safety, are listed on the types they concern: the alert sent for
// ssl_reject_handshake, session tickets per server, and $ssl_session_id.
package tlsterm
