package config

import "gatehouse/internal/upstream"

// directives is the directive table: for each name, the rows nginx's
// modules define for it (a name may have rows for different contexts, as
// "server" does). Anything not listed is an unknown directive.
var directives map[string][]spec

func init() {
	directives = directiveTable()
	addRefusals(directives)
}

// directiveTable builds the table; it is a function because the block
// handlers in it dispatch through the table themselves.
func directiveTable() map[string][]spec {
	return map[string][]spec{
		// main
		"daemon":               {{ctx: ctxMain, min: 1, max: 1, kind: kindFlag, fn: hDaemon}},
		"pid":                  {{ctx: ctxMain, min: 1, max: 1, kind: kindString, fn: hPID}},
		"worker_processes":     {{ctx: ctxMain, min: 1, max: 1, kind: kindNumber, fn: hWorkerProcesses}},
		"worker_rlimit_nofile": {{ctx: ctxMain, min: 1, max: 1, kind: kindNumber, fn: hRlimit}},
		"user":                 {{ctx: ctxMain, min: 1, max: 2, kind: kindCustom, fn: hUser}},
		"load_module":          {{ctx: ctxMain, min: 1, max: 1, kind: kindString, fn: hLoadModule}},
		"defaults":             {{ctx: ctxMain, min: 1, max: 1, kind: kindEnum, fn: hDefaults}},
		"include":              {{ctx: ctxMain | ctxEvents | ctxHSLI | ctxUpstream, min: 1, max: 1, kind: kindCustom, fn: acceptSlot}},
		"error_log":            {{ctx: ctxMain | ctxHSL, min: 1, max: -1, kind: kindCustom, fn: hErrorLog}},
		"events":               {{ctx: ctxMain, block: true, min: 0, max: 0, kind: kindBlock, fn: hEvents}},
		"worker_connections":   {{ctx: ctxEvents, min: 1, max: 1, kind: kindNumber, fn: hWorkerConnections}},
		"use":                  {{ctx: ctxEvents, min: 1, max: 1, kind: kindCustom, fn: hUse}},
		"multi_accept":         {{ctx: ctxEvents, min: 1, max: 1, kind: kindFlag, fn: hMultiAccept}},

		// http core
		"http":                        {{ctx: ctxMain, block: true, min: 0, max: 0, kind: kindBlock, fn: hHTTP}},
		"server":                      {{ctx: ctxHTTP, block: true, min: 0, max: 0, kind: kindBlock, fn: hServer}, {ctx: ctxUpstream, min: 1, max: -1, kind: kindCustom, fn: hUpstreamServer}},
		"listen":                      {{ctx: ctxServer, min: 1, max: -1, kind: kindCustom, fn: hListen}},
		"server_name":                 {{ctx: ctxServer, min: 1, max: -1, kind: kindCustom, fn: hServerName}},
		"location":                    {{ctx: ctxServer | ctxLocation, block: true, min: 1, max: 2, kind: kindBlock, fn: hLocation}},
		"return":                      {{ctx: ctxServer | ctxLocation | ctxIf, min: 1, max: 2, kind: kindCustom, fn: hReturn}},
		"rewrite":                     {{ctx: ctxServer | ctxLocation | ctxIf, min: 2, max: 3, kind: kindCustom, fn: hRewrite}},
		"break":                       {{ctx: ctxServer | ctxLocation | ctxIf, min: 0, max: 0, kind: kindCustom, fn: hBreak}},
		"if":                          {{ctx: ctxServer | ctxLocation, block: true, min: 1, max: -1, kind: kindBlock, fn: hIf}},
		"set":                         {{ctx: ctxServer | ctxLocation | ctxIf, min: 2, max: 2, kind: kindCustom, fn: hSet}},
		"rewrite_log":                 {{ctx: ctxHSL | ctxIf, min: 1, max: 1, kind: kindFlag, fn: flagSlot("RewriteLog")}},
		"uninitialized_variable_warn": {{ctx: ctxHSL | ctxIf, min: 1, max: 1, kind: kindFlag, fn: flagSlot("UninitWarn")}},
		"root":                        {{ctx: ctxHSL | ctxIf, min: 1, max: 1, kind: kindString, fn: strSlot("Root")}},
		"types":                       {{ctx: ctxHSL, block: true, min: 0, max: 0, kind: kindBlock, fn: hTypes}},
		"default_type":                {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("DefaultType")}},
		"error_page":                  {{ctx: ctxHSLI, min: 2, max: -1, kind: kindList, fn: hErrorPage}},
		"add_header":                  {{ctx: ctxHSLI, min: 2, max: 3, kind: kindList, fn: hAddHeader}},
		// Accepted for stock configurations; gatehouse sends no files and
		// keeps types in a Go map, so they change nothing (see headers.go).
		"types_hash_max_size":    {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("TypesHashMax")}},
		"types_hash_bucket_size": {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("TypesHashBucket")}},
		"sendfile":               {{ctx: ctxHSL | ctxIf, min: 1, max: 1, kind: kindFlag, fn: flagSlot("Sendfile")}},
		"tcp_nopush":             {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("TCPNopush")}},
		"gzip":                   {{ctx: ctxHSL | ctxIf, min: 1, max: 1, kind: kindFlag, fn: hGzip}},
		// Accepted, checked and without effect: gatehouse's lookup tables
		// are Go maps, which need no sizing.
		"server_names_hash_max_size":     {{ctx: ctxHTTP, min: 1, max: 1, kind: kindNumber, fn: numSlot("ServerNamesHashMax")}},
		"server_names_hash_bucket_size":  {{ctx: ctxHTTP, min: 1, max: 1, kind: kindNumber, fn: numSlot("ServerNamesHashBucket")}},
		"variables_hash_max_size":        {{ctx: ctxHTTP, min: 1, max: 1, kind: kindNumber, fn: numSlot("VariablesHashMax")}},
		"variables_hash_bucket_size":     {{ctx: ctxHTTP, min: 1, max: 1, kind: kindNumber, fn: numSlot("VariablesHashBucket")}},
		"proxy_headers_hash_max_size":    {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("ProxyHeadersHashMax")}},
		"proxy_headers_hash_bucket_size": {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("ProxyHeadersHashBucket")}},

		"client_max_body_size":         {{ctx: ctxHSL, min: 1, max: 1, kind: kindOffset, fn: sizeSlot("ClientMaxBodySize", true)}},
		"client_header_timeout":        {{ctx: ctxHS, min: 1, max: 1, kind: kindMsec, fn: timeSlot("ClientHeaderTimeout", false)}},
		"client_body_timeout":          {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("ClientBodyTimeout", false)}},
		"send_timeout":                 {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("SendTimeout", false)}},
		"client_header_buffer_size":    {{ctx: ctxHS, min: 1, max: 1, kind: kindSize, fn: sizeSlot("ClientHeaderBufferSize", false)}},
		"large_client_header_buffers":  {{ctx: ctxHS, min: 2, max: 2, kind: kindCustom, fn: hLargeBuffers}},
		"keepalive_timeout":            {{ctx: ctxHSL, min: 1, max: 2, kind: kindMsec, fn: hKeepaliveTimeout}, {ctx: ctxUpstream, min: 1, max: 1, kind: kindMsec, fn: hUpKeepaliveTimeout}},
		"keepalive_requests":           {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("KeepaliveRequests")}, {ctx: ctxUpstream, min: 1, max: 1, kind: kindNumber, fn: hUpKeepaliveRequests}},
		"keepalive_time":               {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("KeepaliveTime", false)}, {ctx: ctxUpstream, min: 1, max: 1, kind: kindMsec, fn: hUpKeepaliveTime}},
		"server_tokens":                {{ctx: ctxHSL, min: 1, max: 1, kind: kindEnum, fn: hServerTokens}},
		"underscores_in_headers":       {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: flagSlot("Underscores")}},
		"ignore_invalid_headers":       {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: flagSlot("IgnoreInvalidHeaders")}},
		"merge_slashes":                {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: flagSlot("MergeSlashes")}},
		"http2":                        {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: hHTTP2}},
		"client_body_buffer_size":      {{ctx: ctxHSL, min: 1, max: 1, kind: kindSize, fn: sizeSlot("ClientBodyBuffer", false)}},
		"client_body_in_file_only":     {{ctx: ctxHSL, min: 1, max: 1, kind: kindEnum, fn: enumSlot("BodyInFileOnly", bodyInFileEnum)}},
		"client_body_in_single_buffer": {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("BodyInSingleBuf")}},
		"client_body_temp_path":        {{ctx: ctxHSL, min: 1, max: 4, kind: kindCustom, fn: tempPath("ClientBodyTemp")}},
		"proxy_temp_path":              {{ctx: ctxHSL, min: 1, max: 4, kind: kindCustom, fn: tempPath("ProxyTemp")}},
		"fastcgi_temp_path":            {{ctx: ctxHSL, min: 1, max: 4, kind: kindCustom, fn: tempPath("FastCGITemp")}},
		"uwsgi_temp_path":              {{ctx: ctxHSL, min: 1, max: 4, kind: kindCustom, fn: tempPath("UWSGITemp")}},
		"scgi_temp_path":               {{ctx: ctxHSL, min: 1, max: 4, kind: kindCustom, fn: tempPath("SCGITemp")}},

		// access, realip
		"allow":             {{ctx: ctxHSL | ctxLimitExcept, min: 1, max: 1, kind: kindCustom, fn: hAccessRule}},
		"deny":              {{ctx: ctxHSL | ctxLimitExcept, min: 1, max: 1, kind: kindCustom, fn: hAccessRule}},
		"satisfy":           {{ctx: ctxHSL, min: 1, max: 1, kind: kindEnum, fn: enumSlot("Satisfy", satisfyEnum)}},
		"set_real_ip_from":  {{ctx: ctxHSL, min: 1, max: 1, kind: kindCustom, fn: hRealIPFrom}},
		"real_ip_header":    {{ctx: ctxHSL, min: 1, max: 1, kind: kindCustom, fn: hRealIPHeader}},
		"real_ip_recursive": {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("RealIPRecursive")}},

		// logging
		"access_log": {{ctx: ctxHSLI, min: 1, max: -1, kind: kindCustom, fn: hAccessLog}},
		"log_format": {{ctx: ctxHTTP, min: 2, max: -1, kind: kindCustom, fn: hLogFormat}},

		// map; the hash sizes are checked and have no effect, as the
		// tables are Go maps.
		"map":                  {{ctx: ctxHTTP, block: true, min: 2, max: 2, kind: kindBlock, fn: hMap}},
		"map_hash_max_size":    {{ctx: ctxHTTP, min: 1, max: 1, kind: kindNumber, fn: numSlot("MapHashMax")}},
		"map_hash_bucket_size": {{ctx: ctxHTTP, min: 1, max: 1, kind: kindNumber, fn: numSlot("MapHashBucket")}},

		// upstream
		"upstream":   {{ctx: ctxHTTP, block: true, min: 1, max: 1, kind: kindBlock, fn: hUpstream}},
		"least_conn": {{ctx: ctxUpstream, min: 0, max: 0, kind: kindCustom, fn: hMethod(upstream.LeastConn)}},
		"ip_hash":    {{ctx: ctxUpstream, min: 0, max: 0, kind: kindCustom, fn: hMethod(upstream.IPHash)}},
		"hash":       {{ctx: ctxUpstream, min: 1, max: 2, kind: kindCustom, fn: hHash}},
		"random":     {{ctx: ctxUpstream, min: 0, max: 2, kind: kindCustom, fn: hRandom}},
		"keepalive":  {{ctx: ctxUpstream, min: 1, max: 1, kind: kindNumber, fn: hKeepalive}},
		"zone":       {{ctx: ctxUpstream, min: 1, max: 2, kind: kindCustom, fn: hZone}},

		// proxy
		"proxy_pass":                  {{ctx: ctxLocation | ctxIf | ctxLimitExcept, min: 1, max: 1, kind: kindCustom, fn: hProxyPass}},
		"proxy_set_header":            {{ctx: ctxHSL, min: 2, max: 2, kind: kindList, fn: hSetHeader}},
		"proxy_http_version":          {{ctx: ctxHSL, min: 1, max: 1, kind: kindEnum, fn: enumSlot("HTTPVersion", httpVersionEnum)}},
		"proxy_connect_timeout":       {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("ConnectTimeout", false)}},
		"proxy_read_timeout":          {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("ReadTimeout", false)}},
		"proxy_send_timeout":          {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("ProxySendTimeout", false)}},
		"proxy_next_upstream":         {{ctx: ctxHSL, min: 1, max: -1, kind: kindBitmask, fn: bitmaskSlot("NextUpstream", nextUpstreamBits)}},
		"proxy_next_upstream_tries":   {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("NextUpstreamTries")}},
		"proxy_next_upstream_timeout": {{ctx: ctxHSL, min: 1, max: 1, kind: kindMsec, fn: timeSlot("NextUpstreamTimeout", false)}},
		"proxy_pass_request_headers":  {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("PassRequestHeaders")}},
		"proxy_pass_request_body":     {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("PassRequestBody")}},
		"proxy_buffering":             {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("Buffering")}},
		"proxy_request_buffering":     {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("RequestBuffering")}},
		"proxy_buffer_size":           {{ctx: ctxHSL, min: 1, max: 1, kind: kindSize, fn: sizeSlot("BufferSize", false)}},
		"proxy_buffers":               {{ctx: ctxHSL, min: 2, max: 2, kind: kindCustom, fn: hProxyBuffers}},
		"proxy_busy_buffers_size":     {{ctx: ctxHSL, min: 1, max: 1, kind: kindSize, fn: sizeSlot("BusyBuffersSize", false)}},
		"proxy_hide_header":           {{ctx: ctxHSL, min: 1, max: 1, kind: kindList, fn: listSlot("HideHeaders")}},
		"proxy_pass_header":           {{ctx: ctxHSL, min: 1, max: 1, kind: kindList, fn: listSlot("PassHeaders")}},
		"proxy_redirect":              {{ctx: ctxHSL, min: 1, max: 2, kind: kindCustom, fn: hRedirect}},
		"proxy_intercept_errors":      {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("InterceptErrors")}},
		"proxy_ignore_client_abort":   {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("IgnoreClientAbort")}},

		// proxy_ssl
		"proxy_ssl_verify":              {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: hProxySSLVerify}},
		"proxy_ssl_trusted_certificate": {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("PSSLTrusted")}},
		"proxy_ssl_verify_depth":        {{ctx: ctxHSL, min: 1, max: 1, kind: kindNumber, fn: numSlot("PSSLDepth")}},
		"proxy_ssl_name":                {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("PSSLName")}},
		"proxy_ssl_server_name":         {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("PSSLServerName")}},
		"proxy_ssl_certificate":         {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("PSSLCert")}},
		"proxy_ssl_certificate_key":     {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("PSSLKey")}},
		"proxy_ssl_password_file":       {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("PSSLPasswordFile")}},
		"proxy_ssl_protocols":           {{ctx: ctxHSL, min: 1, max: -1, kind: kindBitmask, fn: hProtocols("PSSLProtocols")}},
		"proxy_ssl_ciphers":             {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: hCiphers("PSSLCiphers")}},
		"proxy_ssl_session_reuse":       {{ctx: ctxHSL, min: 1, max: 1, kind: kindFlag, fn: flagSlot("PSSLSessionReuse")}},
		"proxy_ssl_crl":                 {{ctx: ctxHSL, min: 1, max: 1, kind: kindString, fn: strSlot("PSSLCRL")}},

		// ssl (server side)
		"ssl":                       {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: hSSL}},
		"ssl_certificate":           {{ctx: ctxHS, min: 1, max: 1, kind: kindList, fn: hSSLCert("SSLCerts")}},
		"ssl_certificate_key":       {{ctx: ctxHS, min: 1, max: 1, kind: kindList, fn: hSSLCert("SSLKeys")}},
		"ssl_password_file":         {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: strSlot("SSLPasswordFile")}},
		"ssl_protocols":             {{ctx: ctxHS, min: 1, max: -1, kind: kindBitmask, fn: hProtocols("SSLProtocols")}},
		"ssl_ciphers":               {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: hCiphers("SSLCiphers")}},
		"ssl_prefer_server_ciphers": {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: flagSlot("SSLPrefer")}},
		"ssl_session_cache":         {{ctx: ctxHS, min: 1, max: 2, kind: kindCustom, fn: hSessionCache}},
		"ssl_session_timeout":       {{ctx: ctxHS, min: 1, max: 1, kind: kindSec, fn: timeSlot("SSLSessionTimeout", true)}},
		"ssl_session_tickets":       {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: flagSlot("SSLTickets")}},
		"ssl_session_ticket_key":    {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: hSSLCert("SSLTicketKeys")}},
		"ssl_verify_client":         {{ctx: ctxHS, min: 1, max: 1, kind: kindEnum, fn: hVerifyClient}},
		"ssl_verify_depth":          {{ctx: ctxHS, min: 1, max: 1, kind: kindNumber, fn: numSlot("SSLVerifyDepth")}},
		"ssl_client_certificate":    {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: strSlot("SSLClientCert")}},
		"ssl_trusted_certificate":   {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: strSlot("SSLTrustedCert")}},
		"ssl_crl":                   {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: strSlot("SSLCRL")}},
		"ssl_ecdh_curve":            {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: strSlot("SSLECDHCurve")}},
		"ssl_dhparam":               {{ctx: ctxHS, min: 1, max: 1, kind: kindString, fn: hDHParam}},
		"ssl_reject_handshake":      {{ctx: ctxHS, min: 1, max: 1, kind: kindFlag, fn: flagSlot("SSLReject")}},
		"ssl_buffer_size":           {{ctx: ctxHS, min: 1, max: 1, kind: kindSize, fn: sizeSlot("SSLBufferSize", false)}},
	}
}
