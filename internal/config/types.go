package config

import (
	"context"
	"net/netip"
	"regexp"
	"time"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/certs"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/upstream"
)

// Resolver maps a host name to its addresses. nginx resolves upstream and
// proxy_pass host names once, at load time; injecting the resolver keeps
// tests hermetic.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// Options are the inputs Compile needs besides the tree.
type Options struct {
	// Prefix is the -p prefix (with a trailing slash added if missing);
	// relative certificate, log and pid paths resolve against it.
	Prefix string
	// ConfPrefix is the directory of the main configuration file.
	ConfPrefix string
	// Resolve resolves host names in upstream servers, proxy_pass and
	// listen. Nil means only IP literals are accepted (any host name is
	// "host not found").
	Resolve Resolver
	// Context bounds name resolution; nil means context.Background().
	Context context.Context
	// Root reports whether the process runs as root: a server without
	// listen then listens on *:80, otherwise on *:8000, as nginx does.
	Root bool
}

// DefaultsMode is the value of the main-context "defaults" directive: which
// set of defaults (gatehouse's secure ones or nginx 1.28's) applies.
type DefaultsMode int

const (
	// DefaultsSecure verifies upstreams, sends SNI and keeps connections
	// alive by default; see defaults.md.
	DefaultsSecure DefaultsMode = iota
	// DefaultsNginx reproduces nginx 1.28's defaults exactly.
	DefaultsNginx
)

// String is the directive's word for the mode.
func (m DefaultsMode) String() string {
	if m == DefaultsNginx {
		return "nginx"
	}
	return "secure"
}

// Config is a compiled configuration: every value parsed, inheritance
// resolved and defaults applied. It is never modified after Compile.
type Config struct {
	Defaults    DefaultsMode
	DefaultsPos nginxconf.Pos // zero when "defaults" was not written

	// Daemon is the "daemon" flag (default on). gatehouse never forks;
	// the CLI decides what "on" means.
	Daemon bool
	// PID is the absolute pid file path (default PREFIX/logs/gatehouse.pid).
	PID string
	// ErrorLogs are the main-context error_log directives, or the default
	// PREFIX/logs/error.log at level error when there is none.
	ErrorLogs []ErrorLog
	// WorkerProcesses is the worker_processes value; 0 means "auto". It
	// sizes the upstream keep-alive pools (keepalive N is per worker).
	WorkerProcesses    int
	WorkerRlimitNofile int // 0 when unset
	// User and Group are set only when "user root" was accepted while
	// running as root; otherwise "user" was ignored with nginx's warning.
	User    string
	Group   string
	UserPos nginxconf.Pos // zero when "user" was not written
	Events  Events

	// HTTP is the http block, nil when the configuration has none.
	HTTP *HTTP

	// Warnings are the [warn] messages of the load in the order nginx
	// would print them: directive-time ones in document order, then those
	// of the checks made when the http block closes.
	Warnings []*nginxconf.Error
}

// Events is the events block; gatehouse accepts it for compatibility.
type Events struct {
	Present           bool
	WorkerConnections int // default 512
	Use               string
	MultiAccept       bool
}

// ErrorLog is one error_log directive.
type ErrorLog struct {
	// Path is absolute, or "stderr". syslog: and memory: targets are rejected.
	Path  string
	Level errorlog.Level
	Pos   nginxconf.Pos // zero for the built-in default
}

// HTTP is the compiled http block.
type HTTP struct {
	Pos     nginxconf.Pos
	Servers []*Server
	// Sockets are the distinct listening addresses, in first-listen order,
	// each with the servers that listen on it and its default server.
	Sockets []*Socket
	// Upstreams are the explicit upstream blocks and the implicit groups
	// made for proxy_pass host names, in order of first mention.
	Upstreams []*Upstream
	// LogFormats maps lowercased format names (including "combined").
	LogFormats map[string]*LogFormat
	// Maps are the map blocks in configuration order.
	Maps []*Map
}

