package http1

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// ErrUpstreamTimeout is a read or send timeout towards the upstream
// (proxy_read_timeout / proxy_send_timeout): nginx's "timeout" condition,
// 504 when it ends the request.
var ErrUpstreamTimeout = &Error{504, "upstream timed out"}

// ErrUpstreamWrite is a failed write of the request to the upstream
// (nginx's "error" condition, 502).
var ErrUpstreamWrite = &Error{502, "upstream write failed"}

// causeError joins a classified *Error with the I/O error behind it, so
// both errors.Is(err, ErrUpstreamTimeout) and os.ErrDeadlineExceeded hold.
type causeError struct {
	kind  *Error
	cause error
}

func (e *causeError) Error() string   { return e.kind.Msg + ": " + e.cause.Error() }
func (e *causeError) Unwrap() []error { return []error{e.kind, e.cause} }

func wrapIO(kind *Error, err error) error {
	if err == nil || err == io.EOF {
		return kind
	}
	return &causeError{kind: kind, cause: err}
}

// UpstreamOptions are per-location upstream settings, compiled once. They
// also own the buffer pool for their connections, so use them by pointer.
type UpstreamOptions struct {
	// BufferSize is proxy_buffer_size: the largest response header.
	BufferSize int
	// ReadTimeout is proxy_read_timeout, between two reads.
	ReadTimeout time.Duration
	// SendTimeout is proxy_send_timeout, between two writes.
	SendTimeout time.Duration
	pool        sync.Pool // *UpstreamConn without a connection
}

// UpstreamConn speaks HTTP/1 to one upstream connection: it writes a
// request with Add/End/Write/Finish, reads the response with ReadResponse
// and its body with Body, and tells whether the connection can be reused.
type UpstreamConn struct {
	o    *UpstreamOptions
	nc   net.Conn
	br   bufReader
	wbuf []byte
	wdl  deadline // the write deadline in effect

	reqChunked bool
	reqLeft    int64 // Content-Length bytes still to send, -1 for none
	reqDone    bool
	head       bool
	lines      int  // CRLF-terminated lines of the request header so far
	unsafe     bool // the header had a CR, LF or NUL in a field: send nothing
	failed     bool

	resp     Response
	body     ResponseBody
	hdr      bool // a response header has been read
	released bool
}

// Conn wraps nc for HTTP/1 use, taking buffers from the options' pool.
func (o *UpstreamOptions) Conn(nc net.Conn) *UpstreamConn {
	u, _ := o.pool.Get().(*UpstreamConn)
	if u == nil {
		size := o.BufferSize
		if size <= 0 {
			size = 4096
		}
		u = &UpstreamConn{o: o, wbuf: make([]byte, 0, wbufSize)}
		u.br.buf = make([]byte, size+bodyRoom)
		u.body.u = u
	}
	u.nc = nc
	u.br.nc = nc
	u.released = false
	u.br.r, u.br.w, u.br.floor = 0, 0, 0
	u.br.dl.forget()
	u.wdl.forget()
	if k, ok := nc.(deadlineKeeper); ok {
		r, w := k.KeptDeadlines()
		u.br.dl.at, u.wdl.at = *r, *w
	}
	u.failed = false
	u.hdr = false
	if o.ReadTimeout <= 0 || o.SendTimeout <= 0 {
		// A pooled connection keeps its last deadlines (see Hijack),
		// and without a timeout none would replace them.
		_ = nc.SetDeadline(time.Time{})
		u.br.dl.forget()
		u.wdl.forget()
	}
	return u
}

// deadlineKeeper is a connection that outlives its UpstreamConn (a pooled
// upstream.Conn) and records the deadlines set on it, so that the next
// request over it skips setting nearly the same ones again (see deadline).
type deadlineKeeper interface {
	KeptDeadlines() (read, write *time.Time)
}

