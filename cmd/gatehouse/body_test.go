package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

// bodyOf makes n bytes of a request body that is not easily mistaken
// for a shifted or truncated copy of itself.
func bodyOf(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return b
}

// chunk encodes body in chunks of size bytes, with the last chunk.
func chunk(body []byte, size int) []byte {
	var b bytes.Buffer
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// bodyRequest is a PUT with body, framed by Content-Length or chunked.
func bodyRequest(body []byte, chunked bool) string {
	if chunked {
		return "PUT /up HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + string(chunk(body, 700))
	}
	return fmt.Sprintf("PUT /up HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// requestParts splits a recorded upstream request into its header and
// its body, de-chunked when it was sent chunked.
func requestParts(t *testing.T, req []byte) (string, []byte) {
	t.Helper()
	head, body, ok := bytes.Cut(req, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header end in %q", req)
	}
	if bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding: chunked")) {
		dec, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatalf("de-chunking the upstream body: %v", err)
		}
		body = dec
	}
	return string(head), body
}

// tempFiles lists the regular files under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

var spoolLine = regexp.MustCompile(`\[warn\] .*a client request body is buffered to a temporary file ([^,\s]+)`)

// TestRequestBodySpool sends bodies below, at and above
// client_body_buffer_size (1k; a Content-Length body less than a quarter
// larger still gets a buffer of its own size, as in nginx): each reaches
// the upstream whole with its length, the larger ones after the [warn]
// that names their temporary file under the configured levels, and no
// file is left behind.
func TestRequestBodySpool(t *testing.T) {
	up := newRawUpstream(t, nil, false, func([]byte) string { return okResponse })
	port := freePort(t)
	in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", up.port()), `
        client_body_buffer_size 1k;
        client_body_temp_path DIR/body 1 2;
        location / { proxy_pass http://b; }`))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cases := []struct {
		size    int
		chunked bool
		spooled bool
	}{
		{0, false, false},
		{1, false, false},
		{1023, false, false},
		{1024, false, false},
		{1279, false, false},
		{1280, false, true},
		{5000, false, true},
		{300_000, false, true},
		{1, true, false},
		{1000, true, false},
		{1025, true, true},
		{5000, true, true},
		{300_000, true, true},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d chunked=%v", tc.size, tc.chunked), func(t *testing.T) {
			before := len(spoolLine.FindAllString(in.errorLog(), -1))
			body := bodyOf(tc.size, uint64(i))
			resp := exchange(t, addr, bodyRequest(body, tc.chunked))
			if statusOf(resp) != 200 {
				t.Fatalf("response %q", resp)
			}
			head, got := requestParts(t, up.next(t))
			if !bytes.Equal(got, body) {
				t.Errorf("the upstream got %d bytes, not the %d sent", len(got), len(body))
			}
			if want := fmt.Sprintf("Content-Length: %d\r\n", tc.size); !strings.Contains(head+"\r\n", want) {
				t.Errorf("upstream header lacks %q:\n%s", want, head)
			}
			lines := spoolLine.FindAllStringSubmatch(in.errorLog(), -1)[before:]
			if spooled := len(lines) > 0; spooled != tc.spooled {
				t.Errorf("spooled to a file: %v, want %v (log lines %q)", spooled, tc.spooled, lines)
			}
			for _, l := range lines {
				if !regexp.MustCompile(`^` + regexp.QuoteMeta(in.dir) + `/body/\d/\d\d/\d{10}$`).MatchString(l[1]) {
					t.Errorf("temporary file %s is not in nginx's layout for levels 1 2", l[1])
				}
			}
			if left := tempFiles(t, filepath.Join(in.dir, "body")); len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}

// TestRequestBodyRetryResends fails the first attempt after it sent the
// whole request: the next peer gets the same body byte for byte, whether
// it was held in memory or in a temporary file.
func TestRequestBodyRetryResends(t *testing.T) {
	var n atomic.Int32
	respond := func([]byte) string {
		if n.Add(1) == 1 {
			return "" // close without an answer: proxy_next_upstream error
		}
		return okResponse
	}
	a := newRawUpstream(t, nil, false, respond)
	b := newRawUpstream(t, nil, false, respond)
	port := freePort(t)
	start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d max_fails=0; server 127.0.0.1:%d max_fails=0; }", a.port(), b.port()), `
        client_body_buffer_size 4k;
        client_max_body_size 0;
        location / { proxy_pass http://b; }`))
	for i, size := range []int{3000, 2 << 20} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d chunked=%v", size, chunked), func(t *testing.T) {
				n.Store(0)
				body := bodyOf(size, uint64(i))
				resp := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), bodyRequest(body, chunked))
				if statusOf(resp) != 200 {
					t.Fatalf("response %.200q", resp)
				}
				var got [][]byte
				for range 2 {
					select {
					case r := <-a.reqs:
						got = append(got, r)
					case r := <-b.reqs:
						got = append(got, r)
					case <-time.After(10 * time.Second):
						t.Fatalf("%d attempts reached the upstreams, want 2", len(got))
					}
				}
				for j, r := range got {
					if _, b := requestParts(t, r); !bytes.Equal(b, body) {
						t.Errorf("attempt %d sent %d bytes, not the %d of the body", j+1, len(b), len(body))
					}
				}
			})
		}
	}
}

