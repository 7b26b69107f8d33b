package server

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/proxy"
	"gatehouse/internal/request"
	"gatehouse/internal/route"
	"gatehouse/internal/variables"
)

// rwOp is one compiled rewrite-module statement: what
// ngx_http_rewrite_handler's script codes do, decided at configuration
// time.
type rwOp struct {
	op config.StmtOp
	// ret is the level the statement belongs to; r and rval are a
	// return statement's directive and compiled text.
	ret  *loc
	r    *config.Return
	rval *variables.Template
	// rewrite
	re   *regexp.Regexp
	repl *variables.Template
	flag config.RewriteFlag
	// code is the redirect status of a rewrite that redirects, 0 for an
	// internal change of the URI.
	code int
	// hasArgs: the replacement holds "?", what follows it replaces the
	// arguments; addArgs: the request's arguments are appended (the
	// replacement does not end with "?").
	hasArgs, addArgs bool
	// set
	id  variables.ID
	val *variables.Template
	// if
	cond    config.CondOp
	negate  bool
	subject *variables.Template
	value   *variables.Template
	body    []rwOp
}

// rewriteStmts runs a level's rewrite-module statements in the
// server-rewrite phase (server) or the rewrite phase (location).
type rewriteStmts struct {
	ops []rwOp
	// named maps the defined variable names to their IDs, for the named
	// captures a regex of the statements displaces.
	named  map[string]variables.ID
	l      *loc
	server bool
	log    bool // rewrite_log
}

// Handle runs the statements in order.
func (h *rewriteStmts) Handle(x *request.Ctx) request.Status {
	return h.run(x, h.ops)
}

func (h *rewriteStmts) run(x *request.Ctx, ops []rwOp) request.Status {
	for i := range ops {
		o := &ops[i]
		switch o.op {
		case config.OpReturn:
			if !h.server || !o.ret.resp.RefuseUnsafe(x) {
				answerReturn(x, o.ret, o.r, o.rval)
			}
			return request.Done
		case config.OpBreak:
			x.StopURIChange()
			return request.NextPhase
		case config.OpSet:
			b := o.val.Append(x.RewriteBuf(), x)
			if o.id == variables.Args {
				x.SetArgs(b)
			} else {
				x.SetVar(o.id, b)
			}
			x.KeepRewriteBuf(b)
		case config.OpRewrite:
			if st, stop := h.rewrite(x, o); stop {
				return st
			}
		case config.OpIf:
			if h.test(x, o) {
				if st := h.run(x, o.body); st != request.Continue {
					return st
				}
			}
		}
	}
	return request.Continue
}

// rewrite is ngx_http_script_regex_start_code and _end_code for a
// rewrite directive; stop reports that the statements end with st.
func (h *rewriteStmts) rewrite(x *request.Ctx, o *rwOp) (st request.Status, stop bool) {
	subject := x.URI.Path
	idx := o.re.FindSubmatchIndex(subject)
	h.logMatch(x, o.re, subject, idx != nil)
	if idx == nil {
		// Any regex of the rewrite module that fails leaves no $1..$9
		// behind, and one that matches replaces them, with or without
		// groups of its own.
		h.keepNamed(x)
		x.Caps.Reset()
		return request.Continue, false
	}
	h.keepNamed(x)
	x.Caps = route.Captures{Regexp: o.re, Subject: subject, Index: idx}
	if o.code != 0 {
		buf := o.repl.AppendEscaping(x.Scratch(), x, variables.EscapeURI)
		if o.addArgs && len(x.URI.Args) > 0 {
			if o.hasArgs {
				buf = append(buf, '&')
			} else {
				buf = append(buf, '?')
			}
			buf = append(buf, x.URI.Args...)
		}
		if !h.server || !o.ret.resp.RefuseUnsafe(x) {
			redirectTo(x, o.ret, o.code, buf, buf)
		}
		return request.Done, true
	}
	buf := o.repl.Append(x.RewriteBuf(), x)
	if o.addArgs && len(x.URI.Args) > 0 {
		if o.hasArgs {
			buf = append(buf, '&')
		} else {
			buf = append(buf, '?')
		}
		buf = append(buf, x.URI.Args...)
	}
	x.KeepRewriteBuf(buf)
	switch o.flag {
	case config.FlagBreak:
		x.RewriteURI(buf, false)
		return request.NextPhase, true
	case config.FlagLast:
		x.RewriteURI(buf, !h.server)
		return request.NextPhase, true
	}
	x.RewriteURI(buf, true)
	return request.Continue, false
}

// test is ngx_http_rewrite_if_condition's codes at run time.
func (h *rewriteStmts) test(x *request.Ctx, o *rwOp) bool {
	v := o.subject.Append(x.RewriteBuf(), x)
	defer x.KeepRewriteBuf(v)
	switch o.cond {
	case config.CondVar:
		return !(len(v) == 0 || (len(v) == 1 && v[0] == '0'))
	case config.CondEq, config.CondNe:
		n := len(v)
		v = o.value.Append(v, x)
		return bytes.Equal(v[:n], v[n:]) == (o.cond == config.CondEq)
	case config.CondMatch:
		idx := o.re.FindSubmatchIndex(v)
		h.logMatch(x, o.re, v, idx != nil)
		h.keepNamed(x)
		if idx != nil {
			// The subject must outlive the rewrite buffer.
			subj := append([]byte(nil), v...)
			x.Caps = route.Captures{Regexp: o.re, Subject: subj, Index: idx}
		} else {
			x.Caps.Reset()
		}
		return (idx != nil) != o.negate
	}
	fi, err := os.Stat(string(v))
	var ok bool
	if err == nil {
		switch o.cond {
		case config.CondFile:
			ok = fi.Mode().IsRegular()
		case config.CondDir:
			ok = fi.IsDir()
		case config.CondExists:
			ok = true
		case config.CondExec:
			ok = fi.Mode().IsRegular() && fi.Mode()&0o100 != 0
		}
	}
	return ok != o.negate
}