// Socket is one listening address with the options nginx ORs across the
// listen directives naming it.
type Socket struct {
	// Addr is the address as nginx prints it ("0.0.0.0:80", "[::]:443",
	// "unix:/path").
	Addr string
	// AddrPort is the address to bind; invalid for unix sockets.
	AddrPort netip.AddrPort
	Unix     string // socket path for unix: listens
	SSL      bool
	// HTTP2 and ProxyProtocol are always false today: gatehouse rejects
	// "listen ... http2" and "listen ... proxy_protocol". They are kept so
	// that supporting either later does not change the type.
	HTTP2         bool
	ProxyProtocol bool
	Options       ListenOptions
	// Default is the default server: the one with default_server, or the
	// first server that listens here.
	Default *Server
	Servers []*Server
	// Ignored are server names nginx drops on this socket because an
	// earlier server here already has them ("conflicting server name").
	Ignored []IgnoredName
}

// IgnoredName is a server name that does not select its server on a socket.
type IgnoredName struct {
	Server *Server
	Name   string
}

// ListenOptions are the socket options of a listen directive; nginx
// allows them on one listen per address. Every one of them implies Bind.
type ListenOptions struct {
	Set       bool
	Backlog   int // 0: nginx's default, 511
	Rcvbuf    int // 0: not given
	Sndbuf    int // 0: not given
	ReusePort bool
	Bind      bool
	Deferred  bool
	// IPv6Only is nil when not given (nginx's default is on).
	IPv6Only *bool
	// SoKeepalive is so_keepalive: KeepaliveUnset leaves the system's
	// setting; tunables given (so_keepalive=30m::10) mean KeepaliveOn.
	SoKeepalive Keepalive
	// KeepIdle, KeepIntvl and KeepCnt are the so_keepalive tunables
	// (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT); 0 leaves the system's.
	KeepIdle  time.Duration
	KeepIntvl time.Duration
	KeepCnt   int
	FastOpen  int // TCP_FASTOPEN queue length; 0: not given
	// FastOpenSet tells "fastopen=0" from no fastopen.
	FastOpenSet bool
}

// Keepalive is the so_keepalive switch of a listening socket.
type Keepalive int

// so_keepalive values, as nginx numbers them.
const (
	KeepaliveUnset Keepalive = iota // not given: the system's default
	KeepaliveOn                     // SO_KEEPALIVE on
	KeepaliveOff                    // SO_KEEPALIVE off
)

// Listen is one listen directive of a server.
type Listen struct {
	Addr          string // as nginx prints it, e.g. "0.0.0.0:443"
	AddrPort      netip.AddrPort
	Unix          string
	DefaultServer bool
	SSL           bool
	HTTP2         bool // always false, see Socket.HTTP2
	ProxyProtocol bool // always false, see Socket.ProxyProtocol
	Options       ListenOptions
	// Implicit is true for the listen a server gets when it has none.
	Implicit bool
	Pos      nginxconf.Pos
}

// ServerNameKind says how a server name matches a host.
type ServerNameKind int

// Server name kinds, in nginx's search priority.
const (
	NameExact    ServerNameKind = iota // example.com, or "" for no Host
	NameWildLead                       // *.example.com
	NameWildDot                        // .example.com: example.com and *.example.com
	NameWildTail                       // mail.*
	NameRegex                          // ~regex
)

// ServerName is one server_name argument.
type ServerName struct {
	// Name is lowercased (regexes keep their case and lose the "~").
	Name   string
	Kind   ServerNameKind
	Regexp *regexp.Regexp // for NameRegex
}

// Server is one server block with its settings merged from http.
type Server struct {
	Pos, End nginxconf.Pos
	Listens  []Listen
	// Names are the server_name arguments; Names[0] is the primary name
	// ("" when none was given).
	Names []ServerName

	Core ServerCore
	SSL  ServerSSL

	// Return is a server-level return, which runs before any location is
	// looked for; nil if none.
	Return *Return
	// Rewrite are the server level's rewrite-module statements in order.
	Rewrite []Stmt
	// Level holds the server-level location settings, used when no
	// location matches.
	Level *Location
	// Locations are the top-level locations in config order; nested ones
	// hang off Location.Children.
	Locations []*Location
}

