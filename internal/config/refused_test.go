package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// nginxDirective is one line of testdata/nginx-directives.txt: a row of
// an ngx_command_t array of nginx 1.28.0.
type nginxDirective struct {
	module, name string
	ctx          ctxKind
	args         arity
	block        bool
}

// nginxMasks maps the words of an ngx_command_t type mask to contexts
// and argument ranges. Both if contexts are gatehouse's ctxIf.
var nginxMasks = map[string]struct {
	ctx  ctxKind
	args *arity
}{
	"MAIN": {ctx: ctxMain}, "EVENT": {ctx: ctxEvents}, "HTTP_MAIN": {ctx: ctxHTTP},
	"HTTP_SRV": {ctx: ctxServer}, "HTTP_LOC": {ctx: ctxLocation}, "HTTP_UPS": {ctx: ctxUpstream},
	"HTTP_SIF": {ctx: ctxIf}, "HTTP_LIF": {ctx: ctxIf}, "HTTP_LMT": {ctx: ctxLimitExcept},
	"ANY":    {ctx: ctxMain | ctxEvents | ctxHSLI | ctxUpstream},
	"NOARGS": {args: &argsNone}, "TAKE1": {args: &args1}, "TAKE2": {args: &args2}, "TAKE3": {args: &args3},
	"TAKE12": {args: &args12}, "TAKE23": {args: &args23}, "TAKE123": {args: &args123},
	"TAKE1234": {args: &args1234}, "1MORE": {args: &args1More}, "2MORE": {args: &args2More},
	"FLAG": {args: &argsFlag},
}

func loadNginxDirectives(t *testing.T) []nginxDirective {
	t.Helper()
	b, err := os.ReadFile("testdata/nginx-directives.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []nginxDirective
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 {
			t.Fatalf("bad line %q", l)
		}
		d := nginxDirective{module: f[0], name: f[1]}
		var masks []arity
		for _, w := range strings.Split(f[2], "|") {
			if w == "BLOCK" {
				d.block = true
				continue
			}
			m, ok := nginxMasks[w]
			if !ok {
				t.Fatalf("unknown mask word %q in %q", w, l)
			}
			d.ctx |= m.ctx
			if m.args != nil {
				masks = append(masks, *m.args)
			}
		}
		switch {
		case len(masks) == 1:
			d.args = masks[0]
		case len(masks) == 2 && masks[0] == argsNone && masks[1] == args12:
			d.args = arity{0, 2, false}
		default:
			t.Fatalf("argument mask of %q", l)
		}
		out = append(out, d)
	}
	if len(out) < 300 {
		t.Fatalf("only %d directives in the list", len(out))
	}
	return out
}

// TestTableCoversNginxDirectives checks that every directive of the
// modules gatehouse accounts for is in the table in every context nginx
// allows it (if and limit_except aside: gatehouse has neither block), and
// that each refusal has exactly nginx's contexts and argument count, so
// that a misplaced or malformed one gets nginx's own error first.
func TestTableCoversNginxDirectives(t *testing.T) {
	list := loadNginxDirectives(t)
	for _, nd := range list {
		rows, ok := directives[nd.name]
		if !ok {
			t.Errorf("%s (%s) is an unknown directive: implement it, accept it with no effect or refuse it in refused.go", nd.name, nd.module)
			continue
		}
		var union ctxKind
		for _, r := range rows {
			union |= r.ctx
		}
		if want := nd.ctx &^ (ctxIf | ctxLimitExcept); union&want != want {
			t.Errorf("%s: contexts %b, nginx allows %b", nd.name, union, want)
		}
	}
	for _, r := range refusals() {
		var match *nginxDirective
		for i := range list {
			if list[i].name == r.name && list[i].ctx&r.ctx != 0 {
				match = &list[i]
				break
			}
		}
		if match == nil {
			t.Errorf("refusal %q is no nginx 1.28 directive of the listed modules", r.name)
			continue
		}
		if match.ctx != r.ctx || match.args != r.args || match.block != r.block {
			t.Errorf("refusal %q: ctx %b args %v block %v; nginx: ctx %b args %v block %v",
				r.name, r.ctx, r.args, r.block, match.ctx, match.args, match.block)
		}
	}
}

