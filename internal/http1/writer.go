package http1

import (
	"net"
	"time"
)

// ResponseHeader is the response a Handler sends. The codec adds Server,
// Date, Content-Length, Transfer-Encoding, Connection and Keep-Alive in
// nginx's order: status line, Server, Date, Content-Type, Content-Length,
// Location, Transfer-Encoding, Connection, Keep-Alive, then Header.
type ResponseHeader struct {
	Status int
	// Reason overrides the reason phrase (nginx forwards the upstream's);
	// nil uses nginx's text for Status.
	Reason []byte
	// ContentType is sent as Content-Type when not empty.
	ContentType []byte
	// ContentLength is the body length, or -1 when unknown (then the body
	// is chunked for HTTP/1.1 clients and close-delimited for HTTP/1.0).
	ContentLength int64
	// Location is sent right after Content-Length when not empty (nginx's
	// position for a Location it rewrote); otherwise leave it in Header.
	Location []byte
	// Server and Date replace the generated headers when not nil
	// (proxy_pass_header Server / Date).
	Server, Date []byte
	// Header holds the remaining fields in order.
	Header Headers
}

// ResponseWriter writes one response to the client: a header, then a body
// framed by Content-Length or chunked encoding. It buffers; Flush sends.
type ResponseWriter struct {
	c           *serverConn
	hdr         ResponseHeader
	wbuf        []byte
	wroteHeader bool
	aborted     bool
	keepAlive   bool
	chunked     bool
	noBody      bool
	status      int
	clen        int64
	written     int64 // body bytes accepted
	sent        int64 // bytes written to the connection
	werr        error // first write error; later writes fail with it
}

func (w *ResponseWriter) reset(wbuf []byte) {
	h := w.hdr.Header[:0]
	*w = ResponseWriter{c: w.c, wbuf: wbuf[:0]}
	w.hdr.Header = h
	w.hdr.ContentLength = -1
}

// Header returns the response header to fill in; it is reset for every
// request.
func (w *ResponseWriter) Header() *ResponseHeader { return &w.hdr }

// Apply switches the connection limits to a location's values
// (client_max_body_size, timeouts, keep-alive, server_tokens). It reports
// ErrBodyTooLarge when the request's Content-Length is larger than the
// location allows; nginx then answers 413 without reading the body.
func (w *ResponseWriter) Apply(l *Limits) error {
	c := w.c
	c.lim = l
	r := &c.req
	c.body.limit = l.ClientMaxBodySize
	c.body.ch.limit = l.ClientMaxBodySize
	if r.ContentLength > 0 && l.ClientMaxBodySize > 0 && r.ContentLength > l.ClientMaxBodySize {
		c.body.err = ErrBodyTooLarge
		return ErrBodyTooLarge
	}
	if c.body.err == ErrBodyTooLarge {
		c.body.err = nil
	}
	return nil
}

// Conn returns the client connection (for addresses and TLS state).
func (w *ResponseWriter) Conn() net.Conn { return w.c.nc }

// ConnID is the connection's serial number ($connection).
func (w *ResponseWriter) ConnID() uint64 { return w.c.id }

// Requests is the number of requests on this connection so far, this one
// included ($connection_requests).
func (w *ResponseWriter) Requests() int { return w.c.requests }

// Status returns the status sent, 0 before WriteHeader.
func (w *ResponseWriter) Status() int { return w.status }

// BytesSent returns the bytes written to the client so far, header
// included ($bytes_sent).
func (w *ResponseWriter) BytesSent() int64 { return w.sent + int64(len(w.wbuf)) }

// BodyBytesSent returns the body bytes accepted so far ($body_bytes_sent).
func (w *ResponseWriter) BodyBytesSent() int64 { return w.written }

// KeepAlive reports whether the connection stays open after this response
// (meaningful after WriteHeader).
func (w *ResponseWriter) KeepAlive() bool { return w.keepAlive }

// Close makes the connection close after this response.
func (w *ResponseWriter) Close() { w.c.closing = true }

// Abort drops the connection without (further) response, as nginx does
// for 444, client aborts and send errors.
func (w *ResponseWriter) Abort() { w.aborted = true }