// ServerCore are the core settings nginx keeps per server (http, server
// contexts only).
type ServerCore struct {
	ClientHeaderTimeout      time.Duration
	ClientHeaderBufferSize   int64
	LargeClientHeaderBuffers int
	LargeClientHeaderBufSize int64
	MergeSlashes             bool
	UnderscoresInHeaders     bool
	IgnoreInvalidHeaders     bool
	HTTP2                    bool // "http2 off" only; "http2 on" is rejected
	ProxyTempPath            string
}

// TempPath is a *_temp_path directive (ngx_path_t): the directory and the
// lengths of the hashed subdirectory levels under it, taken from the end
// of each file's ten-digit name ("1 2" puts 0000012345 in 5/34/).
type TempPath struct {
	Path   string
	Levels []int
	// Pos is where the directive is; none for the built-in default.
	Pos nginxconf.Pos
}

// CertKey is one certificate with its key, paths absolute unless they hold
// variables.
type CertKey struct {
	Certificate string
	Key         string
	Pos         nginxconf.Pos // the ssl_certificate directive
	KeyPos      nginxconf.Pos
}

// FilePos is a file named by a directive, with the directive's position.
type FilePos struct {
	Path string
	Pos  nginxconf.Pos
}

// ServerSSL is the server-side TLS configuration (ssl_* in http, server).
type ServerSSL struct {
	Certificates []CertKey
	Protocols    certs.ProtocolSet
	ProtocolsPos nginxconf.Pos
	// Ciphers is the OpenSSL cipher string; empty means Go's default
	// suites (defaults secure).
	Ciphers             string
	PreferServerCiphers bool
	SessionTimeout      time.Duration
	SessionTickets      bool
	// SessionTicketKeys are the ssl_session_ticket_key files in order (the
	// first encrypts new tickets, all decrypt); empty means keys made at
	// start.
	SessionTicketKeys []FilePos
	// PasswordFile is ssl_password_file ("" when unset): the passwords
	// tried in turn on encrypted ssl_certificate_key files.
	PasswordFile       string
	PasswordFilePos    nginxconf.Pos
	VerifyClient       tlsterm.VerifyMode
	VerifyClientPos    nginxconf.Pos
	VerifyDepth        int
	ClientCertificate  string
	TrustedCertificate string
	CRL                string
	ECDHCurve          string // "auto" or a colon-separated list
	ECDHCurvePos       nginxconf.Pos
	DHParam            string // accepted, no effect
	RejectHandshake    bool
	BufferSize         int64
}

// Location is one location block with fully merged settings.
type Location struct {
	Pos, End nginxconf.Pos
	Kind     route.Modifier
	Name     string
	Regexp   *regexp.Regexp
	Children []*Location

	// ProxyPass is this location's own proxy_pass (never inherited), nil
	// when the location does not proxy.
	ProxyPass *ProxyPass
	Proxy     Proxy
	ProxySSL  ProxySSL
	Core      LocationCore
	// Return is the location's return directive, nil if none.
	Return *Return
	// Rewrite are the location's rewrite-module statements in order
	// (return, rewrite, set, break, if).
	Rewrite []Stmt
	// AddHeaders are the add_header directives in effect (this level's,
	// or the nearest enclosing level's that has any), in config order.
	AddHeaders []AddHeader
	// Access are the allow and deny rules in effect (this level's, or
	// the nearest enclosing level's that has any), in config order;
	// Satisfy is SatisfyAll or SatisfyAny.
	Access  []AccessRule
	Satisfy uint64
	// RealIP is the realip module's configuration.
	RealIP RealIP
}

