// Package errorlog writes nginx's error log: the exact line format
// (nginx.md §10.2), the eight levels and their filtering, several outputs
// (files and stderr), reopening on USR1, and the start-up echo of serious
// messages to stderr.
//
// There is no package-level logger: the program builds a *Logger and hands
// it to whoever logs. A Logger is safe for concurrent use.
//
// The TID field of a line is the process id. nginx prints the OS thread id
// there, which for the main thread of a worker equals its PID; Go does not
// expose a stable thread id for a goroutine, and tools that parse the line
// only need the "PID#TID" shape.
package errorlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Level is a severity. Smaller is more severe, with nginx's numbering.
type Level uint8

// The eight levels, most severe first.
const (
	Emerg Level = 1 + iota
	Alert
	Crit
	Error
	Warn
	Notice
	Info
	Debug
)

var levelNames = [...]string{"", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}

// String returns the level's name as written in the log and in error_log.
func (l Level) String() string {
	if int(l) < len(levelNames) && l != 0 {
		return levelNames[l]
	}
	return "level" + strconv.Itoa(int(l))
}

// ErrInvalidLevel classifies ParseLevel failures.
var ErrInvalidLevel = errors.New("invalid log level")

// ParseLevel reads a level name as error_log takes it ("warn", "error",
// ...). The error wraps ErrInvalidLevel.
func ParseLevel(s string) (Level, error) {
	for i := 1; i < len(levelNames); i++ {
		if levelNames[i] == s {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrInvalidLevel, s)
}

// Includes reports whether a log at level l records a message at level m:
// a level includes all more severe ones.
func (l Level) Includes(m Level) bool { return m <= l }

// Context is what a message is about; every field is optional and printed
// only when set, in nginx's order:
//
//	*CONN message while ACTION, client: CLIENT, server: SERVER,
//	request: "REQUEST", upstream: "UPSTREAM", host: "HOST", referrer: "REFERRER"
//
// Byte-slice fields take request bytes without conversion; the Logger does
// not retain them.
type Context struct {
	Conn   uint64 // connection serial number; 0 means none
	Action string // "connecting to upstream", "SSL handshaking", ...
	Client string // client address text
	// Server is the selected server's primary name, or for a connection
	// without a request yet the listening address ("0.0.0.0:443").
	Server string
	// InRequest makes "server:" appear even when Server is empty, as nginx
	// prints it for every request-level message.
	InRequest bool
	Request   []byte // the request line
	Upstream  []byte // "https://10.0.0.1:443/uri"
	Host      []byte // the Host header
	Referrer  []byte // the Referer header
}

// Target is one error_log destination: a file path, or "stderr".
type Target struct {
	Path  string
	Level Level
}

// Options are the process-wide facts a line carries and the injected
// clock and stderr.
type Options struct {
	PID     int
	Now     func() time.Time // local time; default time.Now
	Stderr  io.Writer        // default os.Stderr
	Program string           // prefix of echoed lines; default "gatehouse"
	// Echo starts the logger in start-up mode: messages at warn or more
	// severe are also written to Stderr as "PROGRAM: [level] message",
	// unless a stderr target already printed them. SetEcho(false) ends it
	// once the server runs.
	Echo bool
	// MaxLine caps a line's length including the newline, as nginx's
	// NGX_MAX_ERROR_STR does: longer lines are cut. 0 means nginx's 2048;
	// a negative value means no limit.
	MaxLine int
}

// DefaultMaxLine is nginx's NGX_MAX_ERROR_STR.
const DefaultMaxLine = 2048

// shared is what a Logger and the loggers derived from it have in common:
// the process facts, stderr, and the open files by path.
type shared struct {
	pid     []byte
	now     func() time.Time
	program string
	maxLine int
	pool    sync.Pool

	stderrMu sync.Mutex
	stderr   io.Writer

	mu    sync.Mutex // guards files and every logFile.refs
	files map[string]*logFile
}

// logFile is one open error-log file, shared by every output naming its
// path.
type logFile struct {
	path string
	refs int // guarded by shared.mu

	mu sync.RWMutex // writers read-lock; reopen and close write-lock
	f  *os.File
}

type output struct {
	level Level
	file  *logFile // nil for stderr
}

// Logger writes error-log lines. Build it with New; Derive makes loggers
// for server- and location-level error_log directives that share its open
// files.
type Logger struct {
	sh *shared

	mu   sync.RWMutex // guards outs and echo; writers read-lock
	outs []output
	echo bool
	// gate is the least severe level worth formatting (max of the outputs,
	// and Warn while echoing), read without the lock so that filtered
	// messages cost one atomic load.
	gate atomic.Uint32
}

// New opens the targets (creating files, appending) and returns a Logger.
// On error nothing stays open. Several targets may name the same file;
// it is opened once.
func New(targets []Target, opts Options) (*Logger, error) {
	sh := &shared{
		pid:     strconv.AppendInt(nil, int64(opts.PID), 10),
		now:     opts.Now,
		stderr:  opts.Stderr,
		program: opts.Program,
		maxLine: opts.MaxLine,
		files:   map[string]*logFile{},
	}
	if sh.maxLine == 0 {
		sh.maxLine = DefaultMaxLine
	}
	if sh.now == nil {
		sh.now = time.Now
	}
	if sh.stderr == nil {
		sh.stderr = os.Stderr
	}
	if sh.program == "" {
		sh.program = "gatehouse"
	}
	sh.pool.New = func() any { b := make([]byte, 0, 512); return &b }
	l := &Logger{sh: sh, echo: opts.Echo}
	outs, err := sh.acquire(targets)
	if err != nil {
		return nil, err
	}
	l.setOutputs(outs)
	return l, nil
}

// Derive returns a logger for other targets (an error_log inside a server
// or location) that shares this one's process facts, clock, stderr and
// open files: a path open in both is opened once, and Reopen on either
// reopens it for both. The derived logger does not echo. Close it when
// its configuration generation retires.
func (l *Logger) Derive(targets []Target) (*Logger, error) {
	outs, err := l.sh.acquire(targets)
	if err != nil {
		return nil, err
	}
	d := &Logger{sh: l.sh}
	d.setOutputs(outs)
	return d, nil
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, &OpenError{Path: path, Err: err}
	}
	return f, nil
}

