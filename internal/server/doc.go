// Package server turns a compiled configuration into a running Runtime
// (listening sockets, virtual servers, locations, upstream groups, TLS
// contexts and logs), serves connections with it, and swaps in a new
// Runtime on reload while the old one finishes its requests.
//
// A Runtime is immutable once built; the Server publishes the current one
// through a single atomic pointer, so a connection accepted after a reload
// sees the new configuration and one accepted before keeps the old.
package server
