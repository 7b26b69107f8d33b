package nginxconf

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options carries what the parser needs from outside. The zero value reads
// from the operating system.
type Options struct {
	// ConfPrefix is the directory relative include paths resolve against
	// (nginx's "conf prefix": the directory of the main configuration file,
	// not of the including file). Empty means the directory of the path or
	// name given to ParseFile or ParseBytes, and the current directory for
	// ParseCommandLine.
	ConfPrefix string
	// ReadFile reads a whole file; nil means os.ReadFile. Errors should be
	// *fs.PathError values carrying a syscall.Errno, as os's are, so that
	// messages show nginx's "(2: No such file or directory)" suffix.
	ReadFile func(name string) ([]byte, error)
	// Glob expands an include mask to the matching paths in sorted order;
	// nil means a POSIX glob(3) over the operating system's file system.
	Glob func(pattern string) ([]string, error)
}

// ParseFile reads the configuration file at path and every file it
// includes. Positions name files as given (path, and include paths joined
// to the conf prefix). On error the tree parsed so far is returned with the
// error, an *Error, so that a caller acting on directives in order (as
// nginx does) can report an earlier problem first; blocks not yet closed
// then have a zero End.
func ParseFile(path string, opts Options) (*Tree, error) {
	p := newParser(path, opts)
	var dirs []*Directive
	err := p.parseFile(path, Pos{}, &dirs)
	p.tree.Directives = dirs
	return p.tree, err
}

// ParseBytes parses src as a configuration file named name (the name used
// in positions and in Tree.Files); includes are read as by ParseFile. Its
// results are as ParseFile's.
func ParseBytes(name string, src []byte, opts Options) (*Tree, error) {
	p := newParser(name, opts)
	p.addFile(name, src)
	p.active = append(p.active, filepath.Clean(name))
	var dirs []*Directive
	err := p.parse(newLexer(name, src, false), &dirs)
	p.tree.Directives = dirs
	return p.tree, err
}

// CommandLine is the file name of directives given with -g; Error prints
// positions in it as nginx does, " in command line".
const CommandLine = "command line"

// ParseCommandLine parses the text of nginx's -g option: main-context
// directives without blocks (a block is rejected with nginx's "block
// directives are not supported in -g option"). Positions name CommandLine.
// Includes are allowed and resolve against opts.ConfPrefix. Tree.Files
// lists only the included files. Results are otherwise as ParseFile's.
func ParseCommandLine(directives string, opts Options) (*Tree, error) {
	p := newParser("", opts)
	var dirs []*Directive
	err := p.parse(newLexer(CommandLine, []byte(directives), true), &dirs)
	p.tree.Directives = dirs
	return p.tree, err
}

// parser holds the state of one parse: the files read so far and the chain
// of files being included, for the recursion guard.
type parser struct {
	prefix   string
	readFile func(string) ([]byte, error)
	glob     func(string) ([]string, error)
	tree     *Tree
	seen     map[string]bool
	active   []string // cleaned paths of the files being parsed, outermost first
}

func newParser(mainPath string, opts Options) *parser {
	p := &parser{
		prefix:   opts.ConfPrefix,
		readFile: opts.ReadFile,
		glob:     opts.Glob,
		tree:     &Tree{},
		seen:     map[string]bool{},
	}
	if p.prefix == "" {
		if i := strings.LastIndexByte(mainPath, '/'); i >= 0 {
			p.prefix = mainPath[:i+1]
		}
	} else if !strings.HasSuffix(p.prefix, "/") {
		p.prefix += "/"
	}
	if p.readFile == nil {
		p.readFile = os.ReadFile
	}
	if p.glob == nil {
		p.glob = osGlob
	}
	return p
}

func (p *parser) addFile(path string, content []byte) {
	if p.seen[path] {
		return
	}
	p.seen[path] = true
	p.tree.Files = append(p.tree.Files, File{Path: path, Content: content})
}

// parseFile parses the file at path into *dst. at is the position of the
// include directive naming it (zero for the main file); errors opening the
// file are reported there.
func (p *parser) parseFile(path string, at Pos, dst *[]*Directive) error {
	key := filepath.Clean(path)
	if slices.Contains(p.active, key) {
		return &Error{Pos: at, Msg: fmt.Sprintf(`include of "%s" is recursive`, path), Err: ErrRecursiveInclude}
	}
	data, err := p.readFile(path)
	if err != nil {
		return fileError(at, path, err)
	}
	p.addFile(path, data)
	p.active = append(p.active, key)
	err = p.parse(newLexer(path, data, false), dst)
	p.active = p.active[:len(p.active)-1]
	return err
}

// parse reads statements from lx into *dst until the end of its input.
// Blocks are tracked on an explicit stack so deep nesting cannot exhaust
// the goroutine stack. Each directive is appended as soon as its
// terminator is read, so *dst holds the partial tree when an error stops
// the parse.
func (p *parser) parse(lx *lexer, dst *[]*Directive) error {
	var (
		open  []*Directive // blocks not yet closed, innermost last
		words []word
	)
	cur := dst
	for {
		var (
			tok token
			err error
		)
		words, tok, err = lx.next(words)
		if err != nil {
			return err
		}
		switch tok {
		case tokBlockEnd:
			if len(open) == 0 {
				return Errorf(lx.here(), `unexpected "}"`)
			}
			open[len(open)-1].End = lx.here()
			open = open[:len(open)-1]
			if len(open) == 0 {
				cur = dst
			} else {
				cur = &open[len(open)-1].Block
			}
			continue
		case tokEOF:
			if len(open) > 0 {
				return Errorf(lx.here(), `unexpected end of file, expecting "}"`)
			}
			return nil
		case tokBlockStart:
			if lx.param {
				return Errorf(lx.here(), "block directives are not supported in -g option")
			}
		}

		d := &Directive{
			Name:   words[0].text,
			Args:   make([]string, len(words)-1),
			Quoted: make([]bool, len(words)-1),
			Pos:    lx.here(),
		}
		for i, w := range words[1:] {
			d.Args[i] = w.text
			d.Quoted[i] = w.quoted
		}
		if tok == tokBlockStart {
			d.Block = []*Directive{}
		}

		if d.Name == "include" {
			if err := p.include(d, cur); err != nil {
				return err
			}
			continue
		}

		*cur = append(*cur, d)
		if d.Block != nil {
			open = append(open, d)
			cur = &d.Block
		}
	}
}

// include expands an include directive into *dst, as ngx_conf_include does.
func (p *parser) include(d *Directive, dst *[]*Directive) error {
	if d.Block != nil {
		return Errorf(d.Pos, `directive "include" is not terminated by ";"`)
	}
	if len(d.Args) != 1 {
		return Errorf(d.Pos, `invalid number of arguments in "include" directive`)
	}
	path := d.Args[0]
	if !strings.HasPrefix(path, "/") {
		path = p.prefix + path
	}
	if !strings.ContainsAny(path, "*?[") {
		return p.parseFile(path, d.Pos, dst)
	}
	matches, err := p.glob(path)
	if err != nil {
		return &Error{Pos: d.Pos, Msg: fmt.Sprintf(`glob() "%s" failed%s`, path, errnoSuffix(err)), Err: err}
	}
	for _, m := range matches {
		if err := p.parseFile(m, d.Pos, dst); err != nil {
			return err
		}
	}
	return nil
}
