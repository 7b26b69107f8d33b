package config

import (
	"fmt"
	"regexp"
	"strings"

	"gatehouse/internal/nginxconf"
)

// StmtOp is the kind of one rewrite-module statement.
type StmtOp uint8

// The rewrite-module statements, run in the order written
// (ngx_http_rewrite_handler's script codes).
const (
	OpReturn StmtOp = iota
	OpRewrite
	OpSet
	OpBreak
	OpIf
)

// RewriteFlag is the last argument of a rewrite directive.
type RewriteFlag uint8

// The rewrite flags; FlagNone continues with the next statement.
const (
	FlagNone RewriteFlag = iota
	FlagLast
	FlagBreak
	FlagRedirect
	FlagPermanent
)

// CondOp is the operator of an if condition.
type CondOp uint8

// The if conditions of ngx_http_rewrite_if_condition.
const (
	CondVar    CondOp = iota // ($var): false when empty or "0"
	CondEq                   // =
	CondNe                   // !=
	CondMatch                // ~, ~* (Regex), !~, !~* (Negate)
	CondFile                 // -f
	CondDir                  // -d
	CondExists               // -e
	CondExec                 // -x
)

// Cond is the condition of an if block.
type Cond struct {
	Op CondOp
	// Var is the tested value ($var or the left side; for file tests,
	// the path), Value the right side of = and !=.
	Var, Value string
	Regex      *regexp.Regexp
	// Negate is "!" before a file test or a regex operator.
	Negate bool
}

// Stmt is one rewrite-module statement of a server or location level:
// return, rewrite, set, break or if.
type Stmt struct {
	Op  StmtOp
	Pos nginxconf.Pos
	// Return is OpReturn's directive.
	Return *Return
	// Regex, Replacement and Flag are OpRewrite's.
	Regex       *regexp.Regexp
	Replacement string
	Flag        RewriteFlag
	// Var (without "$") and Value are OpSet's.
	Var, Value string
	// Cond and Body are OpIf's.
	Cond *Cond
	Body []Stmt
}

// stmtsOf returns the statement list a rewrite-module directive of f
// appends to: the if block's, the location's or the server's.
func stmtsOf(f *frame) *[]Stmt {
	switch {
	case f.stmts != nil:
		return f.stmts
	case f.loc != nil:
		return &f.loc.stmts
	case f.srv != nil:
		return &f.srv.stmts
	}
	return nil
}

func addStmt(f *frame, s Stmt) {
	if p := stmtsOf(f); p != nil {
		*p = append(*p, s)
	}
}

// hSet is ngx_http_rewrite_set.
func hSet(c *compiler, f *frame, d *nginxconf.Directive) error {
	v := d.Args[0]
	if len(v) < 2 || v[0] != '$' {
		return nginxconf.Errorf(d.Pos, "invalid variable name \"%s\"", v)
	}
	// nginx takes any name after "$"; one such as "a-b" can be set but
	// not read back ("$a-b" is $a and "-b").
	addStmt(f, Stmt{Op: OpSet, Pos: d.Pos, Var: v[1:], Value: d.Args[1]})
	return nil
}

// hBreak is ngx_http_rewrite_break.
func hBreak(c *compiler, f *frame, d *nginxconf.Directive) error {
	addStmt(f, Stmt{Op: OpBreak, Pos: d.Pos})
	return nil
}

// hRewrite is ngx_http_rewrite.
func hRewrite(c *compiler, f *frame, d *nginxconf.Directive) error {
	re, err := compileRegex(d.Args[0], false)
	if err != nil {
		return &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("pcre2_compile() failed: %s in \"%s\"", regexReason(err), d.Args[0]), Err: err}
	}
	s := Stmt{Op: OpRewrite, Pos: d.Pos, Regex: re, Replacement: d.Args[1]}
	if len(d.Args) == 3 {
		switch d.Args[2] {
		case "last":
			s.Flag = FlagLast
		case "break":
			s.Flag = FlagBreak
		case "redirect":
			s.Flag = FlagRedirect
		case "permanent":
			s.Flag = FlagPermanent
		default:
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[2])
		}
	}
	addStmt(f, s)
	return nil
}

