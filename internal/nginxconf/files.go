package nginxconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// ErrRecursiveInclude is the cause (Error.Err) of the error reported when a
// file includes itself, directly or through other files. nginx itself
// recurses until it runs out of file descriptors.
var ErrRecursiveInclude = errors.New("recursive include")

// fileError reports a failure to read a configuration file the way nginx
// does: open() failures at the including directive's position, read
// failures (such as a directory named as a file) with no position.
func fileError(at Pos, path string, err error) *Error {
	op := "open()"
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "read" {
		op, at = "pread()", Pos{}
	}
	return &Error{Pos: at, Msg: fmt.Sprintf(`%s "%s" failed%s`, op, path, errnoSuffix(err)), Err: err}
}

// errnoSuffix renders err as nginx's " (ERRNO: strerror)" suffix.
func errnoSuffix(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
	case errors.Is(err, fs.ErrNotExist):
		errno = syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		errno = syscall.EACCES
	default:
		return " (" + err.Error() + ")"
	}
	return fmt.Sprintf(" (%d: %s)", int(errno), strerror(errno))
}

// strerror approximates the C library's text for errno: Go's texts are the
// glibc ones with the first letter lowered.
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// osGlob expands pattern like glob(3) with no flags, as nginx calls it:
// '*', '?' and bracket expressions ('!' or '^' negates) match within one
// path component, a backslash quotes the next character, a leading '.' in
// a name must be matched literally (and "." and ".." are names, as
// readdir(3) lists them), and the result is sorted bytewise.
// No match is not an error; unreadable directories are skipped.
func osGlob(pattern string) ([]string, error) {
	parts := strings.Split(pattern, "/")
	cands := []string{""}
	if strings.HasPrefix(pattern, "/") {
		cands = []string{"/"}
		parts = parts[1:]
	}
	lastLiteral := false
	for i, part := range parts {
		if part == "" {
			// Repeated or trailing slashes.
			if i == len(parts)-1 {
				var dirs []string
				for _, c := range cands {
					if fi, err := os.Stat(c); err == nil && fi.IsDir() {
						dirs = append(dirs, c+"/")
					}
				}
				return dirs, nil
			}
			continue
		}
		var next []string
		if !hasMeta(part) {
			lit := unescapeGlob(part)
			for _, c := range cands {
				next = append(next, joinPath(c, lit))
			}
			lastLiteral = true
		} else {
			lastLiteral = false
			for _, c := range cands {
				dir := c
				if dir == "" {
					dir = "."
				}
				ents, err := os.ReadDir(dir)
				if err != nil {
					continue
				}
				// readdir(3) lists "." and "..", which a mask such as
				// ".*" matches in glob(3), so nginx reads them too.
				names := []string{".", ".."}
				for _, e := range ents {
					names = append(names, e.Name())
				}
				for _, name := range names {
					if matchComponent(part, name) {
						next = append(next, joinPath(c, name))
					}
				}
			}
		}
		cands = next
		if len(cands) == 0 {
			return nil, nil
		}
	}
	if lastLiteral {
		// Literal trailing components have not been checked yet.
		existing := cands[:0]
		for _, c := range cands {
			if _, err := os.Lstat(c); err == nil {
				existing = append(existing, c)
			}
		}
		cands = existing
	}
	slices.Sort(cands)
	return cands, nil
}

func joinPath(dir, name string) string {
	switch {
	case dir == "":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

// hasMeta reports whether a pattern component has an unquoted '*', '?' or
// '['.
func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func unescapeGlob(p string) string {
	if !strings.Contains(p, "\\") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			i++
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// matchComponent matches one file name against one pattern component with
// fnmatch(3) rules under FNM_PERIOD.
func matchComponent(pattern, name string) bool {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pattern, ".") && !strings.HasPrefix(pattern, `\.`) {
		return false
	}
	return fnmatch(pattern, name)
}

// fnmatch matches name against pattern byte by byte; '*' backtracks
// iteratively, so the cost is at most len(pattern)*len(name).
func fnmatch(pattern, name string) bool {
	px, nx := 0, 0
	starPx, starNx := -1, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if ok, width, valid := matchBracket(pattern[px:], name[nx]); valid {
						if ok {
							px += width
							nx++
							continue
						}
					} else if name[nx] == '[' {
						// An unterminated bracket is an ordinary '['.
						px++
						nx++
						continue
					}
				}
			case '\\':
				if px+1 < len(pattern) {
					if nx < len(name) && name[nx] == pattern[px+1] {
						px += 2
						nx++
						continue
					}
					break
				}
				fallthrough
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 && starNx < len(name) {
			starNx++
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

// matchBracket matches c against the bracket expression at the start of p.
// It returns whether c matched, the expression's width, and false for valid
// when the expression has no closing ']'.
func matchBracket(p string, c byte) (matched bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return matched != negate, i + 1, true
		}
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				i++
				hi = p[i+1]
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0, false
}
