package config

import (
	"fmt"
	"reflect"
	"testing"
)

const headersConf = `
http {
    add_header X-Http h;
    add_header X-Http2 "$host" always;
    error_page 404 http://example.com/404;
    types {
        text/x-http h;
    }
    default_type application/octet-stream;
    server {
        listen 8080;
        location /inherit/ {
            location /inherit/nested/ {
            }
        }
        location /own/ {
            add_header X-Own o;
            error_page 500 502 =301 https://example.com/oops;
            types {
                text/x-own o;
            }
            types {
                text/x-own2 o2;
            }
            default_type text/plain;
            location /own/nested/ {
            }
        }
    }
    server {
        listen 8081;
        add_header X-Server s;
        error_page 403 = $scheme://example.com/403;
        location / {
        }
    }
}
`

// TestHeadersInheritance checks add_header, error_page and types inherit
// all-or-nothing (a level with any replaces its parent's list) and
// default_type like a scalar.
func TestHeadersInheritance(t *testing.T) {
	cfg := mustCompile(t, headersConf)
	s1, s2 := cfg.HTTP.Servers[0], cfg.HTTP.Servers[1]
	hdrs := func(l *Location) []string {
		var out []string
		for _, h := range l.AddHeaders {
			out = append(out, fmt.Sprintf("%s=%s always=%v", h.Name, h.Value, h.Always))
		}
		return out
	}
	pages := func(l *Location) []string {
		var out []string
		for _, p := range l.Core.ErrorPages {
			out = append(out, fmt.Sprintf("%d=%d %s", p.Status, p.RedirectStatus(), p.URI))
		}
		return out
	}
	httpHdrs := []string{"X-Http=h always=false", "X-Http2=$host always=true"}
	httpPages := []string{"404=302 http://example.com/404"}
	tests := []struct {
		loc        *Location
		headers    []string
		pages      []string
		types      map[string]string
		defaultTyp string
	}{
		{s1.Level, httpHdrs, httpPages, map[string]string{"h": "text/x-http"}, "application/octet-stream"},
		{find(s1.Locations, "/inherit/nested/"), httpHdrs, httpPages, map[string]string{"h": "text/x-http"}, "application/octet-stream"},
		{find(s1.Locations, "/own/"), []string{"X-Own=o always=false"},
			[]string{"500=301 https://example.com/oops", "502=301 https://example.com/oops"},
			map[string]string{"o": "text/x-own", "o2": "text/x-own2"}, "text/plain"},
		{find(s1.Locations, "/own/nested/"), []string{"X-Own=o always=false"},
			[]string{"500=301 https://example.com/oops", "502=301 https://example.com/oops"},
			map[string]string{"o": "text/x-own", "o2": "text/x-own2"}, "text/plain"},
		{find(s2.Locations, "/"), []string{"X-Server=s always=false"}, []string{"403=302 $scheme://example.com/403"},
			map[string]string{"h": "text/x-http"}, "application/octet-stream"},
	}
	for _, tt := range tests {
		name := tt.loc.Name
		if got := hdrs(tt.loc); !reflect.DeepEqual(got, tt.headers) {
			t.Errorf("%s: add_header %q, want %q", name, got, tt.headers)
		}
		if got := pages(tt.loc); !reflect.DeepEqual(got, tt.pages) {
			t.Errorf("%s: error_page %q, want %q", name, got, tt.pages)
		}
		if got := tt.loc.Core.Types; !reflect.DeepEqual(got, tt.types) {
			t.Errorf("%s: types %v, want %v", name, got, tt.types)
		}
		if got := tt.loc.Core.DefaultType; got != tt.defaultTyp {
			t.Errorf("%s: default_type %q, want %q", name, got, tt.defaultTyp)
		}
	}
}

// TestTypesDefault checks nginx's built-in table and default_type when no
// level sets them.
func TestTypesDefault(t *testing.T) {
	cfg := mustCompile(t, "http { server { listen 8080; } }")
	core := cfg.HTTP.Servers[0].Level.Core
	want := map[string]string{"html": "text/html", "gif": "image/gif", "jpg": "image/jpeg"}
	if !reflect.DeepEqual(core.Types, want) || core.DefaultType != "text/plain" {
		t.Errorf("types %v default_type %q, want %v and text/plain", core.Types, core.DefaultType, want)
	}
	if l := cfg.HTTP.Servers[0].Level; l.AddHeaders != nil || l.Core.ErrorPages != nil {
		t.Errorf("unexpected add_header %v / error_page %v", l.AddHeaders, l.Core.ErrorPages)
	}
}

func TestErrorPageRedirectStatus(t *testing.T) {
	for _, tt := range []struct{ overwrite, want int }{
		{-1, 302}, {0, 302}, {200, 302}, {404, 302}, {301, 301}, {302, 302}, {303, 303}, {307, 307}, {308, 308},
	} {
		e := ErrorPage{Overwrite: tt.overwrite}
		if got := e.RedirectStatus(); got != tt.want {
			t.Errorf("overwrite %d: %d, want %d", tt.overwrite, got, tt.want)
		}
	}
}

func TestAddHeaderStatus(t *testing.T) {
	for code := 100; code < 600; code++ {
		want := false
		switch code {
		case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
			want = true
		}
		if got := AddHeaderStatus(code); got != want {
			t.Errorf("%d: %v, want %v", code, got, want)
		}
	}
}