// streamUpstream accepts connections and, for each, reads the request
// header and the first half of the total bytes of its body
// (de-chunked), reports the
// header on got, then either closes (drop) or reads the rest and answers
// with ok.
type streamUpstream struct {
	ln    net.Listener
	got   chan string
	conns atomic.Int32
}

func newStreamUpstream(t *testing.T, half, total int, drop bool) *streamUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &streamUpstream{ln: ln, got: make(chan string, 4)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.conns.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(15 * time.Second))
				br := bufio.NewReader(c)
				var head strings.Builder
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					head.WriteString(line)
					if line == "\r\n" {
						break
					}
				}
				var body io.Reader = io.LimitReader(br, int64(total))
				if strings.Contains(strings.ToLower(head.String()), "transfer-encoding: chunked") {
					body = httputil.NewChunkedReader(br)
				}
				if _, err := io.CopyN(io.Discard, body, int64(half)); err != nil {
					return
				}
				u.got <- head.String()
				if drop {
					return
				}
				if _, err := io.Copy(io.Discard, body); err != nil {
					return
				}
				io.WriteString(c, okResponse)
			}()
		}
	}()
	return u
}

func (u *streamUpstream) port() int { return u.ln.Addr().(*net.TCPAddr).Port }

// TestRequestBufferingOff checks proxy_request_buffering off: the
// upstream gets the first half of the body while the client still holds
// the second (Content-Length passed on, a chunked body stays chunked
// towards HTTP/1.1), and once body bytes went out a failing peer is not
// retried; with buffering on the same failure is retried.
func TestRequestBufferingOff(t *testing.T) {
	const half = 3000
	cases := []struct {
		name      string
		chunked   bool
		buffering string
		drop      bool
		status    int
		header    string // a line the upstream request must have
	}{
		{"length streamed", false, "off", false, 200, "Content-Length: 6000"},
		{"chunked streamed", true, "off", false, 200, "Transfer-Encoding: chunked"},
		{"length not retried", false, "off", true, 502, "Content-Length: 6000"},
		{"chunked not retried", true, "off", true, 502, "Transfer-Encoding: chunked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := newStreamUpstream(t, half, 2*half, tc.drop)
			second := newStreamUpstream(t, half, 2*half, tc.drop)
			port := freePort(t)
			in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; server 127.0.0.1:%d; }", first.port(), second.port()), `
        client_body_buffer_size 1k;
        location / {
            proxy_pass http://b;
            proxy_http_version 1.1;
            proxy_request_buffering `+tc.buffering+`;
        }`))
			body := bodyOf(2*half, 7)
			req := bodyRequest(body, tc.chunked)
			split := strings.Index(req, "\r\n\r\n") + 4 + half
			if tc.chunked {
				split = strings.Index(req, string(body[half:half+100]))
			}
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(15 * time.Second))
			io.WriteString(c, req[:split])
			var head string
			select {
			case head = <-first.got:
			case head = <-second.got:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream did not get the first half of the body before the client sent the rest")
			}
			if !strings.Contains(head, tc.header+"\r\n") {
				t.Errorf("upstream header lacks %q:\n%s", tc.header, head)
			}
			if tc.chunked && strings.Contains(strings.ToLower(head), "content-length") {
				t.Errorf("a streamed chunked body went with a Content-Length:\n%s", head)
			}
			io.WriteString(c, req[split:])
			resp, _ := io.ReadAll(c)
			if got := statusOf(string(resp)); got != tc.status {
				t.Errorf("status %d, want %d (%.200q)", got, tc.status, resp)
			}
			if n := first.conns.Load() + second.conns.Load(); n != 1 {
				t.Errorf("%d upstream connections, want 1: no retry once body bytes were sent", n)
			}
			if tc.drop && !strings.Contains(in.errorLog(), "upstream prematurely closed") && !strings.Contains(in.errorLog(), "while sending request to upstream") {
				t.Errorf("no upstream error logged:\n%s", in.errorLog())
			}
		})
	}
}

// TestRequestBodyTooLargeChunked keeps client_max_body_size for chunked
// bodies whether they are buffered or streamed: 413 and nginx's line.
func TestRequestBodyTooLargeChunked(t *testing.T) {
	for _, buffering := range []string{"on", "off"} {
		t.Run("request_buffering "+buffering, func(t *testing.T) {
			up := newRawUpstream(t, nil, false, func([]byte) string { return okResponse })
			port := freePort(t)
			in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", up.port()), `
        client_body_buffer_size 1k;
        client_max_body_size 2k;
        location / { proxy_pass http://b; proxy_http_version 1.1; proxy_request_buffering `+buffering+`; }`))
			resp := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), bodyRequest(bodyOf(5000, 1), true))
			if statusOf(resp) != 413 {
				t.Errorf("response %.200q, want 413", resp)
			}
			if want := "client intended to send too large chunked body: 1400+700 bytes"; !strings.Contains(in.errorLog(), want) {
				t.Errorf("error log lacks %q:\n%s", want, in.errorLog())
			}
		})
	}
}

