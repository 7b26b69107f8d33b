// Package server turns a compiled configuration into a running Runtime
// (listening sockets, virtual servers, locations, upstream groups, TLS
// contexts and logs), serves connections with it, and swaps in a new
// Runtime on reload while the old one finishes its requests.
//
// Build compiles every server and location into the request package's
// phase handlers (server selection in post-read, return in server rewrite
// and rewrite, location matching in find-config, proxy_pass or the 404
// page as content, access_log in log); the HTTP/1 connection loop fills
// a request.Ctx and runs it through them.
//
// A Runtime is immutable once built; the Server publishes the current one
// through a single atomic pointer, so a connection accepted after a reload
// sees the new configuration and one accepted before keeps the old.
package server
