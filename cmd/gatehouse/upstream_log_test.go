package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpstreamHeaderInLogUnderReuse logs $upstream_http_x_id and
// $sent_http_x_id for many concurrent keep-alive requests whose upstream
// connections go back to the pool and are picked up by other requests at
// once: each line must name its own request's id. The response header
// lives in the upstream connection's read buffer, so releasing that buffer
// before the log phase lets another request's response overwrite it (the
// race detector reports it, and lines name other requests' ids).
func TestUpstreamHeaderInLogUnderReuse(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Id", strings.TrimPrefix(r.URL.Path, "/"))
		io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	port := freePort(t)
	logPath := filepath.Join(t.TempDir(), "ids.log")
	start(t, frontConf("", port, fmt.Sprintf(`
    log_format ids '$uri $upstream_http_x_id $sent_http_x_id';
    upstream b { server %s; keepalive 2; }`, strings.TrimPrefix(backend.URL, "http://")), fmt.Sprintf(`
        access_log %s ids;
        location / { proxy_pass http://b; }`, logPath)))
	const clients, each = 8, 40
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer cl.CloseIdleConnections()
			for i := range each {
				resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/c%dr%d", port, c, i))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	// The log phase runs after the response is out: wait for the last
	// lines.
	var lines []string
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for len(lines) < clients*each {
		select {
		case <-deadline:
			t.Fatalf("%d log lines, want %d", len(lines), clients*each)
		case <-tick.C:
		}
		b, _ := os.ReadFile(logPath)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "/"+f[1] || f[1] != f[2] {
			t.Errorf("log line %q: the ids are not the request's", l)
		}
	}
}
