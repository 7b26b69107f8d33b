package server

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/testpki"
)

// compile parses and compiles src as the file DIR/test.conf (DIR
// replaced by dir).
func compile(t *testing.T, dir, src string) (*config.Config, error) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	src = strings.ReplaceAll(src, "DIR", dir)
	path := filepath.Join(dir, "test.conf")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := nginxconf.ParseFile(path, nginxconf.Options{ConfPrefix: dir + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return config.Compile(tree, config.Options{Prefix: dir + "/", ConfPrefix: dir + "/"})
}

// load is what -t does with src: compile, then Build.
func load(t *testing.T, dir, src string) (*Runtime, error) {
	t.Helper()
	cfg, err := compile(t, dir, src)
	if err != nil {
		return nil, err
	}
	return Build(cfg, testDeps(t), nil)
}

func testDeps(t *testing.T) Deps {
	log, err := errorlog.New(nil, errorlog.Options{Stderr: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return Deps{Log: log, Product: "gatehouse", ProductVersion: "gatehouse/test"}
}

// TestBuildFailures: what Build refuses is said in nginx's words, with
// the file:line where nginx gives one.
func TestBuildFailures(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key := ca.Leaf(testpki.WithDNS("a.example")).Files()
	_, otherKey := ca.Leaf(testpki.WithDNS("b.example")).Files()
	notPEM := filepath.Join(dir, "garbage.pem")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644)
	missing := filepath.Join(dir, "missing.pem")
	srv := func(inner string) string {
		return "http {\n    server {\n        listen 127.0.0.1:8443 ssl;\n" + inner + "\n    }\n}\n"
	}
	loc := func(inner string) string {
		return "http {\n    server {\n        listen 127.0.0.1:8080;\n        location / {\n" + inner + "\n        }\n    }\n}\n"
	}
	conf := regexp.QuoteMeta(filepath.Join(dir, "test.conf"))
	pair := "        ssl_certificate " + cert + "; ssl_certificate_key " + key + ";"
	tests := []struct {
		name string
		conf string
		want string // a regexp the error must match in full
	}{
		{"missing certificate", srv("        ssl_certificate " + missing + "; ssl_certificate_key " + key + ";"),
			`^cannot load certificate "` + regexp.QuoteMeta(missing) + `": .*No such file or directory.*$`},
		{"certificate not PEM", srv("        ssl_certificate " + notPEM + "; ssl_certificate_key " + key + ";"),
			`^cannot load certificate "` + regexp.QuoteMeta(notPEM) + `": .*$`},
		{"missing key", srv("        ssl_certificate " + cert + "; ssl_certificate_key " + missing + ";"),
			`^cannot load certificate key "` + regexp.QuoteMeta(missing) + `": .*No such file or directory.*$`},
		{"key mismatch", srv("        ssl_certificate " + cert + "; ssl_certificate_key " + otherKey + ";"),
			`^SSL_CTX_use_PrivateKey\("` + regexp.QuoteMeta(otherKey) + `"\) failed .*key values mismatch.*$`},
		{"bad cipher string", srv(pair + "\n        ssl_ciphers NOSUCHCIPHER;"),
			`^SSL_CTX_set_cipher_list\("NOSUCHCIPHER"\) failed .*no cipher match.*$`},
		{"bad ssl_ecdh_curve", srv(pair + "\n        ssl_ecdh_curve bogus;"),
			`^SSL_CTX_set1_curves_list\("bogus"\) failed \(SSL: error:0A080106:SSL routines::passed invalid argument:group 'bogus' cannot be set\)$`},
		{"ssl_ecdh_curve in a second server", srv(pair + "\n    }\n    server {\n        listen 127.0.0.1:8443 ssl;\n        server_name b;\n" + pair + "\n        ssl_ecdh_curve X25519::prime256v1;"),
			`^SSL_CTX_set1_curves_list\("X25519::prime256v1"\) failed$`},
		{"ssl_ecdh_curve crypto/tls lacks", srv(pair + "\n        ssl_ecdh_curve X25519:X448;"),
			`^the group "X448" in "ssl_ecdh_curve X25519:X448" is not supported by gatehouse: .* in ` + conf + `:5$`},
		{"missing client CA file", srv(pair + "\n        ssl_client_certificate " + missing + "; ssl_verify_client on;"),
			// nginx 1.28 loads CA files through its certificate cache and
			// words this as a certificate (1.22: SSL_CTX_load_verify_locations).
			`^cannot load certificate "` + regexp.QuoteMeta(missing) + `": BIO_new_file\(\) failed .*No such file or directory.*$`},
		{"client CA file not PEM", srv(pair + "\n        ssl_client_certificate " + notPEM + "; ssl_verify_client on;"),
			`^cannot load certificate "` + regexp.QuoteMeta(notPEM) + `": .*$`},
		{"missing CRL", srv(pair + "\n        ssl_client_certificate " + cert + "; ssl_verify_client on; ssl_crl " + missing + ";"),
			`^X509_LOOKUP_load_file\("` + regexp.QuoteMeta(missing) + `"\) failed .*$`},
		{"no protocol gatehouse supports", srv(pair + "\n        ssl_protocols SSLv3;"),
			`^no TLS protocol version gatehouse supports is enabled in "ssl_protocols" in ` + regexp.QuoteMeta(filepath.Join(dir, "test.conf")) + `:5$`},
		{"access log in a missing directory", "http {\n    access_log " + dir + "/nodir/access.log;\n    server { listen 127.0.0.1:8080; }\n}\n",
			`^open\(\) "` + regexp.QuoteMeta(dir) + `/nodir/access\.log" failed \(2: No such file or directory\)$`},
		{"server error log in a missing directory", "http {\n    access_log off;\n    server { listen 127.0.0.1:8080; error_log " + dir + "/nodir/error.log; }\n}\n",
			`^open\(\) "` + regexp.QuoteMeta(dir) + `/nodir/error\.log" failed \(2: No such file or directory\)$`},
		{"ssl listen without certificate", "http {\n    server {\n        listen 127.0.0.1:8443 ssl;\n    }\n}\n",
			`^no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in ` + regexp.QuoteMeta(filepath.Join(dir, "test.conf")) + `:2$`},
		{"ssl listen, default server without certificate", "http {\n    server {\n        listen 127.0.0.1:8443 ssl;\n    }\n    server {\n        listen 127.0.0.1:8443 ssl;\n        server_name b;\n" + pair + "\n    }\n}\n",
			`^no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in ` + regexp.QuoteMeta(filepath.Join(dir, "test.conf")) + `:2$`},
		// A location's proxy_* errors name the directive's own line, once.
		{"proxy_pass with variables", loc("            proxy_pass http://$host;"),
			`^proxy_pass with variables is not supported yet in ` + conf + `:5$`},
		{"proxy_redirect regex", loc("            proxy_pass http://127.0.0.1:9;\n            proxy_redirect ~^http://x(.*) /$1;"),
			`^proxy_redirect with a regular expression or variables in the pattern is not supported yet in ` + conf + `:6$`},
		{"proxy_redirect unknown variable", loc("            proxy_pass http://127.0.0.1:9;\n            proxy_redirect http://x/ $nosuch;"),
			`^unknown "nosuch" variable in ` + conf + `:6$`},
		{"proxy_ssl_name unknown variable", loc("            proxy_pass https://127.0.0.1:9;\n            proxy_ssl_name $nosuch;"),
			`^unknown "nosuch" variable in ` + conf + `:6$`},
		{"proxy_set_header unknown variable", loc("            proxy_pass http://127.0.0.1:9;\n            proxy_set_header X-A $nosuch;"),
			`^unknown "nosuch" variable in ` + conf + `:6$`},
		// CR, LF or NUL in configuration text that goes into a header.
		{"proxy_set_header value with LF", loc("            proxy_pass http://127.0.0.1:9;\n            proxy_set_header X-A \"a\\nX-B: b\";"),
			`^CR, LF or NUL in "proxy_set_header" "X-A" in ` + conf + `:6$`},
		{"proxy_set_header name with CR", loc("            proxy_pass http://127.0.0.1:9;\n            proxy_set_header \"X\\rA\" v;"),
			`^CR, LF or NUL in "proxy_set_header" "X\\rA" in ` + conf + `:6$`},
		{"add_header value with CR", loc("            add_header X-A \"a\\r\";"),
			`^CR, LF or NUL in "add_header" "X-A" in ` + conf + `:5$`},
		{"return URL with LF", loc("            return 302 \"http://x/\\nSet-Cookie: a\";"),
			`^CR, LF or NUL in the URL of "return" in ` + conf + `:5$`},
		{"proxy_redirect replacement with LF", loc("            proxy_pass http://127.0.0.1:9;\n            proxy_redirect http://x/ \"/\\n$uri\";"),
			`^CR, LF or NUL in the replacement of "proxy_redirect" in ` + conf + `:6$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := load(t, dir, tt.conf)
			if err == nil {
				rt.Close()
				t.Fatalf("Build succeeded, want %s", tt.want)
			}
			t.Log(err)
			if !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Errorf("error\n%s\ndoes not match\n%s", err, tt.want)
			}
		})
	}
}

func TestGroupKey(t *testing.T) {
	tests := []struct {
		name string
		u    config.Upstream
		want string
	}{
		{"upstream block", config.Upstream{Name: "backend", Servers: []*config.UpstreamServer{{Address: "10.0.0.1:443"}}}, "backend"},
		{"implicit", config.Upstream{Name: "b.example", Implicit: true, Servers: []*config.UpstreamServer{{Address: "b.example:8443"}}}, "implicit b.example:8443"},
		{"implicit, other port", config.Upstream{Name: "b.example", Implicit: true, Servers: []*config.UpstreamServer{{Address: "b.example:9443"}}}, "implicit b.example:9443"},
		{"implicit without servers", config.Upstream{Name: "b.example", Implicit: true}, "b.example"},
		{"block named like a host", config.Upstream{Name: "b.example", Servers: []*config.UpstreamServer{{Address: "b.example:8443"}}}, "b.example"},
	}
	for _, tt := range tests {
		if got := groupKey(&tt.u); got != tt.want {
			t.Errorf("%s: groupKey = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestGroupsKeptApart: two proxy_pass URLs to one host on different
// ports get two groups, an upstream block and a proxy_pass naming it share
// one, and a reload carries each group's peers' state to the group of the
// same key.
func TestGroupsKeptApart(t *testing.T) {
	dir := t.TempDir()
	rt, err := load(t, dir, `http {
    access_log off;
    upstream backend { server 127.0.0.1:9001; }
    server {
        listen 127.0.0.1:8080;
        location /a/ { proxy_pass http://127.0.0.1:9002; }
        location /b/ { proxy_pass http://127.0.0.1:9003; }
        location /c/ { proxy_pass http://backend; }
        location /d/ { proxy_pass http://backend/d/; }
    }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	var keys []string
	for k := range rt.groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"backend", "implicit 127.0.0.1:9002", "implicit 127.0.0.1:9003"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("groups %q, want %q", keys, want)
	}
}

// TestSocketSSL: "ssl" belongs to the address:port (or UNIX path) it is
// given on, not to its neighbours.
func TestSocketSSL(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key := ca.Leaf(testpki.WithDNS("a.example")).Files()
	rt, err := load(t, dir, `http {
    access_log off;
    ssl_certificate `+cert+`; ssl_certificate_key `+key+`;
    server { listen unix:DIR/tls.sock ssl; listen 127.0.0.1:8443 ssl; }
    server { listen unix:DIR/plain.sock; listen 127.0.0.1:8080; listen 127.0.0.2:8443; }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	want := map[string]bool{
		"unix:" + dir + "/tls.sock":   true,
		"unix:" + dir + "/plain.sock": false,
		"127.0.0.1:8443":              true,
		"127.0.0.1:8080":              false,
		"127.0.0.2:8443":              false,
	}
	for a, sk := range rt.sockets {
		w, ok := want[a.String()]
		if !ok {
			t.Errorf("unexpected socket %s", a)
			continue
		}
		if sk.ssl != w {
			t.Errorf("%s: ssl %v, want %v", a, sk.ssl, w)
		}
		delete(want, a.String())
	}
	for a := range want {
		t.Errorf("no socket %s", a)
	}
}

// TestKeepalivePerWorker: an upstream block's keepalive N is nginx's limit
// per worker process, so the group's pool keeps N times the worker
// processes worker_processes stands for ("auto": the CPUs), also for the
// keepalive "defaults secure" supplies.
func TestKeepalivePerWorker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		main    string
		up      string
		cpus    int
		maxIdle int
	}{
		{"default is one worker", "", "keepalive 16;", 3, 16},
		{"worker_processes N", "worker_processes 4;", "keepalive 16;", 3, 64},
		{"worker_processes auto", "worker_processes auto;", "keepalive 16;", 3, 48},
		{"secure default keepalive", "worker_processes auto;", "", 2, 64},
		{"defaults nginx: no keepalive", "defaults nginx; worker_processes auto; events {}", "", 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg, err := compile(t, dir, tc.main+`
pid DIR/logs/pid;
error_log DIR/logs/error.log;
http {
    access_log off;
    upstream app { server 127.0.0.1:1; `+tc.up+` }
    server { listen 127.0.0.1:1; location / { proxy_pass http://app; } }
}`)
			if err != nil {
				t.Fatal(err)
			}
			deps := testDeps(t)
			deps.CPUs = tc.cpus
			rt, err := Build(cfg, deps, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close()
			if got := rt.Group("app").Pool().MaxIdle(); got != tc.maxIdle {
				t.Errorf("pool keeps %d idle connections, want %d", got, tc.maxIdle)
			}
		})
	}
}
