package variables

import "testing"

func TestAppendEscapedURI(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/plain/path-._~!$&'()*+,;=:@", "/plain/path-._~!$&'()*+,;=:@"},
		{"/inj/\r\nX-A: b\r\n\r\nGET /evil", "/inj/%0D%0AX-A:%20b%0D%0A%0D%0AGET%20/evil"},
		{"\x00\x1f\x7f\x80\xff", "%00%1F%7F%80%FF"},
		{`"#%<>?\^` + "`{|}", "%22%23%25%3C%3E%3F%5C%5E%60%7B%7C%7D"},
		{"", ""},
	}
	for _, c := range cases {
		if got := string(AppendEscapedURI([]byte("p:"), []byte(c.in))); got != "p:"+c.want {
			t.Errorf("AppendEscapedURI(%q) = %q, want %q", c.in, got, "p:"+c.want)
		}
		// in place, with and without room to grow
		for _, room := range []int{0, 64} {
			b := make([]byte, 0, 2+len(c.in)+room)
			b = append(append(b, "p:"...), c.in...)
			if got := string(EscapeURI(b, 2)); got != "p:"+c.want {
				t.Errorf("EscapeURI(%q, room %d) = %q, want %q", c.in, room, got, "p:"+c.want)
			}
		}
	}
}
