// Package variables compiles nginx-style arguments containing variables
// ("$host:$server_port", "${uri}x", "$1") into templates once, at
// configuration time, and evaluates them per request without parsing or
// allocating.
//
// The package owns the syntax (nginx.md §1.4), the table of known names and
// their small integer IDs (§8), and helpers that reproduce nginx's exact
// value formats. It does not know the request: whoever holds one (the HTTP
// codec, the proxy, the TLS layer) implements Source and answers by ID.
//
// Variable names are case-insensitive as in nginx: "$HOST" is "$host", and
// the NAME part of a family such as $http_X_Real_IP reaches the Source
// lowercased ("x_real_ip"), ready for MatchHeaderName.
package variables
