package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"gatehouse/internal/testproc"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const nginxBinary = "/usr/sbin/nginx"

// diffCase is a request sent both to nginx and to our connection loop.
type diffCase struct{ name, raw string }

// nginxDiffCases are the smuggling corpus plus requests that must be
// accepted, so that acceptance is compared too.
func nginxDiffCases() []diffCase {
	var cs []diffCase
	for _, c := range smuggleCorpus {
		cs = append(cs, diffCase{c.name, c.raw})
	}
	for _, c := range []diffCase{
		{"valid GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"valid POST", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
		{"valid chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n"},
		{"valid HTTP/1.0", "GET / HTTP/1.0\r\n\r\n"},
		{"valid absolute form", "GET http://a.example:80/x HTTP/1.1\r\nHost: b\r\n\r\n"},
		{"valid HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n"},
		{"valid underscore header dropped", "GET / HTTP/1.1\r\nHost: a\r\nX_Y: z\r\n\r\n"},
		{"valid Host with port and dot", "GET / HTTP/1.1\r\nHost: A.Example.:8080\r\n\r\n"},
		{"valid leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"CL with OWS", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  5 \r\n\r\nhello"},
		{"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"},
		{"too long URI", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"too long header", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n"},
		{"too large header", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+strings.Repeat("b", 8000)+"\r\n", 5) + "\r\n"},
		{"duplicate If-None-Match", "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: a\r\nIf-None-Match: b\r\n\r\n"},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
		{"body too large", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"},
		{"chunked body too large", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\nxxxx"},
	} {
		cs = append(cs, c)
	}
	return cs
}

// nginxDifferences are the cases where our first status differs from
// nginx's, and why (see also the package documentation).
var nginxDifferences = map[string]string{
	"bare LF in header":                     "nginx accepts bare LF line endings (here it then waits for a chunked body); we answer 400.",
	"bare LF everywhere":                    "nginx accepts bare LF line endings; we answer 400.",
	"chunk size bare LF":                    "nginx accepts bare LF in chunked framing; we answer 400.",
	"chunk data bare LF":                    "nginx accepts bare LF in chunked framing; we answer 400.",
	"last chunk bare LF":                    "nginx accepts bare LF in chunked framing; we answer 400.",
	"trailer bare LF":                       "nginx accepts bare LF in chunked framing; we answer 400.",
	"TE vertical tab":                       "nginx accepts control bytes other than NUL and CR in values (then answers 501 for the unknown encoding); we answer 400.",
	"TE form feed":                          "same as TE vertical tab.",
	"chunk size trailing space":             "nginx skips whitespace after the chunk size; the grammar has none there, so we answer 400.",
	"chunk ext whitespace before semicolon": "nginx allows whitespace before ';' (RFC 9112's BWS); net/http refuses it and so do we.",
	"chunk ext empty name":                  "nginx does not check chunk-extension syntax; we do.",
	"chunk ext empty value":                 "nginx does not check chunk-extension syntax; we do.",
	"chunk ext unterminated quote":          "nginx does not check chunk-extension syntax; we do.",
	"chunk ext NUL":                         "nginx does not check chunk extensions, even for NUL; we do.",
	"chunk ext too long":                    "nginx does not bound chunk extensions; we bound a chunk line to 4096 bytes.",
	"trailer obs-fold":                      "nginx skips trailers unchecked; we check their syntax.",
	"trailer without colon":                 "nginx skips trailers unchecked; we check their syntax.",
	"trailer NUL":                           "nginx skips trailers unchecked; we check their syntax.",
	"HTTP/0.9":                              "nginx answers an HTTP/0.9 request with a bare body; we answer 400.",
	"LF in target":                          "nginx reads \"GET /a\\n\" as an HTTP/0.9 request and answers with a bare body; we answer 400.",
	"Host with backslash":                   "nginx on Unix accepts '\\' in Host; the spec (§3.3) rejects it, as nginx does where '\\' is a path separator.",
	"HTTP/1.10":                             "nginx accepts two-digit minor versions; we accept only HTTP/d.d.",
	"two spaces":                            "nginx accepts several spaces between request-line parts; we require one.",
}

// nginxStatus sends raw to nginx on port and returns the status of the
// first response: 0 when the connection closed without one, -1 when the
// answer has no status line.
func nginxStatus(t *testing.T, port int, raw string) int {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	go func() { _, _ = io.WriteString(c, raw) }()
	return firstStatus(bufio.NewReader(c))
}

func firstStatus(br *bufio.Reader) int {
	line, err := br.ReadString('\n')
	if line == "" && err != nil {
		return 0
	}
	var code int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &code); err != nil {
		return -1
	}
	return code
}

// ourStatus runs raw through the connection loop with a handler that
// behaves like nginx's proxy_pass to an unreachable upstream with request
// buffering: read the body, then answer 502.
func ourStatus(raw string) int {
	s := &Server{Config: DefaultConfig(), Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		_, err := io.ReadAll(r.Body)
		var e *Error
		if errors.As(err, &e) {
			w.WriteErrorPage(e.Status)
			return
		}
		w.WriteErrorPage(502)
	})}
	c := &memConn{in: bytes.NewReader([]byte(raw))}
	s.ServeConn(c)
	return firstStatus(bufio.NewReader(&c.out))
}

