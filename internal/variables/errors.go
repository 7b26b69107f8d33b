package variables

import (
	"errors"
)

// ErrInvalidName is the class of SyntaxError nginx reports as
// "invalid variable name": "$" at the end of an argument, "${}" or "$"
// followed by a character that cannot start a name.
var ErrInvalidName = errors.New("invalid variable name")

// ErrMissingBracket is the class of SyntaxError nginx reports as
// `the closing bracket in "NAME" variable is missing`.
var ErrMissingBracket = errors.New("missing closing bracket")

// ErrUnknown is the class of UnknownError.
var ErrUnknown = errors.New("unknown variable")

// SyntaxError is a malformed variable reference in an argument. Its text is
// nginx's message without position; the configuration layer appends
// " in FILE:LINE". errors.Is matches ErrInvalidName or ErrMissingBracket.
type SyntaxError struct {
	Kind   error  // ErrInvalidName or ErrMissingBracket
	Name   string // the name read so far (for ErrMissingBracket)
	Offset int    // byte offset of the "$" in the argument
}

func (e *SyntaxError) Error() string {
	if e.Kind == ErrMissingBracket {
		return `the closing bracket in "` + e.Name + `" variable is missing`
	}
	return "invalid variable name"
}

// Is makes errors.Is(err, ErrInvalidName) and friends work.
func (e *SyntaxError) Is(target error) bool { return target == e.Kind }

// UnknownError is a reference to a variable nobody defines. nginx reports
// it after the whole configuration is read, without file:line:
// `unknown "foo" variable`. Name is lowercased, as nginx prints it.
type UnknownError struct {
	Name string
}

func (e *UnknownError) Error() string { return `unknown "` + e.Name + `" variable` }

// Is makes errors.Is(err, ErrUnknown) work.
func (e *UnknownError) Is(target error) bool { return target == ErrUnknown }

// DuplicateError reports a defined name that collides with a built-in
// variable nginx does not let the configuration redefine:
// `the duplicate "host" variable`.
type DuplicateError struct {
	Name string
}

func (e *DuplicateError) Error() string { return `the duplicate "` + e.Name + `" variable` }
