package request

import (
	"bytes"
	"encoding/base64"
	"strconv"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/route"
	"gatehouse/internal/variables"
)

// Var answers a variable for the request (variables.Source).
func (x *Ctx) Var(id variables.ID, arg, dst []byte) ([]byte, bool) {
	r := &x.Req
	switch id {
	case variables.Host:
		return append(dst, x.Host...), true
	case variables.RemoteAddr:
		return append(dst, x.RemoteIP()...), true
	case variables.RemotePort:
		return append(dst, x.RemotePort()...), true
	case variables.RealIPRemoteAddr:
		return append(dst, x.Conn.RemoteIP...), true
	case variables.RealIPRemotePort:
		return append(dst, x.Conn.RemotePort...), true
	case variables.ServerAddr:
		return append(dst, x.Conn.ServerAddr...), true
	case variables.ServerPort:
		return append(dst, x.Conn.ServerPort...), true
	case variables.ServerName:
		return append(dst, x.ServerName...), true
	case variables.ServerProtocol:
		return append(dst, r.Proto...), r.Proto != nil
	case variables.Scheme:
		if x.Conn.TLS != nil {
			return append(dst, "https"...), true
		}
		return append(dst, "http"...), true
	case variables.Request:
		return append(dst, r.Line...), r.Line != nil
	case variables.RequestMethod:
		return append(dst, r.Method...), r.Method != nil
	case variables.RequestURI:
		return append(dst, r.Target...), r.Target != nil
	case variables.URI:
		return append(dst, x.URI.Path...), x.URI.Path != nil
	case variables.Args:
		return append(dst, x.URI.Args...), x.URI.Args != nil
	case variables.IsArgs:
		if len(x.URI.Args) > 0 {
			return append(dst, '?'), true
		}
		return dst, true
	case variables.ContentType:
		v := r.Header.Get("Content-Type")
		return append(dst, v...), v != nil
	case variables.ContentLength:
		v := r.Header.Get("Content-Length")
		return append(dst, v...), v != nil
	case variables.Status:
		return variables.AppendStatus(dst, http1.WireStatus(x.status())), true
	case variables.BodyBytesSent:
		return strconv.AppendInt(dst, x.W.BodyBytesSent(), 10), true
	case variables.BytesSent:
		return strconv.AppendInt(dst, x.W.BytesSent(), 10), true
	case variables.RequestTime:
		return variables.AppendSeconds(dst, x.Env.Now().Sub(x.Start)), true
	case variables.RequestID:
		if len(x.requestID) == 0 {
			x.requestID, _ = variables.AppendRequestID(x.requestID[:0], x.Env.Rand)
		}
		return append(dst, x.requestID...), true
	case variables.Connection:
		return strconv.AppendUint(dst, x.W.ConnID(), 10), true
	case variables.ConnectionRequests:
		return strconv.AppendInt(dst, int64(x.W.Requests()), 10), true
	case variables.Msec:
		return variables.AppendMsec(dst, x.Env.Now()), true
	case variables.TimeLocal:
		return variables.AppendTimeLocal(dst, x.Env.Now()), true
	case variables.TimeISO8601:
		return variables.AppendTimeISO8601(dst, x.Env.Now()), true
	case variables.PID:
		return append(dst, x.Env.PID...), true
	case variables.Hostname:
		return append(dst, x.Env.Hostname...), true
	case variables.NginxVersion:
		return append(dst, variables.NginxRelease...), true
	case variables.ProxyHost:
		if !x.Upstream.Proxied {
			return dst, false
		}
		return append(dst, x.Upstream.ProxyHost...), true
	case variables.ProxyPort:
		if !x.Upstream.Proxied {
			return dst, false
		}
		return append(dst, x.Upstream.ProxyPort...), true
	case variables.ProxyAddXForwardedFor:
		return variables.AppendProxyAddXForwardedFor(dst, headerSeq(r.Header), x.RemoteIP()), true
	case variables.UpstreamAddr:
		return append(dst, x.Upstream.Addr...), len(x.Upstream.Addr) > 0
	case variables.UpstreamStatus:
		return append(dst, x.Upstream.Status...), len(x.Upstream.Status) > 0
	case variables.UpstreamConnectTime:
		return append(dst, x.Upstream.Connect...), len(x.Upstream.Connect) > 0
	case variables.UpstreamHeaderTime:
		return append(dst, x.Upstream.Header...), len(x.Upstream.Header) > 0
	case variables.UpstreamResponseTime:
		return append(dst, x.Upstream.Response...), len(x.Upstream.Response) > 0
	case variables.UpstreamResponseLength:
		return append(dst, x.Upstream.Length...), len(x.Upstream.Length) > 0
	case variables.HTTP:
		return variables.AppendHeader(dst, headerSeq(r.Header), arg)
	case variables.Cookie:
		return variables.AppendCookie(dst, headerSeq(r.Header), arg)
	case variables.Arg:
		return variables.AppendArg(dst, x.URI.Args, arg)
	case variables.UpstreamHTTP:
		if !x.Upstream.HasResp {
			return dst, false
		}
		return variables.AppendHeader(dst, headerSeq(x.Upstream.RespHeader), arg)
	case variables.BinaryRemoteAddr:
		a := x.ClientAddr()
		switch {
		case a.Is4():
			b := a.As4()
			return append(dst, b[:]...), true
		case a.Is6():
			b := a.As16()
			return append(dst, b[:]...), true
		}
		return dst, true
	case variables.RemoteUser:
		return appendBasicUser(dst, r.Header.Get("Authorization"))
	case variables.RequestLength:
		n := int64(r.HeaderLength)
		if r.Body != nil {
			n += r.Body.BytesRead()
		}
		return strconv.AppendInt(dst, n, 10), true
	case variables.SentHTTP:
		return x.appendSent(dst, arg)
	case variables.UpstreamCookie:
		if !x.Upstream.HasResp {
			return dst, false
		}
		return appendSetCookie(dst, x.Upstream.RespHeader, arg)
	case variables.SentTrailer, variables.UpstreamTrailer:
		// gatehouse sends and keeps no trailers.
		return dst, false
	case variables.Capture:
		n := variables.CaptureIndex(arg)
		v, ok := x.Caps.Group(n)
		return append(dst, v...), ok
	}
	if id >= variables.FirstDefined {
		i := int(id - variables.FirstDefined)
		if i < len(x.Env.Maps) && x.Env.Maps[i] != nil {
			return x.mapVar(x.Env.Maps[i], i, dst)
		}
		// A set variable has the value set last; the other variables a
		// configuration defines are named regex captures (arg is the
		// name): the last regex with a group of that name that matched,
		// the location's, else the server name's. A named capture kept
		// from a regex that a rewrite or if regex replaced comes after
		// the current regex's.
		if v, ok := x.userVar(i, false); ok {
			return append(dst, v...), true
		}
		if v, ok, has := namedCapture(&x.Caps, arg); has {
			return append(dst, v...), ok
		}
		if v, ok := x.userVar(i, true); ok {
			return append(dst, v...), true
		}
		if v, ok, has := namedCapture(&x.NameCaps, arg); has {
			return append(dst, v...), ok
		}
		if x.Env != nil && i < len(x.Env.UserVars) && x.Env.UserVars[i] {
			// ngx_http_rewrite_var: an empty value, found.
			if x.Location != nil && x.Location.UninitWarn {
				x.ErrorLog().Log(errorlog.Warn, x.LogContext(""), "using uninitialized \""+string(arg)+"\" variable")
			}
			return dst, true
		}
		return dst, false
	}
	if x.Conn.TLS != nil || id == variables.HTTPS {
		if v, ok := x.Conn.TLS.AppendVar(dst, id); ok {
			return v, true
		}
	}
	return dst, false
}

