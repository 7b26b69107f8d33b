package request

import (
	"bytes"
	"strings"

	"gatehouse/internal/http1"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/variables"
)

// locationName is the Location field name; read-only.
var locationName = []byte("Location")

// AddHeader is one add_header directive with its value compiled.
type AddHeader struct {
	Name  []byte
	Value *variables.Template
	// Always adds the field whatever the status.
	Always bool
	Pos    nginxconf.Pos
}

// ErrorPage is one error_page status with its URI compiled: the status
// answered with a redirect (Redirect, 302 unless "=CODE" says another)
// to URI.
type ErrorPage struct {
	Status, Redirect int
	URI              *variables.Template
}

// NewResponses compiles a location's add_header and error_page; nil
// when it has neither.
func NewResponses(headers []AddHeader, pages []ErrorPage) *Responses {
	if len(headers) == 0 && len(pages) == 0 {
		return nil
	}
	r := &Responses{}
	for _, a := range headers {
		name := string(a.Name)
		replace := strings.EqualFold(name, "ETag") || strings.EqualFold(name, "Last-Modified")
		r.headers = append(r.headers, addHeader{name: a.Name, value: a.Value, always: a.Always, replace: replace,
			anyByte: a.Value.AnyByte(), pos: a.Pos})
	}
	for _, ep := range pages {
		r.errorPages = append(r.errorPages, errorPage{status: ep.Status, redirect: ep.Redirect, uri: ep.URI})
	}
	return r
}

// AddHeaderStatus reports whether add_header without "always" applies to
// a response with status code (ngx_http_headers_filter's list).
func AddHeaderStatus(code int) bool {
	switch code {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

// RefuseUnsafe answers 400 when an add_header value that may hold any
// byte ($uri, a capture, ...) holds CR, LF or NUL for this request,
// before the request is served: the configuration text was checked when
// it was read, so the bytes came from the client. It logs the header and
// the directive's position and reports whether it answered.
func (r *Responses) RefuseUnsafe(x *Ctx) bool {
	if r == nil {
		return false
	}
	for i := range r.headers {
		a := &r.headers[i]
		if !a.anyByte {
			continue
		}
		buf := a.value.Append(x.Scratch(), x)
		x.KeepScratch(buf)
		if !http1.SafeFieldValue(buf) {
			x.LogRefusedHeader("add_header", a.name, a.pos)
			x.KeepScratch(r.Special(x.W, 400, x, x.Scratch()))
			x.Answered(400)
			return true
		}
	}
	return false
}

// errorPage is one compiled error_page status.
type errorPage struct {
	status   int
	redirect int
	uri      *variables.Template
}

// Responses is what a location adds to the responses it sends:
// add_header and error_page, compiled. gatehouse applies it to the
// responses it makes itself; the proxy applies it to proxied responses
// (AddHeaders just before writing the header) and to its own error
// responses (Special instead of WriteErrorPage). A nil *Responses adds
// nothing and sends the built-in pages.
type Responses struct {
	headers    []addHeader
	errorPages []errorPage
}

// HasErrorPage reports whether error_page covers status; this is what
// proxy_intercept_errors asks before replacing an upstream response.
func (r *Responses) HasErrorPage(status int) bool {
	return r.errorPage(status) != nil
}

func (r *Responses) errorPage(status int) *errorPage {
	if r == nil {
		return nil
	}
	for i := range r.errorPages {
		if r.errorPages[i].status == status {
			return &r.errorPages[i]
		}
	}
	return nil
}

// Special sends nginx's answer for an error or redirect status
// (ngx_http_special_response_handler): with an error_page for status, a
// redirect to its URL (302, or the "=CODE" if that is a redirect code)
// that replaces any Location already set; else the built-in page for
// status. add_header fields that apply to the status sent are added.
// Values are evaluated against src into buf, which may already hold
// bytes the header refers to; Special returns buf grown.
func (r *Responses) Special(w ResponseWriter, status int, src variables.Source, buf []byte) []byte {
	h := w.Header()
	if status != 444 { // 444 closes the connection; nothing is sent
		if ep := r.errorPage(status); ep != nil {
			status = ep.redirect
			h.Location = nil
			for j := 0; j < len(h.Header); j++ {
				if bytes.EqualFold(h.Header[j].Name, locationName) {
					h.Header = append(h.Header[:j], h.Header[j+1:]...)
					j--
				}
			}
			start := len(buf)
			buf = ep.uri.AppendEscaping(buf, src, variables.EscapeURI)
			h.Header = append(h.Header, http1.Header{Name: locationName, Value: buf[start:len(buf):len(buf)]})
		}
	}
	buf = r.AddHeaders(h, http1.WireStatus(status), src, buf)
	_ = w.WriteErrorPage(status)
	return buf
}

type addHeader struct {
	name   []byte
	value  *variables.Template
	always bool
	// anyByte is set when the value may hold CR, LF or NUL at run time
	// (variables.Template.AnyByte); see refuseUnsafe.
	anyByte bool
	pos     nginxconf.Pos
	// replace is set for ETag and Last-Modified, which nginx keeps once:
	// add_header replaces the field already there (an upstream's) or,
	// with an empty value, removes it.
	replace bool
}

// AddHeaders appends to h.Header the add_header fields that apply to a
// response with status (those marked always, or all for 200, 201, 204, 206, 301,
// 302, 303, 304, 307 and 308), skipping any whose value is empty, as
// nginx's headers filter does. Values are evaluated against src into
// buf, which Add returns grown; h refers to it, so it must not be
// modified until the header is written.
func (r *Responses) AddHeaders(h *http1.ResponseHeader, status int, src variables.Source, buf []byte) []byte {
	if r == nil {
		return buf
	}
	all := AddHeaderStatus(status)
	for i := range r.headers {
		a := &r.headers[i]
		if !all && !a.always {
			continue
		}
		start := len(buf)
		buf = a.value.Append(buf, src)
		v := buf[start:len(buf):len(buf)]
		if a.anyByte && !http1.SafeFieldValue(v) {
			// refuseUnsafe answered this request with 400; this is
			// that answer (an add_header ... always): leave the
			// field out.
			buf = buf[:start]
			continue
		}
		if a.replace {
			h.Header = replaceField(h.Header, a.name, v)
			continue
		}
		if len(v) > 0 {
			h.Header = append(h.Header, http1.Header{Name: a.name, Value: v})
		}
	}
	return buf
}

// replaceField is ngx_http_set_response_header: the first field named
// name takes the new name and value in its place (an empty value removes
// it), or the field is appended.
func replaceField(hs http1.Headers, name, value []byte) http1.Headers {
	for i := range hs {
		if !bytes.EqualFold(hs[i].Name, name) {
			continue
		}
		if len(value) == 0 {
			return append(hs[:i], hs[i+1:]...)
		}
		hs[i] = http1.Header{Name: name, Value: value}
		return hs
	}
	if len(value) == 0 {
		return hs
	}
	return append(hs, http1.Header{Name: name, Value: value})
}
