package http1

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
)

// Body reads a client request body, de-chunking it, enforcing
// client_max_body_size and client_body_timeout, and sending
// "100 Continue" on the first read when the client asked for it.
// Errors are *Error values (400, 408, 413), or a *DetailError wrapping
// ErrChunkedBodyTooLarge whose Error() is nginx's complete log text
// ("...: N+M bytes"), or io.EOF at the end.
type Body struct {
	c       *serverConn
	chunked bool
	left    int64 // Content-Length bytes still to read
	ch      chunkedReader
	read    int64
	limit   int64
	started bool
	done    bool
	err     error
}

func (b *Body) reset(c *serverConn, r *Request, limit int64) {
	*b = Body{c: c, chunked: r.Chunked, limit: limit}
	if r.ContentLength > 0 {
		b.left = r.ContentLength
	}
	if r.Chunked {
		b.ch.reset(limit, c.srv.Config.Parse.MaxHeader)
	} else if r.ContentLength <= 0 {
		b.done = true
	}
}

// Read reads decoded body bytes.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if !b.started {
		b.started = true
		if err := b.c.sendContinue(); err != nil {
			b.err = err
			return 0, err
		}
	}
	br := &b.c.br
	br.timeout = b.c.lim.ClientBodyTimeout
	if br.timeout <= 0 {
		// No timeout of its own: the header's applies, as before the
		// handler ran.
		b.c.startHeaderTimer()
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.ch.read(br, p)
		if err == io.EOF {
			b.done = true
		}
	} else {
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		if br.buffered() > 0 {
			n = copy(p, br.buf[br.r:br.w])
			br.r += n
		} else if len(p) > 0 {
			n, err = br.readDirect(p)
			if n > 0 {
				err = nil
			} else if err == nil {
				err = io.ErrNoProgress
			} else if err == io.EOF {
				err = io.ErrUnexpectedEOF // the body is not complete
			}
		}
		b.left -= int64(n)
		if b.left == 0 {
			b.done = true
		}
	}
	b.read += int64(n)
	if err != nil && err != io.EOF {
		b.err = b.mapErr(err)
		return n, b.err
	}
	if b.done {
		return n, io.EOF
	}
	return n, nil
}

func (b *Body) mapErr(err error) error {
	switch {
	case err == errBadLine:
		return ErrInvalidChunked
	case err == errChunkTooLarge:
		// nginx's ": N+M bytes": the body so far and the chunk that
		// broke client_max_body_size
		d := make([]byte, 0, 48)
		d = append(d, ": "...)
		d = strconv.AppendInt(d, b.ch.total-b.ch.over, 10)
		d = append(d, '+')
		d = strconv.AppendInt(d, b.ch.over, 10)
		d = append(d, " bytes"...)
		return detail(ErrChunkedBodyTooLarge, d)
	case isTimeout(err):
		return ErrClientBodyTimeout
	default:
		return ErrClientClosed
	}
}

// Done reports whether the whole body has been read.
func (b *Body) Done() bool { return b.done }

// BytesRead returns how many body bytes have been read so far.
func (b *Body) BytesRead() int64 { return b.read }

// discard reads and drops the rest of the body if it is at most max
// bytes; it reports whether the body was consumed completely.
func (b *Body) discard(max int64) bool {
	scratch := b.c.small[:]
	if !b.chunked && b.left > max {
		return false
	}
	start := b.read
	for !b.done && b.err == nil {
		if b.read-start > max {
			return false
		}
		if _, err := b.Read(scratch); err != nil && err != io.EOF {
			return false
		}
	}
	return b.done && b.err == nil
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Preread reports whether the rest of a Content-Length body has already
// arrived with the request header, so reading it needs no more waiting
// for the client (nginx's "the whole request body was pre-read"). A
// chunked body never reports true.
func (b *Body) Preread() bool {
	if b.done {
		return true
	}
	return !b.chunked && b.err == nil && b.left <= int64(b.c.br.buffered())
}
