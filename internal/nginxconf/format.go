package nginxconf

import (
	"bytes"
	"slices"
	"strings"
)

// Format writes directives back as configuration text that parses to the
// same names, arguments and blocks: one directive per line, blocks indented
// by four spaces. A word is written bare when it would read back unchanged,
// otherwise in double quotes with escapes. Positions and the original
// quoting are not preserved. Indentation stops growing after 32 levels.
func Format(dirs []*Directive) []byte {
	var b bytes.Buffer
	formatBlock(&b, dirs, 0)
	return b.Bytes()
}

func formatBlock(b *bytes.Buffer, dirs []*Directive, depth int) {
	for _, d := range dirs {
		indent(b, depth)
		b.WriteString(formatWord(d.Name))
		for _, a := range d.Args {
			b.WriteByte(' ')
			b.WriteString(formatWord(a))
		}
		if d.Block == nil {
			b.WriteString(";\n")
			continue
		}
		b.WriteString(" {\n")
		formatBlock(b, d.Block, depth+1)
		indent(b, depth)
		b.WriteString("}\n")
	}
}

// maxIndent caps indentation so that the output of pathologically deep
// nesting stays linear in its size.
const maxIndent = 32

func indent(b *bytes.Buffer, depth int) {
	for range min(depth, maxIndent) {
		b.WriteString("    ")
	}
}

// formatWord returns w bare if the lexer reads it back as the same single
// word, and quoted otherwise.
func formatWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\r\n;'\"") {
		lx := newLexer("", []byte(w+";"), true)
		words, tok, err := lx.next(nil)
		if err == nil && tok == tokSemicolon && len(words) == 1 && words[0].text == w {
			return w
		}
	}
	return quoteWord(w)
}

// quoteWord writes w in double quotes. A backslash is doubled only where
// the lexer would otherwise translate it (before one of "'\tnr, before a
// byte written as an escape, or at the end), so regular expressions such
// as \d stay readable.
func quoteWord(w string) string {
	var b strings.Builder
	b.Grow(len(w) + 2)
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\\':
			// The next byte is written as a backslash sequence itself
			// when it is one of " \ TAB CR LF.
			if i+1 == len(w) || strings.IndexByte("\"'\\tnr\t\r\n", w[i+1]) >= 0 {
				b.WriteString(`\\`)
			} else {
				b.WriteByte('\\')
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Equal reports whether a and b have the same directive names, arguments
// and block structure, ignoring positions and quoting.
func Equal(a, b []*Directive) bool {
	return slices.EqualFunc(a, b, func(x, y *Directive) bool {
		return x.Name == y.Name &&
			slices.Equal(x.Args, y.Args) &&
			(x.Block == nil) == (y.Block == nil) &&
			Equal(x.Block, y.Block)
	})
}
