// Package request is the protocol-neutral request context and nginx's
// phase engine: what every request is, whichever protocol brought it, and
// the way it takes through the house.
//
// A producer (HTTP/1's connection loop today, an HTTP/2 stream later)
// takes a Ctx from its pool, fills Req, Conn and W (a ResponseWriter) and
// calls Engine.Run. Nothing downstream knows which protocol it was.
//
// The phases, as ngx_http_core_run_phases runs them:
//
//	post-read       server selection by Host, TLS client-certificate verdict
//	server-rewrite  the server level's realip (nginx's post-read one),
//	                the server's rewrite-module statements (return, rewrite,
//	                set, if, break)
//	find-config     location matching, client_max_body_size, the
//	                trailing-slash redirect
//	rewrite         the location's rewrite-module statements
//	post-rewrite    a changed URI goes back to find-config
//	pre-access      the location's realip (limit_req, limit_conn)
//	access          allow and deny (auth)
//	pre-content     (try_files)
//	content         one handler: return, proxy_pass, a status page; none
//	                answers 404
//	log             access_log
//
// An internal redirect (Ctx.InternalRedirect, or Ctx.SetURI in the rewrite
// phase) loops back to find-config inside Run, at most 10 times, then
// answers 500 with nginx's "rewrite or internal redirection cycle" line.
// Each phase is a list of Handlers compiled once per location (per server
// for server-rewrite); an empty phase costs nothing at run time.
//
// The house's layers, each importing only those before it: nginxconf
// (syntax) ← config (meaning; it produces the leaf packages' own types) ←
// the leaf packages (variables, http1, certs, tlsterm, upstream, route,
// tempfile, accesslog, errorlog) ← request ← proxy (the upstream hop, a
// content handler) ← server (builds each location's handlers once per
// configuration generation, listens, reloads) ← cmd/gatehouse.
// TestImportLayers keeps it so.
//
// The package also owns what shapes every response gatehouse sends:
// add_header and error_page (Responses), and the variables of a request
// (Ctx.Var).
package request
