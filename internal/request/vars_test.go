package request

import (
	"testing"
	"time"

	"gatehouse/internal/tlsterm"

	"gatehouse/internal/http1"
	"gatehouse/internal/variables"
)

func TestAppendBasicUser(t *testing.T) {
	tests := []struct {
		auth string
		want string
		ok   bool
	}{
		{"Basic dXNlcjpwYXNz", "user", true},              // user:pass
		{"basic   dXNlcjpwYXNz", "user", true},            // case and spaces
		{"Basic OnBhc3M=", "", true},                      // ":pass": empty user
		{"Basic dXNlcg==", "", false},                     // "user": no colon
		{"Basic !!!", "", false},                          // not base64
		{"Bearer dXNlcjpwYXNz", "", false},                // not Basic
		{"Basic ", "", false},                             // empty
		{"", "", false},                                   // absent
		{"Basic dTpwOnE=", "u", true},                     // "u:p:q"
		{"BASIC dXNlcjpwYXNz", "user", true},              // scheme case-insensitive
		{"Basic dXNlcjpwYXNz ", "", false},                // trailing space does not decode
		{"Basicx dXNlcjpwYXNz", "", false},                // scheme must end with a space
		{"Basic w6l0w6k6eA==", "\xc3\xa9t\xc3\xa9", true}, // "été:x"
	}
	for _, tt := range tests {
		got, ok := appendBasicUser([]byte("pre"), []byte(tt.auth))
		if ok != tt.ok || string(got) != "pre"+tt.want {
			t.Errorf("%q: got %q, %v; want %q, %v", tt.auth, got, ok, "pre"+tt.want, tt.ok)
		}
	}
}

func TestAppendSetCookie(t *testing.T) {
	hs := http1.Headers{
		{Name: []byte("Content-Type"), Value: []byte("a=b")},
		{Name: []byte("Set-Cookie"), Value: []byte("sid=abc; Path=/; HttpOnly")},
		{Name: []byte("set-cookie"), Value: []byte(" Theme = dark ")},
		{Name: []byte("Set-Cookie"), Value: []byte("sid=second")},
	}
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"sid", "abc", true},
		{"theme", "dark", true},
		{"path", "", false},
		{"a", "", false},
		{"none", "", false},
	}
	for _, tt := range tests {
		got, ok := appendSetCookie(nil, hs, []byte(tt.name))
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestHeaderVarsAllocs: the header families read the request's and the
// upstream response's fields through the variables package's helpers,
// without allocating.
func TestHeaderVarsAllocs(t *testing.T) {
	x := ctxFor(t, "/p?a=1&B=two", "front", false, "8080")
	x.Req.Header = http1.Headers{
		{Name: []byte("X-Forwarded-For"), Value: []byte("10.0.0.1")},
		{Name: []byte("Cookie"), Value: []byte("a=1; sid=abc")},
		{Name: []byte("x-forwarded-for"), Value: []byte("10.0.0.2")},
		{Name: []byte("Cookie"), Value: []byte("theme=dark")},
	}
	x.Upstream.HasResp = true
	x.Upstream.RespHeader = http1.Headers{
		{Name: []byte("X-Up"), Value: []byte("1")},
		{Name: []byte("x-up"), Value: []byte("2")},
	}
	tests := []struct {
		id   variables.ID
		arg  string
		want string
		ok   bool
	}{
		{variables.HTTP, "x_forwarded_for", "10.0.0.1, 10.0.0.2", true},
		{variables.HTTP, "cookie", "a=1; sid=abc; theme=dark", true},
		{variables.HTTP, "none", "", false},
		{variables.Cookie, "sid", "abc", true},
		{variables.Cookie, "theme", "dark", true},
		{variables.Cookie, "none", "", false},
		{variables.Arg, "b", "two", true},
		{variables.Arg, "c", "", false},
		{variables.UpstreamHTTP, "x_up", "1, 2", true},
		{variables.ProxyAddXForwardedFor, "", "10.0.0.1, 10.0.0.2, 192.0.2.1", true},
	}
	buf := make([]byte, 0, 128)
	for _, tt := range tests {
		got, ok := x.Var(tt.id, []byte(tt.arg), buf[:0])
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("%v %s: got %q, %v; want %q, %v", tt.id, tt.arg, got, ok, tt.want, tt.ok)
		}
	}
	if raceEnabled {
		return // allocation counts are not meaningful under -race
	}
	args := make([][]byte, len(tests))
	for i, tt := range tests {
		args[i] = []byte(tt.arg)
	}
	n := testing.AllocsPerRun(100, func() {
		for i, tt := range tests {
			buf, _ = x.Var(tt.id, args[i], buf[:0])
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// ctxFor is a Ctx for target, as the server fills it in.
func ctxFor(t *testing.T, target, host string, tls bool, port string) *Ctx {
	t.Helper()
	c := &Conn{RemoteIP: []byte("192.0.2.1"), ServerAddr: []byte("10.0.0.5"), ServerPort: []byte(port)}
	if tls {
		c.TLS = &tlsterm.Info{}
	}
	x := &Ctx{Conn: c, Env: &Env{Now: time.Now}}
	x.Req.Target = []byte(target)
	x.Req.ContentLength = -1
	if host != "" {
		x.Req.Host = []byte(host)
	}
	x.Host = x.Req.Host
	if !x.Normalize(true) {
		t.Fatalf("%q does not normalise", target)
	}
	return x
}

// TestSetVars checks set variables: the value set last, kept apart per
// ID, empty and warned about when not set, forgotten by Reset.
func TestSetVars(t *testing.T) {
	a, b := variables.FirstDefined, variables.FirstDefined+1
	x := &Ctx{Env: &Env{Now: time.Now, UserVars: []bool{true, true}}}
	x.Reset(nil)
	x.SetVar(a, []byte("one"))
	x.SetVar(a, []byte("two"))
	if v, ok := x.Var(a, []byte("a"), nil); !ok || string(v) != "two" {
		t.Errorf("$a = %q, %v", v, ok)
	}
	if v, ok := x.Var(b, []byte("b"), nil); !ok || len(v) != 0 {
		t.Errorf("unset $b = %q, %v; want empty and found", v, ok)
	}
	x.Reset(nil)
	if v, ok := x.Var(a, []byte("a"), nil); !ok || len(v) != 0 {
		t.Errorf("$a after Reset = %q, %v", v, ok)
	}
	x.SetArgs([]byte("q=1"))
	if v, _ := x.Var(variables.Args, nil, nil); string(v) != "q=1" {
		t.Errorf("$args = %q", v)
	}
}
