// Package nginxconf reads the nginx configuration language into a tree of
// directives with their positions, and writes such a tree back to text. It
// knows syntax only: what a directive means is the config package's job.
package nginxconf

// Pos is a place in a configuration source: the file's path as the user
// named it (made absolute against the prefix) and a 1-based line number.
// File is "command line" for directives that came from -g.
type Pos struct {
	File string
	Line int
}

// Directive is one statement: a name, its arguments, and for block
// directives the statements inside the braces.
type Directive struct {
	Name string
	// Args are the arguments with quotes removed and escapes resolved as
	// nginx stores them.
	Args []string
	// Quoted records, per argument, whether it was written in quotes.
	Quoted []bool
	// Block is non-nil (possibly empty) for a block directive and nil for
	// a simple one terminated by ';'.
	Block []*Directive
	// Pos is where the directive's terminator (';' or '{') was read, which
	// is the line nginx reports for errors about the directive.
	Pos Pos
	// End is where the closing '}' of a block was read.
	End Pos
}

// IsBlock reports whether d was terminated by '{' rather than ';'.
func (d *Directive) IsBlock() bool { return d.Block != nil }

// File is one configuration file as read, in the order files were first
// read; -T prints them.
type File struct {
	Path    string
	Content []byte
}

// Tree is a parsed configuration: the main-context directives with every
// include expanded in place, and the files that were read.
type Tree struct {
	Directives []*Directive
	Files      []File
}

// Dump returns what "nginx -T" writes to standard output after a
// successful test: each file in Files under a "# configuration file PATH:"
// header, its raw bytes, then an empty line.
func (t *Tree) Dump() []byte {
	var b []byte
	for _, f := range t.Files {
		b = append(b, "# configuration file "...)
		b = append(b, f.Path...)
		b = append(b, ":\n"...)
		b = append(b, f.Content...)
		b = append(b, '\n')
	}
	return b
}
