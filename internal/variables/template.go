package variables

import "strings"

// Source supplies variable values for one request. Var appends the value of
// the variable id (with arg as described for the ID) to dst and reports
// whether the variable was found. When it is not found Var must return dst
// unchanged; an empty but existing value returns dst and true. The
// distinction matters to access logs, which print "-" for not found.
//
// Implementations must not retain arg or dst.
type Source interface {
	Var(id ID, arg []byte, dst []byte) ([]byte, bool)
}

// Segment is one piece of a compiled template: literal text (ID == None)
// or a variable reference.
type Segment struct {
	ID      ID
	Literal []byte // for ID == None
	Arg     []byte // passed to Source.Var
	Name    string // the variable name as written, lowercased (diagnostics)
}

// Template is a compiled argument. It is immutable and safe for concurrent
// use.
type Template struct {
	src      string
	segs     []Segment
	constant bool
	lit      []byte
}

// Mode selects which of nginx's two variable parsers an argument follows.
type Mode uint8

const (
	// Script is the parser of ngx_http_script_compile, used by proxy_pass,
	// proxy_set_header, return, set, map, if= and every "complex value":
	// $1..$9 are regex captures (one digit only).
	Script Mode = iota
	// LogFormat is the parser of log_format: no special case for digits,
	// so "$1" names a variable "1" (and is therefore unknown).
	LogFormat
)

// Compile parses arg with the Script rules (nginx.md §1.4) and resolves
// every name in r. Errors are *SyntaxError (to be positioned by the
// caller) or *UnknownError (reported by nginx without position).
func (r *Registry) Compile(arg string) (*Template, error) {
	return r.CompileMode(arg, Script)
}

// CompileMode is Compile with an explicit parser mode.
func (r *Registry) CompileMode(arg string, mode Mode) (*Template, error) {
	t := &Template{src: arg}
	i := 0
	for i < len(arg) {
		if arg[i] != '$' {
			j := strings.IndexByte(arg[i:], '$')
			if j < 0 {
				j = len(arg) - i
			}
			t.segs = append(t.segs, Segment{Literal: []byte(arg[i : i+j])})
			i += j
			continue
		}
		start := i
		i++
		if i == len(arg) {
			return nil, &SyntaxError{Kind: ErrInvalidName, Offset: start}
		}
		if mode == Script && arg[i] >= '1' && arg[i] <= '9' {
			t.segs = append(t.segs, Segment{ID: Capture, Arg: []byte{arg[i]}, Name: arg[i : i+1]})
			i++
			continue
		}
		bracket := false
		if arg[i] == '{' {
			bracket = true
			i++
			if i == len(arg) {
				return nil, &SyntaxError{Kind: ErrInvalidName, Offset: start}
			}
		}
		nameStart := i
		nameEnd := i
		for i < len(arg) {
			c := arg[i]
			if c == '}' && bracket {
				nameEnd = i
				i++
				bracket = false
				break
			}
			if isNameByte(c) {
				i++
				nameEnd = i
				continue
			}
			break
		}
		if bracket {
			return nil, &SyntaxError{Kind: ErrMissingBracket, Name: arg[nameStart:nameEnd], Offset: start}
		}
		name := arg[nameStart:nameEnd]
		if name == "" {
			return nil, &SyntaxError{Kind: ErrInvalidName, Offset: start}
		}
		id, varg, err := r.Lookup(name)
		if err != nil {
			return nil, err
		}
		t.segs = append(t.segs, Segment{ID: id, Arg: varg, Name: strings.ToLower(name)})
	}
	t.constant = true
	for _, s := range t.segs {
		if s.ID != None {
			t.constant = false
			break
		}
	}
	if t.constant {
		t.lit = []byte(arg)
	}
	return t, nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// HasVariables reports whether s contains a "$", the test nginx uses
// (ngx_http_script_variables_count) to decide whether a directive argument
// is compiled at all or used as a plain string.
func HasVariables(s string) bool { return strings.IndexByte(s, '$') >= 0 }

// Append appends the template's value to dst, asking src for each variable
// (a not-found variable contributes nothing). It allocates only if dst
// lacks capacity. A constant template ignores src, which may be nil.
func (t *Template) Append(dst []byte, src Source) []byte {
	if t.constant {
		return append(dst, t.lit...)
	}
	for i := range t.segs {
		s := &t.segs[i]
		if s.ID == None {
			dst = append(dst, s.Literal...)
			continue
		}
		if d, ok := src.Var(s.ID, s.Arg, dst); ok {
			dst = d
		}
	}
	return dst
}

// AnyByte reports whether a value of t may hold any byte, CR, LF and NUL
// included: t references a variable for which ID.AnyByte holds. Other
// templates are made of configuration text (checked when it is read) and
// of values the codec validated or gatehouse computed.
func (t *Template) AnyByte() bool {
	for i := range t.segs {
		if t.segs[i].ID.AnyByte() {
			return true
		}
	}
	return false
}

// AppendEscaping is Append with the value of every AnyByte variable
// rewritten by escape, which escapes b[from:] in place and returns b
// (EscapeURI, for a template whose value is a URI). It allocates
// only if dst lacks capacity.
func (t *Template) AppendEscaping(dst []byte, src Source, escape func(b []byte, from int) []byte) []byte {
	if t.constant {
		return append(dst, t.lit...)
	}
	for i := range t.segs {
		s := &t.segs[i]
		if s.ID == None {
			dst = append(dst, s.Literal...)
			continue
		}
		from := len(dst)
		if d, ok := src.Var(s.ID, s.Arg, dst); ok {
			dst = d
			if s.ID.AnyByte() {
				dst = escape(dst, from)
			}
		}
	}
	return dst
}

// IsConstant reports whether the template has no variables; then Value
// returns its text and Append never calls the Source.
func (t *Template) IsConstant() bool { return t.constant }

// Value returns the text of a constant template (and the source text of any
// other).
func (t *Template) Value() string { return t.src }

// String returns the argument the template was compiled from.
func (t *Template) String() string { return t.src }

// Segments returns the compiled pieces in order, for evaluators with their
// own rendering rules (access logs escape variable values). The slice and
// its contents must not be modified.
func (t *Template) Segments() []Segment { return t.segs }

// Uses reports whether the template references the variable id.
func (t *Template) Uses(id ID) bool {
	for i := range t.segs {
		if t.segs[i].ID == id {
			return true
		}
	}
	return false
}

// Constant returns a template for literal text, as if compiled from an
// argument without variables.
func Constant(s string) *Template {
	return &Template{src: s, constant: true, lit: []byte(s), segs: []Segment{{Literal: []byte(s)}}}
}
