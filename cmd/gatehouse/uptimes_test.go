package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// upTimesConf retries a refused connection on a second peer and logs the
// per-attempt upstream variables; PORT, DEAD, UP and LOG are replaced.
const upTimesConf = `
http {
    log_format t '$status|$upstream_addr|$upstream_status|$upstream_connect_time|$upstream_header_time|$upstream_response_time|$upstream_response_length';
    access_log LOG t;
    upstream two { server 127.0.0.1:DEAD; server 127.0.0.1:UP; }
    server {
        listen 127.0.0.1:PORT;
        location / { proxy_pass http://two; }
        location /down/ { proxy_pass http://127.0.0.1:DEAD; }
    }
}
`

// upTimesWant is nginx's log for upTimesRequests, times replaced by T.
const upTimesWant = `200|127.0.0.1:DEAD, 127.0.0.1:UP|502, 200|-, T|-, T|T, T|0, 2
502|127.0.0.1:DEAD|502|-|-|T|0`

var upTimesRequests = []string{
	"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"GET /down/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
}

func upTimesLog(t *testing.T, port, dead, up int, log string) string {
	t.Helper()
	for _, raw := range upTimesRequests {
		exchange(t, fmt.Sprintf("127.0.0.1:%d", port), raw)
	}
	b, _ := os.ReadFile(log)
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.NewReplacer(fmt.Sprintf(":%d", dead), ":DEAD", fmt.Sprintf(":%d", up), ":UP").Replace(s)
	return regexp.MustCompile(`\d+\.\d{3}`).ReplaceAllString(s, "T")
}

func upTimesConfFor(port, dead, up int, log string) string {
	return strings.NewReplacer("PORT", fmt.Sprint(port), "DEAD", fmt.Sprint(dead), "UP", fmt.Sprint(up), "LOG", log).Replace(upTimesConf)
}

// TestUpstreamTimesPerAttempt: the upstream time variables have one
// entry per attempt, "-" where the attempt never got that far, so they
// line up with $upstream_addr.
func TestUpstreamTimesPerAttempt(t *testing.T) {
	up := newRawUpstream(t, nil, false, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	port, dead := freePort(t), freePort(t)
	log := filepath.Join(t.TempDir(), "gh.log")
	start(t, "pid DIR/logs/gatehouse.pid;\n"+upTimesConfFor(port, dead, up.port(), log))
	if got := upTimesLog(t, port, dead, up.port(), log); got != upTimesWant {
		t.Errorf("gatehouse:\n%s\nwant:\n%s", got, upTimesWant)
	}
}

// TestUpstreamTimesPerAttemptNginx checks upTimesWant against nginx.
func TestUpstreamTimesPerAttemptNginx(t *testing.T) {
	up := newRawUpstream(t, nil, false, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	port, dead := freePort(t), freePort(t)
	log := filepath.Join(t.TempDir(), "ng.log")
	startNginx(t, upTimesConfFor(port, dead, up.port(), log))
	if got := upTimesLog(t, port, dead, up.port(), log); got != upTimesWant {
		t.Errorf("nginx:\n%s\nwant:\n%s", got, upTimesWant)
	}
}
