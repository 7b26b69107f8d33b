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
	"sync/atomic"
	"testing"
)

// TestReloadUnderLoad reloads ten times, once with a broken
// configuration, while clients send requests without pause: no request
// may fail, the broken configuration must leave the previous one serving,
// and the last generation must be the one that serves in the end.
func TestReloadUnderLoad(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app:"+r.URL.Path)
	}))
	defer app.Close()
	port := freePort(t)
	conf := func(gen int) string {
		return fmt.Sprintf(`
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log info;
http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        location /gen { return 200 "gen%d"; }
        location /    { proxy_pass %s; }
    }
}
`, port, gen, app.URL)
	}
	in := start(t, conf(0))
	path := filepath.Join(in.dir, "gatehouse.conf")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "DIR", in.dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var stop atomic.Bool
	var failures atomic.Int64
	var total atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{}
			for i := 0; !stop.Load(); i++ {
				resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/r%d-%d", port, c, i))
				total.Add(1)
				if err != nil {
					failures.Add(1)
					t.Errorf("request failed: %v", err)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != fmt.Sprintf("app:/r%d-%d", c, i) {
					failures.Add(1)
					t.Errorf("got %d %q", resp.StatusCode, body)
				}
			}
		}(c)
	}

	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	genOf := func() string {
		resp, err := fresh.Get(fmt.Sprintf("http://127.0.0.1:%d/gen", port))
		if err != nil {
			t.Fatalf("%v; error log:\n%s", err, in.errorLog())
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	for gen := 1; gen <= 10; gen++ {
		if gen == 5 {
			write("http { server { listen 127.0.0.1:1; location / { proxy_pas http://x; } } }")
			if err := in.reload(); err == nil {
				t.Fatal("a broken configuration was accepted")
			}
			if g := genOf(); g != "gen4" {
				t.Fatalf("after a failed reload %q serves, want gen4", g)
			}
			continue
		}
		write(conf(gen))
		if err := in.reload(); err != nil {
			t.Fatalf("reload %d: %v", gen, err)
		}
		if g := genOf(); g != fmt.Sprintf("gen%d", gen) {
			t.Fatalf("after reload %d %q serves; error log:\n%s", gen, g, in.errorLog())
		}
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 || total.Load() < 10 {
		t.Fatalf("%d of %d requests failed; error log:\n%s", failures.Load(), total.Load(), in.errorLog())
	}
	log := in.errorLog()
	if !strings.Contains(log, `[emerg]`) || !strings.Contains(log, `unknown directive "proxy_pas"`) {
		t.Errorf("the broken configuration was not reported:\n%s", log)
	}
	if n := strings.Count(log, "reconfiguring"); n != 10 {
		t.Errorf("%d reloads logged, want 10", n)
	}
}

// TestReloadMovesPidFile: a reload whose configuration names another pid
// file writes it and removes the old one, as nginx does, so that -s finds
// the process through the new configuration.
func TestReloadMovesPidFile(t *testing.T) {
	port := freePort(t)
	conf := func(pid string) string {
		return fmt.Sprintf("pid DIR/logs/%s;\nhttp { access_log off; server { listen 127.0.0.1:%d; } }\n", pid, port)
	}
	in := start(t, conf("a.pid"))
	old, moved := filepath.Join(in.dir, "logs/a.pid"), filepath.Join(in.dir, "logs/b.pid")
	if _, err := os.Stat(old); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in.dir, "gatehouse.conf"), []byte(strings.ReplaceAll(conf("b.pid"), "DIR", in.dir)), 0o644)
	if err := in.reload(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(moved); err != nil || string(b) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("new pid file: %q, %v", b, err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("the old pid file is still there")
	}
	in.stop()
	if _, err := os.Stat(moved); err == nil {
		t.Error("the pid file outlived the process")
	}
}
