package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/upstream"
)

// find returns the location with the given name anywhere under ls.
func find(ls []*Location, name string) *Location {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
		if x := find(l.Children, name); x != nil {
			return x
		}
	}
	return nil
}

func headerNames(hs []Header) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name+"="+h.Value)
	}
	return out
}

const inheritConf = `
http {
    proxy_read_timeout 11s;
    proxy_set_header X-A a;
    proxy_set_header X-B b;
    proxy_ssl_protocols TLSv1.2 TLSv1.3;
    proxy_next_upstream error timeout http_502;
    proxy_hide_header X-Secret;
    client_max_body_size 2m;
    access_log logs/http.log;
    server {
        listen 8080;
        proxy_connect_timeout 7s;
        location /inherit/ {
            proxy_pass http://127.0.0.1;
            location /inherit/nested/ {
            }
        }
        location /override/ {
            proxy_pass http://127.0.0.1;
            proxy_read_timeout 3s;
            proxy_set_header X-C c;
            proxy_ssl_protocols TLSv1.3;
            proxy_next_upstream off;
            proxy_pass_header Server;
            client_max_body_size 0;
            access_log off;
            location /override/nested/ {
                proxy_pass http://127.0.0.1;
                proxy_set_header Host $host;
            }
        }
    }
    server {
        listen 8081;
        proxy_set_header X-S s;
        location / {
            proxy_pass http://127.0.0.1;
        }
    }
}
`

func TestInheritance(t *testing.T) {
	cfg := mustCompile(t, inheritConf)
	s1, s2 := cfg.HTTP.Servers[0], cfg.HTTP.Servers[1]
	inh := find(s1.Locations, "/inherit/")
	nested := find(s1.Locations, "/inherit/nested/")
	ovr := find(s1.Locations, "/override/")
	ovrNested := find(s1.Locations, "/override/nested/")
	s2loc := find(s2.Locations, "/")
	defaults := []string{"Host=$proxy_host", "Connection=", "Content-Length=$proxy_internal_body_length",
		"Transfer-Encoding=$proxy_internal_chunked", "TE=", "Keep-Alive=", "Expect=", "Upgrade="}

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"scalar from http", inh.Proxy.ReadTimeout, 11 * time.Second},
		{"scalar from server", inh.Proxy.ConnectTimeout, 7 * time.Second},
		{"scalar into nested location", nested.Proxy.ReadTimeout, 11 * time.Second},
		{"scalar overridden", ovr.Proxy.ReadTimeout, 3 * time.Second},
		{"override inherited inward", ovrNested.Proxy.ReadTimeout, 3 * time.Second},
		{"default when nowhere set", inh.Proxy.SendTimeout, 60 * time.Second},
		{"array inherited whole", headerNames(inh.Proxy.SetHeaders), append([]string{"X-A=a", "X-B=b"}, defaults...)},
		{"array all-or-nothing", headerNames(ovr.Proxy.SetHeaders), append([]string{"X-C=c"}, defaults...)},
		{"array replaced again, default overridden by name", headerNames(ovrNested.Proxy.SetHeaders), append([]string{"Host=$host"}, defaults[1:]...)},
		{"server array replaces http array", headerNames(s2loc.Proxy.SetHeaders), append([]string{"X-S=s"}, defaults...)},
		{"bitmask inherited", inh.ProxySSL.Protocols, certs.TLSv1_2 | certs.TLSv1_3},
		{"bitmask replaced, not OR-ed", ovr.ProxySSL.Protocols, certs.TLSv1_3},
		{"bitmask position kept", ovr.ProxySSL.ProtocolsPos.Line, 23},
		{"next_upstream inherited", inh.Proxy.NextUpstream, upstream.NextError | upstream.NextTimeout | upstream.NextHTTP502},
		{"next_upstream off", ovr.Proxy.NextUpstream, upstream.NextOff},
		{"hide_header inherited", inh.Proxy.HideHeaders, []string{"x-secret"}},
		{"pass_header independent of hide_header", ovr.Proxy.HideHeaders, []string{"x-secret"}},
		{"pass_header set", ovr.Proxy.PassHeaders, []string{"server"}},
		{"body size inherited", inh.Core.ClientMaxBodySize, int64(2 << 20)},
		{"body size 0 unlimited", ovr.Core.ClientMaxBodySize, int64(0)},
		{"access_log inherited", len(inh.Core.AccessLogs), 1},
		{"access_log path", inh.Core.AccessLogs[0].Path, "/p/logs/http.log"},
		{"access_log off", len(ovr.Core.AccessLogs), 0},
		{"access_log off inherited", len(ovrNested.Core.AccessLogs), 0},
		{"proxy_pass not inherited", nested.ProxyPass == nil, true},
		{"proxy_pass own", ovrNested.ProxyPass != nil, true},
		{"server level has no proxy_pass", s1.Level.ProxyPass == nil, true},
		{"server level inherits http", s1.Level.Proxy.ReadTimeout, 11 * time.Second},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestInheritanceAfterServer checks that http-level directives written
