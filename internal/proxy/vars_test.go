package proxy

import (
	"testing"

	"gatehouse/internal/http1"
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
