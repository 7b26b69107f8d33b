package variables

// NginxRelease is the nginx release whose behaviour gatehouse implements:
// the value of $nginx_version, and what "-v" and the default error pages
// name.
const NginxRelease = "1.28.3"

// ID identifies a variable (or a family of variables) known at
// configuration time. A Source switches on it per request, so it is a small
// dense integer rather than a name. IDs at or above FirstDefined belong to
// variables the configuration defines itself (set, map, named regex
// captures); their numbering is per Registry.
type ID uint16

// The built-in variables. The groups follow nginx.md §8: request and
// connection, logging, proxy and upstream, TLS (§8.1), then the prefix
// families and regex captures.
const (
	// None marks a literal segment of a template; it is never passed to a
	// Source.
	None ID = iota

	// Request and connection (§8.2).
	Host             // $host
	RemoteAddr       // $remote_addr
	RemotePort       // $remote_port
	BinaryRemoteAddr // $binary_remote_addr
	ServerAddr       // $server_addr
	ServerPort       // $server_port
	ServerName       // $server_name
	ServerProtocol   // $server_protocol
	Scheme           // $scheme
	HTTPS            // $https
	Request          // $request (the request line)
	RequestMethod    // $request_method
	RequestURI       // $request_uri
	URI              // $uri and $document_uri
	Args             // $args and $query_string
	IsArgs           // $is_args
	ContentType      // $content_type
	ContentLength    // $content_length
	RemoteUser       // $remote_user
	RealIPRemoteAddr // $realip_remote_addr: the connection's address
	RealIPRemotePort // $realip_remote_port

	// Logging.
	Status             // $status, three digits
	BodyBytesSent      // $body_bytes_sent
	BytesSent          // $bytes_sent
	RequestLength      // $request_length
	RequestTime        // $request_time, "1.234"
	RequestCompletion  // $request_completion, "OK" or empty
	RequestID          // $request_id, 32 lowercase hex digits
	Connection         // $connection, the connection serial number
	ConnectionRequests // $connection_requests
	Msec               // $msec, "1760104536.123"
	TimeLocal          // $time_local, "10/Oct/2025:13:55:36 +0000"
	TimeISO8601        // $time_iso8601, "2025-10-10T13:55:36+00:00"
	Pipe               // $pipe, "p" if pipelined else "."
	PID                // $pid
	Hostname           // $hostname
	NginxVersion       // $nginx_version

	// Proxy and upstream (§5.1, §5.3, §8.2).
	ProxyHost              // $proxy_host
	ProxyPort              // $proxy_port
	ProxyAddXForwardedFor  // $proxy_add_x_forwarded_for
	UpstreamAddr           // $upstream_addr
	UpstreamStatus         // $upstream_status
	UpstreamResponseTime   // $upstream_response_time
	UpstreamConnectTime    // $upstream_connect_time
	UpstreamHeaderTime     // $upstream_header_time
	UpstreamResponseLength // $upstream_response_length
	UpstreamBytesSent      // $upstream_bytes_sent
	UpstreamBytesReceived  // $upstream_bytes_received

	// TLS (§8.1); empty or not found on plain-HTTP connections. They are
	// consecutive from SSLProtocol to SSLClientVRemain, so a TLS package can
	// index a table with id-SSLProtocol (see SSLIndex).
	SSLProtocol          // $ssl_protocol
	SSLCipher            // $ssl_cipher
	SSLCiphers           // $ssl_ciphers
	SSLCurve             // $ssl_curve
	SSLCurves            // $ssl_curves
	SSLServerName        // $ssl_server_name
	SSLSessionID         // $ssl_session_id
	SSLSessionReused     // $ssl_session_reused
	SSLALPNProtocol      // $ssl_alpn_protocol
	SSLEarlyData         // $ssl_early_data
	SSLClientVerify      // $ssl_client_verify
	SSLClientSDN         // $ssl_client_s_dn
	SSLClientIDN         // $ssl_client_i_dn
	SSLClientSDNLegacy   // $ssl_client_s_dn_legacy
	SSLClientIDNLegacy   // $ssl_client_i_dn_legacy
	SSLClientSerial      // $ssl_client_serial
	SSLClientFingerprint // $ssl_client_fingerprint
	SSLClientRawCert     // $ssl_client_raw_cert
	SSLClientCert        // $ssl_client_cert
	SSLClientEscapedCert // $ssl_client_escaped_cert
	SSLClientVStart      // $ssl_client_v_start
	SSLClientVEnd        // $ssl_client_v_end
	SSLClientVRemain     // $ssl_client_v_remain

	// Prefix families: the Source receives the part after the prefix,
	// lowercased as nginx stores variable names (for example "x_real_ip"
	// for $http_X_Real_IP).
	HTTP            // $http_NAME: request header
	SentHTTP        // $sent_http_NAME: response header sent to the client
	SentTrailer     // $sent_trailer_NAME: response trailer sent to the client
	Cookie          // $cookie_NAME: request cookie
	Arg             // $arg_NAME: query-string argument
	UpstreamHTTP    // $upstream_http_NAME: response header of the last upstream
	UpstreamTrailer // $upstream_trailer_NAME: trailer of the last upstream
	UpstreamCookie  // $upstream_cookie_NAME: Set-Cookie value of the last upstream

	// Capture is a numbered regex capture $1..$9; the Source receives the
	// digit as a one-byte argument (see CaptureIndex).
	Capture

	// FirstDefined is the first ID of variables the configuration defines
	// (Registry's defined names), numbered in the order given.
	FirstDefined
)

