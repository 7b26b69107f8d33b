package nginxconf

import "fmt"

// Error is a configuration error or warning in nginx's wording. Its text is
// the message followed by " in FILE:LINE" when it has a position, exactly as
// nginx prints it after "[emerg] ".
type Error struct {
	Pos Pos // zero when the message carries no position (nginx's post-parse checks)
	Msg string
	// Err is the underlying cause, if any (for example a *fs.PathError), so
	// callers can classify with errors.Is / errors.As.
	Err error
}

// maxConfErr is the size of the buffer nginx formats a positioned
// configuration message in (NGX_MAX_CONF_ERRSTR); longer ones are cut.
const maxConfErr = 1024

// Error returns the text nginx prints. Like nginx, it cuts a positioned
// message to its first 1024 bytes (Msg keeps the whole message).
func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	msg := e.Msg
	if len(msg) > maxConfErr {
		msg = msg[:maxConfErr]
	}
	if e.Pos.File == CommandLine {
		return msg + " in command line"
	}
	return fmt.Sprintf("%s in %s:%d", msg, e.Pos.File, e.Pos.Line)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error at pos with a formatted message.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