// Release closes the connection (unless it was detached) and returns the
// UpstreamConn to its pool; u must not be used afterwards.
func (u *UpstreamConn) Release() {
	if u.released {
		return // a second Release must not put u in the pool twice
	}
	u.released = true
	if u.nc != nil {
		_ = u.nc.Close()
	}
	u.nc, u.br.nc = nil, nil
	u.o.pool.Put(u)
}

// CloseConn closes the connection to the upstream now and keeps the read
// buffer, and so a response header parsed from it, valid until Release.
func (u *UpstreamConn) CloseConn() {
	if u.nc != nil {
		_ = u.nc.Close()
		u.nc, u.br.nc = nil, nil
	}
}

// NetConn returns the underlying connection.
func (u *UpstreamConn) NetConn() net.Conn { return u.nc }

// StartRequest begins a request: "METHOD URI HTTP/1.x\r\n". Pending
// response state from a previous exchange must have been consumed.
func (u *UpstreamConn) StartRequest(method, uri []byte, http11 bool) {
	u.wbuf = u.wbuf[:0]
	u.reqChunked, u.reqLeft, u.reqDone = false, -1, false
	u.head = string(method) == "HEAD"
	u.hdr = false
	u.lines, u.unsafe = 1, false
	u.wbuf = append(u.wbuf, method...)
	u.wbuf = append(u.wbuf, ' ')
	u.wbuf = append(u.wbuf, uri...)
	if http11 {
		u.wbuf = append(u.wbuf, " HTTP/1.1\r\n"...)
	} else {
		u.wbuf = append(u.wbuf, " HTTP/1.0\r\n"...)
	}
}

// AddHeader appends one header field; an empty value is not sent (that is
// how proxy_set_header X "" removes a header).
func (u *UpstreamConn) AddHeader(name, value []byte) {
	if len(value) == 0 {
		return
	}
	u.wbuf = AppendHeader(u.wbuf, name, value)
	u.lines++
}

// AddHeaderString is AddHeader for a name and value known as strings.
func (u *UpstreamConn) AddHeaderString(name, value string) {
	if len(value) == 0 {
		return
	}
	u.wbuf = AppendHeader(u.wbuf, name, value)
	u.lines++
}

// EndHeader ends the header block and sets how the body is framed: a
// Content-Length of contentLength bytes (the caller added the header), or
// chunked when chunked is true (the caller added Transfer-Encoding), or no
// body when contentLength <= 0 and !chunked. Nothing is sent yet.
//
// A request line or field that carries a CR, LF or NUL would put a second
// request on the connection; EndHeader then drops the header, returns
// ErrUnsafeHeader, and every later write of this request fails with it,
// so nothing reaches the upstream. The proxy refuses such values before
// they get here.
func (u *UpstreamConn) EndHeader(contentLength int64, chunked bool) error {
	u.wbuf = append(u.wbuf, '\r', '\n')
	if !cleanHeader(u.wbuf, u.lines+1) {
		u.wbuf = u.wbuf[:0]
		u.unsafe, u.failed = true, true
		return ErrUnsafeHeader
	}
	u.reqChunked = chunked
	if !chunked && contentLength > 0 {
		u.reqLeft = contentLength
	} else {
		u.reqLeft = 0
	}
	return nil
}

