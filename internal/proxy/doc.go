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
// proxy is only the upstream hop: the request arrives as a request.Ctx
// (whichever protocol brought it), and Location.Serve is a location's
// content handler. Each try at a peer (attempt) connects, sends and reads
// the response header, and returns a typed failure (stage, sent or not,
// peer, error); the loop around it decides, with upstream.Attempt's
// next-upstream rules, whether to try another peer or answer. Everything a
// location needs is compiled once by Compile; what the hop keeps per
// request lives in the context's Hop field, so a keep-alive connection
// reuses it.
package proxy
