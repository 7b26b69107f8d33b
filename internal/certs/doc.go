// Package certs holds gatehouse's TLS material and the OpenSSL behaviour the
// configuration language assumes: loading certificate, key, CA and CRL files
// with nginx's error texts (once per load, through a Store), translating
// OpenSSL protocol words and cipher strings into crypto/tls settings,
// verifying certificate chains the way OpenSSL does (depth counting, purpose,
// CRLs, verify codes and texts), matching names the way X509_check_host does,
// and building the TLS client side used towards upstreams (proxy_ssl_*).
//
// Everything here is computed at configuration time; the per-connection path
// is a handshake on a *tls.Config that is built once per TLS context and
// never cloned per request.
package certs