// OpenError is a log file that could not be opened. Its text is nginx's:
// `open() "/var/log/x.log" failed (13: Permission denied)`; it unwraps to
// the cause (a *fs.PathError), so errors.Is(err, fs.ErrPermission) works.
type OpenError struct {
	Path string
	Err  error
}

func (e *OpenError) Error() string {
	return `open() "` + e.Path + `" failed (` + Errno(e.Err) + `)`
}

func (e *OpenError) Unwrap() error { return e.Err }

// acquire returns outputs for targets, opening files not yet open and
// taking a reference on each. On error it takes none.
func (sh *shared) acquire(targets []Target) ([]output, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	outs := make([]output, 0, len(targets))
	for _, t := range targets {
		o := output{level: t.Level}
		if t.Path != "stderr" {
			lf := sh.files[t.Path]
			if lf == nil {
				f, err := openFile(t.Path)
				if err != nil {
					sh.releaseLocked(outs)
					return nil, err
				}
				lf = &logFile{path: t.Path, f: f}
				sh.files[t.Path] = lf
			}
			lf.refs++
			o.file = lf
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// release drops the references of outs, closing files nobody uses.
func (sh *shared) release(outs []output) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.releaseLocked(outs)
}

func (sh *shared) releaseLocked(outs []output) error {
	var first error
	for _, o := range outs {
		if o.file == nil {
			continue
		}
		o.file.refs--
		if o.file.refs > 0 {
			continue
		}
		delete(sh.files, o.file.path)
		o.file.mu.Lock()
		if err := o.file.f.Close(); err != nil && first == nil {
			first = err
		}
		o.file.mu.Unlock()
	}
	return first
}

// setOutputs installs outs; the caller holds l.mu or owns l exclusively.
func (l *Logger) setOutputs(outs []output) {
	l.outs = outs
	l.updateGate()
}

func (l *Logger) updateGate() {
	var g Level
	for _, o := range l.outs {
		if o.level > g {
			g = o.level
		}
	}
	if l.echo && g < Warn {
		g = Warn
	}
	l.gate.Store(uint32(g))
}

// Reconfigure switches to a new set of targets (after a reload), keeping
// files that stay and closing the others. On error the old targets remain.
func (l *Logger) Reconfigure(targets []Target) error {
	outs, err := l.sh.acquire(targets)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.outs
	l.setOutputs(outs)
	l.mu.Unlock()
	return l.sh.release(old)
}

// SetEcho turns the start-up echo to stderr on or off.
func (l *Logger) SetEcho(on bool) {
	l.mu.Lock()
	l.echo = on
	l.updateGate()
	l.mu.Unlock()
}

// Enabled reports whether any output records messages at level, so callers
// can skip building expensive messages. A nil *Logger logs nothing.
func (l *Logger) Enabled(level Level) bool {
	if l == nil {
		return false
	}
	return uint32(level) <= l.gate.Load()
}

// Log writes msg at level with the given context (nil for none).
func (l *Logger) Log(level Level, ctx *Context, msg string) {
	if !l.Enabled(level) {
		return
	}
	bp := l.sh.pool.Get().(*[]byte)
	*bp = l.write((*bp)[:0], level, ctx, msg)
	l.sh.pool.Put(bp)
}

// Logf is Log with a fmt-formatted message.
func (l *Logger) Logf(level Level, ctx *Context, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	l.Log(level, ctx, fmt.Sprintf(format, args...))
}

// Writer returns an io.Writer that logs each Write as one message at
// level (a trailing newline dropped), for libraries that want a
// *log.Logger or an io.Writer for their diagnostics.
func (l *Logger) Writer(level Level) io.Writer { return levelWriter{l, level} }

type levelWriter struct {
	l     *Logger
	level Level
}

func (w levelWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	w.l.Log(w.level, nil, msg)
	return len(p), nil
}

func (l *Logger) write(b []byte, level Level, ctx *Context, msg string) []byte {
	sh := l.sh
	now := sh.now()
	b = appendTime(b, now)
	b = append(b, " ["...)
	b = append(b, level.String()...)
	b = append(b, "] "...)
	b = append(b, sh.pid...)
	b = append(b, '#')
	b = append(b, sh.pid...)
	b = append(b, ": "...)
	if ctx != nil && ctx.Conn != 0 {
		b = append(b, '*')
		b = strconv.AppendUint(b, ctx.Conn, 10)
		b = append(b, ' ')
	}
	msgStart := len(b)
	b = appendMessage(b, msg)
	if level != Debug {
		// nginx adds the context for every level but debug.
		b = AppendContext(b, ctx)
	}
	if sh.maxLine > 0 && len(b) > sh.maxLine-1 {
		b = b[:max(sh.maxLine-1, msgStart)]
	}
	b = append(b, '\n')

	l.mu.RLock()
	defer l.mu.RUnlock()
	wroteStderr := false
	for _, o := range l.outs {
		if level > o.level {
			continue
		}
		if o.file == nil {
			sh.stderrMu.Lock()
			_, _ = sh.stderr.Write(b)
			sh.stderrMu.Unlock()
			wroteStderr = true
			continue
		}
		o.file.mu.RLock()
		_, _ = o.file.f.Write(b)
		o.file.mu.RUnlock()
	}
	if l.echo && level <= Warn && !wroteStderr {
		// "PROGRAM: [level] " followed by the message and its context.
		e := b[len(b):]
		e = append(e, sh.program...)
		e = append(e, ": ["...)
		e = append(e, level.String()...)
		e = append(e, "] "...)
		e = append(e, b[msgStart:]...)
		sh.stderrMu.Lock()
		_, _ = sh.stderr.Write(e)
		sh.stderrMu.Unlock()
		if cap(e) > cap(b) {
			b = e[:0]
		}
	}
	return b[:0]
}

// AppendContext appends the text nginx adds after a message for ctx
// (" while ACTION, client: ..."), without the "*CONN " prefix. The quoted
// fields (request, upstream, host, referrer) carry client bytes and are
// escaped with AppendEscaped; nginx writes them raw.
func AppendContext(b []byte, ctx *Context) []byte {
	if ctx == nil {
		return b
	}
	if ctx.Action != "" {
		b = append(b, " while "...)
		b = append(b, ctx.Action...)
	}
	if ctx.Client != "" {
		b = append(b, ", client: "...)
		b = append(b, ctx.Client...)
	}
	if ctx.Server != "" || ctx.InRequest {
		b = append(b, ", server: "...)
		b = append(b, ctx.Server...)
	}
	b = appendQuoted(b, ", request: ", ctx.Request)
	b = appendQuoted(b, ", upstream: ", ctx.Upstream)
	b = appendQuoted(b, ", host: ", ctx.Host)
	b = appendQuoted(b, ", referrer: ", ctx.Referrer)
	return b
}

func appendQuoted(b []byte, label string, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = append(b, label...)
	b = append(b, '"')
	b = AppendEscaped(b, v)
	return append(b, '"')
}

// appendTime writes "YYYY/MM/DD HH:MM:SS" in t's location.
func appendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append4(b, y)
	b = append(b, '/')
	b = append2(b, int(mo))
	b = append(b, '/')
	b = append2(b, d)
	b = append(b, ' ')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	return append2(b, s)
}

func append2(b []byte, n int) []byte {
	if n < 0 || n > 99 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func append4(b []byte, n int) []byte {
	if n < 0 || n > 9999 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// Reopen reopens every file by path (after log rotation renamed them), as
// USR1 asks, for this logger and every logger sharing its files. A file
// that cannot be reopened keeps its old descriptor; the first error is
// returned.
func (l *Logger) Reopen() error {
	sh := l.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var first error
	for _, lf := range sh.files {
		nf, err := openFile(lf.path)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		lf.mu.Lock()
		old := lf.f
		lf.f = nf
		lf.mu.Unlock()
		_ = old.Close()
	}
	return first
}

// Close releases this logger's files (closing those no other logger
// uses). Messages logged afterwards go nowhere but the echo.
func (l *Logger) Close() error {
	l.mu.Lock()
	old := l.outs
	l.setOutputs(nil)
	l.mu.Unlock()
	return l.sh.release(old)
}

// Errno formats err the way nginx suffixes system errors, "13: Permission
// denied" (errno and strerror text), when err wraps a syscall.Errno, and
// err.Error() otherwise. Callers write it in parentheses.
func Errno(err error) string {
	var no syscall.Errno
	if !errors.As(err, &no) {
		return err.Error()
	}
	text := no.Error()
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return strconv.Itoa(int(no)) + ": " + text
}
