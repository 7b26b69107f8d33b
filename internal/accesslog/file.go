package accesslog

import (
	"compress/gzip"
	"errors"
	"os"
	"sync"
	"time"

	"gatehouse/internal/errorlog"
)

// ErrConflict classifies two access_log directives for one path with
// different buffer, flush or gzip parameters.
var ErrConflict = errors.New("access_log already defined with conflicting parameters")

// Files is the set of access-log files of one configuration generation:
// every access_log naming a path shares one *File, as nginx shares one
// open file per path. It is safe for concurrent use.
type Files struct {
	mu     sync.Mutex
	files  map[string]*File
	order  []*File
	errlog *errorlog.Logger
	now    func() time.Time
}

// FilesOptions are the injected dependencies of a Files.
type FilesOptions struct {
	// ErrorLog receives nginx's alert when a write fails
	// (`write() to "PATH" failed (28: No space left on device)`), at most
	// once a minute per file. Nil discards it.
	ErrorLog *errorlog.Logger
	// Now is the clock for that rate limit; default time.Now.
	Now func() time.Time
}

// NewFiles returns an empty set.
func NewFiles(opts FilesOptions) *Files {
	fs := &Files{files: map[string]*File{}, errlog: opts.ErrorLog, now: opts.Now}
	if fs.now == nil {
		fs.now = time.Now
	}
	return fs
}

