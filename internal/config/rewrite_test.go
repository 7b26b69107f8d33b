package config

import (
	"strings"
	"testing"
)

// TestRewriteStatements checks what the rewrite directives compile to:
// the order of a level's statements, flags, if conditions and bodies.
func TestRewriteStatements(t *testing.T) {
	cfg := mustCompile(t, `http {
server {
    set $a 1;
    rewrite ^/a /b;
    location / {
        rewrite_log on;
        rewrite ^/x(.*) /y$1 last;
        rewrite ^/x /y break;
        rewrite ^/x /y redirect;
        rewrite ^/x /y permanent;
        if ($a) { set $b 2; }
        if ( $a = "x y" ) { break; }
        if ($a !~* ^z) { return 403; }
        if (!-x /bin/sh) { rewrite ^ /z; }
        if (-d $a) { return 404; }
        break;
        return 200;
    }
}
}
`)
	s := cfg.HTTP.Servers[0]
	if got := len(s.Rewrite); got != 2 || s.Rewrite[0].Op != OpSet || s.Rewrite[0].Var != "a" || s.Rewrite[1].Op != OpRewrite {
		t.Fatalf("server statements: %+v", s.Rewrite)
	}
	l := s.Locations[0]
	if !l.Core.RewriteLog || !l.Core.UninitWarn {
		t.Errorf("rewrite_log %v, uninitialized_variable_warn %v", l.Core.RewriteLog, l.Core.UninitWarn)
	}
	var ops []string
	for _, st := range l.Rewrite {
		op := [...]string{"return", "rewrite", "set", "break", "if"}[st.Op]
		switch st.Op {
		case OpRewrite:
			op += [...]string{"", " last", " break", " redirect", " permanent"}[st.Flag]
		case OpIf:
			c := st.Cond
			op += " " + [...]string{"var", "=", "!=", "~", "-f", "-d", "-e", "-x"}[c.Op] + " " + c.Var + " " + c.Value
			if c.Negate {
				op += " !"
			}
			if c.Regex != nil {
				op += " " + c.Regex.String()
			}
			for _, b := range st.Body {
				op += " {" + [...]string{"return", "rewrite", "set", "break", "if"}[b.Op] + "}"
			}
		}
		ops = append(ops, op)
	}
	want := []string{"rewrite last", "rewrite break", "rewrite redirect", "rewrite permanent",
		"if var $a  {set}", "if = $a x y {break}", "if ~ $a  ! (?i)^z {return}",
		"if -x /bin/sh  ! {rewrite}", "if -d $a  {return}", "break", "return"}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	if l.Return == nil || l.Return.Code != 200 {
		t.Errorf("the level's return is %+v", l.Return)
	}
}

// TestRewriteErrors checks the rewrite directives' configuration errors.
func TestRewriteErrors(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"set $ 1;", `invalid variable name "$"`},
		{"set a 1;", `invalid variable name "a"`},
		{"rewrite ^ /x next;", `invalid parameter "next"`},
		{"rewrite ( /x;", `pcre2_compile() failed: missing closing ): `},
		{"if ($a ~ \"(\") { return 403; }", `pcre2_compile() failed: `},
		{"if $a { return 403; }", `invalid condition "$a"`},
		{"if ($a { return 403; }", `invalid condition "$a"`},
		{"if ($a == b) { return 403; }", `unexpected "==" in condition`},
		{"if (-q /x) { return 403; }", `invalid condition "-q"`},
		{"if ($a) { if ($b) { return 403; } }", `"if" directive is not allowed here`},
		{"if ($a) { root /x; }", `"root" directive is not supported by gatehouse inside "if" yet`},
		{"if ($a) { rewrite_log on; }", `"rewrite_log" directive is not supported by gatehouse inside "if" yet`},
		{"if ($a) { listen 80; }", `"listen" directive is not allowed here`},
		{"break 1;", `invalid number of arguments in "break" directive`},
	} {
		_, err := compileSrc(t, "http {\nserver {\nlocation / {\n"+tt.body+"\n}\n}\n}\n")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasSuffix(err.Error(), "/t.conf:4") {
			t.Errorf("%s: got %v, want %q in /t.conf:4", tt.body, err, tt.want)
		}
	}
}
