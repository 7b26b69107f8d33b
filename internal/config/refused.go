package config

import "gatehouse/internal/nginxconf"

// refusal is a directive of one of nginx's modules that gatehouse knows
// and does not implement. It is looked up, its context, terminator and
// argument count are checked as ngx_conf_handler checks them, and then
// it is refused with its reason: a real directive is never mistaken for a
// typo ("unknown directive") nor silently ignored. ctx and args are
// nginx 1.28's (ngx_command_t of the module that defines it).
type refusal struct {
	name  string
	ctx   ctxKind
	args  arity
	block bool
	why   reason
}

// arity is an ngx_command_t argument mask as a range; flag marks
// NGX_CONF_FLAG, whose "on"/"off" value is checked before the refusal.
type arity struct {
	min, max int
	flag     bool
}

var (
	argsNone  = arity{0, 0, false}
	args1     = arity{1, 1, false}
	args2     = arity{2, 2, false}
	args3     = arity{3, 3, false}
	args12    = arity{1, 2, false}
	args23    = arity{2, 3, false}
	args123   = arity{1, 3, false}
	args1234  = arity{1, 4, false}
	args1More = arity{1, -1, false}
	args2More = arity{2, -1, false}
	argsFlag  = arity{1, 1, true}
)

// reason is why a directive is refused; planned ones read "is not
// supported by gatehouse yet".
type reason struct {
	planned bool
	text    string
}

func (r reason) message() string {
	if r.planned {
		return "is not supported by gatehouse yet: " + r.text
	}
	return "is not supported by gatehouse: " + r.text
}

// The reasons, one per group of directives that share it.
var (
	whyProcess     = reason{false, "gatehouse runs as one process without a master; remove it"}
	whyClock       = reason{false, "gatehouse reads the clock when it needs the time; remove it"}
	whyMutex       = reason{false, "gatehouse has no accept mutex; remove it"}
	whyDebugPoints = reason{false, "gatehouse has no debug points; remove it"}
	whyPriority    = reason{false, "set the priority with nice or the service manager"}
	whyAffinity    = reason{false, "set CPU affinity with taskset or the service manager"}
	whyRlimitCore  = reason{false, "set the core file limit with ulimit or the service manager"}
	whyNotImpl     = reason{false, "it is not implemented; remove it"}
	whyWorkdir     = reason{false, "start gatehouse in the directory it should run in"}
	whyEnv         = reason{false, "gatehouse keeps the environment it is started with; set variables there"}
	whyPcre        = reason{false, "regular expressions are Go's RE2, which has no JIT; remove it"}
	whyThreads     = reason{false, "gatehouse has no thread pools or asynchronous file I/O; remove it"}
	whyEngine      = reason{false, "OpenSSL engines have no equivalent; remove it"}
	whyDebugConn   = reason{false, "per-client debug logging is not implemented; remove it"}
	whyPools       = reason{false, "gatehouse has no memory pools; remove it"}
	whyStatic      = reason{true, "serving static files is planned; use \"proxy_pass\" or \"return\""}
	whyLimitExcept = reason{false, "method restrictions are not implemented; restrict methods in the upstream"}
	whyNodelay     = reason{false, "connections always have TCP_NODELAY set; remove it"}
	whyLowat       = reason{false, "SO_SNDLOWAT is never set; remove it"}
	whyPostpone    = whyNotImpl
	whyRate        = reason{false, "response rate limiting is not implemented"}
	whyKaDisable   = reason{false, "keep-alive cannot be disabled per browser; remove it"}
	whyAccess      = reason{true, "authentication (auth_basic) is planned"}
	whyInternal    = reason{false, "gatehouse has no internal redirects"}
	whySubreq      = reason{false, "gatehouse has no subrequests"}
	whyLinger      = reason{false, "lingering close is not configurable; remove it"}
	whyReset       = reason{false, "timed-out connections are closed normally; remove it"}
	whyRedirect    = reason{false, "redirects are built as with nginx's defaults (absolute, from the request's Host, with a non-default port); remove it"}
	whyMsie        = reason{false, "there is no MSIE refresh; remove it"}
	whyPadding     = reason{false, "error pages are always padded for MSIE and Chrome, as nginx's default does; remove it"}
	whyChunked     = reason{false, "chunked encoding to HTTP/1.1 clients cannot be turned off"}
	whyResolver    = reason{true, "run-time name resolution is planned; names are resolved when the configuration loads"}
	whyGzip        = reason{true, "compression is planned; remove it"}
	whyCookie      = reason{false, "Set-Cookie rewriting is not implemented"}
	whyStore       = reason{false, "gatehouse does not store responses on disk"}
	whyBind        = reason{false, "the local address of upstream connections cannot be chosen"}
	whyMethod      = reason{false, "the request is passed with its own method and body"}
	whyTrailers    = reason{false, "trailers are not implemented; remove it"}
	whyCache       = reason{false, "gatehouse does not cache responses; put a cache behind or in front of it"}
	whyTempFile    = reason{false, "responses are never written to temporary files; remove it"}
	whyCertCache   = reason{false, "certificates are read once when the configuration loads; remove it"}
	whyOcsp        = reason{false, "OCSP checks of client certificates are not implemented; use \"ssl_crl\""}
	whyStapling    = reason{false, "OCSP stapling is not implemented; remove it"}
	whyEarlyData   = reason{false, "TLS 1.3 early data is never accepted; remove it"}
	whySslConf     = reason{false, "OpenSSL configuration commands have no equivalent"}
	whyLimitReq    = reason{true, "request rate limiting (limit_req) is planned"}
	whyLimitConn   = reason{true, "connection limiting (limit_conn) is planned"}
	whyExpires     = reason{false, "use \"add_header Cache-Control\" or \"add_header Expires\""}
	whyLogCache    = reason{false, "gatehouse keeps no cache of log file descriptors; remove it"}
	whyUserid      = reason{false, "the userid module is not implemented"}
	whyCharset     = reason{false, "charset conversion is not implemented; name the charset in \"default_type\""}
	whyHttp2       = reason{true, "HTTP/2 is planned"}
)