// Open returns the shared file for path, opening it (create, append) on
// first use; failing that, the error is an *errorlog.OpenError with nginx's
// text. buffer, flush and gzip are the access_log parameters; a path
// opened again must repeat the same ones when it is buffered, or the
// result is an *Error wrapping ErrConflict, as in nginx. Unbuffered uses
// of a buffered path share its buffer.
func (fs *Files) Open(path string, buffer int, flush time.Duration, gzipLevel int) (*File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.files[path]; ok {
		if buffer == 0 {
			return f, nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.bufSize != 0 && (f.bufSize != buffer || f.flushEvery != flush || f.gzip != gzipLevel) {
			return nil, &Error{Msg: `access_log "` + path + `" already defined with conflicting parameters`, Err: ErrConflict}
		}
		if f.bufSize == 0 {
			f.setBufferLocked(buffer, flush, gzipLevel)
		}
		return f, nil
	}
	of, err := openAppend(path)
	if err != nil {
		return nil, &errorlog.OpenError{Path: path, Err: err}
	}
	f := &File{path: path, f: of, owner: fs}
	if buffer != 0 {
		f.setBufferLocked(buffer, flush, gzipLevel)
	}
	fs.files[path] = f
	fs.order = append(fs.order, f)
	return f, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
}

// Reopen flushes and reopens every file by path, so that after log
// rotation renamed a file the next lines go to a new one (USR1). A file
// that cannot be reopened keeps its old descriptor; the first error is
// returned.
func (fs *Files) Reopen() error {
	fs.mu.Lock()
	files := append([]*File(nil), fs.order...)
	fs.mu.Unlock()
	var first error
	for _, f := range files {
		if err := f.reopen(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Flush writes out every buffer.
func (fs *Files) Flush() {
	fs.mu.Lock()
	files := append([]*File(nil), fs.order...)
	fs.mu.Unlock()
	for _, f := range files {
		f.Flush()
	}
}

// Close flushes and closes every file; later writes are dropped.
func (fs *Files) Close() error {
	fs.mu.Lock()
	files := fs.order
	fs.order = nil
	fs.files = map[string]*File{}
	fs.mu.Unlock()
	var first error
	for _, f := range files {
		if err := f.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// WriteDynamic appends line to the file at path (an evaluated access_log
// path with variables), creating it if needed, and closes it again. A
// failure is logged at crit, like nginx's `open() "PATH" failed (...)`,
// and otherwise ignored. This path allocates (the file name and
// descriptor); logs with constant paths do not.
func (fs *Files) WriteDynamic(path, line []byte) {
	name := string(path)
	of, err := openAppend(name)
	if err != nil {
		if fs != nil && fs.errlog != nil {
			fs.errlog.Logf(errorlog.Crit, nil, `open() "%s" failed (%s)`, name, errorlog.Errno(err))
		}
		return
	}
	if _, err := of.Write(line); err != nil && fs != nil && fs.errlog != nil {
		fs.errlog.Logf(errorlog.Alert, nil, `write() to "%s" failed (%s)`, name, errorlog.Errno(err))
	}
	_ = of.Close()
}

// File is one open access-log file, possibly buffered. Lines are written
// with a single write each (O_APPEND), or collected in the buffer and
// written together; a line never straddles two writes.
type File struct {
	path  string
	owner *Files

	mu         sync.Mutex
	f          *os.File // nil once closed
	buf        []byte   // len = pending bytes, cap = buffer size
	bufSize    int
	flushEvery time.Duration
	gzip       int
	zw         *gzip.Writer
	timer      *time.Timer
	lastErr    time.Time
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

func (f *File) setBufferLocked(size int, flush time.Duration, gzipLevel int) {
	f.bufSize = size
	f.buf = make([]byte, 0, size)
	f.flushEvery = flush
	f.gzip = gzipLevel
}

// Write appends one complete line (ending in "\n"). Buffered files collect
// lines until the next line does not fit, the flush timer fires, or the
// file is reopened or closed; a line larger than the buffer is written
// directly after flushing what is pending.
func (f *File) Write(line []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return
	}
	if f.bufSize == 0 {
		f.writeLocked(line)
		return
	}
	if len(line) > cap(f.buf)-len(f.buf) {
		f.flushLocked()
	}
	if len(line) <= cap(f.buf)-len(f.buf) {
		if len(f.buf) == 0 && f.flushEvery > 0 {
			f.armTimer()
		}
		f.buf = append(f.buf, line...)
		return
	}
	f.stopTimer()
	f.writeLocked(line)
}

func (f *File) armTimer() {
	if f.timer == nil {
		f.timer = time.AfterFunc(f.flushEvery, f.Flush)
		return
	}
	f.timer.Reset(f.flushEvery)
}

func (f *File) stopTimer() {
	if f.timer != nil {
		f.timer.Stop()
	}
}

// Flush writes out the buffer, if any.
func (f *File) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushLocked()
}

func (f *File) flushLocked() {
	if len(f.buf) == 0 || f.f == nil {
		return
	}
	f.stopTimer()
	f.writeLocked(f.buf)
	f.buf = f.buf[:0]
}

// writeLocked writes p in one write (or one gzip member when compressing).
func (f *File) writeLocked(p []byte) {
	var err error
	if f.gzip > 0 {
		err = f.writeGzip(p)
	} else {
		_, err = f.f.Write(p)
	}
	if err != nil {
		f.reportLocked(err)
	}
}

func (f *File) writeGzip(p []byte) error {
	// Each flush is a complete gzip member, as nginx writes them, so the
	// file stays readable by zcat while it grows.
	var out gzipBuffer
	if f.zw == nil {
		zw, err := gzip.NewWriterLevel(&out, f.gzip)
		if err != nil {
			return err
		}
		f.zw = zw
	} else {
		f.zw.Reset(&out)
	}
	if _, err := f.zw.Write(p); err != nil {
		return err
	}
	if err := f.zw.Close(); err != nil {
		return err
	}
	_, err := f.f.Write(out.b)
	return err
}

type gzipBuffer struct{ b []byte }

func (g *gzipBuffer) Write(p []byte) (int, error) {
	g.b = append(g.b, p...)
	return len(p), nil
}

func (f *File) reportLocked(err error) {
	if f.owner == nil || f.owner.errlog == nil {
		return
	}
	now := f.owner.now()
	if !f.lastErr.IsZero() && now.Sub(f.lastErr) < time.Minute {
		return
	}
	f.lastErr = now
	f.owner.errlog.Logf(errorlog.Alert, nil, `write() to "%s" failed (%s)`, f.path, errorlog.Errno(err))
}

func (f *File) reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	f.flushLocked()
	nf, err := openAppend(f.path)
	if err != nil {
		return &errorlog.OpenError{Path: f.path, Err: err}
	}
	old := f.f
	f.f = nf
	return old.Close()
}

func (f *File) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	f.flushLocked()
	f.stopTimer()
	err := f.f.Close()
	f.f = nil
	return err
}
