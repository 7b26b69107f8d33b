// Package accesslog implements log_format and access_log (nginx.md §10.1):
// formats compiled once through the variables package, rendered per
// request with nginx's escaping rules into a pooled buffer, and written as
// one line to a file shared by every access_log that names its path,
// optionally buffered, reopened on USR1.
package accesslog

import (
	"errors"

	"gatehouse/internal/variables"
)

// Escape is a log_format's escaping mode.
type Escape uint8

// The escape= modes of log_format.
const (
	EscapeDefault Escape = iota // \xHH for bytes < 0x20, '"', '\', 0x7F and >= 0x80
	EscapeJSON                  // JSON string escapes
	EscapeNone                  // raw
)

// String returns the mode as written after "escape=".
func (e Escape) String() string {
	switch e {
	case EscapeJSON:
		return "json"
	case EscapeNone:
		return "none"
	}
	return "default"
}

// Combined is the text of the predefined "combined" format.
const Combined = `$remote_addr - $remote_user [$time_local] ` +
	`"$request" $status $body_bytes_sent ` +
	`"$http_referer" "$http_user_agent"`

// Error is an invalid log_format. Its text is
// nginx's message without position; the configuration layer adds
// " in FILE:LINE". Syntax errors of variables and unknown variables come
// back as the variables package's own types instead, because nginx reports
// `unknown "x" variable` without a position.
type Error struct {
	Msg string
	Err error // underlying cause, if any
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Format is a compiled log_format. It is immutable and safe for concurrent
// use.
type Format struct {
	name   string
	escape Escape
	segs   []variables.Segment
}

// Name returns the format's name as defined.
func (f *Format) Name() string { return f.name }

// Escape returns the format's escaping mode.
func (f *Format) Escape() Escape { return f.escape }

// NewFormat compiles a log_format from its name, escape= mode and strings
// (the directive's arguments after those), once at configuration time.
// Each string is compiled on its own, as ngx_http_log_compile_format does,
// so a "$" that ends one string is an error even if the next begins with
// a name.
func NewFormat(reg *variables.Registry, name string, escape Escape, strs ...string) (*Format, error) {
	f := &Format{name: name, escape: escape}
	for _, a := range strs {
		t, err := reg.CompileMode(a, variables.LogFormat)
		if err != nil {
			var se *variables.SyntaxError
			if errors.As(err, &se) && errors.Is(err, variables.ErrInvalidName) {
				// nginx's log_format parser words this differently and
				// quotes the argument from the "$" on.
				return nil, &Error{Msg: `invalid parameter "` + a[se.Offset:] + `"`, Err: err}
			}
			return nil, err
		}
		f.segs = append(f.segs, t.Segments()...)
	}
	return f, nil
}

// Append renders one log line (without the newline) for src into dst:
// literal text as written; a variable's value escaped per the format's
// mode; a not-found variable as "-" with escape=default and as nothing
// with json and none (nginx's ngx_http_log_variable and friends).
// It allocates only if dst lacks capacity.
func (f *Format) Append(dst []byte, src variables.Source) []byte {
	for i := range f.segs {
		s := &f.segs[i]
		if s.ID == variables.None {
			dst = append(dst, s.Literal...)
			continue
		}
		n := len(dst)
		d, ok := src.Var(s.ID, s.Arg, dst)
		if len(d) < n {
			// A Source must only append; never let a faulty one make us
			// slice out of range.
			d, ok = dst, false
		}
		if !ok {
			if f.escape == EscapeDefault {
				dst = append(dst[:n], '-')
			} else {
				dst = dst[:n]
			}
			continue
		}
		switch f.escape {
		case EscapeDefault:
			dst = escapeDefaultInPlace(d, n)
		case EscapeJSON:
			dst = escapeJSONInPlace(d, n)
		default:
			dst = d
		}
	}
	return dst
}
