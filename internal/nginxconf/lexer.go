package nginxconf

import "bytes"

// confBuffer is the size of the buffer nginx reads a configuration file
// through; a token that does not fit in it is an error.
const confBuffer = 4096

// token is what ended one call of lexer.next.
type token int

const (
	tokSemicolon  token = iota // ';' after at least one word
	tokBlockStart              // '{' after at least one word
	tokBlockEnd                // '}' with no pending words
	tokEOF                     // end of input with no pending words
)

// word is one lexed argument with quotes removed and escapes resolved.
type word struct {
	text   string
	quoted bool
}

// lexer splits nginx configuration text into statements the way
// ngx_conf_read_token does, including where it reports errors.
type lexer struct {
	name string
	src  []byte
	pos  int // next byte to read
	line int // current line, counted on LF
	// param is set for -g text: it has no buffer limit and its own
	// end-of-input message.
	param bool
	// bufEnd is the end (as an offset into src) of the data nginx's 4 KiB
	// read buffer would hold now. nginx reports an over-long token when it
	// has to refill the buffer and the pending token fills all of it, so
	// the exact error depends on this simulation.
	bufEnd int
}

func newLexer(name string, src []byte, param bool) *lexer {
	lx := &lexer{name: name, src: src, line: 1, param: param}
	if param {
		lx.bufEnd = len(src)
	}
	return lx
}

// here is the current position, which nginx prints for most errors.
func (lx *lexer) here() Pos { return Pos{File: lx.name, Line: lx.line} }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func unexpected(pos Pos, c byte) *Error {
	return &Error{Pos: pos, Msg: `unexpected "` + string([]byte{c}) + `"`}
}

// next reads one statement: the words up to and including its terminator.
// It reuses words' storage. On tokBlockEnd and tokEOF no words are returned.
func (lx *lexer) next(words []word) ([]word, token, error) {
	words = words[:0]
	var (
		needSpace  bool // a closing quote was read; a separator must follow
		lastSpace  = true
		comment    bool
		escaped    bool // the previous byte was an unconsumed backslash
		variable   bool // the previous byte was '$', so '{' does not end the word
		dquoted    bool
		squoted    bool
		quotedWord bool
		start      = lx.pos
		startLine  = lx.line
	)
	for {
		if lx.pos >= lx.bufEnd {
			if lx.bufEnd >= len(lx.src) {
				if len(words) > 0 || !lastSpace {
					if lx.param {
						return nil, 0, Errorf(lx.here(), `unexpected end of parameter, expecting ";"`)
					}
					return nil, 0, Errorf(lx.here(), `unexpected end of file, expecting ";" or "}"`)
				}
				return nil, tokEOF, nil
			}
			if lx.pos-start == confBuffer {
				pos := Pos{File: lx.name, Line: startLine}
				switch {
				case dquoted:
					return nil, 0, Errorf(pos, `too long parameter, probably missing terminating """ character`)
				case squoted:
					return nil, 0, Errorf(pos, `too long parameter, probably missing terminating "'" character`)
				}
				return nil, 0, &Error{Pos: pos, Msg: `too long parameter "` + string(lx.src[start:start+10]) + `..." started`}
			}
			lx.bufEnd = min(len(lx.src), start+confBuffer)
		}

		c := lx.src[lx.pos]
		lx.pos++

		if c == '\n' {
			lx.line++
			comment = false
		}
		if comment {
			continue
		}
		if escaped {
			escaped = false
			continue
		}

		if needSpace {
			switch {
			case isSpace(c):
				lastSpace = true
				needSpace = false
				continue
			case c == ';':
				return words, tokSemicolon, nil
			case c == '{':
				return words, tokBlockStart, nil
			case c == ')':
				// "(... "x")": the ')' starts the next word.
				lastSpace = true
				needSpace = false
			default:
				return nil, 0, unexpected(lx.here(), c)
			}
		}

		if lastSpace {
			start, startLine = lx.pos-1, lx.line
			if isSpace(c) {
				continue
			}
			quotedWord = false
			switch c {
			case ';', '{':
				if len(words) == 0 {
					return nil, 0, unexpected(lx.here(), c)
				}
				if c == '{' {
					return words, tokBlockStart, nil
				}
				return words, tokSemicolon, nil
			case '}':
				if len(words) != 0 {
					return nil, 0, unexpected(lx.here(), c)
				}
				return nil, tokBlockEnd, nil
			case '#':
				comment = true
			case '\\':
				escaped = true
				lastSpace = false
			case '"':
				start++
				dquoted, quotedWord, lastSpace = true, true, false
			case '\'':
				start++
				squoted, quotedWord, lastSpace = true, true, false
			case '$':
				variable = true
				lastSpace = false
			default:
				lastSpace = false
			}
			continue
		}

		if c == '{' && variable {
			continue
		}
		variable = false
		if c == '\\' {
			escaped = true
			continue
		}
		if c == '$' {
			variable = true
			continue
		}

		found := false
		switch {
		case dquoted:
			if c == '"' {
				dquoted, needSpace, found = false, true, true
			}
		case squoted:
			if c == '\'' {
				squoted, needSpace, found = false, true, true
			}
		case isSpace(c) || c == ';' || c == '{':
			lastSpace, found = true, true
		}
		if !found {
			continue
		}
		words = append(words, word{text: unescape(lx.src[start : lx.pos-1]), quoted: quotedWord})
		switch c {
		case ';':
			return words, tokSemicolon, nil
		case '{':
			return words, tokBlockStart, nil
		}
	}
}

// unescape resolves the backslash sequences nginx translates when it stores
// a word: \" \' \\ become the character, \t \r \n the control character, and
// any other backslash is kept (so regular expressions survive).
func unescape(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			switch n := raw[i+1]; n {
			case '"', '\'', '\\':
				c = n
				i++
			case 't':
				c = '\t'
				i++
			case 'r':
				c = '\r'
				i++
			case 'n':
				c = '\n'
				i++
			}
		}
		out = append(out, c)
	}
	return string(out)
}
