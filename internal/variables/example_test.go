package variables_test

import (
	"fmt"

	"gatehouse/internal/variables"
)

// header is how an HTTP codec typically stores a field.
type header struct{ Name, Value []byte }

// request is a minimal request context: it answers the IDs it knows and
// uses the package helpers for nginx's exact formats.
type request struct {
	remoteAddr []byte
	host       []byte
	query      []byte
	headers    []header
}

func (r *request) Var(id variables.ID, arg []byte, dst []byte) ([]byte, bool) {
	// A closure over the slice; it stays on the stack because the helpers
	// do not retain it.
	hs := func(yield func([]byte, []byte) bool) {
		for i := range r.headers {
			if !yield(r.headers[i].Name, r.headers[i].Value) {
				return
			}
		}
	}
	switch id {
	case variables.RemoteAddr:
		return append(dst, r.remoteAddr...), true
	case variables.Host:
		return append(dst, r.host...), true
	case variables.HTTP:
		return variables.AppendHeader(dst, hs, arg)
	case variables.Cookie:
		return variables.AppendCookie(dst, hs, arg)
	case variables.Arg:
		return variables.AppendArg(dst, r.query, arg)
	case variables.ProxyAddXForwardedFor:
		return variables.AppendProxyAddXForwardedFor(dst, hs, r.remoteAddr), true
	}
	return dst, false
}

func Example() {
	reg, err := variables.NewRegistry()
	if err != nil {
		panic(err)
	}
	// At configuration time.
	tmpl, err := reg.Compile("$host|$http_X_Real_IP|$cookie_sid|$arg_page|$proxy_add_x_forwarded_for")
	if err != nil {
		panic(err)
	}
	// Per request.
	r := &request{
		remoteAddr: []byte("203.0.113.7"),
		host:       []byte("example.com"),
		query:      []byte("page=2&x=1"),
		headers: []header{
			{[]byte("X-Real-IP"), []byte("198.51.100.1")},
			{[]byte("Cookie"), []byte("a=1; sid=xyz")},
			{[]byte("X-Forwarded-For"), []byte("10.0.0.1")},
		},
	}
	buf := make([]byte, 0, 256)
	buf = tmpl.Append(buf, r)
	fmt.Println(string(buf))

	_, err = reg.Compile("${host")
	fmt.Println(err)
	_, err = reg.Compile("$Foo")
	fmt.Println(err)
	// Output:
	// example.com|198.51.100.1|xyz|2|10.0.0.1, 203.0.113.7
	// the closing bracket in "host" variable is missing
	// unknown "foo" variable
}