// TestRefusalsNotImplemented fails for a refusal of a directive that is
// implemented in the same context: the implementation wins, and the
// refusal and its README line are stale.
func TestRefusalsNotImplemented(t *testing.T) {
	impl := directiveTable()
	for _, r := range refusals() {
		if overlaps(impl[r.name], r.ctx) {
			t.Errorf("%q is implemented now: remove its refusal from refused.go and README.md", r.name)
		}
	}
}

// reachable are the contexts a test can put a directive in.
var reachable = []ctxKind{ctxMain, ctxEvents, ctxHTTP, ctxServer, ctxLocation, ctxUpstream}

// placeIn puts line into a minimal configuration at context k and
// returns the source and the line number it is on.
func placeIn(k ctxKind, line string) (string, int) {
	switch k {
	case ctxMain:
		return line + "\nevents {\n}\n", 1
	case ctxEvents:
		return "events {\n" + line + "\n}\n", 2
	case ctxHTTP:
		return "events {\n}\nhttp {\n" + line + "\n}\n", 4
	case ctxServer:
		return "events {\n}\nhttp {\nserver {\nlisten 18080;\n" + line + "\n}\n}\n", 6
	case ctxLocation:
		return "events {\n}\nhttp {\nserver {\nlisten 18080;\nlocation / {\n" + line + "\n}\n}\n}\n", 7
	case ctxUpstream:
		return "events {\n}\nhttp {\nupstream u {\n" + line + "\nserver 127.0.0.1:18081;\n}\n}\n", 5
	}
	panic(fmt.Sprintf("context %b", k))
}

// sampleLine is the directive with n arguments, in its block form if it
// is a block, with a value gatehouse refuses (not its sameAsGatehouse
// value).
func sampleLine(name string, args arity, block bool, n int) string {
	v := "x"
	if args.flag {
		v = "on"
		if sameAsGatehouse[name] == "on" {
			v = "off"
		}
	}
	s := name + strings.Repeat(" "+v, n)
	if block {
		return s + " {\n}"
	}
	return s + ";"
}

// TestRefusalMessages loads every refused directive in every context
// nginx allows it and checks for the refusal with its position; in a
// context nginx does not allow, with one argument too many or too few,
// and without or with a block where nginx wants the other, it gets
// nginx's error instead.
func TestRefusalMessages(t *testing.T) {
	checked := 0
	for _, r := range refusals() {
		expect := func(label string, k ctxKind, line, want string) {
			t.Helper()
			src, n := placeIn(k, line)
			_, err := compileSrc(t, src)
			full := fmt.Sprintf("%s in /t.conf:%d", want, n)
			if err == nil || err.Error() != full {
				t.Errorf("%s %s: got %v\nwant %s", r.name, label, err, full)
			}
			checked++
		}
		msg := fmt.Sprintf("\"%s\" directive %s", r.name, r.why.message())
		var outside ctxKind
		for _, k := range reachable {
			if r.ctx&k == 0 {
				if outside == 0 {
					outside = k
				}
				continue
			}
			expect("allowed", k, sampleLine(r.name, r.args, r.block, r.args.min), msg)
			if r.args.flag {
				expect("bad flag", k, r.name+" maybe;", fmt.Sprintf("invalid value \"maybe\" in \"%s\" directive, it must be \"on\" or \"off\"", r.name))
			}
		}
		if outside != 0 {
			expect("outside", outside, sampleLine(r.name, r.args, r.block, r.args.min), fmt.Sprintf("\"%s\" directive is not allowed here", r.name))
		}
		var in ctxKind
		for _, k := range reachable {
			if r.ctx&k != 0 {
				in = k
				break
			}
		}
		if in == 0 {
			continue // if and limit_except only
		}
		arityErr := fmt.Sprintf("invalid number of arguments in \"%s\" directive", r.name)
		if r.args.max >= 0 {
			expect("too many", in, sampleLine(r.name, r.args, r.block, r.args.max+1), arityErr)
		}
		if r.args.min > 0 {
			expect("too few", in, sampleLine(r.name, r.args, r.block, r.args.min-1), arityErr)
		}
		if r.block {
			expect("no block", in, sampleLine(r.name, r.args, false, r.args.min), fmt.Sprintf("directive \"%s\" has no opening \"{\"", r.name))
		} else {
			expect("block", in, sampleLine(r.name, r.args, true, r.args.min), fmt.Sprintf("directive \"%s\" is not terminated by \";\"", r.name))
		}
	}
	if checked < 600 {
		t.Errorf("only %d checks", checked)
	}
}