// TestNginxDifferential sends every case to a real nginx (when installed;
// 1.22.1 on the CI image, whose request parsing matches the 1.28 baseline
// for these cases) and to our loop, and checks that the first status
// agrees except where nginxDifferences records why not.
func TestNginxDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skip("nginx is not installed")
	}
	dir := t.TempDir()
	port := freePort(t)
	closed := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "daemon off; master_process off; worker_processes 1;\n")
	fmt.Fprintf(&conf, "error_log %s/error.log info; pid %s/nginx.pid;\nevents {}\nhttp {\n access_log off;\n", dir, dir)
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&conf, " %s_temp_path %s/tmp_%s;\n", p, dir, p)
	}
	fmt.Fprintf(&conf, " server {\n  listen 127.0.0.1:%d;\n  location / { proxy_pass http://127.0.0.1:%d; }\n }\n}\n", port, closed)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	startNginx(t, dir, port)
	var report strings.Builder
	for _, c := range nginxDiffCases() {
		theirs := nginxStatus(t, port, c.raw)
		ours := ourStatus(c.raw)
		reason, documented := nginxDifferences[c.name]
		switch {
		case theirs != ours && !documented:
			t.Errorf("%s: nginx %d, we %d (undocumented difference)", c.name, theirs, ours)
		case theirs == ours && documented:
			t.Errorf("%s: both %d but a difference is documented: %s", c.name, ours, reason)
		}
		fmt.Fprintf(&report, "%-40s nginx %4d  ours %4d\n", c.name, theirs, ours)
	}
	t.Logf("first status per case:\n%s", report.String())
}

func freePort(t *testing.T) int { return testproc.FreePort(t) }

// startNginx starts nginx on dir/nginx.conf and waits for port.
func startNginx(t *testing.T, dir string, port int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, nginxBinary, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	proc, err := testproc.Start(t, cmd)
	if err != nil {
		cancel()
		t.Skipf("cannot start nginx: %v", err)
	}
	t.Cleanup(cancel)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-proc.Done():
			err := proc.Err()
			t.Fatalf("nginx exited: %v\n%s", err, stderr.Bytes())
		case <-deadline:
			t.Fatalf("nginx did not listen on %d", port)
		case <-tick.C:
		}
	}
}

