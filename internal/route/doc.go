// Package route selects the virtual server and the location for a request
// the way nginx does: server_name lookup per listening address (exact,
// longest leading wildcard, longest trailing wildcard, first regex), Host
// validation, URI normalisation before matching, and the location search of
// ngx_http_core_find_location including the trailing-slash auto-redirect.
//
// Everything is built once at configuration time into immutable values that
// are safe for concurrent use; lookups on the request path do not allocate
// except where a regular expression with capture groups matches.
package route
