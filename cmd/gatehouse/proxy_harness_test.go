package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawUpstream is a TCP (or TLS) upstream that records the exact bytes of
// every request it receives and answers each with what respond returns
// ("" closes the connection without an answer; hold blocks until the
// test ends). After the answer the connection is closed unless keep is
// set.
type rawUpstream struct {
	ln      net.Listener
	reqs    chan []byte
	respond func(req []byte) string
	keep    bool
	hold    chan struct{}
}

// holdForever is a respond result: read the request, then say nothing.
const holdForever = "\x00hold"

func newRawUpstream(t testing.TB, tlsConf *tls.Config, keep bool, respond func(req []byte) string) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	u := &rawUpstream{ln: ln, reqs: make(chan []byte, 64), respond: respond, keep: keep, hold: make(chan struct{})}
	t.Cleanup(func() { close(u.hold); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	return u
}

func (u *rawUpstream) port() int { return u.ln.Addr().(*net.TCPAddr).Port }

func (u *rawUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := readRawRequest(br)
		if err != nil {
			return
		}
		u.reqs <- req
		resp := u.respond(req)
		switch resp {
		case "":
			return
		case holdForever:
			<-u.hold
			return
		}
		if _, err := io.WriteString(c, resp); err != nil || !u.keep {
			return
		}
	}
}

// next returns the next recorded request.
func (u *rawUpstream) next(t testing.TB) []byte {
	t.Helper()
	select {
	case r := <-u.reqs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream received no request")
		return nil
	}
}

// readRawRequest reads one request as sent: the header up to the empty
// line and a body framed by Content-Length or chunked encoding, bytes
// kept exactly.
func readRawRequest(br *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	clen, chunked := 0, false
	for {
		line, err := br.ReadSlice('\n')
		b.Write(line)
		if err != nil {
			return nil, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, _ := strings.Cut(strings.TrimRight(string(line), "\r\n"), ":")
		switch strings.ToLower(name) {
		case "content-length":
			clen, _ = strconv.Atoi(strings.TrimSpace(value))
		case "transfer-encoding":
			chunked = true
		}
	}
	if chunked {
		for {
			line, err := br.ReadSlice('\n')
			b.Write(line)
			if err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(strings.TrimSpace(string(line)), 16, 64)
			if err != nil {
				return nil, err
			}
			if _, err := io.CopyN(&b, br, n+2); err != nil {
				return nil, err
			}
			if n == 0 {
				return b.Bytes(), nil
			}
		}
	}
	if _, err := io.CopyN(&b, br, int64(clen)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// exchange sends raw to addr and returns everything the server sent
// until it closed the connection (requests should carry
// "Connection: close").
func exchange(t testing.TB, addr, raw string) string {
	t.Helper()
	return exchangeFrom(t, "", addr, raw)
}

// exchangeFrom is exchange from the local address src ("" for any).
func exchangeFrom(t testing.TB, src, addr, raw string) string {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the response: %v (read %q)", err, b)
	}
	return string(b)
}

// statusOf returns the status code of a raw response.
func statusOf(resp string) int {
	if len(resp) < 12 {
		return 0
	}
	n, _ := strconv.Atoi(resp[9:12])
	return n
}

// headerBlock returns the header lines of a raw response (without the
// status line) and its body.
func headerBlock(resp string) (string, string) {
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	_, head, _ = strings.Cut(head, "\r\n")
	return head, body
}

// frontConf wraps a server block's inside in a minimal gatehouse
// configuration listening on port; extra goes into http.
func frontConf(defaults string, port int, extra, server string) string {
	return fmt.Sprintf(`
%s
events {}
pid DIR/logs/gatehouse.pid;
error_log DIR/logs/error.log info;
http {
    access_log off;
    %s
    server {
        listen 127.0.0.1:%d;
        %s
    }
}
`, defaults, extra, port, server)
}

// assertNoAllocsPerRequest sends req again and again on the keep-alive
// connection c, read through br, each response's body (of wantLen bytes,
// or of any length up to len(body) when wantLen is -1) into body, and
// fails when a request still costs an allocation after a warm-up.
func assertNoAllocsPerRequest(t *testing.T, c net.Conn, br *bufio.Reader, body []byte, label string, req []byte, wantLen int) {
	t.Helper()
	roundTrip := func() {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		n := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				t.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if n < 0 || n > len(body) || (wantLen >= 0 && n != wantLen) {
			t.Fatalf("%s: response Content-Length %d, want %d (at most %d)", label, n, wantLen, len(body))
		}
		if _, err := readFull(br, body[:n]); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		roundTrip()
	}
	if a := testing.AllocsPerRun(200, roundTrip); a > 0.1 {
		t.Errorf("%s: %.2f allocations per request, want 0", label, a)
	}
}