// Hijack hands the connection to the caller after a 101 response (or
// instead of any response): the caller owns and must close it. buffered is
// a copy of bytes already read from the client beyond the request header.
func (w *ResponseWriter) Hijack() (nc net.Conn, buffered []byte, err error) {
	c := w.c
	if c.hijacked {
		return nil, nil, ErrHijacked
	}
	if err := w.Flush(); err != nil {
		return nil, nil, err
	}
	c.hijacked = true
	if n := c.br.buffered(); n > 0 {
		buffered = append([]byte(nil), c.br.buf[c.br.r:c.br.w]...)
	}
	_ = c.nc.SetDeadline(time.Time{})
	c.br.dl.forget()
	c.wdl.forget()
	return c.nc, buffered, nil
}

func (w *ResponseWriter) setWriteDeadline() {
	if t := w.c.lim.SendTimeout; t > 0 {
		if at, ok := w.c.wdl.next(t); ok {
			_ = w.c.nc.SetWriteDeadline(at)
		}
	}
}

// decideKeepAlive applies nginx's rules (ngx_http_update_location_config,
// special responses, shutdown) when the header goes out at now.
func (w *ResponseWriter) decideKeepAlive(now time.Time) bool {
	c := w.c
	r := &c.req
	l := c.lim
	switch {
	case !r.KeepAlive || c.closing || c.srv.stopping.Load():
		return false
	case l.KeepaliveTimeout <= 0:
		return false
	case c.requests >= l.KeepaliveRequests:
		return false
	case l.KeepaliveTime > 0 && now.Sub(c.start) > l.KeepaliveTime:
		return false
	case r.Expect100 && !c.continueSent && !c.body.done:
		// the client may not send the body it announced; it cannot be
		// drained safely
		return false
	}
	return true
}

// WriteHeader sends the status line and headers from Header().
func (w *ResponseWriter) WriteHeader() error {
	if w.wroteHeader {
		return ErrHeaderWritten
	}
	c := w.c
	h := &w.hdr
	r := &c.req
	w.wroteHeader = true
	if h.Status == 0 {
		h.Status = 200
	}
	status := h.Status
	w.status = status
	// One clock reading for keepalive_time and Date.
	now := c.srv.now()
	w.keepAlive = w.decideKeepAlive(now)
	clen := h.ContentLength
	switch {
	case status < 200:
		w.noBody, clen = true, -1
	case status == 204:
		w.noBody, clen = true, -1
		h.ContentType = nil
	case status == 304:
		w.noBody = true
	}
	if string(r.Method) == "HEAD" {
		w.noBody = true
	}
	if !w.noBody && clen < 0 {
		if r.Minor >= 1 {
			w.chunked = true
		} else {
			w.keepAlive = false
		}
	}
	w.clen = clen
	b := w.wbuf
	start := len(b)
	// lines counts the CRLF-terminated lines written, the empty one that
	// ends the header included; cleanHeader checks the count.
	lines := 4 // status line, Server, Date, Connection
	b = append(b, "HTTP/1.1 "...)
	b = appendStatus(b, status, h.Reason)
	b = append(b, "Server: "...)
	if h.Server != nil {
		b = append(b, h.Server...)
	} else if c.lim.ServerTokens {
		b = append(b, c.srv.Config.ProductVersion...)
	} else {
		b = append(b, c.srv.Config.Product...)
	}
	b = append(b, "\r\nDate: "...)
	if h.Date != nil {
		b = append(b, h.Date...)
	} else {
		b = c.appendDate(b, now)
	}
	b = append(b, '\r', '\n')
	if len(h.ContentType) > 0 {
		b = AppendHeader(b, "Content-Type", h.ContentType)
		lines++
	}
	if clen >= 0 {
		lines++
		b = append(b, "Content-Length: "...)
		b = appendInt(b, clen)
		b = append(b, '\r', '\n')
	}
	if len(h.Location) > 0 {
		b = AppendHeader(b, "Location", h.Location)
		lines++
	}
	if w.chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
		lines++
	}
	switch {
	case status == 101:
		b = append(b, "Connection: upgrade\r\n"...)
	case w.keepAlive:
		b = append(b, "Connection: keep-alive\r\n"...)
		if t := c.lim.KeepaliveHeaderTimeout; t > 0 {
			lines++
			b = append(b, "Keep-Alive: timeout="...)
			b = appendInt(b, int64(t/time.Second))
			b = append(b, '\r', '\n')
		}
	default:
		b = append(b, "Connection: close\r\n"...)
	}
	for i := range h.Header {
		b = AppendHeader(b, h.Header[i].Name, h.Header[i].Value)
	}
	b = append(b, '\r', '\n')
	if !cleanHeader(b[start:], lines+len(h.Header)+1) {
		// A CR, LF or NUL inside a field: the layers above refuse such
		// values before they get here, so this is a defect; nothing is
		// sent and the connection is dropped rather than split.
		w.wbuf = b[:start]
		w.aborted = true
		return ErrUnsafeHeader
	}
	w.wbuf = b
	return nil
}

