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

	// Configuration time: the formats, then a file per access_log path.
	reg, _ := variables.NewRegistry()
	format, err := accesslog.NewFormat(reg, "short", accesslog.EscapeJSON, `{"status":$status,"uri":"$uri"}`)
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "access.log")
	files := accesslog.NewFiles(accesslog.FilesOptions{})
	f, err := files.Open(path, 32<<10, 0, 0)
	if err != nil {
		panic(err)
	}
	logger := accesslog.NewLogger(accesslog.Sink{File: f, Format: format})

	// Per request, when the response is done.
	logger.Log(req{variables.Status: "200", variables.URI: `/a"b`})

	// USR1 calls files.Reopen(); shutdown flushes and closes.
	files.Close()
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// {"status":200,"uri":"/a\"b"}
}
