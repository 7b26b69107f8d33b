package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
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

// setHeader is one compiled proxy_set_header entry.
type setHeader struct {
	name  []byte
	value *variables.Template
	// special marks the built-in Content-Length / Transfer-Encoding
	// entries, whose values the proxy computes from the body.
	special byte
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
	env   *Env
	group *upstream.Group
	tls   TLSClient
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
	inFile  config.BodyInFile
	// unbuffered is proxy_request_buffering off with the body passed:
	// the body is streamed as it arrives, and not retried once sent.
	unbuffered bool
	// clientSendTimeout is send_timeout, for writes to the client in an
	// upgraded connection.
	clientSendTimeout time.Duration
	// redirects are the proxy_redirect rules, in order; none when off.
	redirects []redirectRule
}

// Compile builds the proxy handler of a location from its merged settings.
// group is the upstream group proxy_pass names, and tls the location's TLS
// context (nil for http://).
func Compile(env *Env, loc *config.Location, group *upstream.Group, tls TLSClient, hashKey *variables.Template, reg *variables.Registry) (*Location, error) {
	pp := loc.ProxyPass
	if pp == nil {
		return nil, fmt.Errorf("location %q has no proxy_pass", loc.Name)
	}
	if pp.HasVariables {
		return nil, ErrVariablePass
	}
	px := &loc.Proxy
	l := &Location{
		env:               env,
		group:             group,
		tls:               tls,
		scheme:            "http://",
		name:              loc.Name,
		uri:               pp.URI,
		hasURI:            pp.HasURI,
		proxyHost:         pp.ProxyHost,
		proxyPort:         pp.ProxyPort,
		http11:            px.HTTPVersion == config.HTTP11,
		connectTimeout:    px.ConnectTimeout,
		passHeaders:       px.PassRequestHeaders,
		passBody:          px.PassRequestBody,
		tries:             px.NextUpstreamTries,
		triesTimeout:      px.NextUpstreamTimeout,
		bodyBuf:           loc.Core.ClientBodyBufferSize,
		temp:              tempfile.Path{Dir: loc.Core.ClientBodyTempPath.Path, Levels: loc.Core.ClientBodyTempPath.Levels},
		inFile:            loc.Core.ClientBodyInFileOnly,
		unbuffered:        !px.RequestBuffering && px.PassRequestBody,
		hashKey:           hashKey,
		clientSendTimeout: loc.Core.SendTimeout,
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
	nu, err := nextUpstreamMask(px.NextUpstream)
	if err != nil {
		return nil, fmt.Errorf("location %q: %w", loc.Name, err)
	}
	l.nextUpstream = nu
	for _, rd := range px.Redirects {
		switch {
		case rd.Default:
			// nginx.md §5.6: the proxy_pass URL as written (plus "/" when
			// it has no URI part) is replaced by the location name (or "/").
			from := strings.TrimSuffix(pp.Raw, pp.URI)
			if pp.HasURI {
				l.redirects = append(l.redirects, redirectRule{from: from + pp.URI, toLit: loc.Name})
			} else {
				l.redirects = append(l.redirects, redirectRule{from: from + "/", toLit: "/"})
			}
		case rd.Regex || strings.Contains(rd.Pattern, "$"):
			return nil, at(rd.Pos, errors.New("proxy_redirect with a regular expression or variables in the pattern is not supported yet"))
		default:
			rule := redirectRule{from: rd.Pattern, toLit: rd.Replacement}
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
		sh := setHeader{name: []byte(h.Name)}
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
