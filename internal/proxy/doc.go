// Package proxy carries one request to an upstream group and its response
// back: it builds the upstream request exactly as nginx does (request line,
// proxy_set_header entries, then the client's headers), picks a peer,
// connects over TCP or verified TLS (or reuses a pooled connection), retries
// per proxy_next_upstream, maps failures to nginx's statuses and error-log
// lines, and streams the response to the client. A 101 answer to a
// request that carried Upgrade turns the exchange into a byte tunnel both
// ways (WebSocket), closed when either side ends or when it stays idle for
// proxy_read_timeout.
//
// Everything a location needs is compiled once by Compile; the per-request
// path works on an Exchange, which also answers nginx variables for
// proxy_set_header, return and the access log.
package proxy
