package proxy

import (
	"time"

	"gatehouse/internal/nginxconf"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/upstream"
)

// Options are a proxy_pass location's settings in the proxy's own terms,
// inheritance resolved; the server fills them from the configuration, so
// the proxy knows nothing of how they were written.
type Options struct {
	// Location is the location's name (a prefix or exact URI), which a
	// proxy_pass URI part replaces.
	Location string
	Pass     Pass
	// SetHeaders are the proxy_set_header entries in effect, the
	// built-in Host, Connection, Content-Length and Transfer-Encoding
	// ones included; HideHeaders and PassHeaders are
	// proxy_hide_header and proxy_pass_header.
	SetHeaders               []Header
	HideHeaders, PassHeaders []string
	// Redirects are the proxy_redirect rules; none for off.
	Redirects []Redirect

	HTTP11                                   bool // proxy_http_version 1.1
	ConnectTimeout, ReadTimeout, SendTimeout time.Duration
	NextUpstream                             upstream.NextUpstream
	NextUpstreamTries                        int
	NextUpstreamTimeout                      time.Duration
	PassRequestHeaders, PassRequestBody      bool
	RequestBuffering                         bool
	// Buffering is proxy_buffering; Buffers and BufferBytes are
	// proxy_buffers, BufferSize proxy_buffer_size.
	Buffering               bool
	Buffers                 int
	BufferBytes, BufferSize int64
	InterceptErrors         bool
	IgnoreClientAbort       bool
	ClientBodyBufferSize    int64           // client_body_buffer_size
	ClientBodyTemp          tempfile.Path   // client_body_temp_path
	ClientBodyInFile        tempfile.InFile // client_body_in_file_only
	ClientSendTimeout       time.Duration   // send_timeout
}

// Pass is the proxy_pass URL, taken apart.
type Pass struct {
	// Raw is the URL as written; URI its URI part (HasURI when it has
	// one, even "/").
	Raw, URI string
	HasURI   bool
	HTTPS    bool
	// ProxyHost and ProxyPort are $proxy_host and $proxy_port.
	ProxyHost, ProxyPort string
}

// Header is one proxy_set_header entry.
type Header struct {
	Name, Value string
	Pos         nginxconf.Pos // zero for a built-in default
}

// Redirect is one proxy_redirect rule.
type Redirect struct {
	Default              bool // "proxy_redirect default"
	Pattern, Replacement string
	Regex                bool // ~ and ~* patterns
	Pos                  nginxconf.Pos
}