// Write sends request body bytes with the framing set by EndHeader.
func (u *UpstreamConn) Write(p []byte) (int, error) {
	if u.unsafe {
		return 0, ErrUnsafeHeader
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := len(p)
	if !u.reqChunked {
		if int64(n) > u.reqLeft {
			return 0, ErrTooMuchBody
		}
		u.reqLeft -= int64(n)
	} else {
		u.wbuf = appendHex(u.wbuf, int64(n))
		u.wbuf = append(u.wbuf, '\r', '\n')
	}
	if len(p) <= cap(u.wbuf)-len(u.wbuf)-2 {
		u.wbuf = append(u.wbuf, p...)
	} else {
		if err := u.Flush(); err != nil {
			return 0, err
		}
		if err := u.write(p); err != nil {
			return 0, err
		}
	}
	if u.reqChunked {
		u.wbuf = append(u.wbuf, '\r', '\n')
	}
	return n, nil
}

func (u *UpstreamConn) write(p []byte) error {
	if u.unsafe {
		return ErrUnsafeHeader
	}
	if t := u.o.SendTimeout; t > 0 {
		if at, ok := u.wdl.next(t); ok {
			_ = u.nc.SetWriteDeadline(at)
		}
	}
	_, err := u.nc.Write(p)
	if err != nil {
		u.failed = true
		if isTimeout(err) {
			return wrapIO(ErrUpstreamTimeout, err)
		}
		return wrapIO(ErrUpstreamWrite, err)
	}
	return nil
}

// Flush sends what is buffered.
func (u *UpstreamConn) Flush() error {
	if len(u.wbuf) == 0 {
		return nil
	}
	err := u.write(u.wbuf)
	u.wbuf = u.wbuf[:0]
	return err
}

// FinishRequest terminates the body (last chunk) and flushes. A
// Content-Length body must have been written completely.
func (u *UpstreamConn) FinishRequest() error {
	if u.unsafe {
		return ErrUnsafeHeader
	}
	if u.reqChunked {
		u.wbuf = append(u.wbuf, "0\r\n\r\n"...)
	} else if u.reqLeft > 0 {
		u.failed = true
		return ErrUpstreamWrite
	}
	u.reqDone = true
	return u.Flush()
}

// ReadResponse reads the response header, skipping interim 1xx responses
// other than 101. The returned Response is owned by u.
func (u *UpstreamConn) ReadResponse() (*Response, error) {
	b := &u.br
	max := len(b.buf) - bodyRoom
	if b.r == b.w {
		b.r, b.w = 0, 0
	} else if b.r > 0 {
		n := copy(b.buf, b.buf[b.r:b.w])
		b.r, b.w = 0, n
	}
	b.floor = 0
	b.timeout = u.o.ReadTimeout
	for {
		n, err := ParseResponse(&u.resp, b.buf[b.r:b.w], max)
		if err == nil {
			r := &u.resp
			if r.Status >= 100 && r.Status < 200 && r.Status != 101 {
				b.r += n
				if b.r == b.w {
					b.r, b.w = 0, 0
				} else {
					m := copy(b.buf, b.buf[b.r:b.w])
					b.r, b.w = 0, m
				}
				continue
			}
			b.r += n
			b.floor = b.r
			u.hdr = true
			u.body.reset(u)
			return r, nil
		}
		if err != ErrNeedMore {
			u.failed = true
			return nil, err
		}
		if b.w >= max {
			u.failed = true
			return nil, ErrUpstreamTooBigHeader
		}
		b.floor = 0
		if err := b.fillTo(max); err != nil {
			u.failed = true
			if isTimeout(err) {
				return nil, wrapIO(ErrUpstreamTimeout, err)
			}
			return nil, wrapIO(ErrUpstreamPrematureClose, err)
		}
	}
}

// fillTo reads once into buf[w:max].
func (b *bufReader) fillTo(max int) error {
	b.setDeadline()
	for i := 0; i < 100; i++ {
		n, err := b.nc.Read(b.buf[b.w:max])
		b.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// Body returns the reader for the current response's body.
func (u *UpstreamConn) Body() *ResponseBody { return &u.body }

// Reusable reports whether the connection may carry another request:
// the request was sent completely, the response was HTTP/1.1 without
// "Connection: close", its body had a known length and was read to the
// end, and nothing followed it.
func (u *UpstreamConn) Reusable() bool {
	r := &u.resp
	return u.hdr && !u.failed && u.reqDone && r.Minor >= 1 && !r.ConnectionClose &&
		r.Status != 101 && u.body.done && u.body.framed && u.br.buffered() == 0
}

// Hijack takes the connection out of u: for a tunnel after a 101
// response (buffered holds a copy of bytes already read past the header),
// or to put a Reusable connection back into a keep-alive pool (buffered is
// then empty). Release no longer closes it.
//
// A tunnel's connection comes without deadlines. A Reusable one keeps its
// last ones, which spares a timer update per request: the next
// UpstreamConn over it sets its own before it reads or writes (lazily, if
// the connection records them: KeptDeadlines), and idle-pool checks do not
// go through the deadlines.
func (u *UpstreamConn) Hijack() (net.Conn, []byte) {
	var buffered []byte
	if u.br.buffered() > 0 {
		buffered = append([]byte(nil), u.br.buf[u.br.r:u.br.w]...)
	}
	pooled := u.Reusable()
	nc := u.nc
	u.nc, u.br.nc = nil, nil
	u.failed = true
	if !pooled {
		_ = nc.SetDeadline(time.Time{})
		u.br.dl.forget()
		u.wdl.forget()
	}
	if k, ok := nc.(deadlineKeeper); ok {
		r, w := k.KeptDeadlines()
		*r, *w = u.br.dl.at, u.wdl.at
	}
	u.br.dl.forget()
	u.wdl.forget()
	return nc, buffered
}

// ResponseBody reads an upstream response body: Content-Length, chunked
// (trailers checked and dropped) or until the upstream closes. Errors are
// classified (*Error sentinels, possibly joined with the I/O cause).
type ResponseBody struct {
	u      *UpstreamConn
	left   int64
	mode   uint8 // bodyNone, bodyLength, bodyChunked, bodyClose
	ch     chunkedReader
	done   bool
	framed bool // length known from the header (reuse possible)
	err    error
}

const (
	bodyNone = iota
	bodyLength
	bodyChunked
	bodyClose
)

func (rb *ResponseBody) reset(u *UpstreamConn) {
	r := &u.resp
	*rb = ResponseBody{u: u, framed: true}
	switch {
	case u.head || r.Status < 200 || r.Status == 204 || r.Status == 304:
		rb.mode, rb.done = bodyNone, true
	case r.Chunked:
		rb.mode = bodyChunked
		rb.ch.reset(0, len(u.br.buf)-bodyRoom)
	case r.ContentLength >= 0:
		rb.mode, rb.left = bodyLength, r.ContentLength
		rb.done = rb.left == 0
	default:
		rb.mode, rb.framed = bodyClose, false
	}
}

// Done reports whether the body was read to its end.
func (rb *ResponseBody) Done() bool { return rb.done }

// Read reads decoded body bytes.
func (rb *ResponseBody) Read(p []byte) (int, error) {
	if rb.err != nil {
		return 0, rb.err
	}
	if rb.done {
		return 0, io.EOF
	}
	b := &rb.u.br
	var n int
	var err error
	switch rb.mode {
	case bodyChunked:
		n, err = rb.ch.read(b, p)
		if err == io.EOF {
			rb.done = true
			return n, io.EOF
		}
	case bodyLength, bodyClose:
		if rb.mode == bodyLength && int64(len(p)) > rb.left {
			p = p[:rb.left]
		}
		if b.buffered() > 0 {
			n = copy(p, b.buf[b.r:b.w])
			b.r += n
		} else if len(p) > 0 {
			n, err = b.readDirect(p)
			if n > 0 {
				err = nil
			} else if err == nil {
				err = io.ErrNoProgress
			}
		}
		if rb.mode == bodyLength {
			rb.left -= int64(n)
			if rb.left == 0 {
				rb.done = true
				return n, io.EOF
			}
		} else if err == io.EOF {
			rb.done = true
			return n, io.EOF
		}
	}
	if err != nil {
		rb.u.failed = true
		switch {
		case err == errBadLine || err == errChunkTooLarge:
			rb.err = ErrUpstreamInvalidChunked
		case isTimeout(err):
			rb.err = wrapIO(ErrUpstreamTimeout, err)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			rb.err = ErrUpstreamPrematureClose
		default:
			rb.err = wrapIO(ErrUpstreamPrematureClose, err)
		}
		return n, rb.err
	}
	return n, nil
}
