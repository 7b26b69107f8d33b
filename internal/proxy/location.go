package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/request"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/upstream"
	"gatehouse/internal/variables"
)

// TLSClient makes the TLS handshake towards an upstream peer for one
// location TLS context (proxy_ssl_*). Its errors are classified with
// errors.As by Explain.
type TLSClient interface {
	// Handshake runs the handshake on raw, which is connected to the peer
	// at addr ("10.0.0.1:443"), and verifies the peer as configured.
	Handshake(ctx context.Context, raw net.Conn, addr string) (net.Conn, error)
	// Scope names the TLS context, so pooled connections are not shared
	// between contexts with different names, certificates or trust.
	Scope() string
}

// TLSNameClient is a TLSClient whose proxy_ssl_name has variables: the
// name is evaluated per request (ngx_http_upstream_ssl_name), its port
// stripped, and used for SNI and the name check.
type TLSNameClient interface {
	TLSClient
	// NameTemplate is the compiled proxy_ssl_name; nil when it is
	// constant (Handshake then uses it).
	NameTemplate() *variables.Template
	// SSLName turns the evaluated template into the name sent and
	// checked (its port stripped).
	SSLName(evaluated []byte) string
	// HandshakeName is Handshake with a name from SSLName.
	HandshakeName(ctx context.Context, raw net.Conn, addr, name string) (net.Conn, error)
}

// setHeader is one compiled proxy_set_header entry.
type setHeader struct {
	name  []byte
	value *variables.Template
	// special marks the built-in Content-Length / Transfer-Encoding
	// entries, whose values the proxy computes from the body.
	special byte
	// anyByte is set when the value may hold CR, LF or NUL at run time
	// (variables.Template.AnyByte); such a value is checked before the
	// request goes upstream.
	anyByte bool
	pos     nginxconf.Pos // the directive, for the refusal's log line
}

// redirectRule is one compiled proxy_redirect rule with a literal
// pattern: a Location starting with from has that prefix replaced by to
// (evaluated per request) or toLit.
type redirectRule struct {
	from  string
	to    *variables.Template
	toLit string
}

const (
	specialNone = iota
	specialContentLength
	specialChunked
)

// Location is a compiled proxy_pass location: immutable, shared by every
// request that lands in it.
type Location struct {
	env   *request.Env
	group *upstream.Group
	tls   TLSClient
	// sslName is proxy_ssl_name when it has variables (tls is then a
	// TLSNameClient); nil otherwise.
	sslName *variables.Template
	// scheme is "http://" or "https://", for the log's upstream URL.
	scheme string
	// name is the location's name (a prefix or exact URI), replaced by uri
	// when the proxy_pass URL has a URI part.
	name   string
	uri    string
	hasURI bool

	proxyHost, proxyPort string

	headers []setHeader
	// skip holds the lowercased names of the headers set above; the
	// client's headers of those names are not forwarded.
	skip []string
	// hide holds the lowercased response headers not passed to the client.
	hide []string

	http11         bool
	keepalive      bool
	connectTimeout time.Duration
	passHeaders    bool
	passBody       bool
	nextUpstream   upstream.NextUpstream
	tries          int
	triesTimeout   time.Duration
	up             *http1.UpstreamOptions
	hashKey        *variables.Template
	// bodyBuf is client_body_buffer_size; longer bodies are written to a
	// file in temp (client_body_temp_path), numbered by nums, and
	// inFile is client_body_in_file_only.
	bodyBuf int64
	temp    tempfile.Path
	nums    *tempfile.Numbers
	inFile  tempfile.InFile
	// unbuffered is proxy_request_buffering off with the body passed:
	// the body is streamed as it arrives, and not retried once sent.
	unbuffered bool
	// clientSendTimeout is send_timeout, for writes to the client in an
	// upgraded connection.
	clientSendTimeout time.Duration
	// redirects are the proxy_redirect rules, in order; none when off.
	redirects []redirectRule
	// buffering is proxy_buffering, which an upstream's X-Accel-Buffering
	// overrides per response. readAhead is proxy_buffers' total, what is
	// read ahead of the client with buffering; chunk is
	// proxy_buffer_size, the largest read passed on at once without.
	buffering bool
	readAhead int
	chunk     int
	// intercept is proxy_intercept_errors; ignoreAbort is
	// proxy_ignore_client_abort.
	intercept   bool
	ignoreAbort bool
}

