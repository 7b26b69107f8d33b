package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// abortHTTP is the http block of the proxy_ignore_client_abort tests.
const abortHTTP = `
    log_format st '$status';
    access_log LOG st;
    upstream b { server 127.0.0.1:UP; }
    server {
        listen 127.0.0.1:FRONT;
        location /off/ { proxy_pass http://b; }
        location /on/ { proxy_ignore_client_abort on; proxy_pass http://b; }
    }
`

// waitLogLine returns the first line of the file at path once one is
// there.
func waitLogLine(t *testing.T, path string) string {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			if line, _, ok := strings.Cut(string(b), "\n"); ok {
				return line
			}
		}
		select {
		case <-deadline:
			t.Fatalf("no line in %s", path)
		case <-tick.C:
		}
	}
}

// runAbort has a client send a request and close its connection while
// the upstream holds the answer back, then lets the upstream answer. With
// proxy_ignore_client_abort off the request is logged as 499; with on the
// exchange completes and the upstream's status is logged.
func runAbort(t *testing.T, nginx bool) {
	for _, tc := range []struct {
		path   string
		status string
	}{{"/off/x", "499"}, {"/on/x", "200"}} {
		t.Run(tc.path, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			up := newRawUpstream(t, nil, false, func([]byte) string {
				<-release
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			})
			port := freePort(t)
			logPath := filepath.Join(t.TempDir(), "st.log")
			h := strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port), "LOG", logPath).Replace(abortHTTP)
			var in *instance
			if nginx {
				startNginx(t, "http {\n"+h+"}\n")
			} else {
				in = start(t, "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\nhttp {\n"+h+"}\n")
			}
			t.Cleanup(free) // before the proxy stops
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET "+tc.path+" HTTP/1.1\r\nHost: front.test\r\n\r\n")
			up.next(t)
			c.Close()
			free()
			if got := waitLogLine(t, logPath); got != tc.status {
				t.Errorf("$status %q, want %q", got, tc.status)
			}
			if in != nil {
				const msg = "[info] "
				text := "client prematurely closed connection, so upstream connection is closed too while reading response header from upstream, client: 127.0.0.1, server: , request: \"GET " + tc.path + " HTTP/1.1\", upstream: \"http://127.0.0.1:" + fmt.Sprint(up.port()) + tc.path + "\", host: \"front.test\""
				logged := strings.Contains(in.errorLog(), msg) && strings.Contains(in.errorLog(), text)
				if logged != (tc.status == "499") {
					t.Errorf("error log (want the 499 line: %v):\n%s", tc.status == "499", in.errorLog())
				}
			}
		})
	}
}

// TestProxyIgnoreClientAbort checks both settings end to end.
func TestProxyIgnoreClientAbort(t *testing.T) { runAbort(t, false) }

// TestProxyIgnoreClientAbortNginx runs the same cases through nginx.
func TestProxyIgnoreClientAbortNginx(t *testing.T) {
	nginxBinary(t)
	runAbort(t, true)
}