// TestBodyInFileOnly checks client_body_in_file_only: every body, even a
// small one, is written to a file logged at notice; "clean" removes it
// when the request ends, "on" keeps it under nginx's name.
func TestBodyInFileOnly(t *testing.T) {
	for _, mode := range []string{"clean", "on"} {
		t.Run(mode, func(t *testing.T) {
			var during atomic.Value
			var dir string
			up := newRawUpstream(t, nil, false, func([]byte) string {
				during.Store(tempFiles(t, filepath.Join(dir, "body")))
				return okResponse
			})
			port := freePort(t)
			in := start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", up.port()), `
        client_body_in_file_only `+mode+`;
        client_body_temp_path DIR/body 1 2;
        location / { proxy_pass http://b; }`))
			dir = in.dir
			body := bodyOf(10, 3)
			if resp := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), bodyRequest(body, false)); statusOf(resp) != 200 {
				t.Fatalf("response %q", resp)
			}
			if _, got := requestParts(t, up.next(t)); !bytes.Equal(got, body) {
				t.Errorf("upstream body %q, want %q", got, body)
			}
			name := filepath.Join(in.dir, "body", "1", "00", "0000000001")
			if d, _ := during.Load().([]string); len(d) != 1 || d[0] != name {
				t.Errorf("files during the request: %v, want [%s]", d, name)
			}
			notice := regexp.MustCompile(`\[notice\] .*a client request body is buffered to a temporary file ` + regexp.QuoteMeta(name) + `\b`)
			if !notice.MatchString(in.errorLog()) {
				t.Errorf("error log has no notice naming %s:\n%s", name, in.errorLog())
			}
			after := tempFiles(t, filepath.Join(in.dir, "body"))
			switch mode {
			case "clean":
				if len(after) != 0 {
					t.Errorf("files after the request: %v, want none", after)
				}
			case "on":
				if len(after) != 1 || after[0] != name {
					t.Errorf("files after the request: %v, want [%s]", after, name)
				} else if b, _ := os.ReadFile(name); !bytes.Equal(b, body) {
					t.Errorf("kept file holds %q, want %q", b, body)
				}
			}
		})
	}
}