// Compile builds the proxy handler of a location from its settings.
// group is the upstream group proxy_pass names, and tls the location's TLS
// context (nil for http://).
func Compile(env *request.Env, o *Options, group *upstream.Group, tls TLSClient, hashKey *variables.Template, reg *variables.Registry) (*Location, error) {
	pp := &o.Pass
	px := o
	l := &Location{
		env:               env,
		group:             group,
		tls:               tls,
		scheme:            "http://",
		name:              o.Location,
		uri:               pp.URI,
		hasURI:            pp.HasURI,
		proxyHost:         pp.ProxyHost,
		proxyPort:         pp.ProxyPort,
		http11:            px.HTTP11,
		connectTimeout:    px.ConnectTimeout,
		passHeaders:       px.PassRequestHeaders,
		passBody:          px.PassRequestBody,
		tries:             px.NextUpstreamTries,
		triesTimeout:      px.NextUpstreamTimeout,
		bodyBuf:           o.ClientBodyBufferSize,
		temp:              o.ClientBodyTemp,
		inFile:            o.ClientBodyInFile,
		unbuffered:        !px.RequestBuffering && px.PassRequestBody,
		hashKey:           hashKey,
		clientSendTimeout: o.ClientSendTimeout,
		buffering:         px.Buffering,
		readAhead:         max(px.Buffers, 1) * int(max(px.BufferBytes, 1)),
		chunk:             int(max(px.BufferSize, 1)),
		intercept:         px.InterceptErrors,
		ignoreAbort:       px.IgnoreClientAbort,
		up: &http1.UpstreamOptions{
			BufferSize:  int(px.BufferSize),
			ReadTimeout: px.ReadTimeout,
			SendTimeout: px.SendTimeout,
		},
	}
	if env != nil {
		l.nums = env.TempNumbers
	}
	if l.nums == nil {
		l.nums = tempfile.NewNumbers(0)
	}
	if pp.HTTPS {
		l.scheme = "https://"
	}
	if nc, ok := tls.(TLSNameClient); ok {
		l.sslName = nc.NameTemplate()
	}
	l.nextUpstream = px.NextUpstream
	for _, rd := range px.Redirects {
		switch {
		case rd.Default:
			// nginx.md §5.6: the proxy_pass URL as written (plus "/" when
			// it has no URI part) is replaced by the location name (or "/").
			from := strings.TrimSuffix(pp.Raw, pp.URI)
			if pp.HasURI {
				l.redirects = append(l.redirects, redirectRule{from: from + pp.URI, toLit: o.Location})
			} else {
				l.redirects = append(l.redirects, redirectRule{from: from + "/", toLit: "/"})
			}
		case rd.Regex || strings.Contains(rd.Pattern, "$"):
			return nil, at(rd.Pos, errors.New("proxy_redirect with a regular expression or variables in the pattern is not supported yet"))
		default:
			rule := redirectRule{from: rd.Pattern, toLit: rd.Replacement}
			if strings.ContainsAny(rd.Replacement, unsafeBytes) {
				return nil, at(rd.Pos, fmt.Errorf("%w in the replacement of \"proxy_redirect\"", ErrUnsafeConfigValue))
			}
			if strings.Contains(rd.Replacement, "$") {
				t, err := reg.Compile(rd.Replacement)
				if err != nil {
					return nil, at(rd.Pos, err)
				}
				rule.to = t
			}
			l.redirects = append(l.redirects, rule)
		}
	}
	connectionEmpty := false
	for _, h := range px.SetHeaders {
		sh := setHeader{name: []byte(h.Name), pos: h.Pos}
		if strings.ContainsAny(h.Name, unsafeBytes) || strings.ContainsAny(h.Value, unsafeBytes) {
			return nil, at(h.Pos, fmt.Errorf("%w in \"proxy_set_header\" %q", ErrUnsafeConfigValue, h.Name))
		}
		switch {
		case strings.EqualFold(h.Name, "Content-Length") && h.Value == "$proxy_internal_body_length":
			sh.special = specialContentLength
		case strings.EqualFold(h.Name, "Transfer-Encoding") && h.Value == "$proxy_internal_chunked":
			sh.special = specialChunked
		default:
			t, err := reg.Compile(h.Value)
			if err != nil {
				return nil, at(h.Pos, err)
			}
			sh.value = t
			sh.anyByte = t.AnyByte()
			if strings.EqualFold(h.Name, "Connection") && t.IsConstant() && t.Value() == "" {
				connectionEmpty = true
			}
		}
		l.headers = append(l.headers, sh)
		l.skip = append(l.skip, strings.ToLower(h.Name))
	}
	l.keepalive = l.http11 && connectionEmpty
	l.hide = []string{"connection", "keep-alive", "transfer-encoding", "content-length",
		"date", "server", "x-pad", "x-accel-expires", "x-accel-redirect",
		"x-accel-limit-rate", "x-accel-buffering", "x-accel-charset"}
	for _, h := range px.HideHeaders {
		l.hide = append(l.hide, strings.ToLower(h))
	}
	if len(px.PassHeaders) > 0 {
		kept := l.hide[:0]
		for _, h := range l.hide {
			pass := false
			for _, p := range px.PassHeaders {
				if strings.EqualFold(p, h) && h != "connection" && h != "keep-alive" && h != "transfer-encoding" && h != "content-length" {
					pass = true
				}
			}
			if !pass {
				kept = append(kept, h)
			}
		}
		l.hide = kept
	}
	return l, nil
}

// ErrUnsafeConfigValue is Compile's error for a header name or value, or
// a proxy_redirect replacement, whose configuration text holds CR, LF or
// NUL: sent as is it would split the header (nginx sends it).
var ErrUnsafeConfigValue = errors.New("CR, LF or NUL")

// unsafeBytes are the bytes no header line may carry inside a field.
const unsafeBytes = "\r\n\x00"

// ErrVariablePass is Compile's error for a proxy_pass URL with variables,
// which gatehouse does not evaluate per request yet.
var ErrVariablePass = errors.New("proxy_pass with variables is not supported yet")

// at gives err the position of the directive it concerns, as the
// configuration's errors read ("MSG in FILE:LINE"); a built-in default
// has no position, and err is returned for the caller to place.
func at(pos nginxconf.Pos, err error) error {
	if pos.File == "" {
		return err
	}
	return &nginxconf.Error{Pos: pos, Msg: err.Error(), Err: err}
}

// hasName reports whether name (any case) is in the lowercased list.
func hasName(list []string, name []byte) bool {
	for _, s := range list {
		if len(s) == len(name) && asciiEqualFold(s, name) {
			return true
		}
	}
	return false
}

func asciiEqualFold(s string, b []byte) bool {
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if s[i] != c {
			return false
		}
	}
	return true
}
