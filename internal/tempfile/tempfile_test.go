package tempfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestName(t *testing.T) {
	cases := []struct {
		levels []int
		n      uint32
		want   string
	}{
		{nil, 1, "/t/0000000001"},
		{nil, 4294967295, "/t/4294967295"},
		{[]int{1}, 123457, "/t/7/0000123457"},
		{[]int{1, 2}, 123457, "/t/7/45/0000123457"},
		{[]int{2, 2}, 123457, "/t/57/34/0000123457"},
		{[]int{1, 2, 3}, 123457, "/t/7/45/123/0000123457"},
		{[]int{3, 3, 4}, 1234567890, "/t/890/567/1234/1234567890"},
		{[]int{10}, 42, "/t/0000000042/0000000042"},
	}
	for _, tc := range cases {
		if got := (Path{Dir: "/t", Levels: tc.levels}).Name(tc.n); got != tc.want {
			t.Errorf("levels %v, number %d: %s, want %s", tc.levels, tc.n, got, tc.want)
		}
	}
}

// TestCreate checks nginx's layout on disk: numbers from 1, level
// directories made on demand with mode 0700, files 0600, names removed at
// once unless persistent, and a taken name skipped.
func TestCreate(t *testing.T) {
	dir := t.TempDir()
	p := Path{Dir: dir, Levels: []int{1, 2}}
	nums := NewNumbers(1000)

	f, name, err := p.Create(nums, true)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if want := filepath.Join(dir, "1", "00", "0000000001"); name != want {
		t.Errorf("first file %s, want %s", name, want)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatalf("persistent file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	for _, d := range []string{filepath.Join(dir, "1"), filepath.Join(dir, "1", "00")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
			t.Errorf("level directory %s: %v %v, want a 0700 directory", d, fi.Mode(), err)
		}
	}

	f, name, err = p.Create(nums, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "2", "00", "0000000002"); name != want {
		t.Errorf("second file %s, want %s", name, want)
	}
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file that is not persistent is still named: %v", err)
	}
	if _, err := f.WriteString("kept while open"); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "kept" {
		t.Errorf("the unlinked file reads %q, %v", b, err)
	}
	f.Close()

	// Number 3 is taken: nginx jumps by its step.
	taken := p.Name(3)
	os.MkdirAll(filepath.Dir(taken), 0o700)
	os.WriteFile(taken, nil, 0o600)
	f, name, err = p.Create(nums, true)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if want := p.Name(1003); name != want {
		t.Errorf("after a collision %s, want %s", name, want)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	cases := []struct {
		p    Path
		want string
	}{
		{Path{Dir: filepath.Join(dir, "missing")}, `open() "` + dir + `/missing/0000000001" failed (2: No such file or directory)`},
		{Path{Dir: file, Levels: []int{1}}, `open() "` + file + `/1/0000000001" failed (20: Not a directory)`},
		{Path{Dir: filepath.Join(dir, "missing"), Levels: []int{1}}, `mkdir() "` + dir + `/missing/1" failed (2: No such file or directory)`},
	}
	for _, tc := range cases {
		_, _, err := tc.p.Create(NewNumbers(1), false)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %s", tc.p, err, tc.want)
		}
	}
	err := Path{Dir: filepath.Join(file, "x")}.MakeDir()
	if !errors.Is(err, syscall.ENOTDIR) || !strings.HasPrefix(err.Error(), `mkdir() "`+file+`/x" failed (20: `) {
		t.Errorf("MakeDir under a file: %v", err)
	}
	if err := (Path{Dir: filepath.Join(dir, "new")}).MakeDir(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "new")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("MakeDir made %v, %v", fi, err)
	}
	if err := (Path{Dir: filepath.Join(dir, "new")}).MakeDir(); err != nil {
		t.Errorf("MakeDir of an existing directory: %v", err)
	}
}