// rewriteInIf are the directives an if block takes today: the rewrite
// module's own statements.
var rewriteInIf = map[string]bool{"return": true, "rewrite": true, "set": true, "break": true}

// hIf is ngx_http_rewrite_if: the condition, then the block's
// statements. The block's other directives (nginx makes the block a
// nested location) are refused.
func hIf(c *compiler, f *frame, d *nginxconf.Directive) error {
	cond, err := parseCond(d)
	if err != nil {
		return err
	}
	s := Stmt{Op: OpIf, Pos: d.Pos, Cond: cond}
	inner := &frame{kind: ctxIf, conf: f.conf, srv: f.srv, loc: f.loc, stmts: &s.Body}
	for _, sub := range d.Block {
		if sub == nil {
			continue
		}
		if !rewriteInIf[sub.Name] {
			if specs, ok := directives[sub.Name]; ok {
				for _, sp := range specs {
					if sp.ctx&ctxIf != 0 {
						return nginxconf.Errorf(sub.Pos, "\"%s\" directive is not supported by gatehouse inside \"if\" yet", sub.Name)
					}
				}
			}
		}
		if err := c.directive(sub, inner); err != nil {
			return err
		}
	}
	addStmt(f, s)
	return nil
}

// parseCond is ngx_http_rewrite_if_condition.
func parseCond(d *nginxconf.Directive) (*Cond, error) {
	args := append([]string(nil), d.Args...)
	if len(args[0]) == 0 || args[0][0] != '(' {
		return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", args[0])
	}
	if len(args[0]) == 1 {
		args = args[1:]
		if len(args) == 0 {
			return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", "(")
		}
	} else {
		args[0] = args[0][1:]
	}
	last := args[len(args)-1]
	if len(last) == 0 || last[len(last)-1] != ')' {
		return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", last)
	}
	if len(last) == 1 {
		args = args[:len(args)-1]
	} else {
		args[len(args)-1] = last[:len(last)-1]
	}
	if len(args) == 0 {
		return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", d.Args[0])
	}
	a := args[0]
	if len(a) > 1 && a[0] == '$' {
		c := &Cond{Var: a}
		switch len(args) {
		case 1:
			c.Op = CondVar
			return c, nil
		case 3:
		default:
			return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", a)
		}
		op, rhs := args[1], args[2]
		switch op {
		case "=":
			c.Op, c.Value = CondEq, rhs
		case "!=":
			c.Op, c.Value = CondNe, rhs
		case "~", "~*", "!~", "!~*":
			c.Op = CondMatch
			c.Negate = op[0] == '!'
			re, err := compileRegex(rhs, strings.HasSuffix(op, "*"))
			if err != nil {
				return nil, &nginxconf.Error{Pos: d.Pos, Msg: fmt.Sprintf("pcre2_compile() failed: %s in \"%s\"", regexReason(err), rhs), Err: err}
			}
			c.Regex = re
		default:
			return nil, nginxconf.Errorf(d.Pos, "unexpected \"%s\" in condition", op)
		}
		return c, nil
	}
	if len(args) == 2 {
		op := args[0]
		c := &Cond{Var: args[1]}
		if strings.HasPrefix(op, "!") {
			c.Negate, op = true, op[1:]
		}
		switch op {
		case "-f":
			c.Op = CondFile
		case "-d":
			c.Op = CondDir
		case "-e":
			c.Op = CondExists
		case "-x":
			c.Op = CondExec
		default:
			return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", args[0])
		}
		return c, nil
	}
	return nil, nginxconf.Errorf(d.Pos, "invalid condition \"%s\"", a)
}
