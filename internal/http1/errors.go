package http1

// Error is a protocol failure with the status nginx answers (or logs) for it
// and nginx's error-log text. Values are sentinels: compare them with
// errors.Is. Status may be one of nginx's internal codes (494-497, 499);
// WireStatus maps those to what is sent.
type Error struct {
	// Status is nginx's status for the failure ($status in the access log
	// is WireStatus(Status), except 499 which is logged as is).
	Status int
	// Msg is the error-log text nginx writes, without context.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// WireStatus returns the status line code for an nginx status: the internal
// codes 494-497 are sent as 400.
func WireStatus(status int) int {
	if status >= 494 && status <= 497 {
		return 400
	}
	return status
}

// closesConnection reports whether nginx disables keep-alive after an error
// response with this status (ngx_http_special_response_handler), including
// 494 which only arises while reading the header.
func closesConnection(status int) bool {
	switch status {
	case 400, 413, 414, 494, 495, 496, 497, 500, 501:
		return true
	}
	return false
}

// Client request errors, with nginx's texts.
var (
	ErrInvalidRequest       = &Error{400, "client sent invalid request"}
	ErrInvalidMethod        = &Error{400, "client sent invalid method"}
	ErrInvalidVersion       = &Error{505, "client sent invalid version"}
	ErrInvalidHeader        = &Error{400, "client sent invalid header line"}
	ErrObsFold              = &Error{400, "client sent invalid header line"}
	ErrTooLongURI           = &Error{414, "client sent too long URI"}
	ErrTooLongHeader        = &Error{494, "client sent too long header line"}
	ErrTooLargeRequest      = &Error{494, "client sent too large request"}
	ErrDuplicateHost        = &Error{400, "client sent duplicate host header"}
	ErrInvalidHost          = &Error{400, "client sent invalid host header"}
	ErrMissingHost          = &Error{400, `client sent HTTP/1.1 request without "Host" header`}
	ErrDuplicateHeader      = &Error{400, "client sent duplicate header line"}
	ErrInvalidContentLength = &Error{400, `client sent invalid "Content-Length" header`}
	ErrTEWithHTTP10         = &Error{400, `client sent HTTP/1.0 request with "Transfer-Encoding" header`}
	ErrTEAndCL              = &Error{400, `client sent "Content-Length" and "Transfer-Encoding" headers at the same time`}
	ErrUnknownTE            = &Error{501, `client sent unknown "Transfer-Encoding"`}
	ErrConnectMethod        = &Error{405, "client sent CONNECT method"}
	ErrTraceMethod          = &Error{405, "client sent TRACE method"}

	// Body errors.
	ErrInvalidChunked      = &Error{400, "client sent invalid chunked body"}
	ErrBodyTooLarge        = &Error{413, "client intended to send too large body"}
	ErrChunkedBodyTooLarge = &Error{413, "client intended to send too large chunked body"}
	ErrClientClosed        = &Error{400, "client prematurely closed connection"}
	ErrClientBodyTimeout   = &Error{408, "client timed out"}

	// ErrClientHeaderTimeout is reported when the header did not arrive in
	// client_header_timeout; nginx logs 408 and sends nothing.
	ErrClientHeaderTimeout = &Error{408, "client timed out"}
)

// Upstream response errors. nginx maps all of them to 502 (the
// "invalid_header" or "error" conditions of proxy_next_upstream).
var (
	ErrUpstreamInvalidHeader  = &Error{502, "upstream sent invalid header"}
	ErrUpstreamTooBigHeader   = &Error{502, "upstream sent too big header"}
	ErrUpstreamNoValidHeader  = &Error{502, "upstream sent no valid HTTP/1.0 header"}
	ErrUpstreamPrematureClose = &Error{502, "upstream prematurely closed connection"}
	ErrUpstreamDuplicateCL    = &Error{502, "upstream sent duplicate header line"}
	ErrUpstreamInvalidCL      = &Error{502, `upstream sent invalid "Content-Length" header`}
	ErrUpstreamUnknownTE      = &Error{502, `upstream sent unknown "Transfer-Encoding"`}
	ErrUpstreamTEAndCL        = &Error{502, `upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time`}
	ErrUpstreamInvalidChunked = &Error{502, "upstream sent invalid chunked response"}
	ErrUpstreamTooMuchData    = &Error{502, `upstream sent more data than specified in "Content-Length" header`}
)

// Invariant errors for API misuse; they never reach a client as a status.
var (
	ErrHeaderWritten  = &Error{500, "response header already sent"}
	ErrBodyNotAllowed = &Error{500, "response body not allowed for this status or method"}
	ErrHijacked       = &Error{500, "connection hijacked"}
	ErrTooMuchBody    = &Error{500, "response body longer than its Content-Length"}
)