// status is the response status so far; 0 before one was chosen.
func (x *Ctx) status() int {
	if s := x.W.Status(); s != 0 {
		return s
	}
	return x.closed
}

// headerSeq lets the variables package's header helpers ($http_NAME,
// $cookie_NAME, ...) read hs; built on the caller's stack, it does not
// allocate.
func headerSeq(hs http1.Headers) variables.Headers {
	return func(yield func(name, value []byte) bool) {
		for _, h := range hs {
			if !yield(h.Name, h.Value) {
				return
			}
		}
	}
}

// namedCapture returns the group called name of the match in c; has
// reports whether the matching regex has such a group at all. A group
// that did not take part in the match is set and empty, as nginx sets it.
func namedCapture(c *route.Captures, name []byte) (v []byte, ok, has bool) {
	if c.Regexp == nil {
		return nil, false, false
	}
	for i, n := range c.Regexp.SubexpNames() {
		if n != "" && n == string(name) {
			v, _ = c.Group(i)
			return v, true, true
		}
	}
	return nil, false, false
}

// appendSent is $sent_http_NAME: the response header as sent, with
// nginx's special cases for the fields the writer keeps apart.
func (x *Ctx) appendSent(dst, name []byte) ([]byte, bool) {
	h := x.W.Header()
	switch string(name) {
	case "content_type":
		return append(dst, h.ContentType...), len(h.ContentType) > 0
	case "content_length":
		if x.W.Status() == 0 || h.ContentLength < 0 {
			return dst, false
		}
		return strconv.AppendInt(dst, h.ContentLength, 10), true
	case "location":
		if len(h.Location) > 0 {
			return append(dst, h.Location...), true
		}
	case "connection":
		if x.W.Status() == 0 {
			return dst, false
		}
		if x.W.KeepAlive() {
			return append(dst, "keep-alive"...), true
		}
		return append(dst, "close"...), true
	}
	return variables.AppendHeader(dst, headerSeq(h.Header), name)
}

// appendBasicUser is $remote_user: the user name of Basic credentials
// (ngx_http_auth_basic_user); unset without them or when they do not
// decode to "user:password".
func appendBasicUser(dst, auth []byte) ([]byte, bool) {
	const basic = "basic "
	if len(auth) < len(basic) {
		return dst, false
	}
	for i := 0; i < len(basic); i++ {
		c := auth[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != basic[i] {
			return dst, false
		}
	}
	enc := auth[len(basic):]
	for len(enc) > 0 && enc[0] == ' ' {
		enc = enc[1:]
	}
	if len(enc) == 0 {
		return dst, false
	}
	start := len(dst)
	out, err := base64.StdEncoding.AppendDecode(dst, enc)
	if err != nil {
		return dst, false
	}
	user, _, ok := bytes.Cut(out[start:], []byte{':'})
	if !ok {
		return dst, false
	}
	return out[:start+len(user)], true
}

// appendSetCookie is $upstream_cookie_NAME: the value of the first
// Set-Cookie field that sets the cookie name.
func appendSetCookie(dst []byte, hs http1.Headers, name []byte) ([]byte, bool) {
	for _, h := range hs {
		if !variables.MatchHeaderName([]byte("set_cookie"), h.Name) {
			continue
		}
		pair, _, _ := bytes.Cut(h.Value, []byte{';'})
		n, v, ok := bytes.Cut(pair, []byte{'='})
		if ok && bytes.EqualFold(bytes.TrimSpace(n), name) {
			return append(dst, bytes.TrimSpace(v)...), true
		}
	}
	return dst, false
}