// after a server block still reach it: nginx merges after the whole block.
func TestInheritanceAfterServer(t *testing.T) {
	cfg := mustCompile(t, `http {
    server {
        listen 8080;
        location / {
            proxy_pass http://127.0.0.1;
        }
    }
    proxy_read_timeout 5s;
}`)
	if got := cfg.HTTP.Servers[0].Locations[0].Proxy.ReadTimeout; got != 5*time.Second {
		t.Errorf("ReadTimeout = %v, want 5s", got)
	}
}

func TestBitmaskSameLevelOred(t *testing.T) {
	cfg := mustCompile(t, `http {
    proxy_ssl_protocols TLSv1.2;
    proxy_ssl_protocols TLSv1.3;
    server {
        listen 8080;
    }
}`)
	if got := cfg.HTTP.Servers[0].Level.ProxySSL.Protocols; got != certs.TLSv1_2|certs.TLSv1_3 {
		t.Errorf("Protocols = %v, want TLSv1.2|TLSv1.3", protocolNames(got))
	}
}

func TestDefaults(t *testing.T) {
	const body = `
http {
    upstream u {
        server 127.0.0.1:8443;
    }
    server {
        listen 8443 ssl;
        ssl_certificate c.pem;
        ssl_certificate_key c.key;
        location / {
            proxy_pass https://u;
        }
    }
}`
	secure := mustCompile(t, body)
	nginx := mustCompile(t, "defaults nginx;\nevents {}\n"+strings.Replace(body, "http {", "http { proxy_ssl_trusted_certificate ca.pem;", 1))
	type row struct {
		name        string
		secure, ngx any
		get         func(*Config) any
	}
	loc := func(c *Config) *Location { return c.HTTP.Servers[0].Locations[0] }
	rows := []row{
		{"mode", DefaultsSecure, DefaultsNginx, func(c *Config) any { return c.Defaults }},
		{"proxy_ssl_verify", true, false, func(c *Config) any { return loc(c).ProxySSL.Verify }},
		{"proxy_ssl_server_name", true, false, func(c *Config) any { return loc(c).ProxySSL.ServerName }},
		{"proxy_ssl_verify_depth", 4, 1, func(c *Config) any { return loc(c).ProxySSL.VerifyDepth }},
		{"ssl_verify_depth", 4, 1, func(c *Config) any { return c.HTTP.Servers[0].SSL.VerifyDepth }},
		{"proxy_ssl_protocols", certs.TLSv1_2 | certs.TLSv1_3, certs.TLSv1_2 | certs.TLSv1_3, func(c *Config) any { return loc(c).ProxySSL.Protocols }},
		{"ssl_protocols", certs.TLSv1_2 | certs.TLSv1_3, certs.TLSv1_2 | certs.TLSv1_3, func(c *Config) any { return c.HTTP.Servers[0].SSL.Protocols }},
		{"proxy_ssl_ciphers", "", "DEFAULT", func(c *Config) any { return loc(c).ProxySSL.Ciphers }},
		{"ssl_ciphers", "", "HIGH:!aNULL:!MD5", func(c *Config) any { return c.HTTP.Servers[0].SSL.Ciphers }},
		{"proxy_http_version", HTTP11, HTTP10, func(c *Config) any { return loc(c).Proxy.HTTPVersion }},
		{"Connection header", "", "close", func(c *Config) any { return loc(c).Proxy.SetHeaders[1].Value }},
		{"upstream keepalive", 32, 0, func(c *Config) any { return c.HTTP.Upstreams[0].Keepalive }},
		{"proxy_ssl_session_reuse", true, true, func(c *Config) any { return loc(c).ProxySSL.SessionReuse }},
		{"keepalive_timeout", 75 * time.Second, 75 * time.Second, func(c *Config) any { return loc(c).Core.KeepaliveTimeout }},
		{"keepalive_requests", 1000, 1000, func(c *Config) any { return loc(c).Core.KeepaliveRequests }},
		{"client_max_body_size", int64(1 << 20), int64(1 << 20), func(c *Config) any { return loc(c).Core.ClientMaxBodySize }},
		{"ssl_session_timeout", 5 * time.Minute, 5 * time.Minute, func(c *Config) any { return c.HTTP.Servers[0].SSL.SessionTimeout }},
		{"proxy_buffer_size", int64(4096), int64(4096), func(c *Config) any { return loc(c).Proxy.BufferSize }},
		{"proxy_next_upstream", upstream.NextError | upstream.NextTimeout, upstream.NextError | upstream.NextTimeout, func(c *Config) any { return loc(c).Proxy.NextUpstream }},
		{"pid", "/p/logs/gatehouse.pid", "/p/logs/gatehouse.pid", func(c *Config) any { return c.PID }},
		{"error_log", "/p/logs/error.log", "/p/logs/error.log", func(c *Config) any { return c.ErrorLogs[0].Path }},
		{"access_log", "/p/logs/access.log", "/p/logs/access.log", func(c *Config) any { return loc(c).Core.AccessLogs[0].Path }},
		{"daemon", true, true, func(c *Config) any { return c.Daemon }},
		{"default Pos is the location", 10, 12, func(c *Config) any { return loc(c).ProxySSL.DefaultPos.Line }},
		{"certificate resolves against conf prefix", "/etc/gh/c.pem", "/etc/gh/c.pem", func(c *Config) any { return c.HTTP.Servers[0].SSL.Certificates[0].Certificate }},
	}
	for _, r := range rows {
		if got := r.get(secure); !reflect.DeepEqual(got, r.secure) {
			t.Errorf("secure %s = %v, want %v", r.name, got, r.secure)
		}
		if got := r.get(nginx); !reflect.DeepEqual(got, r.ngx) {
			t.Errorf("nginx %s = %v, want %v", r.name, got, r.ngx)
		}
	}
}