// refusals are the directives of nginx 1.28's core, events, http core,
// proxy, upstream, rewrite, map, access, auth_basic, limit_req,
// limit_conn, realip, headers, log, ssl, userid, gzip, index, autoindex,
// http2 and charset modules that gatehouse does not implement. Both if
// contexts (server and location) are ctxIf.
func refusals() []refusal {
	return []refusal{
		// core
		{"master_process", ctxMain, argsFlag, false, whyProcess},
		{"timer_resolution", ctxMain, args1, false, whyClock},
		{"lock_file", ctxMain, args1, false, whyMutex},
		{"debug_points", ctxMain, args1, false, whyDebugPoints},
		{"worker_priority", ctxMain, args1, false, whyPriority},
		{"worker_cpu_affinity", ctxMain, args1More, false, whyAffinity},
		{"worker_rlimit_core", ctxMain, args1, false, whyRlimitCore},
		{"worker_shutdown_timeout", ctxMain, args1, false, whyNotImpl},
		{"working_directory", ctxMain, args1, false, whyWorkdir},
		{"env", ctxMain, args1, false, whyEnv},
		{"pcre_jit", ctxMain, argsFlag, false, whyPcre},
		{"thread_pool", ctxMain, args23, false, whyThreads},
		{"ssl_engine", ctxMain, args1, false, whyEngine},
		// events
		{"accept_mutex", ctxEvents, argsFlag, false, whyMutex},
		{"accept_mutex_delay", ctxEvents, args1, false, whyMutex},
		{"debug_connection", ctxEvents, args1, false, whyDebugConn},
		// http_core
		{"connection_pool_size", ctxHS, args1, false, whyPools},
		{"request_pool_size", ctxHS, args1, false, whyPools},
		{"alias", ctxLocation, args1, false, whyStatic},
		{"limit_except", ctxLocation, args1More, true, whyLimitExcept},
		{"sendfile_max_chunk", ctxHSL, args1, false, whyStatic},
		{"subrequest_output_buffer_size", ctxHSL, args1, false, whySubreq},
		{"aio", ctxHSL, args1, false, whyThreads},
		{"aio_write", ctxHSL, argsFlag, false, whyThreads},
		{"read_ahead", ctxHSL, args1, false, whyStatic},
		{"directio", ctxHSL, args1, false, whyStatic},
		{"directio_alignment", ctxHSL, args1, false, whyStatic},
		{"tcp_nodelay", ctxHSL, argsFlag, false, whyNodelay},
		{"send_lowat", ctxHSL, args1, false, whyLowat},
		{"postpone_output", ctxHSL, args1, false, whyPostpone},
		{"limit_rate", ctxHSL | ctxIf, args1, false, whyRate},
		{"limit_rate_after", ctxHSL | ctxIf, args1, false, whyRate},
		{"keepalive_min_timeout", ctxHSL, args1, false, whyNotImpl},
		{"keepalive_disable", ctxHSL, args12, false, whyKaDisable},
		{"auth_delay", ctxHSL, args1, false, whyAccess},
		{"internal", ctxLocation, argsNone, false, whyInternal},
		{"lingering_close", ctxHSL, args1, false, whyLinger},
		{"lingering_time", ctxHSL, args1, false, whyLinger},
		{"lingering_timeout", ctxHSL, args1, false, whyLinger},
		{"reset_timedout_connection", ctxHSL, argsFlag, false, whyReset},
		{"absolute_redirect", ctxHSL, argsFlag, false, whyRedirect},
		{"server_name_in_redirect", ctxHSL, argsFlag, false, whyRedirect},
		{"port_in_redirect", ctxHSL, argsFlag, false, whyRedirect},
		{"msie_padding", ctxHSL, argsFlag, false, whyPadding},
		{"msie_refresh", ctxHSL, argsFlag, false, whyMsie},
		{"log_not_found", ctxHSL, argsFlag, false, whyStatic},
		{"log_subrequest", ctxHSL, argsFlag, false, whySubreq},
		{"recursive_error_pages", ctxHSL, argsFlag, false, whyInternal},
		{"if_modified_since", ctxHSL, args1, false, whyStatic},
		{"max_ranges", ctxHSL, args1, false, whyStatic},
		{"chunked_transfer_encoding", ctxHSL, argsFlag, false, whyChunked},
		{"etag", ctxHSL, argsFlag, false, whyStatic},
		{"post_action", ctxHSL | ctxIf, args1, false, whySubreq},
		{"open_file_cache", ctxHSL, args12, false, whyStatic},
		{"open_file_cache_valid", ctxHSL, args1, false, whyStatic},
		{"open_file_cache_min_uses", ctxHSL, args1, false, whyStatic},
		{"open_file_cache_errors", ctxHSL, argsFlag, false, whyStatic},
		{"open_file_cache_events", ctxHSL, argsFlag, false, whyStatic},
		{"resolver", ctxHSL, args1More, false, whyResolver},
		{"resolver_timeout", ctxHSL, args1, false, whyResolver},
		{"gzip_vary", ctxHSL, argsFlag, false, whyGzip},
		{"gzip_http_version", ctxHSL, args1, false, whyGzip},
		{"gzip_proxied", ctxHSL, args1More, false, whyGzip},
		{"gzip_disable", ctxHSL, args1More, false, whyGzip},
		{"disable_symlinks", ctxHSL, args12, false, whyStatic},
		// upstream
		{"resolver", ctxUpstream, args1More, false, whyResolver},
		{"resolver_timeout", ctxUpstream, args1, false, whyResolver},
		// proxy
		{"proxy_cookie_domain", ctxHSL, args12, false, whyCookie},
		{"proxy_cookie_path", ctxHSL, args12, false, whyCookie},
		{"proxy_cookie_flags", ctxHSL, args1234, false, whyCookie},
		{"proxy_store", ctxHSL, args1, false, whyStore},
		{"proxy_store_access", ctxHSL, args123, false, whyStore},
		{"proxy_bind", ctxHSL, args12, false, whyBind},
		{"proxy_socket_keepalive", ctxHSL, argsFlag, false, whyNotImpl},
		{"proxy_send_lowat", ctxHSL, args1, false, whyLowat},
		{"proxy_set_body", ctxHSL, args1, false, whyMethod},
		{"proxy_method", ctxHSL, args1, false, whyMethod},
		{"proxy_pass_trailers", ctxHSL, argsFlag, false, whyTrailers},
		{"proxy_force_ranges", ctxHSL, argsFlag, false, whyNotImpl},
		{"proxy_limit_rate", ctxHSL, args1, false, whyRate},
		{"proxy_cache", ctxHSL, args1, false, whyCache},
		{"proxy_cache_key", ctxHSL, args1, false, whyCache},
		{"proxy_cache_path", ctxHTTP, args2More, false, whyCache},
		{"proxy_cache_bypass", ctxHSL, args1More, false, whyCache},
		{"proxy_no_cache", ctxHSL, args1More, false, whyCache},
		{"proxy_cache_valid", ctxHSL, args1More, false, whyCache},
		{"proxy_cache_min_uses", ctxHSL, args1, false, whyCache},
		{"proxy_cache_max_range_offset", ctxHSL, args1, false, whyCache},
		{"proxy_cache_use_stale", ctxHSL, args1More, false, whyCache},
		{"proxy_cache_methods", ctxHSL, args1More, false, whyCache},
		{"proxy_cache_lock", ctxHSL, argsFlag, false, whyCache},
		{"proxy_cache_lock_timeout", ctxHSL, args1, false, whyCache},
		{"proxy_cache_lock_age", ctxHSL, args1, false, whyCache},
		{"proxy_cache_revalidate", ctxHSL, argsFlag, false, whyCache},
		{"proxy_cache_convert_head", ctxHSL, argsFlag, false, whyCache},
		{"proxy_cache_background_update", ctxHSL, argsFlag, false, whyCache},
		{"proxy_max_temp_file_size", ctxHSL, args1, false, whyTempFile},
		{"proxy_temp_file_write_size", ctxHSL, args1, false, whyTempFile},
		{"proxy_ignore_headers", ctxHSL, args1More, false, whyNotImpl},
		{"proxy_ssl_certificate_cache", ctxHSL, args123, false, whyCertCache},
		{"proxy_ssl_conf_command", ctxHSL, args2, false, whySslConf},
		// auth_basic
		{"auth_basic", ctxHSL | ctxLimitExcept, args1, false, whyAccess},
		{"auth_basic_user_file", ctxHSL | ctxLimitExcept, args1, false, whyAccess},
		// limit_req
		{"limit_req_zone", ctxHTTP, args3, false, whyLimitReq},
		{"limit_req", ctxHSL, args123, false, whyLimitReq},
		{"limit_req_log_level", ctxHSL, args1, false, whyLimitReq},
		{"limit_req_status", ctxHSL, args1, false, whyLimitReq},
		{"limit_req_dry_run", ctxHSL, argsFlag, false, whyLimitReq},
		// limit_conn
		{"limit_conn_zone", ctxHTTP, args2, false, whyLimitConn},
		{"limit_conn", ctxHSL, args2, false, whyLimitConn},
		{"limit_conn_log_level", ctxHSL, args1, false, whyLimitConn},
		{"limit_conn_status", ctxHSL, args1, false, whyLimitConn},
		{"limit_conn_dry_run", ctxHSL, argsFlag, false, whyLimitConn},
		// headers
		{"expires", ctxHSL | ctxIf, args12, false, whyExpires},
		{"add_trailer", ctxHSL | ctxIf, args23, false, whyTrailers},
		// log
		{"open_log_file_cache", ctxHSL, args1234, false, whyLogCache},
		// ssl
		{"ssl_certificate_cache", ctxHS, args123, false, whyCertCache},
		{"ssl_ocsp", ctxHS, argsFlag, false, whyOcsp},
		{"ssl_ocsp_responder", ctxHS, args1, false, whyOcsp},
		{"ssl_ocsp_cache", ctxHS, args1, false, whyOcsp},
		{"ssl_stapling", ctxHS, argsFlag, false, whyStapling},
		{"ssl_stapling_file", ctxHS, args1, false, whyStapling},
		{"ssl_stapling_responder", ctxHS, args1, false, whyStapling},
		{"ssl_stapling_verify", ctxHS, argsFlag, false, whyStapling},
		{"ssl_early_data", ctxHS, argsFlag, false, whyEarlyData},
		{"ssl_conf_command", ctxHS, args2, false, whySslConf},
		// userid
		{"userid", ctxHSL, args1, false, whyUserid},
		{"userid_service", ctxHSL, args1, false, whyUserid},
		{"userid_name", ctxHSL, args1, false, whyUserid},
		{"userid_domain", ctxHSL, args1, false, whyUserid},
		{"userid_path", ctxHSL, args1, false, whyUserid},
		{"userid_expires", ctxHSL, args1, false, whyUserid},
		{"userid_flags", ctxHSL, args123, false, whyUserid},
		{"userid_p3p", ctxHSL, args1, false, whyUserid},
		{"userid_mark", ctxHSL, args1, false, whyUserid},
		// gzip
		{"gzip_buffers", ctxHSL, args2, false, whyGzip},
		{"gzip_types", ctxHSL, args1More, false, whyGzip},
		{"gzip_comp_level", ctxHSL, args1, false, whyGzip},
		{"gzip_window", ctxHSL, args1, false, whyGzip},
		{"gzip_hash", ctxHSL, args1, false, whyGzip},
		{"postpone_gzipping", ctxHSL, args1, false, whyGzip},
		{"gzip_no_buffer", ctxHSL, argsFlag, false, whyGzip},
		{"gzip_min_length", ctxHSL, args1, false, whyGzip},
		{"gzip_static", ctxHSL, args1, false, whyGzip},
		// index
		{"index", ctxHSL, args1More, false, whyStatic},
		// autoindex
		{"autoindex", ctxHSL, argsFlag, false, whyStatic},
		{"autoindex_format", ctxHSL, args1, false, whyStatic},
		{"autoindex_localtime", ctxHSL, argsFlag, false, whyStatic},
		{"autoindex_exact_size", ctxHSL, argsFlag, false, whyStatic},
		// http2
		{"http2_recv_buffer_size", ctxHTTP, args1, false, whyHttp2},
		{"http2_pool_size", ctxHS, args1, false, whyHttp2},
		{"http2_max_concurrent_streams", ctxHS, args1, false, whyHttp2},
		{"http2_max_concurrent_pushes", ctxHS, args1, false, whyHttp2},
		{"http2_max_requests", ctxHS, args1, false, whyHttp2},
		{"http2_max_field_size", ctxHS, args1, false, whyHttp2},
		{"http2_max_header_size", ctxHS, args1, false, whyHttp2},
		{"http2_body_preread_size", ctxHS, args1, false, whyHttp2},
		{"http2_streams_index_size", ctxHS, args1, false, whyHttp2},
		{"http2_recv_timeout", ctxHS, args1, false, whyHttp2},
		{"http2_idle_timeout", ctxHS, args1, false, whyHttp2},
		{"http2_chunk_size", ctxHSL, args1, false, whyHttp2},
		{"http2_push_preload", ctxHSL, argsFlag, false, whyHttp2},
		{"http2_push", ctxHSL, args1, false, whyHttp2},
		// charset
		{"charset", ctxHSL | ctxIf, args1, false, whyCharset},
		{"source_charset", ctxHSL | ctxIf, args1, false, whyCharset},
		{"override_charset", ctxHSL | ctxIf, argsFlag, false, whyCharset},
		{"charset_types", ctxHSL, args1More, false, whyCharset},
		{"charset_map", ctxHTTP, args2, true, whyCharset},
	}
}

