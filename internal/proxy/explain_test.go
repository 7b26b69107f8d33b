package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"gatehouse/internal/http1"
)

// tlsDetail stands for a certs error: nginx's text plus what the peer
// presented, exposed through a Detail method.
type tlsDetail struct{}

func (tlsDetail) Error() string {
	return "upstream SSL certificate verify error: (18:self-signed certificate); peer presented ..."
}
func (tlsDetail) Detail() string { return "peer presented ..." }

// TestExplain checks the message of each kind of upstream failure, in
// nginx's words.
func TestExplain(t *testing.T) {
	parse := func(resp string) error {
		var r http1.Response
		_, err := http1.ParseResponse(&r, []byte(resp), 4096)
		if err == nil {
			t.Fatalf("%q parsed", resp)
		}
		return err
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	pipe := &net.OpError{Op: "write", Net: "tcp", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}
	cases := []struct {
		name    string
		err     error
		action  string
		timeout bool
		want    string
	}{
		{"timeout", context.DeadlineExceeded, actHeader, true, "upstream timed out (110: Connection timed out)"},
		{"invalid header name", parse("HTTP/1.1 200 OK\r\nX\x01Y: 1\r\n\r\n"), actHeader, false, `upstream sent invalid header: "X\x01..."`},
		{"control byte in a value", parse("HTTP/1.1 200 OK\r\nA: b\x7fc\r\n\r\n"), actHeader, false, `upstream sent invalid header: "A: b\x7F..."`},
		{"no colon", parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), actHeader, false, `upstream sent invalid header: "NoColon\x0D..."`},
		{"duplicate Content-Length", parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), actHeader, false,
			`upstream sent duplicate header line: "Content-Length: 2", previous value: "Content-Length: 1"`},
		{"invalid Content-Length", parse("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), actHeader, false,
			`upstream sent invalid "Content-Length" header: "Content-Length: x"`},
		{"unknown Transfer-Encoding", parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), actHeader, false,
			`upstream sent unknown "Transfer-Encoding": "gzip"`},
		{"no valid status line", parse("HTTTP/1.1 200 OK\r\n\r\n"), actHeader, false, "upstream sent no valid HTTP/1.0 header"},
		{"wrapped detail", fmt.Errorf("attempt: %w", parse("HTTP/1.1 200 OK\r\nX\x01Y: 1\r\n\r\n")), actHeader, false, `upstream sent invalid header: "X\x01..."`},
		{"premature close", http1.ErrUpstreamPrematureClose, actHeader, false, "upstream prematurely closed connection"},
		{"EOF", io.EOF, actHeader, false, "upstream prematurely closed connection"},
		{"unexpected 101", errUnexpected101, actHeader, false, `upstream sent "101 Switching Protocols" to a request without "Upgrade"`},
		{"TLS detail", fmt.Errorf("handshake: %w", tlsDetail{}), actHandshake, false, tlsDetail{}.Error()},
		{"connect refused", refused, actConnect, false, "connect() failed (111: Connection refused)"},
		{"recv reset", reset, actHeader, false, "recv() failed (104: Connection reset by peer)"},
		{"send broken pipe", pipe, actSend, false, "send() failed (32: Broken pipe)"},
		{"handshake other", errors.New("tls: bad record MAC"), actHandshake, false, "SSL_do_handshake() failed (tls: bad record MAC)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Explain(tc.err, tc.action, tc.timeout); got != tc.want {
				t.Errorf("Explain = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestIsTimeout: every way a timeout reaches the proxy is classified as
// one (nginx's "timeout" condition, 504).
func TestIsTimeout(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{os.ErrDeadlineExceeded, true},
		{http1.ErrUpstreamTimeout, true},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), true},
		{io.EOF, false},
		{http1.ErrUpstreamPrematureClose, false},
		{errors.New("timeout"), false},
	} {
		if got := isTimeout(tc.err); got != tc.want {
			t.Errorf("isTimeout(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
