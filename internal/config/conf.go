package config

import (
	"reflect"
	"time"

	"gatehouse/internal/nginxconf"
)

// opt is one setting at one level: its value, where it was set, and
// whether it was. Merging copies an unset opt from the parent level.
type opt[T any] struct {
	V   T
	Pos nginxconf.Pos
	Set bool
}

// conf holds every setting that is inherited http → server → location.
// Field names are exported only so that merge can copy them by
// reflection; the type itself stays private.
type conf struct {
	// core, http/server/location
	ClientMaxBodySize opt[int64]
	ClientBodyTimeout opt[time.Duration]
	SendTimeout       opt[time.Duration]
	KeepaliveTimeout  opt[[2]time.Duration]
	KeepaliveRequests opt[int]
	KeepaliveTime     opt[time.Duration]
	ServerTokens      opt[bool]
	Root              opt[string]
	DefaultType       opt[string]
	Types             opt[*mimeTypes]
	ErrorPages        opt[[]ErrorPage]
	AddHeaders        opt[[]AddHeader]
	TypesHashMax      opt[int]
	TypesHashBucket   opt[int]
	Sendfile          opt[bool]
	RewriteLog        opt[bool]
	UninitWarn        opt[bool]
	TCPNopush         opt[bool]
	Gzip              opt[bool]
	AccessLogs        opt[accessLogs]
	ErrorLogs         opt[[]ErrorLog]
	ClientBodyTemp    opt[TempPath]
	ProxyTemp         opt[TempPath]
	FastCGITemp       opt[TempPath]
	UWSGITemp         opt[TempPath]
	SCGITemp          opt[TempPath]
	ClientBodyBuffer  opt[int64]
	BodyInFileOnly    opt[uint64]
	BodyInSingleBuf   opt[bool]
	Satisfy           opt[uint64]

	// access, realip
	AccessRules     opt[[]AccessRule]
	RealIPFrom      opt[[]TrustedFrom]
	RealIPHeader    opt[string]
	RealIPRecursive opt[bool]

	// core, http/server
	ClientHeaderTimeout    opt[time.Duration]
	ClientHeaderBufferSize opt[int64]
	LargeHeaderBuffers     opt[[2]int64]
	MergeSlashes           opt[bool]
	Underscores            opt[bool]
	IgnoreInvalidHeaders   opt[bool]
	HTTP2                  opt[bool]

	// proxy
	SetHeaders          opt[[]Header]
	HTTPVersion         opt[uint64]
	ConnectTimeout      opt[time.Duration]
	ReadTimeout         opt[time.Duration]
	ProxySendTimeout    opt[time.Duration]
	NextUpstream        opt[uint64]
	NextUpstreamTries   opt[int]
	NextUpstreamTimeout opt[time.Duration]
	PassRequestHeaders  opt[bool]
	PassRequestBody     opt[bool]
	Buffering           opt[bool]
	RequestBuffering    opt[bool]
	BufferSize          opt[int64]
	Buffers             opt[[2]int64]
	BusyBuffersSize     opt[int64]
	HideHeaders         opt[[]string]
	PassHeaders         opt[[]string]
	Redirects           opt[[]Redirect]
	InterceptErrors     opt[bool]
	IgnoreClientAbort   opt[bool]

	// proxy_ssl
	PSSLVerify       opt[bool]
	PSSLTrusted      opt[string]
	PSSLDepth        opt[int]
	PSSLName         opt[string]
	PSSLServerName   opt[bool]
	PSSLCert         opt[string]
	PSSLKey          opt[string]
	PSSLProtocols    opt[uint64]
	PSSLCiphers      opt[string]
	PSSLSessionReuse opt[bool]
	PSSLCRL          opt[string]
	PSSLPasswordFile opt[string]

	// ssl (server side), http/server
	SSLCerts          opt[[]posStr]
	SSLKeys           opt[[]posStr]
	SSLProtocols      opt[uint64]
	SSLCiphers        opt[string]
	SSLPrefer         opt[bool]
	SSLSessionTimeout opt[time.Duration]
	SSLTickets        opt[bool]
	SSLVerifyClient   opt[uint64]
	SSLVerifyDepth    opt[int]
	SSLClientCert     opt[string]
	SSLTrustedCert    opt[string]
	SSLCRL            opt[string]
	SSLECDHCurve      opt[string]
	SSLDHParam        opt[string]
	SSLReject         opt[bool]
	SSLBufferSize     opt[int64]
	// "ssl on", nginx 1.22's form of "listen ... ssl".
	SSLEnable opt[bool]

	// Hash sizes nginx tunes its lookup tables with; gatehouse's tables
	// are Go maps, so they are checked and have no effect.
	ServerNamesHashMax     opt[int]
	ServerNamesHashBucket  opt[int]
	VariablesHashMax       opt[int]
	VariablesHashBucket    opt[int]
	ProxyHeadersHashMax    opt[int]
	ProxyHeadersHashBucket opt[int]
	SSLPasswordFile        opt[string]
	SSLTicketKeys          opt[[]posStr]
	MapHashMax             opt[int]
	MapHashBucket          opt[int]
}

// posStr is a string argument with the position of its directive.
type posStr struct {
	S   string
	Pos nginxconf.Pos
}

// accessLogs are the access_log directives of one level; Off wins over
// any others at the same level, as in nginx.
type accessLogs struct {
	Off  bool
	Logs []AccessLog
}

// merge fills every unset setting of c from parent (nginx's merge_loc_conf
// with "inner value if set, else the parent's").
func (c *conf) merge(parent *conf) {
	cv := reflect.ValueOf(c).Elem()
	pv := reflect.ValueOf(parent).Elem()
	for i := range cv.NumField() {
		f := cv.Field(i)
		if !f.FieldByName("Set").Bool() {
			f.Set(pv.Field(i))
		}
	}
}

// or returns o's value when set, else def.
func (o opt[T]) or(def T) T {
	if o.Set {
		return o.V
	}
	return def
}
