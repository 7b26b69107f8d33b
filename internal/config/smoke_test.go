package config

import (
	"errors"
	"net/netip"
	"os"
	"testing"

	"gatehouse/internal/certs"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/tlsterm"
)

func TestCompleteExample(t *testing.T) {
	src, err := os.ReadFile("testdata/complete-example.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustCompile(t, string(src))
	if len(cfg.Warnings) != 1 {
		t.Fatalf("warnings = %v, want exactly one", cfg.Warnings)
	}
	want := `"proxy_ssl_protocols" enables TLSv1, TLSv1.1, which are deprecated and weak (RFC 8996) in /t.conf:27`
	if got := cfg.Warnings[0].Error(); got != want {
		t.Fatalf("warning = %q, want %q", got, want)
	}
	h := cfg.HTTP
	if len(h.Upstreams) != 2 {
		t.Fatalf("upstreams = %d, want the block and one implicit group for url_to_app.com", len(h.Upstreams))
	}
	grp, app := h.Upstreams[0], h.Upstreams[1]
	if grp.Name != "backend.example.com" || grp.Implicit || len(grp.Servers) != 2 {
		t.Errorf("group = %+v", grp)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	for i, s := range grp.Servers {
		if s.Port != 443 || len(s.Addrs) != 1 || s.Addrs[0] != netip.AddrPortFrom(lo, 443) || s.Weight != 1 || s.MaxFails != 1 {
			t.Errorf("server %d = %+v", i, s)
		}
	}
	if grp.Servers[1].Pos.Line != 16 || grp.Servers[1].Address != "backend2.example.com:443" {
		t.Errorf("server 2 pos/address = %v %q", grp.Servers[1].Pos, grp.Servers[1].Address)
	}
	if !app.Implicit || app.Name != "url_to_app.com" || app.Servers[0].Addrs[0] != netip.AddrPortFrom(lo, 80) {
		t.Errorf("implicit group = %+v (servers %+v)", app, app.Servers)
	}

	front := h.Servers[0]
	l := front.Locations[0]
	p := l.ProxyPass
	if p == nil || p.Upstream != grp || !p.HTTPS || p.ProxyHost != "backend.example.com" || p.ProxyPort != "443" || p.HasURI {
		t.Fatalf("proxy_pass = %+v", p)
	}
	ps := l.ProxySSL
	if !ps.Verify || ps.VerifyPos.Line != 30 || ps.TrustedCertificate != "/etc/nginx/trusted_ca_cert.crt" ||
		ps.TrustedCertificatePos.Line != 29 || ps.VerifyDepth != 2 || !ps.SessionReuse ||
		ps.Certificate != "/etc/nginx/client.pem" || ps.CertificateKey != "/etc/nginx/client.key" ||
		ps.Protocols != certs.TLSv1|certs.TLSv1_1|certs.TLSv1_2 || ps.Ciphers != "HIGH:!aNULL:!MD5" || !ps.ServerName {
		t.Errorf("proxy ssl = %+v", ps)
	}
	for _, back := range h.Servers[1:] {
		if back.SSL.VerifyClient != tlsterm.VerifyOptional || back.SSL.ClientCertificate != "/etc/ssl/certs/ca.crt" ||
			len(back.SSL.Certificates) != 1 || back.SSL.Certificates[0].Key != "/etc/ssl/certs/server.key" {
			t.Errorf("backend ssl = %+v", back.SSL)
		}
		if back.Locations[0].ProxyPass.Upstream != app {
			t.Errorf("backend location does not share the implicit group")
		}
	}
	if len(h.Sockets) != 2 || h.Sockets[0].Addr != "0.0.0.0:80" || h.Sockets[1].Addr != "0.0.0.0:443" ||
		!h.Sockets[1].SSL || len(h.Sockets[1].Servers) != 2 || h.Sockets[1].Default != h.Servers[1] {
		t.Errorf("sockets = %+v / %+v", h.Sockets[0], h.Sockets[1])
	}
	if front.Names[0].Name != "www.example.com" {
		t.Errorf("names = %+v", front.Names)
	}
}

func TestHostNotFoundClassified(t *testing.T) {
	_, err := compileSrc(t, "http { upstream u { server nowhere.invalid; } }")
	if !errors.Is(err, ErrHostNotFound) {
		t.Fatalf("error %v does not wrap ErrHostNotFound", err)
	}
	var e *nginxconf.Error
	if !errors.As(err, &e) || e.Pos.Line != 1 {
		t.Fatalf("error %v has no position", err)
	}
}

func TestProxyHostValues(t *testing.T) {
	tests := []struct {
		url, host, port string
		uri             string
	}{
		{"https://b.example.com:8443", "b.example.com:8443", "8443", ""},
		{"https://b.example.com:443", "b.example.com", "443", ""},
		{"http://b.example.com:443/", "b.example.com:443", "443", "/"},
		{"http://b.example.com", "b.example.com", "80", ""},
		{"HTTPS://B.example.com/x?y", "B.example.com", "443", "/x?y"},
		{"http://[::1]:8080/a", "[::1]:8080", "8080", "/a"},
		{"http://127.0.0.1?a", "127.0.0.1", "80", "?a"},
		{"http://unix:/run/s.sock:/p", "localhost", "", "/p"},
	}
	for _, tt := range tests {
		cfg := mustCompile(t, "http { server { listen 8080; location / { proxy_pass "+tt.url+"; } } }")
		p := cfg.HTTP.Servers[0].Locations[0].ProxyPass
		if p.ProxyHost != tt.host || p.ProxyPort != tt.port || p.URI != tt.uri {
			t.Errorf("%s: $proxy_host %q, $proxy_port %q, URI %q; want %q %q %q", tt.url, p.ProxyHost, p.ProxyPort, p.URI, tt.host, tt.port, tt.uri)
		}
	}
}

// TestImplicitGroupsByPort: nginx keeps one implicit group per host and
// port, so http://h and https://h are different groups.
func TestImplicitGroupsByPort(t *testing.T) {
	cfg := mustCompile(t, `http { server { listen 8080;
        location /a { proxy_pass http://a.example.com; }
        location /b { proxy_pass https://a.example.com; }
        location /c { proxy_pass http://a.example.com:80/c; }
    } }`)
	if n := len(cfg.HTTP.Upstreams); n != 2 {
		t.Fatalf("upstreams = %d, want 2", n)
	}
	ls := cfg.HTTP.Servers[0].Locations
	if ls[0].ProxyPass.Upstream != ls[2].ProxyPass.Upstream || ls[0].ProxyPass.Upstream == ls[1].ProxyPass.Upstream {
		t.Errorf("groups not shared by host and port")
	}
	if got := ls[1].ProxyPass.Upstream.Servers[0].Addrs[0].Port(); got != 443 {
		t.Errorf("https group port = %d", got)
	}
}

func TestCheckDirectives(t *testing.T) {
	// The parser stopped at a syntax error after line 4; the unknown
	// directive on line 3 is what nginx reports first.
	src := "http {\n    server {\n        proxy_passs x;\n        listen 8080;\n"
	tree, perr := nginxconf.ParseBytes("/t.conf", []byte(src), nginxconf.Options{})
	if perr == nil {
		t.Fatal("want a parse error")
	}
	err := CheckDirectives(tree.Directives, testOptions())
	if err == nil || err.Error() != `unknown directive "proxy_passs" in /t.conf:3` {
		t.Fatalf("CheckDirectives = %v", err)
	}
	// An open upstream block is not "empty" just because it is cut short.
	tree, _ = nginxconf.ParseBytes("/t.conf", []byte("http {\n upstream u {\n"), nginxconf.Options{})
	if err := CheckDirectives(tree.Directives, testOptions()); err != nil {
		t.Fatalf("partial upstream: %v", err)
	}
	if err := CheckDirectives(nil, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestSocketsAndIgnoredNames(t *testing.T) {
	cfg := mustCompile(t, `http {
    server { listen 127.0.0.1:8080; server_name a.example.com; }
    server { listen 8080 default_server; server_name a.example.com; }
    server { listen 8080; server_name A.example.com www.*; }
}`)
	h := cfg.HTTP
	if len(h.Sockets) != 2 {
		t.Fatalf("sockets = %d", len(h.Sockets))
	}
	wild := h.Sockets[1]
	if wild.Addr != "0.0.0.0:8080" || wild.Default != h.Servers[1] || len(wild.Servers) != 2 {
		t.Errorf("wildcard socket = %+v", wild)
	}
	if len(wild.Ignored) != 1 || wild.Ignored[0].Server != h.Servers[2] || wild.Ignored[0].Name != "a.example.com" {
		t.Errorf("ignored = %+v", wild.Ignored)
	}
	if len(h.Sockets[0].Ignored) != 0 || h.Sockets[0].Default != h.Servers[0] {
		t.Errorf("specific socket = %+v", h.Sockets[0])
	}
	if n := h.Servers[2].Names[1]; n.Kind != NameWildTail || n.Name != "www.*" {
		t.Errorf("name = %+v", n)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != `conflicting server name "a.example.com" on 0.0.0.0:8080, ignored` {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
}

// TestCheckDirectivesClosedHTTP: nginx merges the http block at its
// closing brace, so a post-parse error there precedes a later syntax error.
func TestCheckDirectivesClosedHTTP(t *testing.T) {
	src := "http {\n    upstream u {\n        server 127.0.0.1 backup;\n    }\n}\nevents {\n"
	tree, perr := nginxconf.ParseBytes("/t.conf", []byte(src), nginxconf.Options{})
	if perr == nil {
		t.Fatal("want a parse error")
	}
	err := CheckDirectives(tree.Directives, testOptions())
	if err == nil || err.Error() != `no servers in upstream "u" in /t.conf:2` {
		t.Fatalf("CheckDirectives = %v", err)
	}
}

func TestUserAsRoot(t *testing.T) {
	opts := testOptions()
	opts.Root = true
	for src, want := range map[string]string{
		"user root;":         "",
		"user root root;":    "",
		"user nobody;":       `"user" directive is not supported by gatehouse: it does not switch users; start it as the user it should run as in /t.conf:1`,
		"user root nogroup;": `"user" directive is not supported by gatehouse: it does not switch users; start it as the user it should run as in /t.conf:1`,
	} {
		tree, err := nginxconf.ParseBytes("/t.conf", []byte(src), nginxconf.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Compile(tree, opts)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}

func BenchmarkCompileCompleteExample(b *testing.B) {
	src, err := os.ReadFile("testdata/complete-example.conf")
	if err != nil {
		b.Fatal(err)
	}
	tree, err := nginxconf.ParseBytes("/t.conf", src, nginxconf.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(tree, testOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWarningsBeforeError(t *testing.T) {
	_, err := compileSrc(t, "http {\n    proxy_ssl_verify off;\n    proxy_read_timeout x;\n}\n")
	var e *nginxconf.Error
	if !errors.As(err, &e) || e.Pos.Line != 3 {
		t.Fatalf("error %v does not unwrap to a positioned *nginxconf.Error", err)
	}
	ws := Warnings(err)
	if len(ws) != 1 || ws[0].Pos.Line != 2 {
		t.Fatalf("Warnings = %v, want the proxy_ssl_verify warning", ws)
	}
	if Warnings(nil) != nil || Warnings(errors.New("x")) != nil {
		t.Error("Warnings of a foreign error")
	}
	_, err = compileSrc(t, "http {\n    proxy_read_timeout x;\n}\n")
	if _, ok := err.(*nginxconf.Error); !ok {
		t.Errorf("an error without warnings is %T, want the *nginxconf.Error itself", err)
	}
}
