package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAddHeaderOnProxiedResponses: add_header applies to proxied
// responses with the listed statuses, and with "always" to gatehouse's own
// 502 page too, as in nginx.
func TestAddHeaderOnProxiedResponses(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
		io.WriteString(w, "app")
	}))
	defer app.Close()
	dead := freePort(t)
	config := func(port int) string {
		return fmt.Sprintf(`http { access_log off;
    server { listen 127.0.0.1:%d;
        add_header X-Any any;
        add_header X-Always always always;
        location / { proxy_pass %s; }
        location /dead { proxy_pass http://127.0.0.1:%d; }
    } }
`, port, app.URL, dead)
	}
	gh, ng := freePort(t), freePort(t)
	in := start(t, "pid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log crit;\n"+config(gh))
	startNginx(t, config(ng))
	headers := func(port int, path string) string {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return fmt.Sprintf("%d any=%q always=%q", resp.StatusCode, resp.Header.Get("X-Any"), resp.Header.Get("X-Always"))
	}
	for _, path := range []string{"/", "/missing", "/dead"} {
		got, want := headers(gh, path), headers(ng, path)
		if got != want {
			t.Errorf("%s: gatehouse %s, nginx %s\n%s", path, got, want, in.errorLog())
		}
	}
}
