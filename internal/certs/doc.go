// Package certs holds gatehouse's TLS material and the OpenSSL behaviour the
// configuration language assumes: loading certificate, key, CA and CRL files
// with nginx's error texts (once per load, through a Store), translating
// OpenSSL protocol words and cipher strings into crypto/tls settings,
// verifying certificate chains the way OpenSSL does (depth counting, purpose,
// CRLs, verify codes and texts) for both sides, upstream certificates and
// client certificates (internal/tlsterm), printing distinguished names as
// OpenSSL does, matching names the way X509_check_host does, and building the
// TLS client side used towards upstreams (proxy_ssl_*).
//
// Everything here is computed at configuration time; the per-connection path
// is a handshake on a *tls.Config that is built once per TLS context and
// peer and never cloned per request.
//
// Where crypto/tls cannot do what nginx with OpenSSL does:
//
//   - crypto/tls ignores the order of Config.CipherSuites and does not let
//     TLS 1.3 suites be chosen; a cipher string selects the set only.
//   - When verification fails, crypto/tls sends a bad_certificate alert
//     before closing; nginx completes the handshake and closes silently.
//     Either way the connection is not used.
//   - A TLS 1.3 upstream rejects our client certificate after our side of
//     the handshake is done, so the alert surfaces on the first read;
//     Upstream.ReadError classifies it.
//   - Encrypted private keys and the engine:, store: and data: forms are not
//     supported.
package certs
