package variables

import "testing"

// fakeRequest is the shape a request context takes: fields filled by the
// codec, answered by ID without maps or string conversion.
type fakeRequest struct {
	remoteAddr, host, requestURI []byte
}

func (r *fakeRequest) Var(id ID, arg []byte, dst []byte) ([]byte, bool) {
	switch id {
	case RemoteAddr:
		return append(dst, r.remoteAddr...), true
	case Host:
		return append(dst, r.host...), true
	case RequestURI:
		return append(dst, r.requestURI...), true
	}
	return dst, false
}

func TestAppendDoesNotAllocate(t *testing.T) {
	r := mustRegistry(t)
	tmpl, err := r.Compile("$remote_addr - $host $request_uri")
	if err != nil {
		t.Fatal(err)
	}
	var src Source = &fakeRequest{[]byte("203.0.113.7"), []byte("example.com"), []byte("/a?b=c")}
	buf := make([]byte, 0, 256)
	var out []byte
	allocs := testing.AllocsPerRun(1000, func() { out = tmpl.Append(buf[:0], src) })
	if allocs != 0 {
		t.Errorf("Append allocates %v times per run", allocs)
	}
	if string(out) != "203.0.113.7 - example.com /a?b=c" {
		t.Errorf("got %q", out)
	}
}

func BenchmarkTemplateAppend(b *testing.B) {
	r := mustRegistry(b)
	tmpl, err := r.Compile("$remote_addr - $host $request_uri")
	if err != nil {
		b.Fatal(err)
	}
	var src Source = &fakeRequest{[]byte("203.0.113.7"), []byte("example.com"), []byte("/a?b=c")}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = tmpl.Append(buf[:0], src)
	}
}

func BenchmarkTemplateConstant(b *testing.B) {
	r := mustRegistry(b)
	tmpl, err := r.Compile("constant value")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = tmpl.Append(buf[:0], nil)
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	hs := [][2][]byte{
		{[]byte("Host"), []byte("example.com")},
		{[]byte("User-Agent"), []byte("curl/8.5.0")},
		{[]byte("Accept"), []byte("*/*")},
		{[]byte("X-Forwarded-For"), []byte("10.0.0.1")},
		{[]byte("X-Forwarded-For"), []byte("10.0.0.2")},
	}
	name := []byte("x_forwarded_for")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendHeader(buf[:0], func(yield func([]byte, []byte) bool) {
			for i := range hs {
				if !yield(hs[i][0], hs[i][1]) {
					return
				}
			}
		}, name)
	}
}

func BenchmarkCompile(b *testing.B) {
	r := mustRegistry(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Compile("$scheme://$host:$server_port$request_uri?x=${arg_y}"); err != nil {
			b.Fatal(err)
		}
	}
}
