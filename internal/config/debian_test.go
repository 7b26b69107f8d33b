package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"gatehouse/internal/nginxconf"
)

// debianSite is what a user would put in sites-enabled next to Debian's
// nginx.conf.
const debianSite = `server {
    listen 8080;
    location /api/ {
        default_type application/json;
        return 200 "{}";
    }
    location /typed/ {
        types {
            text/x-one one;
        }
        return 200 "x";
    }
}
`

// loadDebian compiles Debian's /etc/nginx/nginx.conf with its mime.types
// (from testdata/debian), edited by edit, and one site in sites-enabled.
func loadDebian(t *testing.T, edit func([]byte) []byte) (*Config, error) {
	t.Helper()
	files := map[string][]byte{"/etc/nginx/sites-enabled/gatehouse": []byte(debianSite)}
	for _, name := range []string{"nginx.conf", "mime.types"} {
		b, err := os.ReadFile("testdata/debian/" + name)
		if err != nil {
			t.Fatal(err)
		}
		files["/etc/nginx/"+name] = b
	}
	files["/etc/nginx/nginx.conf"] = edit(files["/etc/nginx/nginx.conf"])
	opts := nginxconf.Options{
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := files[name]; ok {
				return b, nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
		},
		Glob: func(pattern string) ([]string, error) {
			if pattern == "/etc/nginx/sites-enabled/*" {
				return []string{"/etc/nginx/sites-enabled/gatehouse"}, nil
			}
			return nil, nil // modules-enabled, conf.d: nothing installed
		},
	}
	tree, err := nginxconf.ParseFile("/etc/nginx/nginx.conf", opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Compile(tree, Options{Prefix: "/usr/share/nginx/", ConfPrefix: "/etc/nginx/"})
}

// TestDebianNginxConf loads Debian's stock configuration: as shipped it
// fails only at "gzip on", which gatehouse cannot honour, after the
// warnings nginx's own checks or gatehouse's add; with "gzip off" it
// loads and mime.types and default_type reach every location.
func TestDebianNginxConf(t *testing.T) {
	cfg, err := loadDebian(t, func(b []byte) []byte { return b })
	got := string(messages(cfg, err))
	want := `[warn] the "user" directive makes sense only if the master process runs with super-user privileges, ignored in /etc/nginx/nginx.conf:1
[warn] "ssl_protocols" enables TLSv1, TLSv1.1, which are deprecated and weak (RFC 8996) in /etc/nginx/nginx.conf:33
[emerg] "gzip" directive is not supported by gatehouse yet: compression is planned; use "gzip off" or remove it in /etc/nginx/nginx.conf:46
`
	if got != want {
		t.Errorf("as shipped:\n%s\nwant:\n%s", got, want)
	}
	var ne *nginxconf.Error
	if !errors.As(err, &ne) {
		t.Fatalf("error %v is not an *nginxconf.Error", err)
	}

	cfg, err = loadDebian(t, func(b []byte) []byte {
		return bytes.Replace(b, []byte("gzip on;"), []byte("gzip off;"), 1)
	})
	if err != nil {
		t.Fatalf("with gzip off: %v", err)
	}
	srv := cfg.HTTP.Servers[0]
	tests := []struct {
		loc         *Location
		ext, typ    string
		defaultType string
	}{
		{srv.Level, "html", "text/html", "application/octet-stream"},
		{srv.Level, "woff2", "font/woff2", "application/octet-stream"},
		{srv.Level, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/octet-stream"},
		{find(srv.Locations, "/api/"), "json", "application/json", "application/json"},
		{find(srv.Locations, "/typed/"), "one", "text/x-one", "application/octet-stream"},
		{find(srv.Locations, "/typed/"), "html", "", "application/octet-stream"},
	}
	for _, tt := range tests {
		if got := tt.loc.Core.Types[tt.ext]; got != tt.typ {
			t.Errorf("%s: type of .%s = %q, want %q", tt.loc.Name, tt.ext, got, tt.typ)
		}
		if got := tt.loc.Core.DefaultType; got != tt.defaultType {
			t.Errorf("%s: default_type = %q, want %q", tt.loc.Name, got, tt.defaultType)
		}
	}
	if n := len(srv.Level.Core.Types); n < 100 {
		t.Errorf("mime.types gave %d extensions, want over 100", n)
	}
	if !strings.HasSuffix(cfg.HTTP.Servers[0].Level.Core.AccessLogs[0].Path, "/var/log/nginx/access.log") {
		t.Errorf("access_log = %+v", cfg.HTTP.Servers[0].Level.Core.AccessLogs)
	}
}
