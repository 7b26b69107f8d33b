package proxy

import (
	"errors"
	"io"
	"os"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
	"gatehouse/internal/request"
	"gatehouse/internal/tempfile"
)

// requestBody is a client request body read in full before the upstream
// is contacted (proxy_request_buffering on, ngx_http_read_client_request_body):
// held in mem when it fits in client_body_buffer_size, else written
// whole to a temporary file in client_body_temp_path. Every attempt sends
// it from there, so a retry resends the same bytes whatever the size.
type requestBody struct {
	// mem is the in-memory body (its first n bytes) when file is nil,
	// and the read and send buffer when the body is in file.
	mem  []byte
	n    int
	file *os.File
	// name is the file's name, kept for the log and, with
	// client_body_in_file_only clean, to remove it when the request ends.
	name   string
	size   int64 // body bytes in file
	remove bool
}

// keepBodyBuffer is the largest body buffer an exchange keeps for the
// next request on its connection; a larger one is dropped when its
// request ends, so an idle connection holds at most this much.
const keepBodyBuffer = 64 << 10

// errBodyFile is a temporary file that could not be created or written
// (already logged at crit): nginx answers 500.
var errBodyFile = errors.New("request body temporary file failed")

// length is the body's size.
func (b *requestBody) length() int64 {
	if b.file != nil {
		return b.size
	}
	return int64(b.n)
}

// release ends the body's request: the temporary file is closed (and
// removed with client_body_in_file_only clean; otherwise it was unlinked
// when it was created, or is kept with client_body_in_file_only on), and
// a buffer larger than keepBodyBuffer is dropped.
func (b *requestBody) release() {
	if b.file != nil {
		_ = b.file.Close()
		if b.remove {
			_ = os.Remove(b.name)
		}
		b.file, b.name, b.size, b.remove = nil, "", 0, false
	}
	b.n = 0
	if cap(b.mem) > keepBodyBuffer {
		b.mem = nil
	}
}

// buffer returns the exchange's body buffer for this request: as large
// as client_body_buffer_size, or as the whole Content-Length body when
// that is less than a quarter more (ngx_http_read_client_request_body).
func (l *Location) buffer(x *request.Ctx) []byte {
	b := &hop(x).body
	r := &x.Req
	size := l.bodyBuf
	if !r.Chunked && r.ContentLength < size+size>>2 {
		size = r.ContentLength
	}
	if size <= 0 {
		size = 1
	}
	if int64(cap(b.mem)) < size {
		b.mem = make([]byte, size)
	}
	return b.mem[:size]
}

// readBody reads the whole request body into the exchange's requestBody
// (ngx_http_do_read_client_request_body with the save filter): a full
// buffer with more to come starts the temporary file and is written to
// it; once there is a file, the whole body ends up in it.
func (l *Location) readBody(x *request.Ctx) error {
	b := &hop(x).body
	buf := l.buffer(x)
	if l.inFile != tempfile.InFileOff {
		if err := l.spill(x, nil); err != nil {
			return err
		}
	}
	n := 0
	for {
		if n == len(buf) {
			if err := l.spill(x, buf[:n]); err != nil {
				return err
			}
			n = 0
		}
		m, err := x.Req.Body.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if b.file != nil {
		return l.spill(x, buf[:n])
	}
	b.n = n
	return nil
}

// spill writes p to the body's temporary file, creating the file first
// (ngx_http_write_request_body): nginx logs its name at warn, or at
// notice when client_body_in_file_only asks for a file.
func (l *Location) spill(x *request.Ctx, p []byte) error {
	b := &hop(x).body
	if b.file == nil {
		f, name, err := l.temp.Create(l.nums, l.inFile != tempfile.InFileOff)
		if err != nil {
			x.ErrorLog().Log(errorlog.Crit, x.LogContext(""), err.Error())
			return errBodyFile
		}
		b.file, b.name, b.size = f, name, 0
		b.remove = l.inFile == tempfile.InFileClean
		level := errorlog.Warn
		if l.inFile != tempfile.InFileOff {
			level = errorlog.Notice
		}
		if log := x.ErrorLog(); log.Enabled(level) {
			log.Log(level, x.LogContext(""), "a client request body is buffered to a temporary file "+name)
		}
	}
	if len(p) == 0 {
		return nil
	}
	if _, err := b.file.Write(p); err != nil {
		x.ErrorLog().Log(errorlog.Crit, x.LogContext(""), (&tempfile.Error{Op: "write()", Path: b.name, Err: unwrapPathErr(err)}).Error())
		return errBodyFile
	}
	b.size += int64(len(p))
	return nil
}

// sendBody writes the buffered body to the upstream: from memory, or
// from the temporary file through the body buffer.
func (l *Location) sendBody(uc *http1.UpstreamConn, x *request.Ctx) error {
	b := &hop(x).body
	if b.file == nil {
		_, err := uc.Write(b.mem[:b.n])
		return err
	}
	buf := b.mem[:cap(b.mem)]
	var off int64
	for off < b.size {
		if rest := b.size - off; rest < int64(len(buf)) {
			buf = buf[:rest]
		}
		m, err := b.file.ReadAt(buf, off)
		if m > 0 {
			if _, werr := uc.Write(buf[:m]); werr != nil {
				return werr
			}
			off += int64(m)
		}
		if err != nil && off < b.size {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return &clientBodyError{err: &tempfile.Error{Op: "read()", Path: b.name, Err: unwrapPathErr(err)}}
		}
	}
	return nil
}

// streamBody sends the body to the upstream as it arrives from the
// client (proxy_request_buffering off,
// ngx_http_upstream_send_request_body with request_body_no_buffering),
// flushing every read. A failure to read from the client is returned as
// a *clientBodyError.
func (l *Location) streamBody(uc *http1.UpstreamConn, x *request.Ctx) error {
	buf := l.buffer(x)
	for {
		m, err := x.Req.Body.Read(buf)
		if m > 0 {
			if _, werr := uc.Write(buf[:m]); werr != nil {
				return werr
			}
			if werr := uc.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &clientBodyError{err: err}
		}
	}
}

// clientBodyError is a failure on the client's side of a body being
// sent upstream: the client's connection (streamed body) or the
// temporary file (buffered body), not the upstream peer's.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
