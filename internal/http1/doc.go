// Package http1 is gatehouse's own HTTP/1.x codec: a strict request parser
// for clients, the per-connection serving loop, an upstream request writer
// and a strict upstream response parser.
//
// It exists because a proxy is only as safe as its parser: request
// smuggling lives in the gap between two parsers, so every ambiguous
// message (conflicting framing, obs-fold, bare CR or LF, control bytes,
// malformed chunk sizes) is rejected before a handler ever sees it, and
// everything forwarded is re-serialised with canonical framing. It follows
// nginx 1.28's status codes, error pages and keep-alive rules; the places
// where it is deliberately stricter are listed in differential_test.go.
//
// The per-request path does not allocate: header fields are byte slices
// into a connection-owned buffer kept in a reusable list, buffers come from
// pools, and one goroutine per client connection reads, calls the Handler
// and writes, so pipelined responses leave in order.
//
// Lifetimes: every []byte in a Request, Response or Header aliases a
// connection buffer and is valid only until the Handler returns (client
// side) or until the next call on the UpstreamConn that reads (upstream
// side). Copy what must outlive that.
package http1