// addRefusals adds a row for every refusal to the directive table. A row
// whose contexts meet an implemented row of the same name is left out:
// the implementation wins (TestRefusalsNotImplemented reports it).
func addRefusals(table map[string][]spec) {
	for _, r := range refusals() {
		if overlaps(table[r.name], r.ctx) {
			continue
		}
		k := kindCustom
		if r.args.flag {
			k = kindFlag
		}
		table[r.name] = append(table[r.name], spec{ctx: r.ctx, block: r.block, min: r.args.min, max: r.args.max, kind: k, fn: refuse(r)})
	}
}

// overlaps reports whether one of rows is allowed in a context of ctx.
func overlaps(rows []spec, ctx ctxKind) bool {
	for _, s := range rows {
		if s.ctx&ctx != 0 {
			return true
		}
	}
	return false
}

// refuse is the handler of a refused directive: a flag's value is
// checked as ngx_conf_set_flag_slot checks it, then the directive is
// refused with its reason.
func refuse(r refusal) handler {
	same, hasSame := sameAsGatehouse[r.name]
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		accept := hasSame && len(d.Args) == 1 && d.Args[0] == same
		if r.args.flag {
			on, ok := parseFlag(d.Args[0])
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid value \"%s\" in \"%s\" directive, it must be \"on\" or \"off\"", d.Args[0], d.Name)
			}
			accept = hasSame && on == (same == "on")
		}
		if !accept {
			return dirErr(d, r.why.message())
		}
		if f.noEffect[r.name] {
			return errDup(d)
		}
		if f.noEffect == nil {
			f.noEffect = map[string]bool{}
		}
		f.noEffect[r.name] = true
		return nil
	}
}