// builtinNames maps each exact built-in name to its ID. Aliases share an ID.
var builtinNames = map[string]ID{
	"host":                      Host,
	"remote_addr":               RemoteAddr,
	"remote_port":               RemotePort,
	"binary_remote_addr":        BinaryRemoteAddr,
	"server_addr":               ServerAddr,
	"server_port":               ServerPort,
	"server_name":               ServerName,
	"server_protocol":           ServerProtocol,
	"scheme":                    Scheme,
	"https":                     HTTPS,
	"request":                   Request,
	"request_method":            RequestMethod,
	"request_uri":               RequestURI,
	"uri":                       URI,
	"document_uri":              URI,
	"args":                      Args,
	"query_string":              Args,
	"is_args":                   IsArgs,
	"content_type":              ContentType,
	"content_length":            ContentLength,
	"remote_user":               RemoteUser,
	"realip_remote_addr":        RealIPRemoteAddr,
	"realip_remote_port":        RealIPRemotePort,
	"status":                    Status,
	"body_bytes_sent":           BodyBytesSent,
	"bytes_sent":                BytesSent,
	"request_length":            RequestLength,
	"request_time":              RequestTime,
	"request_completion":        RequestCompletion,
	"request_id":                RequestID,
	"connection":                Connection,
	"connection_requests":       ConnectionRequests,
	"msec":                      Msec,
	"time_local":                TimeLocal,
	"time_iso8601":              TimeISO8601,
	"pipe":                      Pipe,
	"pid":                       PID,
	"hostname":                  Hostname,
	"nginx_version":             NginxVersion,
	"proxy_host":                ProxyHost,
	"proxy_port":                ProxyPort,
	"proxy_add_x_forwarded_for": ProxyAddXForwardedFor,
	"upstream_addr":             UpstreamAddr,
	"upstream_status":           UpstreamStatus,
	"upstream_response_time":    UpstreamResponseTime,
	"upstream_connect_time":     UpstreamConnectTime,
	"upstream_header_time":      UpstreamHeaderTime,
	"upstream_response_length":  UpstreamResponseLength,
	"upstream_bytes_sent":       UpstreamBytesSent,
	"upstream_bytes_received":   UpstreamBytesReceived,
	"ssl_protocol":              SSLProtocol,
	"ssl_cipher":                SSLCipher,
	"ssl_ciphers":               SSLCiphers,
	"ssl_curve":                 SSLCurve,
	"ssl_curves":                SSLCurves,
	"ssl_server_name":           SSLServerName,
	"ssl_session_id":            SSLSessionID,
	"ssl_session_reused":        SSLSessionReused,
	"ssl_alpn_protocol":         SSLALPNProtocol,
	"ssl_early_data":            SSLEarlyData,
	"ssl_client_verify":         SSLClientVerify,
	"ssl_client_s_dn":           SSLClientSDN,
	"ssl_client_i_dn":           SSLClientIDN,
	"ssl_client_s_dn_legacy":    SSLClientSDNLegacy,
	"ssl_client_i_dn_legacy":    SSLClientIDNLegacy,
	"ssl_client_serial":         SSLClientSerial,
	"ssl_client_fingerprint":    SSLClientFingerprint,
	"ssl_client_raw_cert":       SSLClientRawCert,
	"ssl_client_cert":           SSLClientCert,
	"ssl_client_escaped_cert":   SSLClientEscapedCert,
	"ssl_client_v_start":        SSLClientVStart,
	"ssl_client_v_end":          SSLClientVEnd,
	"ssl_client_v_remain":       SSLClientVRemain,
}

