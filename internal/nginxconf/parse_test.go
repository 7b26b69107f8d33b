package nginxconf

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestWords checks the words, quoting flags and terminators the lexer
// produces for single statements.
func TestWords(t *testing.T) {
	tests := []struct {
		src    string
		args   []string // name first
		quoted []bool   // for the arguments after the name
		block  bool
	}{
		{`server_name "";`, []string{"server_name", ""}, []bool{true}, false},
		{`a '';`, []string{"a", ""}, []bool{true}, false},
		{`a"b c;`, []string{`a"b`, "c"}, []bool{false}, false},
		{`a foo#bar;`, []string{"a", "foo#bar"}, []bool{false}, false},
		{`a ${var}x;`, []string{"a", "${var}x"}, []bool{false}, false},
		{`a ${{x}};`, []string{"a", "${{x}}"}, []bool{false}, false},
		{`a b{`, []string{"a", "b"}, nil, true},
		{`a x${y{`, []string{"a", "x${y"}, nil, true},
		{`a "x"{`, []string{"a", "x"}, []bool{true}, true},
		{`a "x";`, []string{"a", "x"}, []bool{true}, false},
		{`a b}c;`, []string{"a", "b}c"}, []bool{false}, false},
		{`a "q\"d" 's\'q';`, []string{"a", `q"d`, `s'q`}, []bool{true, true}, false},
		{`a "\t\r\n\\";`, []string{"a", "\t\r\n\\"}, []bool{true}, false},
		{`a \t\r\n\\;`, []string{"a", "\t\r\n\\"}, []bool{false}, false},
		{`a "\d\.\x\$\{";`, []string{"a", `\d\.\x\$\{`}, []bool{true}, false},
		{`a u\ v w\;x \"y;`, []string{"a", `u\ v`, `w\;x`, `"y`}, []bool{false, false, false}, false},
		{"a 'x\ny';", []string{"a", "x\ny"}, []bool{true}, false},
		{`a "x{};#";`, []string{"a", "x{};#"}, []bool{true}, false},
		{`if ($a = "b c") {`, []string{"if", "($a", "=", "b c", ")"}, []bool{false, false, true, false}, true},
		{`if ($a ~ 'b')){`, []string{"if", "($a", "~", "b", "))"}, []bool{false, false, true, false}, true},
		{`"a b" c;`, []string{"a b", "c"}, []bool{false}, false},
		{"a\r\nb\r\n;", []string{"a", "b"}, []bool{false}, false},
		{"a # comment ; {\n b;", []string{"a", "b"}, []bool{false}, false},
		{"a#b;", []string{"a#b"}, []bool{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			src := tt.src
			if tt.block {
				src += "}"
			}
			tree, err := ParseBytes("t.conf", []byte(src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(tree.Directives) != 1 {
				t.Fatalf("got %d directives, want 1", len(tree.Directives))
			}
			d := tree.Directives[0]
			if got := append([]string{d.Name}, d.Args...); !slices.Equal(got, tt.args) {
				t.Errorf("words %q, want %q", got, tt.args)
			}
			if tt.quoted != nil && !slices.Equal(d.Quoted, tt.quoted) {
				t.Errorf("quoted %v, want %v", d.Quoted, tt.quoted)
			}
			if d.IsBlock() != tt.block {
				t.Errorf("IsBlock = %v, want %v", d.IsBlock(), tt.block)
			}
		})
	}
}

// TestPositions checks that Pos is the line of the terminator and End the
// line of the closing brace, with lines counted on LF only.
func TestPositions(t *testing.T) {
	src := "a\n  b\n  ;\nhttp\n{\r\n  # c\n  \"x\ny\"; server {\n  }\n\n}\r\nz 'q\n\n';\n"
	tree, err := ParseBytes("p.conf", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	type dp struct {
		name     string
		pos, end int
	}
	var got []dp
	var walk func([]*Directive)
	walk = func(ds []*Directive) {
		for _, d := range ds {
			if d.Pos.File != "p.conf" || (d.IsBlock() && d.End.File != "p.conf") {
				t.Errorf("%s: positions %v %v do not name p.conf", d.Name, d.Pos, d.End)
			}
			got = append(got, dp{d.Name, d.Pos.Line, d.End.Line})
			walk(d.Block)
		}
	}
	walk(tree.Directives)
	want := []dp{{"a", 3, 0}, {"http", 5, 11}, {"x\ny", 8, 0}, {"server", 8, 9}, {"z", 14, 0}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestPartialTree checks that on error the directives read so far are
// returned, with open blocks present and their End zero.
func TestPartialTree(t *testing.T) {
	src := "events {}\nhttp {\n    server {\n        listen 80;\n    }\n    server {\n        listen 81;\n        listen 82\n"
	tree, err := ParseBytes("p.conf", []byte(src), Options{})
	want := `unexpected end of file, expecting ";" or "}" in p.conf:9`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	got := flatten("", tree.Directives)
	wantDirs := []string{
		"events @p.conf:1",
		"http @p.conf:2",
		">server @p.conf:3",
		">>listen 80 @p.conf:4",
		">server @p.conf:6",
		">>listen 81 @p.conf:7",
	}
	if !slices.Equal(got, wantDirs) {
		t.Errorf("got %q, want %q", got, wantDirs)
	}
	http := tree.Directives[1]
	if http.End != (Pos{}) || http.Block[1].End != (Pos{}) {
		t.Errorf("open blocks have End %v and %v, want zero", http.End, http.Block[1].End)
	}
	if http.Block[0].End != (Pos{File: "p.conf", Line: 5}) {
		t.Errorf("closed block End = %v, want p.conf:5", http.Block[0].End)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		src     string
		want    []string
		wantErr string
	}{
		{src: "daemon off; master_process off;", want: []string{"daemon off @command line:1", "master_process off @command line:1"}},
		{src: "pid /tmp/x.pid;\nerror_log stderr;", want: []string{"pid /tmp/x.pid @command line:1", "error_log stderr @command line:2"}},
		{src: "", want: nil},
		{src: "daemon off; events {}", want: []string{"daemon off @command line:1"}, wantErr: "block directives are not supported in -g option in command line"},
		{src: "daemon off", wantErr: `unexpected end of parameter, expecting ";" in command line`},
		{src: "}", wantErr: `unexpected "}" in command line`},
		{src: "env " + strings.Repeat("z", 10000) + ";", want: []string{"env " + strings.Repeat("z", 10000) + " @command line:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			tree, err := ParseCommandLine(tt.src, Options{})
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %s", err, tt.wantErr)
			}
			if got := flatten("", tree.Directives); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(tree.Files) != 0 {
				t.Errorf("Files = %v, want none", tree.Files)
			}
		})
	}
}

// TestErrorsAreTyped checks every syntax error is an *Error with a
// position, for inputs given as bytes.
func TestErrorsAreTyped(t *testing.T) {
	for _, src := range []string{"}", ";", "{", "a", "a {", `a "b"c;`, "a\n}b;", `include;`, "include a {"} {
		_, err := ParseBytes("e.conf", []byte(src), Options{})
		var e *Error
		if !errors.As(err, &e) || e.Pos.File != "e.conf" || e.Pos.Line < 1 {
			t.Errorf("%q: error %#v, want *Error with a position", src, err)
		}
	}
}

func TestFormatQuoting(t *testing.T) {
	tests := []struct{ word, want string }{
		{"plain", "plain"},
		{"", `""`},
		{"a b", `"a b"`},
		{"a;b", `"a;b"`},
		{"a{b", `"a{b"`},
		{"}a", `"}a"`},
		{"a}", "a}"},
		{"#a", `"#a"`},
		{"a#", "a#"},
		{`a"b`, `"a\"b"`},
		{"a'b", `"a'b"`},
		{"${x}y", "${x}y"},
		{`\d+`, `\d+`},
		{`\\`, `"\\\\"`},
		{`a\`, `"a\\"`},
		{`\n`, `"\\n"`},
		{"\n", `"\n"`},
		{"\t", `"\t"`},
		{`\${x}`, `"\${x}"`},
		{`\"`, `"\\\""`},
		{"a\x00b", "a\x00b"},
	}
	for _, tt := range tests {
		if got := formatWord(tt.word); got != tt.want {
			t.Errorf("formatWord(%q) = %s, want %s", tt.word, got, tt.want)
			continue
		}
		tree, err := ParseBytes("f", []byte("x "+tt.want+";"), Options{})
		if err != nil || len(tree.Directives) != 1 || !slices.Equal(tree.Directives[0].Args, []string{tt.word}) {
			t.Errorf("%s does not read back as %q (%v)", tt.want, tt.word, err)
		}
	}
}

func TestEqual(t *testing.T) {
	parse := func(s string) []*Directive {
		tree, err := ParseBytes("e", []byte(s), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return tree.Directives
	}
	base := parse("a b;\nc {\n    d 'e';\n}\n")
	tests := []struct {
		src  string
		want bool
	}{
		{"a \"b\"; c { d e; }", true},
		{"a b; c { d e; }\n", true},
		{"a b; c { d f; }", false},
		{"a b; c { d e; d e; }", false},
		{"a b; c { }", false},
		{"a b; c; d e;", false},
		{"a b c; c { d e; }", false},
		{"a b; c {} d e;", false},
		{"a b;", false},
	}
	for _, tt := range tests {
		if got := Equal(base, parse(tt.src)); got != tt.want {
			t.Errorf("Equal(base, %q) = %v, want %v", tt.src, got, tt.want)
		}
	}
	if Equal(parse("a {}"), parse("a;")) {
		t.Error("an empty block equals a simple directive")
	}
}

func TestErrorText(t *testing.T) {
	long := strings.Repeat("n", 2000)
	cause := errors.New("cause")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Msg: "unknown \"x\" variable"}, `unknown "x" variable`},
		{&Error{Pos: Pos{File: "/a.conf", Line: 3}, Msg: "m"}, "m in /a.conf:3"},
		{&Error{Pos: Pos{File: CommandLine, Line: 1}, Msg: "m"}, "m in command line"},
		{Errorf(Pos{File: "/a", Line: 1}, `unknown directive "%s"`, long), `unknown directive "` + long[:1024-19] + " in /a:1"},
		{&Error{Msg: long}, long},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %.80q..., want %.80q...", got, tt.want)
		}
	}
	if e := (&Error{Msg: "m", Err: cause}); !errors.Is(e, cause) {
		t.Error("Unwrap does not expose the cause")
	}
}