// sameAsGatehouse names, for some refused directives, the one value that
// asks for what gatehouse always does: that value is accepted with no
// effect (README.md lists them), any other is refused. Real
// configurations spell out these defaults ("tcp_nodelay on;",
// "autoindex off;") far more often than they change them.
var sameAsGatehouse = map[string]string{
	"tcp_nodelay":               "on",  // Go sets TCP_NODELAY on every TCP connection
	"chunked_transfer_encoding": "on",  // responses of unknown length go chunked to HTTP/1.1
	"absolute_redirect":         "on",  // redirects name scheme, host and port
	"server_name_in_redirect":   "off", // ... from the request's Host, else the local address
	"port_in_redirect":          "on",  // ... with the port unless it is the scheme's
	"msie_padding":              "on",  // error pages are padded for MSIE and Chrome
	"reset_timedout_connection": "off", // a timed-out connection is closed, not reset
	"log_not_found":             "off", // no files are served, so none is logged missing
	"autoindex":                 "off",
	"open_file_cache":           "off",
	"ssl_stapling":              "off",
	"ssl_stapling_verify":       "off",
	"ssl_early_data":            "off", // crypto/tls has no 0-RTT on the server
	"proxy_cache":               "off",
	"proxy_store":               "off",
	"limit_rate":                "0",
	"keepalive_disable":         "none", // keep-alive is never disabled per browser
	"accept_mutex":              "off",
	"aio":                       "off",
	"directio":                  "off",
}
