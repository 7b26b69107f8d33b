package server

import (
	"errors"
	"net"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/proxy"
	"gatehouse/internal/tlsterm"
)

// ServeHTTP1 handles one request on the socket: it picks the virtual
// server by Host, applies the client-certificate rules, finds the location
// and runs its handler, then writes the access log line.
func (sk *socket) ServeHTTP1(w *http1.ResponseWriter, r *http1.Request) {
	c, ok := w.Conn().(*proxy.Conn)
	if !ok {
		w.Abort()
		return
	}
	x := sk.xpool.Get().(*proxy.Exchange)
	x.Conn = c
	x.Reset(w, r)
	l := sk.serve(x)
	if l != nil && l.access != nil {
		l.access.Log(x)
	}
	x.W, x.R, x.Conn = nil, nil, nil
	sk.xpool.Put(x)
}

// serve runs the request and returns the location whose access log
// applies.
func (sk *socket) serve(x *proxy.Exchange) *loc {
	r, w := x.R, x.W
	a := sk.addr
	id := a.Default
	matched := false
	if len(r.Host) > 0 && a.Names != nil {
		id, matched = a.Names.Find(r.Host, &x.Caps)
	}
	if !matched && r.Host == nil && x.Conn.TLS != nil {
		if i, ok := x.Conn.TLS.SNIServer(); ok {
			id = a.Servers[i]
		}
	}
	v := sk.servers[id]
	x.ServerName = v.name
	x.Host = r.Host
	if x.Host == nil {
		x.Host = []byte(v.name)
	}

	if x.Conn.TLS != nil {
		idx := 0
		for i, s := range a.Servers {
			if s == id {
				idx = i
			}
		}
		if verdict := x.Conn.TLS.Check(r.Host, idx); verdict != tlsterm.Proceed {
			sk.rt.env.Log.Log(errorlog.Info, x.LogContext("reading client request headers"), string(x.Conn.TLS.AppendReason(nil, verdict)))
			_ = w.WriteErrorPage(verdict.Status())
			return v.level
		}
	}

	if !x.Normalize(v.mergeSlashes) {
		sk.rt.env.Log.Log(errorlog.Info, x.LogContext(""), "client sent invalid request")
		_ = w.WriteErrorPage(400)
		return v.level
	}
	m := v.locs.Find(x.URI.Path, &x.Caps)
	l := v.level
	if m.Location != nil {
		l = m.Location.Payload.(*loc)
	}
	if m.Redirect != "" {
		sk.redirect(x, l, m.Redirect)
		return l
	}
	if err := w.Apply(&l.limits); err != nil {
		if errors.Is(err, http1.ErrBodyTooLarge) {
			sk.rt.env.Log.Logf(errorlog.Error, x.LogContext(""), "client intended to send too large body: %d bytes", r.ContentLength)
			_ = w.WriteErrorPage(413)
			return l
		}
		w.Abort()
		return l
	}
	switch {
	case l.ret != nil:
		sk.doReturn(x, l)
	case l.proxy != nil:
		l.proxy.Serve(x)
	default:
		// A location without a handler serves static files in nginx;
		// gatehouse has none to serve.
		_ = w.WriteErrorPage(404)
	}
	return l
}

// redirect answers nginx's trailing-slash auto-redirect (301).
func (sk *socket) redirect(x *proxy.Exchange, l *loc, target string) {
	h := x.W.Header()
	h.Status = 301
	loc := absolute(x, []byte(target))
	if len(x.URI.Args) > 0 {
		loc = append(loc, '?')
		loc = append(loc, x.URI.Args...)
	}
	h.Location = loc
	_ = x.W.WriteErrorPage(301)
}

// absolute makes a redirect target absolute as absolute_redirect does.
func absolute(x *proxy.Exchange, path []byte) []byte {
	var b []byte
	tls := x.Conn.TLS != nil
	if tls {
		b = append(b, "https://"...)
	} else {
		b = append(b, "http://"...)
	}
	if len(x.Host) > 0 {
		b = append(b, x.Host...)
	} else {
		b = append(b, x.Conn.ServerAddr...)
	}
	port := string(x.Conn.ServerPort)
	if (tls && port != "443") || (!tls && port != "80") {
		b = append(b, ':')
		b = append(b, port...)
	}
	return append(b, path...)
}

// doReturn answers the return directive.
func (sk *socket) doReturn(x *proxy.Exchange, l *loc) {
	w := x.W
	code := l.ret.Code
	var text []byte
	if l.retVal != nil {
		text = l.retVal.Append(x.Scratch(), x)
		x.KeepScratch(text)
	}
	switch {
	case code == 301 || code == 302 || code == 303 || code == 307 || code == 308:
		h := w.Header()
		h.Status = code
		if len(text) > 0 && text[0] == '/' {
			text = absolute(x, text)
		}
		h.Location = text
		_ = w.WriteErrorPage(code)
	case code == 444:
		w.Abort()
	case l.retVal == nil || (len(text) == 0 && l.ret.Text == ""):
		_ = w.WriteErrorPage(code)
	default:
		h := w.Header()
		h.Status = code
		h.ContentType = textPlain
		h.ContentLength = int64(len(text))
		if err := w.WriteHeader(); err == nil {
			_, _ = w.Write(text)
		}
	}
}

// textPlain is the type of a return directive's text (nginx's
// default_type); it is never modified.
var textPlain = []byte("text/plain")

// onReject logs a request the codec refused by itself.
func (sk *socket) onReject(c net.Conn, r *http1.Request, e *http1.Error) {
	ctx := &errorlog.Context{}
	if pc, ok := c.(*proxy.Conn); ok {
		ctx.Client = string(pc.RemoteIP)
	}
	level := errorlog.Info
	if e.Status == 413 {
		level = errorlog.Error
	}
	sk.rt.env.Log.Log(level, ctx, e.Msg)
}
