package accesslog

import (
	"sync"

	"gatehouse/internal/variables"
)

// Sink is one access_log of a location: where, in which format, and under
// which condition.
type Sink struct {
	File   *File
	Format *Format
	If     *variables.Template // nil: always

	// Path, when File is nil, is an access_log path with variables: each
	// line is appended to the file it evaluates to, opened and closed per
	// line as nginx does without open_log_file_cache. Files reports open
	// and write failures to its error log.
	Path  *variables.Template
	Files *Files
}

// Logger writes a request's access-log lines for one location (every
// access_log in effect there). It is immutable and safe for concurrent
// use; a nil *Logger logs nothing (access_log off).
type Logger struct {
	sinks []Sink
	pool  sync.Pool
}

// NewLogger returns a Logger writing to sinks in order.
func NewLogger(sinks ...Sink) *Logger {
	l := &Logger{sinks: append([]Sink(nil), sinks...)}
	l.pool.New = func() any { b := make([]byte, 0, 1024); return &b }
	return l
}

// Log renders and writes one line per sink for the request src describes.
// In steady state it does not allocate: lines are built in pooled buffers.
func (l *Logger) Log(src variables.Source) {
	if l == nil || len(l.sinks) == 0 {
		return
	}
	bp := l.pool.Get().(*[]byte)
	b := *bp
	for i := range l.sinks {
		s := &l.sinks[i]
		if s.If != nil {
			b = s.If.Append(b[:0], src)
			if len(b) == 0 || len(b) == 1 && b[0] == '0' {
				continue
			}
		}
		b = s.Format.Append(b[:0], src)
		b = append(b, '\n')
		if s.File != nil {
			s.File.Write(b)
		} else if s.Path != nil {
			n := len(b)
			b = s.Path.Append(b, src)
			s.Files.WriteDynamic(b[n:], b[:n])
			b = b[:n]
		}
	}
	*bp = b[:0]
	l.pool.Put(bp)
}
