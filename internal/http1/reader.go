package http1

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// deadlineReader is the part of net.Conn a bufReader uses.
type deadlineReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// errBufferFull means a line did not fit in the buffer room.
var errBufferFull = errors.New("http1: buffer full")

// bufReader is a read buffer over a connection. Bytes before floor belong
// to the current message header and are never overwritten while its body
// is read.
type bufReader struct {
	nc      deadlineReader
	buf     []byte
	r, w    int
	floor   int
	timeout time.Duration // deadline for each read; 0 leaves the deadline alone
	dl      deadline      // the read deadline in effect
}

func (b *bufReader) buffered() int { return b.w - b.r }

func (b *bufReader) setDeadline() {
	if b.timeout > 0 {
		b.setTimeout(b.timeout)
	}
}

// setTimeout makes the read deadline now+t (lazily, see deadline) and
// returns the deadline in effect.
func (b *bufReader) setTimeout(t time.Duration) time.Time {
	if at, ok := b.dl.next(t); ok {
		_ = b.nc.SetReadDeadline(at)
	}
	return b.dl.at
}

// setDeadlineAt sets the read deadline to at exactly.
func (b *bufReader) setDeadlineAt(at time.Time) {
	b.dl.at = at
	_ = b.nc.SetReadDeadline(at)
}