// Write appends body bytes, framing them as the header announced. Bytes
// beyond Content-Length are refused with ErrTooMuchBody; bodies of HEAD,
// 1xx, 204 and 304 responses are dropped.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if err := w.WriteHeader(); err != nil {
			return 0, err
		}
	}
	if w.c.hijacked {
		return 0, ErrHijacked
	}
	if w.noBody || len(p) == 0 {
		return len(p), nil
	}
	n := len(p)
	var err error
	if w.clen >= 0 && w.written+int64(n) > w.clen {
		n = int(w.clen - w.written)
		p = p[:n]
		err = ErrTooMuchBody
		if n == 0 {
			return 0, err
		}
	}
	if w.chunked {
		w.wbuf = appendHex(w.wbuf, int64(n))
		w.wbuf = append(w.wbuf, '\r', '\n')
	}
	if len(p) <= cap(w.wbuf)-len(w.wbuf)-2 {
		w.wbuf = append(w.wbuf, p...)
	} else {
		if ferr := w.Flush(); ferr != nil {
			return 0, ferr
		}
		if werr := w.writeConn(p); werr != nil {
			return 0, werr
		}
	}
	if w.chunked {
		w.wbuf = append(w.wbuf, '\r', '\n')
	}
	w.written += int64(n)
	return n, err
}

func (w *ResponseWriter) writeConn(p []byte) error {
	if w.werr != nil {
		return w.werr
	}
	w.setWriteDeadline()
	n, err := w.c.nc.Write(p)
	w.sent += int64(n)
	if err != nil {
		w.aborted = true
		w.werr = err
	}
	return err
}

// Flush sends buffered bytes to the client.
func (w *ResponseWriter) Flush() error {
	if len(w.wbuf) == 0 {
		return nil
	}
	err := w.writeConn(w.wbuf)
	w.wbuf = w.wbuf[:0]
	return err
}

// end terminates the body and flushes.
func (w *ResponseWriter) end() error {
	if w.chunked {
		w.wbuf = append(w.wbuf, "0\r\n\r\n"...)
	}
	if w.clen >= 0 && !w.noBody && w.written < w.clen {
		w.keepAlive = false // truncated: the client must see the close
	}
	return w.Flush()
}

// WriteErrorPage sends nginx's built-in response for status (494-497 go
// out as 400 with their own pages): text/html with the server_tokens tail
// and the MSIE/Chrome padding. Location and Header fields already set in
// Header() are kept (a 301 page carries its Location, a 401 page its
// WWW-Authenticate). For 408 and 499 nginx sends nothing, so the
// connection is just closed; 444 closes as well. 400, 413, 414, 494-497,
// 500 and 501 close the connection after the response.
func (w *ResponseWriter) WriteErrorPage(status int) error {
	if w.wroteHeader {
		return ErrHeaderWritten
	}
	switch status {
	case 408, 444, 499:
		w.aborted = true
		return nil
	}
	c := w.c
	if closesConnection(status) {
		c.closing = true
	}
	page := errorPage(status)
	h := &w.hdr
	h.Status = WireStatus(status)
	h.Reason = nil
	tail := c.srv.Config.Product
	if c.lim.ServerTokens {
		tail = c.srv.Config.ProductVersion
	}
	padding := c.lim.MSIEPadding && c.req.padding && status >= 400
	h.ContentLength = 0
	h.ContentType = nil
	if page != "" {
		h.ContentType = textHTML
		n := len(page) + len(errorTailHead) + len(tail) + len(errorTailEnd)
		if padding {
			n += len(msiePadding)
		}
		h.ContentLength = int64(n)
	}
	if err := w.WriteHeader(); err != nil {
		return err
	}
	if page == "" || w.noBody {
		return w.Flush()
	}
	w.wbuf = append(w.wbuf, page...)
	w.wbuf = append(w.wbuf, errorTailHead...)
	w.wbuf = append(w.wbuf, tail...)
	w.wbuf = append(w.wbuf, errorTailEnd...)
	if padding {
		w.wbuf = append(w.wbuf, msiePadding...)
	}
	w.written = h.ContentLength
	return w.Flush()
}

var textHTML = []byte("text/html")