// LocationCore are core settings valid in locations.
type LocationCore struct {
	ClientMaxBodySize int64 // 0 = unlimited
	ClientBodyTimeout time.Duration
	SendTimeout       time.Duration
	KeepaliveTimeout  time.Duration
	KeepaliveHeader   time.Duration // second keepalive_timeout value, 0 if none
	KeepaliveRequests int
	KeepaliveTime     time.Duration
	ServerTokens      bool
	// RewriteLog is rewrite_log; UninitWarn is
	// uninitialized_variable_warn (default on).
	RewriteLog, UninitWarn bool
	Root                   string
	AccessLogs             []AccessLog // empty slice when "access_log off"
	ErrorLogs              []ErrorLog  // nil: use the main error log
	// DefaultType is default_type (default "text/plain"): the type of a
	// generated response whose URI extension is not in Types.
	DefaultType string
	// Types maps lowercased URI extensions to MIME types: the types
	// blocks of the nearest level that has any, else nginx's built-in
	// html, gif and jpg. It is shared between locations and read-only.
	Types map[string]string
	// ErrorPages are the error_page entries in effect, one per status
	// code, in config order.
	ErrorPages []ErrorPage
	// ClientBodyBufferSize is client_body_buffer_size: how much of a
	// request body is held in memory; a longer body goes to a file in
	// ClientBodyTempPath (default two memory pages, as nginx's).
	ClientBodyBufferSize     int64
	ClientBodyTempPath       TempPath
	ClientBodyInFileOnly     tempfile.InFile
	ClientBodyInSingleBuffer bool
}

// ErrorPage is one status code of an error_page directive. gatehouse
// accepts only URIs that are full http:// or https:// URLs (possibly
// with variables): nginx answers those with a redirect.
type ErrorPage struct {
	Status int
	// Overwrite is the "=CODE" response code, 0 for a bare "=", -1 when
	// none was given. With a URL the answer is a redirect: Overwrite if
	// it is 301, 302, 303, 307 or 308, else 302.
	Overwrite int
	// URI is raw and may hold variables.
	URI string
	Pos nginxconf.Pos
}

// RedirectStatus is the status nginx answers an error_page URL with.
func (e *ErrorPage) RedirectStatus() int {
	switch e.Overwrite {
	case 301, 302, 303, 307, 308:
		return e.Overwrite
	}
	return 302
}

// AddHeader is one add_header directive; Value is raw (variables are
// compiled by the variables package). An empty Value adds nothing.
type AddHeader struct {
	Name  string
	Value string
	// Always adds the field whatever the status; otherwise only to 200,
	// 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses.
	Always bool
	Pos    nginxconf.Pos
}