// upstreamDiffCases are upstream response headers whose acceptance is
// compared with nginx's proxy module.
var upstreamDiffCases = []diffCase{
	{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"no reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"},
	{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"underscore name", "HTTP/1.1 200 OK\r\nX_A: b\r\nContent-Length: 2\r\n\r\nok"},
	{"obs-text value", "HTTP/1.1 200 OK\r\nX: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok"},
	{"NUL in value", "HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 2\r\n\r\nok"},
	{"bare CR in value", "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 2\r\n\r\nok"},
	{"space in name", "HTTP/1.1 200 OK\r\nX Y: a\r\nContent-Length: 2\r\n\r\nok"},
	{"duplicate CL", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"},
	{"invalid CL", "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"},
	{"TE and CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
	{"unknown TE", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok"},
	{"too big header", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 5000) + "\r\nContent-Length: 2\r\n\r\nok"},
	{"not http", "SSH-2.0-OpenSSH_9.6\r\n\r\n"},
	{"premature close", "HTTP/1.1 200 OK\r\nContent-Le"},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok"},
	{"no colon", "HTTP/1.1 200 OK\r\nJunk\r\nContent-Length: 2\r\n\r\nok"},
	{"100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
}

// upstreamDifferences records where nginx passes a response we refuse
// (or the reverse), and why.
var upstreamDifferences = map[string]string{
	"not http":     "nginx reads a response without a status line as an HTTP/0.9 body (200); we treat it as invalid (502).",
	"bare LF":      "nginx accepts bare LF from upstreams; we do not.",
	"no colon":     "nginx takes a line without a colon as a field with an empty value; we refuse it.",
	"100 then 200": "nginx 1.22 relays an interim 100 as if it were final; we skip 1xx other than 101.",
	"duplicate CL": "nginx 1.22 passes it on; ambiguous upstream framing desynchronises a reused connection, so we refuse it (502, as newer nginx does).",
	"invalid CL":   "same as duplicate CL.",
	"TE and CL":    "same as duplicate CL.",
	"unknown TE":   "same as duplicate CL.",
}

// ourUpstreamStatus is the status our proxy path would send for reply:
// the upstream's on success, 502 when the header is refused.
func ourUpstreamStatus(reply string) int {
	var r Response
	if _, err := ParseResponse(&r, []byte(reply), 4096); err != nil {
		return 502 // refused, or ErrNeedMore: the upstream closed prematurely
	}
	for r.Status >= 100 && r.Status < 200 && r.Status != 101 {
		n, _ := ParseResponse(&r, []byte(reply), 4096)
		reply = reply[n:]
		if _, err := ParseResponse(&r, []byte(reply), 4096); err != nil {
			return 502
		}
	}
	return r.Status
}

func TestNginxUpstreamDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skip("nginx is not installed")
	}
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer backend.Close()
	replies := make(chan string)
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			reply := <-replies
			br := bufio.NewReader(c)
			for {
				l, err := br.ReadString('\n')
				if err != nil || l == "\r\n" {
					break
				}
			}
			io.WriteString(c, reply)
			c.Close()
		}
	}()
	dir := t.TempDir()
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "daemon off; master_process off; worker_processes 1;\n")
	fmt.Fprintf(&conf, "error_log %s/error.log info; pid %s/nginx.pid;\nevents {}\nhttp {\n access_log off;\n", dir, dir)
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&conf, " %s_temp_path %s/tmp_%s;\n", p, dir, p)
	}
	fmt.Fprintf(&conf, " server {\n  listen 127.0.0.1:%d;\n  location / { proxy_pass http://%s; proxy_next_upstream off; }\n }\n}\n", port, backend.Addr())
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	startNginx(t, dir, port)
	var report strings.Builder
	for _, c := range upstreamDiffCases {
		go func() { replies <- c.raw }()
		theirs := nginxStatus(t, port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		ours := ourUpstreamStatus(c.raw)
		reason, documented := upstreamDifferences[c.name]
		switch {
		case theirs != ours && !documented:
			t.Errorf("%s: nginx %d, we %d (undocumented difference)", c.name, theirs, ours)
		case theirs == ours && documented:
			t.Errorf("%s: both %d but a difference is documented: %s", c.name, ours, reason)
		}
		fmt.Fprintf(&report, "%-20s nginx %4d  ours %4d\n", c.name, theirs, ours)
	}
	t.Logf("status sent to the client per upstream reply:\n%s", report.String())
}

// logTextCase is a request whose log texts are compared with nginx's.
type logTextCase struct {
	name, raw string
	// status is the status both log; 0 for a response, like the 413 from
	// a body, that the codec's client does not produce itself.
	status int
}

