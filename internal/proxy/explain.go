package proxy

import (
	"errors"
	"io"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
)

// Explain turns an upstream failure into the message of its error-log line,
// in nginx's words, followed (for TLS failures) by what the peer presented
// and the directive that fixes it.
func Explain(err error, action string, timeout bool) string {
	var he *http1.Error
	var de *http1.DetailError
	var d interface{ Detail() string }
	switch {
	case timeout:
		return "upstream timed out (110: Connection timed out)"
	case errors.As(err, &de):
		// nginx's text with the offending line, e.g.
		// `upstream sent invalid header: "X\x01..."`.
		return de.Error()
	case errors.As(err, &d):
		// TLS failures already read as nginx's message followed by what
		// the peer presented and the fix.
		return d.(error).Error()
	case errors.As(err, &he):
		return he.Msg
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "upstream prematurely closed connection"
	}
	switch action {
	case actConnect:
		return "connect() failed (" + errorlog.Errno(err) + ")"
	case actHandshake:
		return "SSL_do_handshake() failed (" + err.Error() + ")"
	case actSend:
		return "send() failed (" + errorlog.Errno(err) + ")"
	}
	return "recv() failed (" + errorlog.Errno(err) + ")"
}