// keepNamed keeps the named captures of the regex whose captures a
// rewrite or if regex is about to replace (a location's): in nginx they
// are variables, set when it matched.
func (h *rewriteStmts) keepNamed(x *request.Ctx) {
	re := x.Caps.Regexp
	if re == nil || re.NumSubexp() == 0 {
		return
	}
	for i, n := range re.SubexpNames() {
		if n == "" {
			continue
		}
		id, ok := h.named[n]
		if !ok {
			id, ok = h.named[strings.ToLower(n)]
		}
		if v, matched := x.Caps.Group(i); ok && matched {
			x.KeepCapture(id, v)
		}
	}
}

// logMatch is rewrite_log's notice.
func (h *rewriteStmts) logMatch(x *request.Ctx, re *regexp.Regexp, subject []byte, matched bool) {
	if !h.log {
		return
	}
	verb := "matches"
	if !matched {
		verb = "does not match"
	}
	x.ErrorLog().Log(errorlog.Notice, x.LogContext(""),
		"\""+strings.TrimPrefix(re.String(), "(?i)")+"\" "+verb+" \""+string(subject)+"\"")
}

// hasStatements reports whether ss needs the statement interpreter:
// anything but a lone return, which the level's return handler answers.
func hasStatements(ss []config.Stmt) bool {
	for _, s := range ss {
		if s.Op != config.OpReturn {
			return true
		}
	}
	return false
}

// compileStmts compiles a level's statements for the level l.
func (b *builder) compileStmts(ss []config.Stmt, l *loc) ([]rwOp, error) {
	out := make([]rwOp, 0, len(ss))
	for i := range ss {
		s := &ss[i]
		o := rwOp{op: s.Op, ret: l}
		var err error
		switch s.Op {
		case config.OpReturn:
			o.r = s.Return
			if o.rval, err = compileReturn(b.reg, s.Return); err != nil {
				return nil, err
			}
		case config.OpSet:
			id, _, lerr := b.reg.Lookup(s.Var)
			switch {
			case id == variables.Args:
				// $args is the one built-in nginx lets set change.
			case lerr != nil || id < variables.FirstDefined:
				return nil, posErr(s.Pos, fmt.Errorf("the duplicate \"%s\" variable", strings.ToLower(s.Var)))
			default:
				n := int(id - variables.FirstDefined)
				for len(b.rt.env.UserVars) <= n {
					b.rt.env.UserVars = append(b.rt.env.UserVars, false)
				}
				b.rt.env.UserVars[n] = true
			}
			o.id = id
			if o.val, err = b.reg.Compile(s.Value); err != nil {
				return nil, posErr(s.Pos, err)
			}
		case config.OpRewrite:
			o.re, o.flag = s.Regex, s.Flag
			r := s.Replacement
			switch {
			case strings.HasPrefix(r, "http://"), strings.HasPrefix(r, "https://"), strings.HasPrefix(r, "$scheme"):
				o.code = 302
				if s.Flag == config.FlagPermanent {
					o.code = 301
				}
			case s.Flag == config.FlagRedirect:
				o.code = 302
			case s.Flag == config.FlagPermanent:
				o.code = 301
			}
			o.addArgs = true
			if strings.HasSuffix(r, "?") {
				r, o.addArgs = r[:len(r)-1], false
			}
			o.hasArgs = strings.Contains(r, "?")
			if o.code != 0 && strings.ContainsAny(r, unsafeBytes) {
				return nil, posErr(s.Pos, fmt.Errorf("%w in the URL of \"rewrite\"", proxy.ErrUnsafeConfigValue))
			}
			if o.repl, err = b.reg.Compile(r); err != nil {
				return nil, posErr(s.Pos, err)
			}
		case config.OpIf:
			c := s.Cond
			o.cond, o.negate, o.re = c.Op, c.Negate, c.Regex
			if o.subject, err = b.reg.Compile(c.Var); err != nil {
				return nil, posErr(s.Pos, err)
			}
			if c.Op == config.CondEq || c.Op == config.CondNe {
				if o.value, err = b.reg.Compile(c.Value); err != nil {
					return nil, posErr(s.Pos, err)
				}
			}
			if o.body, err = b.compileStmts(s.Body, l); err != nil {
				return nil, err
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// namedIDs returns the defined variables by name.
func (b *builder) namedIDs() map[string]variables.ID {
	if b.named == nil {
		b.named = map[string]variables.ID{}
		for id := variables.FirstDefined; ; id++ {
			n, ok := b.reg.DefinedName(id)
			if !ok {
				break
			}
			b.named[n] = id
		}
	}
	return b.named
}
