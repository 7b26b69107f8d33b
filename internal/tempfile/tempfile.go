// Package tempfile creates temporary files the way nginx's
// ngx_create_temp_file does: each file is named by a ten-digit sequence
// number and placed in hashed level directories whose names are taken
// from the end of that number, so a client_body_temp_path with levels
// "1 2" puts file 0000012345 at PATH/5/34/0000012345.
package tempfile

import (
	"errors"
	"io/fs"
	"os"
	"sync/atomic"

	"gatehouse/internal/errorlog"
)

// InFile is client_body_in_file_only: whether a request body always goes
// to a temporary file, and whether that file is kept.
type InFile uint8

// client_body_in_file_only values: off; on writes every body to a file
// that is kept after the request; clean writes it to a file removed when
// the request ends.
const (
	InFileOff InFile = iota
	InFileOn
	InFileClean
)

// Numbers hands out the numbers that name temporary files
// (ngx_next_temp_number): one more than the last each time, or a jump
// by a per-process step after a name turned out to be taken. One Numbers
// is shared by every path of a configuration generation.
type Numbers struct {
	n    atomic.Uint32
	step uint32
}

// NewNumbers returns a counter whose first number is 1 and which jumps
// by step after a collision (nginx uses (msec << 16) + pid).
func NewNumbers(step uint32) *Numbers {
	if step == 0 {
		step = 123456
	}
	return &Numbers{step: step}
}

func (n *Numbers) next(collision bool) uint32 {
	add := uint32(1)
	if collision {
		add = n.step
	}
	return n.n.Add(add)
}

// Path is a temporary directory with its hashed levels (ngx_path_t).
type Path struct {
	Dir    string
	Levels []int
}

// Name returns the file name for number n: Dir, the level directories
// cut from the end of the ten-digit name, then the name
// (ngx_create_hashed_filename).
func (p Path) Name(n uint32) string {
	var digits [10]byte // "%010uD" of a uint32
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = '0' + byte(n%10)
		n /= 10
	}
	b := make([]byte, 0, len(p.Dir)+2*len(digits)+len(p.Levels))
	b = append(b, p.Dir...)
	end := len(digits)
	for _, lv := range p.Levels {
		b = append(b, '/')
		b = append(b, digits[end-lv:end]...)
		end -= lv
	}
	b = append(b, '/')
	b = append(b, digits[:]...)
	return string(b)
}

// Error is a failed system call on a temporary file or directory, worded
// as nginx logs it: `open() "/path/0000000001" failed (13: Permission
// denied)`.
type Error struct {
	Op   string // "open()", "mkdir()", "write()", "read()"
	Path string
	Err  error
}

func (e *Error) Error() string {
	return e.Op + ` "` + e.Path + `" failed (` + errorlog.Errno(e.Err) + `)`
}

func (e *Error) Unwrap() error { return e.Err }

// Create makes the next temporary file in p, readable and writable by
// its owner only, creating missing level directories (mode 0700). Unless
// persistent, the name is removed at once and the file lives only as
// long as it is open, as nginx's ngx_open_tempfile does; the returned
// name is still the one it was created under, for the log.
func (p Path) Create(nums *Numbers, persistent bool) (*os.File, string, error) {
	n := nums.next(false)
	for tries := 0; ; tries++ {
		name := p.Name(n)
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
		if err == nil {
			if !persistent {
				_ = os.Remove(name)
			}
			return f, name, nil
		}
		switch {
		case errors.Is(err, fs.ErrExist) && tries < 100:
			n = nums.next(true)
			continue
		case errors.Is(err, fs.ErrNotExist) && len(p.Levels) > 0 && tries < 100:
			if err := p.makeLevels(name); err != nil {
				return nil, "", err
			}
			continue
		}
		return nil, "", &Error{Op: "open()", Path: name, Err: unwrapPath(err)}
	}
}

// makeLevels creates the level directories of name (ngx_create_path).
func (p Path) makeLevels(name string) error {
	pos := len(p.Dir)
	for _, lv := range p.Levels {
		pos += 1 + lv
		dir := name[:pos]
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return &Error{Op: "mkdir()", Path: dir, Err: unwrapPath(err)}
		}
	}
	return nil
}

// MakeDir creates p's directory (mode 0700) unless it exists, as nginx
// creates its temporary paths when it starts and when it tests the
// configuration (ngx_create_paths).
func (p Path) MakeDir() error {
	if err := os.Mkdir(p.Dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return &Error{Op: "mkdir()", Path: p.Dir, Err: unwrapPath(err)}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
