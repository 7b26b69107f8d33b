package accesslog_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/variables"
)

type req map[variables.ID]string

func (r req) Var(id variables.ID, arg []byte, dst []byte) ([]byte, bool) {
	v, ok := r[id]
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

func Example() {
	dir, _ := os.MkdirTemp("", "accesslog-example")
	defer os.RemoveAll(dir)

	// Configuration time: formats, then each access_log directive.
	reg, _ := variables.NewRegistry()
	formats := accesslog.NewFormats(reg)
	if _, err := formats.Define([]string{"short", "escape=json", `{"status":$status,"uri":"$uri"}`}); err != nil {
		panic(err)
	}
	spec, err := accesslog.ParseAccessLog([]string{filepath.Join(dir, "access.log"), "short", "buffer=32k"}, reg, formats)
	if err != nil {
		panic(err)
	}
	files := accesslog.NewFiles(accesslog.FilesOptions{})
	f, err := files.Open(spec.Path, spec.Buffer, spec.Flush, spec.Gzip)
	if err != nil {
		panic(err)
	}
	logger := accesslog.NewLogger(accesslog.Sink{File: f, Format: spec.Format, If: spec.If})

	// Per request, when the response is done.
	logger.Log(req{variables.Status: "200", variables.URI: `/a"b`})

	// USR1 calls files.Reopen(); shutdown flushes and closes.
	files.Close()
	b, _ := os.ReadFile(spec.Path)
	fmt.Print(string(b))
	// Output:
	// {"status":200,"uri":"/a\"b"}
}
