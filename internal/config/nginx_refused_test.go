package config

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testproc"
)

// newerThanDebian are the directives (name, or name@context) that gatehouse
// knows from nginx 1.28 and Debian's nginx 1.22 predates, with the version
// that added them: nginx 1.22 cannot confirm them.
var newerThanDebian = map[string]string{
	"keepalive_min_timeout":       "1.27.4",
	"proxy_pass_trailers":         "1.27.2",
	"proxy_ssl_certificate_cache": "1.27.4",
	"ssl_certificate_cache":       "1.27.4",
	"resolver@upstream":           "1.27.3",
	"resolver_timeout@upstream":   "1.27.3",
}

// knownNoEffect are the directives gatehouse accepts and checks without
// giving them an effect, with nginx's contexts and arguments, plus
// load_module and nginx 1.22's "ssl", which have handlers of their own.
var knownNoEffect = []refusal{
	{name: "server_names_hash_max_size", ctx: ctxHTTP, args: args1},
	{name: "server_names_hash_bucket_size", ctx: ctxHTTP, args: args1},
	{name: "variables_hash_max_size", ctx: ctxHTTP, args: args1},
	{name: "variables_hash_bucket_size", ctx: ctxHTTP, args: args1},
	{name: "proxy_headers_hash_max_size", ctx: ctxHSL, args: args1},
	{name: "proxy_headers_hash_bucket_size", ctx: ctxHSL, args: args1},
	{name: "types_hash_max_size", ctx: ctxHSL, args: args1},
	{name: "types_hash_bucket_size", ctx: ctxHSL, args: args1},
	{name: "zone", ctx: ctxUpstream, args: args12},
	{name: "load_module", ctx: ctxMain, args: args1},
	{name: "ssl", ctx: ctxHS, args: argsFlag},
}

var nginxErrLine = regexp.MustCompile(`\[emerg\] \d+#\d+: (.*)`)

// TestNginxKnowsRefusedDirectives runs Debian's nginx -t on every refused
// or accepted-without-effect directive in every context gatehouse allows
// it, and checks that nginx knows it there with that many arguments (any
// error it gives is the directive's own, at its line), so that gatehouse
// never calls a non-directive real; then in one context gatehouse does
// not allow and with one argument too many, where nginx must refuse it
// as gatehouse does.
func TestNginxKnowsRefusedDirectives(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("%s not installed; the differential test needs nginx", nginxBinary)
	}
	dir := t.TempDir()
	for _, sub := range []string{"logs", "html", "temp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "k.conf")
	nginxT := func(src string) string {
		t.Helper()
		if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, _ := testproc.CombinedOutput(t, exec.CommandContext(ctx, nginxBinary, "-t", "-q", "-p", dir+"/", "-c", conf, "-e", "stderr"))
		if m := nginxErrLine.FindStringSubmatch(string(out)); m != nil {
			return m[1]
		}
		return ""
	}
	// The skeletons themselves load.
	for _, k := range reachable {
		src, _ := placeIn(k, "")
		if e := nginxT(src); e != "" {
			t.Fatalf("skeleton for context %b fails in nginx: %s", k, e)
		}
	}
	structural := func(name string) []string {
		return []string{
			fmt.Sprintf("unknown directive \"%s\"", name),
			fmt.Sprintf("\"%s\" directive is not allowed here", name),
			fmt.Sprintf("invalid number of arguments in \"%s\" directive", name),
			fmt.Sprintf("directive \"%s\" is not terminated", name),
			fmt.Sprintf("directive \"%s\" has no opening", name),
		}
	}
	ctxName := map[ctxKind]string{ctxMain: "main", ctxEvents: "events", ctxHTTP: "http", ctxServer: "server", ctxLocation: "location", ctxUpstream: "upstream"}
	runs, skipped := 0, 0
	for _, r := range append(refusals(), knownNoEffect...) {
		var outside, in ctxKind
		for _, k := range reachable {
			if r.ctx&k == 0 {
				if outside == 0 {
					outside = k
				}
				continue
			}
			if v, ok := newerThanDebian[r.name+"@"+ctxName[k]]; ok {
				skipped++
				t.Logf("%s in %s: added in nginx %s, not in Debian's 1.22", r.name, ctxName[k], v)
				continue
			}
			if v, ok := newerThanDebian[r.name]; ok {
				skipped++
				t.Logf("%s: added in nginx %s, not in Debian's 1.22", r.name, v)
				break
			}
			if in == 0 {
				in = k
			}
			src, line := placeIn(k, sampleLine(r.name, r.args, r.block, r.args.min))
			got := nginxT(src)
			runs++
			for _, s := range structural(r.name) {
				if strings.Contains(got, s) {
					t.Errorf("%s in %s: nginx says %s", r.name, ctxName[k], got)
				}
			}
			// An error elsewhere must be the directive's own, found at
			// the end of its block.
			if got != "" && strings.Contains(got, " in "+conf+":") && !strings.HasSuffix(got, fmt.Sprintf(" in %s:%d", conf, line)) && !strings.Contains(got, "\""+r.name+"\"") {
				t.Errorf("%s in %s: nginx fails elsewhere, so it did not check the directive: %s", r.name, ctxName[k], got)
			}
		}
		if in == 0 {
			continue
		}
		if outside != 0 {
			src, _ := placeIn(outside, sampleLine(r.name, r.args, r.block, r.args.min))
			want := fmt.Sprintf("\"%s\" directive is not allowed here", r.name)
			if got := nginxT(src); !strings.HasPrefix(got, want) {
				t.Errorf("%s in %s: nginx says %q, want %q", r.name, ctxName[outside], got, want)
			}
			runs++
		}
		if r.args.max >= 0 {
			src, _ := placeIn(in, sampleLine(r.name, r.args, r.block, r.args.max+1))
			want := fmt.Sprintf("invalid number of arguments in \"%s\" directive", r.name)
			if got := nginxT(src); !strings.HasPrefix(got, want) {
				t.Errorf("%s with %d arguments: nginx says %q, want %q", r.name, r.args.max+1, got, want)
			}
			runs++
		}
	}
	t.Logf("%d nginx runs, %d skipped as newer than nginx 1.22", runs, skipped)
	if runs < 400 {
		t.Errorf("only %d nginx runs", runs)
	}
}

// TestNginxSSLOn checks "ssl on" against nginx 1.22, which still has it:
// the same deprecation warning and the same merge errors, in order.
func TestNginxSSLOn(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("%s not installed; the differential test needs nginx", nginxBinary)
	}
	for _, base := range []string{"ssl-on-no-cert.conf", "ssl-on-no-key.conf", "ssl-on-dup.conf", "ssl-on-value.conf"} {
		t.Run(base, func(t *testing.T) {
			f := filepath.Join("testdata/golden", base)
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, cerr := compileSrc(t, string(src))
			ours := strings.ReplaceAll(string(messages(cfg, cerr)), "/t.conf", "F")
			dir := t.TempDir()
			conf := filepath.Join(dir, base)
			if err := os.WriteFile(conf, src, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, _ := testproc.CombinedOutput(t, exec.CommandContext(ctx, nginxBinary, "-t", "-q", "-p", dir+"/", "-c", conf, "-e", "stderr"))
			var b strings.Builder
			for _, line := range strings.Split(string(out), "\n") {
				if m := nginxLine.FindStringSubmatch(line); m != nil {
					b.WriteString("[" + m[1] + "] " + strings.ReplaceAll(m[2], conf, "F") + "\n")
				}
			}
			if ours != b.String() {
				t.Errorf("ours:\n%snginx:\n%s", ours, b.String())
			}
		})
	}
}
