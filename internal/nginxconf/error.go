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

func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	if e.Pos.File == CommandLine {
		return e.Msg + " in command line"
	}
	return fmt.Sprintf("%s in %s:%d", e.Msg, e.Pos.File, e.Pos.Line)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error at pos with a formatted message.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