// fill reads once from the connection, compacting unread bytes down to
// floor when the buffer end is reached.
func (b *bufReader) fill() error {
	if b.r == b.w {
		b.r, b.w = b.floor, b.floor
	}
	if b.w == len(b.buf) {
		if b.r == b.floor {
			return errBufferFull
		}
		n := copy(b.buf[b.floor:], b.buf[b.r:b.w])
		b.r, b.w = b.floor, b.floor+n
	}
	b.setDeadline()
	for i := 0; i < 100; i++ {
		n, err := b.nc.Read(b.buf[b.w:])
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

// readDirect reads from the connection straight into p, bypassing the
// buffer (used for large body reads when nothing is buffered).
func (b *bufReader) readDirect(p []byte) (int, error) {
	b.setDeadline()
	return b.nc.Read(p)
}

// line returns the next CRLF-terminated line without its CRLF, consuming
// it. A bare LF, or a line longer than max, is errBadLine. The result is
// valid until the next fill.
func (b *bufReader) line(max int) ([]byte, error) {
	for {
		if i := bytes.IndexByte(b.buf[b.r:b.w], '\n'); i >= 0 {
			if i+1 > max {
				return nil, errBadLine
			}
			if i == 0 || b.buf[b.r+i-1] != '\r' {
				return nil, errBadLine
			}
			l := b.buf[b.r : b.r+i-1]
			b.r += i + 1
			return l, nil
		}
		if b.buffered() >= max {
			return nil, errBadLine
		}
		if err := b.fill(); err != nil {
			if err == errBufferFull {
				return nil, errBadLine
			}
			return nil, err
		}
	}
}

var errBadLine = errors.New("http1: malformed line")

// chunk decoder states
const (
	csSize = iota
	csData
	csDataCRLF
	csTrailer
	csDone
)

const maxChunkLine = 4096

// chunkedReader decodes a chunked body from a bufReader. Malformed framing
// is errBadLine; the caller maps it to its side's error.
type chunkedReader struct {
	state    uint8
	left     int64
	total    int64
	limit    int64 // 0: unlimited
	trailers int   // trailer bytes so far
	maxTrail int
	over     int64 // the chunk size that broke limit (for the log)
}

var errChunkTooLarge = errors.New("http1: chunked body too large")

func (c *chunkedReader) reset(limit int64, maxTrailer int) {
	*c = chunkedReader{limit: limit, maxTrail: maxTrailer}
}

// read returns io.EOF only after the last chunk and the trailer section;
// a connection that ends early is io.ErrUnexpectedEOF.
func (c *chunkedReader) read(b *bufReader, p []byte) (int, error) {
	n, err := c.read1(b, p)
	if err == io.EOF && c.state != csDone {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (c *chunkedReader) read1(b *bufReader, p []byte) (int, error) {
	for {
		switch c.state {
		case csSize:
			l, err := b.line(maxChunkLine)
			if err != nil {
				return 0, err
			}
			n, ok := parseChunkSize(l)
			if !ok {
				return 0, errBadLine
			}
			if n == 0 {
				c.state = csTrailer
				continue
			}
			if n > 1<<62-c.total {
				return 0, errBadLine
			}
			c.total += n
			if c.limit > 0 && c.total > c.limit {
				c.over = n
				return 0, errChunkTooLarge
			}
			c.left, c.state = n, csData
		case csData:
			if len(p) == 0 {
				return 0, nil
			}
			want := int64(len(p))
			if want > c.left {
				want = c.left
			}
			var n int
			if b.buffered() > 0 {
				n = copy(p[:want], b.buf[b.r:b.w])
				b.r += n
			} else if want >= 2048 {
				var err error
				n, err = b.readDirect(p[:want])
				if n == 0 {
					if err == nil {
						err = io.ErrNoProgress
					}
					return 0, err
				}
			} else {
				if err := b.fill(); err != nil {
					return 0, err
				}
				continue
			}
			c.left -= int64(n)
			if c.left == 0 {
				c.state = csDataCRLF
			}
			return n, nil
		case csDataCRLF:
			for b.buffered() < 2 {
				if err := b.fill(); err != nil {
					return 0, err
				}
			}
			if b.buf[b.r] != '\r' || b.buf[b.r+1] != '\n' {
				return 0, errBadLine
			}
			b.r += 2
			c.state = csSize
		case csTrailer:
			l, err := b.line(maxChunkLine)
			if err != nil {
				return 0, err
			}
			if len(l) == 0 {
				c.state = csDone
				return 0, io.EOF
			}
			c.trailers += len(l) + 2
			if c.trailers > c.maxTrail || !validTrailer(l) {
				return 0, errBadLine
			}
		default:
			return 0, io.EOF
		}
	}
}

// parseChunkSize parses "HEX [; ext ...]" strictly: 1 to 16 hex digits
// without overflow, then chunk extensions with token names and token or
// quoted-string values.
func parseChunkSize(l []byte) (int64, bool) {
	i := 0
	var n int64
	for i < len(l) && charClass[l[i]]&cHex != 0 {
		if n > (1<<63-1)>>4 {
			return 0, false
		}
		n = n<<4 | int64(unhex(l[i]))
		i++
	}
	if i == 0 || i > 16 {
		return 0, false
	}
	return n, validChunkExt(l[i:])
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func skipBWS(l []byte, i int) int {
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	return i
}

func skipToken(l []byte, i int) int {
	for i < len(l) && charClass[l[i]]&cTchar != 0 {
		i++
	}
	return i
}

// validChunkExt checks *( ";" BWS name [ BWS "=" BWS value ] ).
func validChunkExt(l []byte) bool {
	i := 0
	for {
		if i == len(l) {
			return true
		}
		// RFC 9112 allows whitespace before ';' (BWS, which senders must
		// not generate); net/http and other recipients refuse it, so we
		// do too.
		if l[i] != ';' {
			return false
		}
		i = skipBWS(l, i+1)
		j := skipToken(l, i)
		if j == i {
			return false
		}
		k := skipBWS(l, j)
		if k == len(l) || l[k] != '=' {
			i = j
			continue
		}
		i = skipBWS(l, k+1)
		if i < len(l) && l[i] == '"' {
			i++
			for {
				if i == len(l) {
					return false
				}
				c := l[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i == len(l) || charClass[l[i]]&cCtl != 0 {
						return false
					}
				} else if charClass[c]&cCtl != 0 {
					return false
				}
				i++
			}
		} else {
			j := skipToken(l, i)
			if j == i {
				return false
			}
			i = j
		}
	}
}

// validTrailer checks a trailer field line: token name, colon, value
// without control bytes; no obs-fold.
func validTrailer(l []byte) bool {
	c := bytes.IndexByte(l, ':')
	if c <= 0 {
		return false
	}
	for _, ch := range l[:c] {
		if charClass[ch]&cTchar == 0 {
			return false
		}
	}
	return validFieldValue(l[c+1:])
}