// TestTempPathCreated checks that -t creates client_body_temp_path (the
// prefix's client_body_temp by default) and fails as nginx does when it
// cannot.
func TestTempPathCreated(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("events {}\nhttp {\n"+body+"\n}\n"), 0o644)
		return p
	}
	conf := write("ok.conf", "server { listen 127.0.0.1:1; location /a { client_body_temp_path "+dir+"/nested; } }")
	if code, _, stderr := runCLI(t, "-t", "-p", dir+"/", "-c", conf); code != 0 {
		t.Fatalf("-t failed: %s", stderr)
	}
	for _, d := range []string{"client_body_temp", "nested"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want a 0700 directory", d, fi, err)
		}
	}
	bad := write("bad.conf", "client_body_temp_path "+file+"/x; server { listen 127.0.0.1:1; }")
	code, _, stderr := runCLI(t, "-t", "-p", dir+"/", "-c", bad)
	want := `[emerg] mkdir() "` + file + `/x" failed (20: Not a directory)`
	if code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("-t exited %d with %q, want the line %q", code, stderr, want)
	}
	if bin := nginxPath(); bin != "" {
		out, _ := runNginxT(t, bin, dir, bad)
		if !strings.Contains(out, want[:8]) || !strings.Contains(out, want[8:]) {
			t.Errorf("nginx -t says %q, gatehouse %q", out, want)
		}
	}
}

// nginxPath is Debian's nginx, or "" when it is not installed.
func nginxPath() string {
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// runNginxT runs nginx -t on conf with prefix dir and returns what it
// printed; it stops nothing because -t starts no workers.
func runNginxT(t *testing.T, bin, dir, conf string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-t", "-p", dir+"/", "-c", conf, "-e", "stderr").CombinedOutput()
	return string(out), err
}

// TestBodyTempFileNginx is a differential check of the temporary file's
// name and content: with client_body_in_file_only on and levels 1 2,
// nginx and gatehouse both keep the first body at body/1/00/0000000001.
func TestBodyTempFileNginx(t *testing.T) {
	nginxBinary(t)
	body := bodyOf(5000, 9)
	for _, who := range []string{"nginx", "gatehouse"} {
		t.Run(who, func(t *testing.T) {
			up := newRawUpstream(t, nil, false, func([]byte) string { return okResponse })
			port := freePort(t)
			server := `
        client_body_in_file_only on;
        client_body_temp_path DIR/body 1 2;
        location / { proxy_pass http://b; }`
			upstreams := fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", up.port())
			var dir string
			if who == "nginx" {
				// Its workers write the file: root stays root (not nobody);
				// run by anyone else, nginx ignores "user".
				dir = startNginx(t, fmt.Sprintf("user root;\nhttp { access_log off; %s server { listen 127.0.0.1:%d; %s } }", upstreams, port, server))
			} else {
				dir = start(t, frontConf("", port, upstreams, server)).dir
			}
			if resp := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), bodyRequest(body, false)); statusOf(resp) != 200 {
				t.Fatalf("response %q", resp)
			}
			if _, got := requestParts(t, up.next(t)); !bytes.Equal(got, body) {
				t.Errorf("upstream got %d bytes, want the %d sent", len(got), len(body))
			}
			files := tempFiles(t, filepath.Join(dir, "body"))
			want := filepath.Join(dir, "body", "1", "00", "0000000001")
			if len(files) != 1 || files[0] != want {
				t.Fatalf("%s kept %v, want [%s]", who, files, want)
			}
			if b, _ := os.ReadFile(want); !bytes.Equal(b, body) {
				t.Errorf("%s's file holds %d bytes, not the body", who, len(b))
			}
		})
	}
}

// TestRequestBufferingOffChunkedHTTP10 checks nginx's exception: a
// chunked body cannot go chunked to an HTTP/1.0 upstream, so with
// proxy_request_buffering off it is still buffered and sent with its
// length (and would be retried).
func TestRequestBufferingOffChunkedHTTP10(t *testing.T) {
	up := newRawUpstream(t, nil, false, func([]byte) string { return okResponse })
	port := freePort(t)
	start(t, frontConf("", port, fmt.Sprintf("upstream b { server 127.0.0.1:%d; }", up.port()), `
        client_body_buffer_size 1k;
        location / { proxy_pass http://b; proxy_http_version 1.0; proxy_request_buffering off; }`))
	body := bodyOf(6000, 5)
	if resp := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), bodyRequest(body, true)); statusOf(resp) != 200 {
		t.Fatalf("response %.200q", resp)
	}
	head, got := requestParts(t, up.next(t))
	if !bytes.Equal(got, body) {
		t.Errorf("upstream got %d bytes, want the %d sent", len(got), len(body))
	}
	if !strings.Contains(head+"\r\n", "Content-Length: 6000\r\n") || strings.Contains(strings.ToLower(head), "transfer-encoding") {
		t.Errorf("want the body buffered and sent with its length:\n%s", head)
	}
}