// TestRefusalNames checks a few refusals by hand, and that a misspelt
// directive is still nginx's "unknown directive".
func TestRefusalNames(t *testing.T) {
	tests := map[string]string{
		"events {\n}\nhttp {\nserver {\nif ($a) {\nadd_header X y;\n}\n}\n}\n": `"add_header" directive is not supported by gatehouse inside "if" yet in /t.conf:6`,
		"events {\n}\nhttp {\nproxy_cache_path /c keys_zone=c:1m;\n}\n":        `"proxy_cache_path" directive is not supported by gatehouse: gatehouse does not cache responses; put a cache behind or in front of it in /t.conf:4`,
		"load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n":           `"load_module" directive is not supported by gatehouse: it cannot load nginx modules such as "/usr/lib/nginx/modules/ngx_stream_module.so"; remove it in /t.conf:1`,
		"load_module modules/a.so;\n":                                          `"load_module" directive is not supported by gatehouse: it cannot load nginx modules such as "/p/modules/a.so"; remove it in /t.conf:1`,
		"http {\nproxy_ssl_conf_command Options x;\n}\n":                       `"proxy_ssl_conf_command" directive is not supported by gatehouse: OpenSSL configuration commands have no equivalent in /t.conf:2`,
		"http {\nproxy_pas http://x;\n}\n":                                     `unknown directive "proxy_pas" in /t.conf:2`,
		"http {\nrewrit ^ /x;\n}\n":                                            `unknown directive "rewrit" in /t.conf:2`,
		"http {\ngzip_stati on;\n}\n":                                          `unknown directive "gzip_stati" in /t.conf:2`,
		"http {\nssl_stapeling on;\n}\n":                                       `unknown directive "ssl_stapeling" in /t.conf:2`,
	}
	for src, want := range tests {
		_, err := compileSrc(t, src)
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", src, err, want)
		}
	}
}

// TestSSLOnSockets checks that "ssl on" gives TLS to the sockets whose
// default server has it, and to no other.
func TestSSLOnSockets(t *testing.T) {
	cfg := mustCompile(t, `http {
    ssl_certificate a.pem;
    ssl_certificate_key a.key;
    server {
        listen 8443;
        listen 8444;
        server_name a;
        ssl on;
    }
    server {
        listen 8444 default_server;
        server_name b;
        listen 8080;
    }
}`)
	want := map[string]bool{"0.0.0.0:8443": true, "0.0.0.0:8444": false, "0.0.0.0:8080": false}
	for _, sk := range cfg.HTTP.Sockets {
		if w, ok := want[sk.Addr]; !ok || sk.SSL != w {
			t.Errorf("socket %s: SSL %v, want %v", sk.Addr, sk.SSL, w)
		}
		delete(want, sk.Addr)
	}
	if len(want) != 0 {
		t.Errorf("sockets missing: %v", want)
	}
	if n := len(cfg.Warnings); n != 1 || !strings.Contains(cfg.Warnings[0].Msg, `the "ssl" directive is deprecated`) {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

// TestSameAsGatehouseAccepted loads each refused directive with the value
// that asks for what gatehouse always does: it is accepted (with no
// effect), in every context nginx allows, and every name in the list is a
// refused directive taking that value.
func TestSameAsGatehouseAccepted(t *testing.T) {
	byName := map[string]refusal{}
	for _, r := range refusals() {
		byName[r.name] = r
	}
	for name, v := range sameAsGatehouse {
		r, ok := byName[name]
		if !ok {
			t.Errorf("%s is not a refused directive", name)
			continue
		}
		if r.args.flag && v != "on" && v != "off" {
			t.Errorf("%s is a flag; %q is not on or off", name, v)
		}
		for _, k := range reachable {
			if r.ctx&k == 0 {
				continue
			}
			src, _ := placeIn(k, name+" "+v+";")
			if _, err := compileSrc(t, src); err != nil {
				t.Errorf("%s %s in %b: %v", name, v, k, err)
			}
		}
	}
}
