package http1

import "strconv"

// statusText is nginx's reason phrase table (ngx_http_status_lines). It
// has no 1xx entries: nginx sends "HTTP/1.1 100 " for "return 100" (its
// "100 Continue" to Expect is a fixed string, and a proxied 101 carries
// the upstream's reason), and "" for every code it does not list.
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Moved Temporarily"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Not Allowed"
	case 406:
		return "Not Acceptable"
	case 408:
		return "Request Time-out"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Request Entity Too Large"
	case 414:
		return "Request-URI Too Large"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Requested Range Not Satisfiable"
	case 421:
		return "Misdirected Request"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Temporarily Unavailable"
	case 504:
		return "Gateway Time-out"
	case 505:
		return "HTTP Version Not Supported"
	case 507:
		return "Insufficient Storage"
	}
	return ""
}

// appendStatus appends "NNN Reason\r\n".
func appendStatus(b []byte, code int, reason []byte) []byte {
	if code < 100 || code > 999 {
		code = 500
	}
	b = append(b, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10), ' ')
	if reason != nil {
		b = append(b, reason...)
	} else {
		b = append(b, statusText(code)...)
	}
	return append(b, '\r', '\n')
}

const (
	errorTailHead = "<hr><center>"
	errorTailEnd  = "</center>\r\n</body>\r\n</html>\r\n"
	msiePadding   = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
		"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
		"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
		"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
		"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
		"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
)

// errorPages holds nginx's built-in page heads (ngx_http_special_response.c),
// built once.
var errorPages = func() map[int]string {
	m := make(map[int]string)
	for _, code := range []int{301, 302, 303, 307, 308, 400, 401, 402, 403, 404, 405, 406, 408, 409, 410,
		411, 412, 413, 414, 415, 416, 421, 429, 500, 501, 502, 503, 504, 505, 507} {
		t := strconv.Itoa(code) + " " + statusText(code)
		if code == 401 {
			t = "401 Authorization Required"
		}
		if code == 302 {
			t = "302 Found"
		}
		m[code] = "<html>\r\n<head><title>" + t + "</title></head>\r\n<body>\r\n<center><h1>" + t + "</h1></center>\r\n"
	}
	for code, sub := range map[int]string{
		494: "Request Header Or Cookie Too Large",
		495: "The SSL certificate error",
		496: "No required SSL certificate was sent",
		497: "The plain HTTP request was sent to HTTPS port",
	} {
		m[code] = "<html>\r\n<head><title>400 " + sub + "</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>" + sub + "</center>\r\n"
	}
	return m
}()

// errorPage returns the page head for status, "" when nginx has none.
func errorPage(status int) string { return errorPages[status] }

// ErrorPage returns nginx's complete built-in page for status as sent
// with the given server_tokens tail ("nginx/1.28.3" or "nginx") and
// padding choice, or "" when nginx has no page for it. It is for callers
// that build error responses elsewhere (HTTP/2) and for tests.
func ErrorPage(status int, tail string, padding bool) string {
	p := errorPage(status)
	if p == "" {
		return ""
	}
	p += errorTailHead + tail + errorTailEnd
	if padding && status >= 400 {
		p += msiePadding
	}
	return p
}