func TestExplicitKeepaliveAndHTTPVersionHonoured(t *testing.T) {
	cfg := mustCompile(t, `http {
    upstream u {
        server 127.0.0.1;
        keepalive 4;
    }
    server {
        listen 8080;
        location / {
            proxy_pass http://u;
            proxy_http_version 1.0;
        }
    }
}`)
	if k := cfg.HTTP.Upstreams[0].Keepalive; k != 4 {
		t.Errorf("Keepalive = %d, want 4", k)
	}
	l := cfg.HTTP.Servers[0].Locations[0]
	if l.Proxy.HTTPVersion != HTTP10 || l.Proxy.SetHeaders[1].Value != "close" {
		t.Errorf("HTTP/1.0 location: version %v, Connection %q; want 1.0 and close", l.Proxy.HTTPVersion, l.Proxy.SetHeaders[1].Value)
	}
}

func TestInheritanceServerArrays(t *testing.T) {
	cfg := mustCompile(t, `http {
    ssl_certificate http.pem;
    ssl_certificate_key http.key;
    ssl_protocols TLSv1.3;
    proxy_redirect http://a/ /b/;
    server {
        listen 8443 ssl;
        location /inherit/ {
            proxy_pass http://127.0.0.1;
        }
        location /off/ {
            proxy_pass http://127.0.0.1;
            proxy_redirect off;
        }
    }
    server {
        listen 8444 ssl;
        ssl_certificate rsa.pem;
        ssl_certificate ecdsa.pem;
        ssl_certificate_key rsa.key;
        ssl_certificate_key ecdsa.key;
        location /default/ {
            proxy_pass http://127.0.0.1/x/;
        }
    }
}`)
	s1, s2 := cfg.HTTP.Servers[0], cfg.HTTP.Servers[1]
	if len(s1.SSL.Certificates) != 1 || s1.SSL.Certificates[0].Certificate != "/etc/gh/http.pem" || s1.SSL.Certificates[0].Key != "/etc/gh/http.key" {
		t.Errorf("inherited certificates = %+v", s1.SSL.Certificates)
	}
	if len(s2.SSL.Certificates) != 2 || s2.SSL.Certificates[1].Certificate != "/etc/gh/ecdsa.pem" || s2.SSL.Certificates[1].Key != "/etc/gh/ecdsa.key" {
		t.Errorf("own certificates = %+v", s2.SSL.Certificates)
	}
	if s2.SSL.Protocols != certs.TLSv1_3 {
		t.Errorf("ssl_protocols = %v", s2.SSL.Protocols)
	}
	if r := s1.Locations[0].Proxy.Redirects; len(r) != 1 || r[0].Pattern != "http://a/" || r[0].Replacement != "/b/" {
		t.Errorf("inherited redirects = %+v", r)
	}
	if l := s1.Locations[1].Proxy; l.Redirects != nil {
		t.Errorf("redirect off = %+v", l.Redirects)
	}
	if r := s2.Locations[0].Proxy.Redirects; len(r) != 1 || r[0].Pattern != "http://a/" {
		t.Errorf("http-level redirects reach the other server too: %+v", r)
	}
}

func TestImplicitRedirectDefault(t *testing.T) {
	cfg := mustCompile(t, `http { server { listen 8080;
        location /a/ { proxy_pass http://127.0.0.1/x/; }
        location /v/ { proxy_pass http://$host; }
    } }`)
	ls := cfg.HTTP.Servers[0].Locations
	if r := ls[0].Proxy.Redirects; len(r) != 1 || !r[0].Default {
		t.Errorf("implicit proxy_redirect default missing: %+v", r)
	}
	if r := ls[1].Proxy.Redirects; r != nil {
		t.Errorf("proxy_pass with variables has no implicit default: %+v", r)
	}
}