// prefixes lists the prefix families. nginx picks the longest matching
// prefix; none of these is a prefix of another, so order does not matter.
var prefixes = [...]struct {
	prefix string
	id     ID
}{
	{"http_", HTTP},
	{"sent_http_", SentHTTP},
	{"sent_trailer_", SentTrailer},
	{"cookie_", Cookie},
	{"arg_", Arg},
	{"upstream_http_", UpstreamHTTP},
	{"upstream_trailer_", UpstreamTrailer},
	{"upstream_cookie_", UpstreamCookie},
}

// changeable lists built-ins that nginx lets "set" assign (flag
// NGX_HTTP_VAR_CHANGEABLE); defining one of them keeps the built-in ID.
var changeable = map[string]bool{"args": true}

// SSLIndex reports the position of id within the TLS variables
// (0 for SSLProtocol) so a TLS package can keep a table indexed by it.
func SSLIndex(id ID) (int, bool) {
	if id >= SSLProtocol && id <= SSLClientVRemain {
		return int(id - SSLProtocol), true
	}
	return 0, false
}

// AnyByte reports whether a value of id may hold any byte, CR, LF and NUL
// included: it was percent-decoded from the request ($uri, regex captures
// and the named captures that are the defined variables), decoded from
// base64 ($remote_user), is binary ($binary_remote_addr), or comes from
// the client's TLS handshake (its server name, its certificate's names and
// its PEM; $ssl_client_cert joins the PEM's lines with spaces). Every
// other variable is computed by gatehouse or copied from bytes the codec
// validated (header values, the raw request target), which hold no CR,
// LF or NUL. A value that goes into a header line is checked or escaped
// when its template uses such a variable.
func (id ID) AnyByte() bool {
	switch id {
	case URI, Capture, RemoteUser, BinaryRemoteAddr, SSLServerName,
		SSLClientSDN, SSLClientIDN, SSLClientSDNLegacy, SSLClientIDNLegacy,
		SSLClientRawCert:
		return true
	}
	return id >= FirstDefined
}

// IsPrefix reports whether id is one of the prefix families whose Source
// argument is the NAME part of the variable.
func (id ID) IsPrefix() bool { return id >= HTTP && id <= UpstreamCookie }

// String returns the variable's canonical name without "$" (the family
// prefix with a trailing "*" for families), for diagnostics.
func (id ID) String() string {
	if id == None {
		return "none"
	}
	if id == Capture {
		return "capture"
	}
	if id >= FirstDefined {
		return "defined"
	}
	for _, p := range prefixes {
		if p.id == id {
			return p.prefix + "*"
		}
	}
	best := ""
	for name, v := range builtinNames {
		// Aliases share an ID; pick the shortest-then-smallest name so
		// the result is deterministic.
		if v == id && (best == "" || len(name) < len(best) || len(name) == len(best) && name < best) {
			best = name
		}
	}
	if best == "" {
		return "unknown"
	}
	return best
}

// CaptureIndex returns the capture number (1..9) carried in the argument
// a Source receives with the Capture ID, or 0 if arg is not one.
func CaptureIndex(arg []byte) int {
	if len(arg) == 1 && arg[0] >= '1' && arg[0] <= '9' {
		return int(arg[0] - '0')
	}
	return 0
}