// ourLogText is what our side logs for raw: the error text (nginx's words
// plus detail) and Request.Line. A request line that never completes
// ends in a header timeout, as it does against nginx.
func ourLogText(raw string, maxBody int64) (msg, line string) {
	o := DefaultParseOptions()
	var r Request
	_, err := ParseRequest(&r, []byte(raw), &o)
	switch {
	case err == ErrNeedMore:
		return ErrClientHeaderTimeout.Msg, string(r.Line)
	case err != nil:
		return err.Error() + string(r.Detail), string(r.Line)
	}
	cfg := DefaultConfig()
	cfg.ClientMaxBodySize = maxBody
	errc := make(chan error, 1)
	s := &Server{Config: cfg, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		_, err := io.ReadAll(r.Body)
		errc <- err
		w.WriteErrorPage(413)
	})}
	s.ServeConn(&memConn{in: bytes.NewReader([]byte(raw))})
	select {
	case err := <-errc:
		if err != nil {
			return err.Error(), string(r.Line)
		}
	default:
	}
	return "", string(r.Line)
}

// TestNginxLogTexts compares the error-log text and the logged request
// line ($request) of refused and partial requests with nginx's (when
// installed), and the status line of "return 100".
func TestNginxLogTexts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skip("nginx is not installed")
	}
	dir := t.TempDir()
	port := freePort(t)
	closed := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "daemon off; master_process off; worker_processes 1;\n")
	fmt.Fprintf(&conf, "error_log %s/error.log info; pid %s/nginx.pid;\nevents {}\nhttp {\n", dir, dir)
	fmt.Fprintf(&conf, " log_format f '\"$request\" $status';\n access_log %s/access.log f;\n", dir)
	fmt.Fprintf(&conf, " client_header_timeout 100ms; client_max_body_size 100;\n")
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&conf, " %s_temp_path %s/tmp_%s;\n", p, dir, p)
	}
	fmt.Fprintf(&conf, " server {\n  listen 127.0.0.1:%d;\n  location /r100 { return 100; }\n  location / { proxy_pass http://127.0.0.1:%d; }\n }\n}\n", port, closed)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	startNginx(t, dir, port)

	long := "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n"
	chunked := "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	for _, c := range []logTextCase{
		{"no space", "GARBAGE\r\n\r\n", 400},
		{"method only", "GET\r\n", 400},
		{"lower-case method, no CRLF yet", "get / HTTP/1.1", 400},
		{"method filling all but the CR", strings.Repeat("A", 8191) + "\r\n", 400},
		{"too long URI", long, 414},
		{"too long URI, partial", long[:8500], 414},
		{"too long method", strings.Repeat("A", 8192) + "\r\n", 414},
		{"header timeout in the request line", "GET /abc HTT", 408},
		{"header timeout in a method", "GARBAGE", 408},
		{"chunked too large", chunked + "10\r\n0123456789abcdef\r\n60\r\nx", 413},
		{"chunked too large at once", chunked + "65\r\nx", 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			errBefore := readSize(t, filepath.Join(dir, "error.log"))
			accBefore := readSize(t, filepath.Join(dir, "access.log"))
			nginxStatus(t, port, c.raw)
			access := waitLog(t, filepath.Join(dir, "access.log"), accBefore)
			errLog := waitLog(t, filepath.Join(dir, "error.log"), errBefore)
			msg, line := ourLogText(c.raw, 100)
			if want := fmt.Sprintf("%q %d\n", line, c.status); strings.ReplaceAll(access, `\x22`, `\"`) != want {
				t.Errorf("nginx's access log %.200q, ours would be %.200q", access, want)
			}
			// the text, then the errno of a system error, then context
			re := regexp.MustCompile(`: \*\d+ ` + regexp.QuoteMeta(msg) + `( \(\d+: [^)]*\))?( while |, client: )`)
			if msg == "" || !re.MatchString(errLog) {
				t.Errorf("nginx's error log %.300q lacks our text %q", errLog, msg)
			}
		})
	}
	t.Run("return 100", func(t *testing.T) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(c, "GET /r100 HTTP/1.1\r\nHost: a\r\n\r\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if want := "HTTP/1.1 " + string(appendStatus(nil, 100, nil)); line != want {
			t.Errorf("nginx sent %q, we send %q", line, want)
		}
	})
}

func readSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// waitLog returns the complete lines appended to path after offset,
// waiting (up to 5 s) for at least one.
func waitLog(t *testing.T, path string, offset int64) string {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && int64(len(b)) > offset {
			if s := string(b[offset:]); strings.HasSuffix(s, "\n") {
				return s
			}
		}
		select {
		case <-deadline:
			t.Fatalf("nothing logged in %s", path)
		case <-tick.C:
		}
	}
}