// AddHeaderStatus reports whether add_header without "always" applies to
// a response with status code (ngx_http_headers_filter's list).
func AddHeaderStatus(code int) bool {
	switch code {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

// AccessLog is one access_log directive.
type AccessLog struct {
	Path   string // absolute, may hold variables (raw)
	Format *LogFormat
	Buffer int64
	Flush  time.Duration
	If     string // raw condition, "" when none
	Pos    nginxconf.Pos
}

// LogFormat is a named log_format: Strings are its raw strings, which
// the accesslog package compiles with the registry of the generation.
type LogFormat struct {
	Name    string
	Escape  accesslog.Escape
	Strings []string
	Pos     nginxconf.Pos // zero for the predefined "combined"
}

// Return is the return directive.
type Return struct {
	Code int    // 302 for "return URL"
	Text string // raw text or URL, may hold variables
	Pos  nginxconf.Pos
}

// ProxyPass is a parsed proxy_pass URL.
type ProxyPass struct {
	Raw string // as written
	// HasVariables means the URL is evaluated per request; the other
	// fields are then empty except Raw and Pos.
	HasVariables bool
	HTTPS        bool
	// Host is the host as written (case kept, IPv6 in brackets) or the
	// upstream name; "unix:/path" for a unix socket.
	Host string
	Port int // explicit or the scheme's default
	// URI is the URI part ("" when none, "/" counts as one).
	URI    string
	HasURI bool
	// Upstream is the group to proxy to: an explicit upstream block or the
	// implicit group for a host name or address.
	Upstream *Upstream
	// ProxyHost and ProxyPort are the values of $proxy_host and $proxy_port.
	ProxyHost string
	ProxyPort string
	Pos       nginxconf.Pos

	up *upRaw
}

// HTTPVersion is proxy_http_version.
type HTTPVersion int

// proxy_http_version values.
const (
	HTTP10 HTTPVersion = iota
	HTTP11
)

// Header is one proxy_set_header entry; Value is raw (variables are
// compiled by the variables package).
type Header struct {
	Name  string
	Value string
	Pos   nginxconf.Pos // zero for a built-in default
}

// Redirect is one proxy_redirect rule.
type Redirect struct {
	Default     bool // "proxy_redirect default"
	Pattern     string
	Replacement string
	// Regex is true for ~ and ~* patterns; Caseless for ~*.
	Regex    bool
	Caseless bool
	Pos      nginxconf.Pos
}

// Proxy holds the merged proxy_* settings of a location (other than TLS).
type Proxy struct {
	// SetHeaders are the proxy_set_header entries in effect followed by
	// the built-in defaults not overridden by name (nginx.md §5.3), in the
	// order they go on the wire.
	SetHeaders          []Header
	HTTPVersion         HTTPVersion
	ConnectTimeout      time.Duration
	ReadTimeout         time.Duration
	SendTimeout         time.Duration
	NextUpstream        upstream.NextUpstream
	NextUpstreamTries   int
	NextUpstreamTimeout time.Duration
	PassRequestHeaders  bool
	PassRequestBody     bool
	Buffering           bool
	RequestBuffering    bool
	BufferSize          int64
	// Buffers and BufferBytes are proxy_buffers (number and size of the
	// buffers for one response); BusyBuffersSize is
	// proxy_busy_buffers_size, defaulted to twice the larger of
	// BufferSize and BufferBytes as nginx does.
	Buffers         int
	BufferBytes     int64
	BusyBuffersSize int64
	// HideHeaders and PassHeaders are lowercased names.
	HideHeaders       []string
	PassHeaders       []string
	Redirects         []Redirect // nil when "off"
	InterceptErrors   bool
	IgnoreClientAbort bool
}

// ProxySSL holds the merged proxy_ssl_* settings of a location.
type ProxySSL struct {
	Verify    bool
	VerifyPos nginxconf.Pos // zero when defaulted; see DefaultPos
	// TrustedCertificate is empty when unset: under defaults secure the
	// system trust store is used.
	TrustedCertificate    string
	TrustedCertificatePos nginxconf.Pos
	VerifyDepth           int
	VerifyDepthPos        nginxconf.Pos
	// Name is the raw proxy_ssl_name; empty means the proxy_pass host.
	Name           string
	NamePos        nginxconf.Pos
	ServerName     bool
	ServerNamePos  nginxconf.Pos
	Certificate    string // may hold variables (raw)
	CertificateKey string
	CertificatePos nginxconf.Pos
	Protocols      certs.ProtocolSet
	ProtocolsPos   nginxconf.Pos
	// Ciphers is the OpenSSL cipher string; empty means Go's defaults.
	Ciphers      string
	CiphersPos   nginxconf.Pos
	SessionReuse bool
	CRL          string
	// PasswordFile is proxy_ssl_password_file ("" when unset), for an
	// encrypted proxy_ssl_certificate_key.
	PasswordFile    string
	PasswordFilePos nginxconf.Pos
	// DefaultPos is the location's own position, named in messages about a
	// defaulted setting.
	DefaultPos nginxconf.Pos
}

// Upstream is an upstream group, explicit (an upstream block) or implicit
// (made for a proxy_pass host).
type Upstream struct {
	Name     string // lowercased for explicit groups; host[:port] text for implicit ones
	Implicit bool
	Pos, End nginxconf.Pos
	Servers  []*UpstreamServer
	Method   upstream.Method
	// HashKey is the raw hash key (variables compiled elsewhere).
	HashKey           string
	Keepalive         int // idle connections cached; 0 = none
	KeepaliveRequests int
	KeepaliveTime     time.Duration
	KeepaliveTimeout  time.Duration
}

// UpstreamServer is one server line of a group, with its addresses
// resolved at load.
type UpstreamServer struct {
	// Address is the text as written ("backend1.example.com:443"),
	// used as the ketama point key and in messages.
	Address     string
	Host        string
	Port        int
	Addrs       []netip.AddrPort
	Unix        string
	Weight      int
	MaxFails    int
	FailTimeout time.Duration
	Backup      bool
	Down        bool
	MaxConns    int
	Pos         nginxconf.Pos
}
