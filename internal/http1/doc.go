// Package http1 is gatehouse's own HTTP/1.x codec: a strict request parser
// for clients, the per-connection serving loop (Server.ServeConn), an
// upstream request writer and a strict upstream response parser
// (UpstreamConn).
//
// It exists because a proxy is only as safe as its parser: request
// smuggling lives in the gap between two parsers, so every ambiguous
// message (conflicting framing, obs-fold, bare CR or LF, control bytes,
// malformed chunk sizes) is rejected before a handler ever sees it, and
// everything forwarded is re-serialised with canonical framing. It follows
// nginx 1.28's status codes, error pages and keep-alive rules. The cases
// where net/http would accept what we refuse are recorded, with reasons,
// in smuggling_test.go; nginx_test.go runs the same corpus against a real
// nginx when one is installed and records every difference.
//
// The per-request path does not allocate: header fields are byte slices
// into a connection-owned buffer kept in a reusable list, buffers come from
// pools, and one goroutine per client connection reads, calls the Handler
// and writes, so pipelined responses leave in order.
//
// Lifetimes: every []byte in a Request, Response or Header aliases a
// connection buffer and is valid only until the Handler returns (client
// side) or until the next ReadResponse or Release (upstream side). Copy
// what must outlive that.
//
// Deliberate differences from nginx 1.28, all in the direction of refusing
// more:
//
//   - Bare LF line endings are 400 (nginx accepts them in the header).
//   - Whitespace between a field name and its colon is 400 (nginx drops
//     the field as an invalid header); control bytes other than HTAB in a
//     field value are 400 (nginx refuses only NUL and bare CR); obs-fold
//     is 400.
//   - The request line must be METHOD SP target SP HTTP/d.d with single
//     spaces (nginx allows several, and two-digit minor versions);
//     HTTP/0.9 simple requests are 400 (nginx serves them), and an
//     absolute-form target must use http or https. Like nginx there is no
//     asterisk-form ("OPTIONS *" and the HTTP/2 preface are 400) and no
//     authority-form (CONNECT host:port is 400, other CONNECTs 405);
//     HTTP/1.2 to 1.9 are treated as HTTP/1.1.
//   - A Host with a backslash is 400 (nginx rejects it only where it is a path
//     separator).
//   - Chunk sizes have at most 16 hex digits and no surrounding
//     whitespace; chunk extensions and trailer fields are syntax-checked,
//     a chunk line is limited to 4096 bytes and the trailer section to the
//     header limit; bare LF is refused there too (nginx skips extensions
//     and trailers unchecked and accepts bare LF).
//   - large_client_header_buffers is modelled as a per-line limit (size)
//     and a total limit (number × size); client_header_buffer_size is not
//     used. nginx's exact buffer packing accepts slightly different sizes.
//   - A header is parsed once an empty line (or a limit) arrives, not byte
//     by byte: an error nginx's incremental parser meets earlier (a bad
//     target or header line; an invalid method is caught as it arrives)
//     is answered when the header ends, or at client_header_timeout with
//     the error's own status rather than 408.
//   - An unread request body on a keep-alive connection is drained only up
//     to Config.MaxDrain bytes, then the connection is closed with
//     lingering close (nginx discards any amount).
//   - Upstream: a response that is not HTTP/1.x is an error (nginx reads
//     it as an HTTP/0.9 body); interim 1xx responses other than 101 are
//     skipped; bare LF, a line without a colon, a field name that is not a
//     token and Transfer-Encoding in an HTTP/1.0 response are invalid
//     headers (nginx accepts the first two). Duplicate or invalid
//     Content-Length and unknown Transfer-Encoding are refused, which the
//     installed nginx 1.22 does not do.
package http1
