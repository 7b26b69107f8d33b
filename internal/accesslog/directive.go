package accesslog

import (
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/variables"
)

// Spec is one parsed access_log directive.
type Spec struct {
	// Off is "access_log off": no logging at this level.
	Off bool
	// Path is the file as written ("stderr"-like names are not special in
	// nginx's access_log); the caller resolves it against the prefix.
	Path string
	// PathTemplate is non-nil when the path contains variables; such logs
	// are opened per line and cannot be buffered.
	PathTemplate *variables.Template
	Format       *Format
	Buffer       int           // buffer=size; 0 means unbuffered
	Flush        time.Duration // flush=time; requires Buffer
	Gzip         int           // gzip[=level] compression level, 0 for none
	// If is the if=condition: the line is skipped when its value is empty
	// or "0".
	If *variables.Template
}

// ParseAccessLog reads the arguments of an access_log directive (after the
// directive name) with nginx's checks and messages. The format defaults to
// "combined".
func ParseAccessLog(args []string, reg *variables.Registry, formats *Formats) (*Spec, error) {
	if len(args) == 0 {
		return nil, &Error{Msg: `invalid number of arguments in "access_log" directive`}
	}
	if args[0] == "off" {
		if len(args) == 1 {
			return &Spec{Off: true}, nil
		}
		return nil, &Error{Msg: `invalid parameter "` + args[1] + `"`}
	}
	s := &Spec{Path: args[0]}
	if strings.HasPrefix(args[0], "syslog:") {
		return nil, &Error{Msg: `syslog is not supported in "access_log"`}
	}
	if variables.HasVariables(args[0]) {
		t, err := reg.Compile(args[0])
		if err != nil {
			return nil, err
		}
		s.PathTemplate = t
	}
	name := "combined"
	if len(args) >= 2 {
		name = args[1]
	}
	f, ok := formats.Lookup(name)
	if !ok {
		return nil, &Error{Msg: `unknown log format "` + name + `"`, Err: ErrUnknownFormat}
	}
	s.Format = f
	for _, a := range args[min(2, len(args)):] {
		switch {
		case strings.HasPrefix(a, "buffer="):
			v := a[len("buffer="):]
			n, ok := parseSize(v)
			if !ok || n == 0 {
				return nil, &Error{Msg: `invalid buffer size "` + v + `"`}
			}
			s.Buffer = n
		case strings.HasPrefix(a, "flush="):
			v := a[len("flush="):]
			d, ok := parseMsec(v)
			if !ok || d == 0 {
				return nil, &Error{Msg: `invalid flush time "` + v + `"`}
			}
			s.Flush = d
		case a == "gzip" || strings.HasPrefix(a, "gzip="):
			if s.Buffer == 0 {
				s.Buffer = 64 * 1024
			}
			if a == "gzip" {
				s.Gzip = 1
				continue
			}
			lvl, err := strconv.Atoi(a[len("gzip="):])
			if err != nil || lvl < 1 || lvl > 9 {
				return nil, &Error{Msg: `invalid compression level "` + a[len("gzip="):] + `"`}
			}
			s.Gzip = lvl
		case strings.HasPrefix(a, "if="):
			t, err := reg.Compile(a[len("if="):])
			if err != nil {
				return nil, err
			}
			s.If = t
		default:
			return nil, &Error{Msg: `invalid parameter "` + a + `"`}
		}
	}
	if s.Flush != 0 && s.Buffer == 0 {
		return nil, &Error{Msg: `no buffer is defined for access_log "` + s.Path + `"`}
	}
	if s.Buffer != 0 && s.PathTemplate != nil {
		return nil, &Error{Msg: "buffered logs cannot have variables in name"}
	}
	return s, nil
}

// parseSize reads an nginx size: digits with an optional k/K, m/M or g/G
// suffix (ngx_parse_size).
func parseSize(s string) (int, bool) {
	mult := 1
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, s = 1<<30, s[:n-1]
		}
	}
	if s == "" {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
		if v > 1<<40 {
			return 0, false
		}
	}
	return v * mult, true
}

// parseMsec reads an nginx time in milliseconds precision
// (ngx_parse_time with is_sec=0): numbers with units y M w d h m s ms in
// decreasing order, optionally separated by spaces; a bare number is
// seconds.
func parseMsec(s string) (time.Duration, bool) {
	units := []struct {
		u string
		d time.Duration
	}{
		{"y", 365 * 24 * time.Hour}, {"M", 30 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
		{"d", 24 * time.Hour}, {"h", time.Hour}, {"ms", time.Millisecond}, {"m", time.Minute},
		{"s", time.Second},
	}
	rank := map[string]int{"y": 0, "M": 1, "w": 2, "d": 3, "h": 4, "m": 5, "s": 6, "ms": 7}
	var total time.Duration
	last := -1
	valid := false
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 12 {
			return 0, false
		}
		v, _ := strconv.ParseInt(s[:i], 10, 64)
		valid = true
		s = s[i:]
		if s == "" {
			if last >= rank["s"] {
				return 0, false
			}
			total += time.Duration(v) * time.Second
			break
		}
		matched := false
		for _, u := range units {
			if strings.HasPrefix(s, u.u) {
				r := rank[u.u]
				if r <= last {
					return 0, false
				}
				last = r
				total += time.Duration(v) * u.d
				s = s[len(u.u):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, false
		}
		s = strings.TrimLeft(s, " ")
	}
	return total, valid
}
