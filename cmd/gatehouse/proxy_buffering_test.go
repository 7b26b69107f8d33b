package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bufferingHTTP is the http block of the buffering tests; UP is an
// upstream that answers by the path's last segment.
const bufferingHTTP = `
    upstream b { server 127.0.0.1:UP; }
    server {
        listen 127.0.0.1:FRONT;
        location /off/ { proxy_buffering off; proxy_pass http://b; }
        location /on/ { proxy_pass http://b; }
        location /big/ {
            proxy_buffers 16 1m;
            proxy_max_temp_file_size_PLACEHOLDER
            proxy_pass http://b;
        }
    }
`

// bufferingConf is bufferingHTTP for gatehouse or nginx: nginx spools
// to a temporary file what does not fit in proxy_buffers, which
// gatehouse never does; with proxy_max_temp_file_size 0 they agree.
func bufferingConf(nginx bool, up, front int) string {
	h := strings.NewReplacer("UP", fmt.Sprint(up), "FRONT", fmt.Sprint(front)).Replace(bufferingHTTP)
	if nginx {
		return "http {\n    access_log off;\n" + strings.ReplaceAll(h, "proxy_max_temp_file_size_PLACEHOLDER", "proxy_max_temp_file_size 0;") + "}\n"
	}
	return "events {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\nhttp {\n    access_log off;\n" +
		strings.ReplaceAll(h, "proxy_max_temp_file_size_PLACEHOLDER", "") + "}\n"
}

// pausingUpstream answers every request with a chunked response whose
// first chunk is "first", then waits for release before it ends the
// body. extra goes into the response header.
func pausingUpstream(t *testing.T, extra string, release <-chan struct{}) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := readRawRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"+extra+"\r\n5\r\nfirst\r\n")
				<-release
				io.WriteString(c, "4\r\nrest\r\n0\r\n\r\n")
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// checkUnbuffered asks for path and requires the first chunk to reach
// the client while the upstream still holds the rest of the body back:
// proxy_buffering off (or X-Accel-Buffering: no) passes every read on at
// once.
func checkUnbuffered(t *testing.T, port int, path string, release func()) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response header while the upstream pauses: %v", err)
	}
	first := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first" {
		t.Fatalf("the first chunk did not arrive while the upstream pauses: %q, %v", first, err)
	}
	release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "rest" {
		t.Errorf("rest of the body %q, %v", rest, err)
	}
}

func runUnbuffered(t *testing.T, nginx bool) {
	for _, tc := range []struct{ name, path, extra string }{
		{"proxy_buffering off", "/off/x", ""},
		{"X-Accel-Buffering: no", "/on/x", "X-Accel-Buffering: no\r\n"},
		{"X-Accel-Buffering: NO", "/on/x", "X-Accel-Buffering: NO\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			up := pausingUpstream(t, tc.extra, release)
			port := freePort(t)
			if nginx {
				startNginx(t, bufferingConf(true, up, port))
			} else {
				start(t, bufferingConf(false, up, port))
			}
			// The upstream is let go at the latest when the test ends,
			// before the proxy is stopped.
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free)
			checkUnbuffered(t, port, tc.path, free)
		})
	}
}

// TestProxyBufferingOff checks that without buffering each upstream read
// is flushed to the client at once.
func TestProxyBufferingOff(t *testing.T) { runUnbuffered(t, false) }

// TestProxyBufferingOffNginx runs the same cases through nginx.
func TestProxyBufferingOffNginx(t *testing.T) {
	nginxBinary(t)
	runUnbuffered(t, true)
}

// bigBody is larger than what the kernel buffers between the proxy and
// a client that does not read (tcp_wmem's default maximum is 4 MiB) and
// smaller than proxy_buffers 16 1m.
const bigBody = 8 << 20

// bigUpstream answers with a bigBody-byte response and "Connection:
// close" and reports on the returned channel when the proxy closed the
// connection after reading the response (extra goes into the header).
func bigUpstream(t *testing.T, extra string) (int, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if _, err := readRawRequest(br); err != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n", bigBody, extra)
		if _, err := c.Write(make([]byte, bigBody)); err != nil {
			return
		}
		if _, err := br.ReadByte(); err == io.EOF {
			close(closed)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, closed
}

// dialSlowClient connects with the smallest receive buffer, so that what
// the client does not read stays on the proxy's side.
func dialSlowClient(t *testing.T, port int) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func runReadAhead(t *testing.T, nginx bool) {
	up, closed := bigUpstream(t, "")
	port := freePort(t)
	if nginx {
		startNginx(t, bufferingConf(true, up, port))
	} else {
		start(t, bufferingConf(false, up, port))
	}
	c := dialSlowClient(t, port)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "GET /big/x HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
	// Nothing is read from the client until the upstream is done with.
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream connection was not closed while the client was not reading")
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != bigBody {
		t.Errorf("client got %d bytes (%v), want %d", n, err, bigBody)
	}
}

// TestProxyBufferingReadAhead checks that with proxy_buffering on a
// response that fits in proxy_buffers is read to its end, and the
// upstream connection let go, while the client reads nothing.
func TestProxyBufferingReadAhead(t *testing.T) { runReadAhead(t, false) }

// TestProxyBufferingReadAheadNginx runs the same check through nginx.
func TestProxyBufferingReadAheadNginx(t *testing.T) {
	nginxBinary(t)
	runReadAhead(t, true)
}

// patternBody is n bytes that differ from one offset to the next, so a
// lost, repeated or reordered piece shows.
func patternBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// TestProxyBufferingBodies passes bodies around the buffer sizes, framed
// by length, chunks and close, through each buffering mode and checks
// that the client gets them whole.
func TestProxyBufferingBodies(t *testing.T) {
	up := newRawUpstream(t, nil, false, func(req []byte) string {
		line, _, _ := strings.Cut(string(req), "\r\n")
		var n int
		var framing string
		fmt.Sscanf(line[strings.LastIndexByte(line[:strings.LastIndexByte(line, ' ')], '/')+1:], "%d-%s", &n, &framing)
		framing = strings.TrimSuffix(framing, " HTTP/1.1")
		body := patternBody(n)
		switch framing {
		case "chunked":
			var b strings.Builder
			b.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			for len(body) > 0 {
				k := min(len(body), 5000)
				fmt.Fprintf(&b, "%x\r\n%s\r\n", k, body[:k])
				body = body[k:]
			}
			b.WriteString("0\r\n\r\n")
			return b.String()
		case "close":
			return "HTTP/1.0 200 OK\r\n\r\n" + string(body)
		}
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", n, body)
	})
	port := freePort(t)
	start(t, bufferingConf(false, up.port(), port))
	for _, loc := range []string{"off", "on", "big"} {
		for _, n := range []int{0, 1, 4095, 4096, 32<<10 - 1, 32 << 10, 32<<10 + 1, 1<<20 + 3} {
			for _, framing := range []string{"length", "chunked", "close"} {
				path := fmt.Sprintf("/%s/%d-%s", loc, n, framing)
				raw := exchange(t, fmt.Sprintf("127.0.0.1:%d", port), "GET "+path+" HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n")
				up.next(t) // the upstream records every request
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil || string(body) != string(patternBody(n)) {
					t.Errorf("%s: got %d bytes (%v), want %d intact", path, len(body), err, n)
				}
			}
		}
	}
}
