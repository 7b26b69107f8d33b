package accesslog

import (
	"errors"
	"testing"
	"time"

	"gatehouse/internal/variables"
)

func TestParseAccessLog(t *testing.T) {
	reg := registry(t)
	formats := NewFormats(reg)
	if _, err := formats.Define([]string{"main", "$uri"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		check func(*Spec) bool
	}{
		{[]string{"off"}, func(s *Spec) bool { return s.Off }},
		{[]string{"logs/access.log"}, func(s *Spec) bool {
			return s.Path == "logs/access.log" && s.Format.Name() == "combined" && s.Buffer == 0 && s.If == nil && s.PathTemplate == nil
		}},
		{[]string{"/var/log/a.log", "MAIN"}, func(s *Spec) bool { return s.Format.Name() == "main" }},
		{[]string{"/a.log", "main", "buffer=32k"}, func(s *Spec) bool { return s.Buffer == 32*1024 }},
		{[]string{"/a.log", "main", "buffer=1m", "flush=5s"}, func(s *Spec) bool { return s.Buffer == 1<<20 && s.Flush == 5*time.Second }},
		{[]string{"/a.log", "main", "buffer=100", "flush=1m 30s"}, func(s *Spec) bool { return s.Buffer == 100 && s.Flush == 90*time.Second }},
		{[]string{"/a.log", "main", "buffer=4K", "flush=500ms"}, func(s *Spec) bool { return s.Flush == 500*time.Millisecond }},
		{[]string{"/a.log", "main", "flush=2", "buffer=1g"}, func(s *Spec) bool { return s.Flush == 2*time.Second && s.Buffer == 1<<30 }},
		{[]string{"/a.log", "main", "gzip"}, func(s *Spec) bool { return s.Gzip == 1 && s.Buffer == 64*1024 }},
		{[]string{"/a.log", "main", "buffer=8k", "gzip=9"}, func(s *Spec) bool { return s.Gzip == 9 && s.Buffer == 8*1024 }},
		{[]string{"/a.log", "main", "if=$arg_log"}, func(s *Spec) bool { return s.If != nil && s.If.Uses(variables.Arg) }},
		{[]string{"/logs/$host.log", "main"}, func(s *Spec) bool { return s.PathTemplate != nil && s.PathTemplate.Uses(variables.Host) }},
	}
	for _, tc := range tests {
		s, err := ParseAccessLog(tc.args, reg, formats)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !tc.check(s) {
			t.Errorf("%q: unexpected %+v", tc.args, s)
		}
	}
}

func TestParseAccessLogErrors(t *testing.T) {
	reg := registry(t)
	formats := NewFormats(reg)
	tests := []struct {
		args []string
		want string
		is   error
	}{
		{nil, `invalid number of arguments in "access_log" directive`, nil},
		{[]string{"off", "main"}, `invalid parameter "main"`, nil},
		{[]string{"/a.log", "main"}, `unknown log format "main"`, ErrUnknownFormat},
		{[]string{"/a.log", "combined", "buffer=0"}, `invalid buffer size "0"`, nil},
		{[]string{"/a.log", "combined", "buffer=x"}, `invalid buffer size "x"`, nil},
		{[]string{"/a.log", "combined", "buffer=10q"}, `invalid buffer size "10q"`, nil},
		{[]string{"/a.log", "combined", "buffer="}, `invalid buffer size ""`, nil},
		{[]string{"/a.log", "combined", "buffer=1k", "flush=0"}, `invalid flush time "0"`, nil},
		{[]string{"/a.log", "combined", "buffer=1k", "flush=5x"}, `invalid flush time "5x"`, nil},
		{[]string{"/a.log", "combined", "buffer=1k", "flush=5s 1m"}, `invalid flush time "5s 1m"`, nil},
		{[]string{"/a.log", "combined", "buffer=1k", "flush="}, `invalid flush time ""`, nil},
		{[]string{"/a.log", "combined", "flush=5s"}, `no buffer is defined for access_log "/a.log"`, nil},
		{[]string{"/a.log", "combined", "gzip=0"}, `invalid compression level "0"`, nil},
		{[]string{"/a.log", "combined", "gzip=10"}, `invalid compression level "10"`, nil},
		{[]string{"/a.log", "combined", "nope"}, `invalid parameter "nope"`, nil},
		{[]string{"/a.log", "combined", "if=$nope"}, `unknown "nope" variable`, variables.ErrUnknown},
		{[]string{"/a.log", "combined", "if=${x"}, `the closing bracket in "x" variable is missing`, variables.ErrMissingBracket},
		{[]string{"/$host.log", "combined", "buffer=1k"}, "buffered logs cannot have variables in name", nil},
		{[]string{"/$.log"}, "invalid variable name", variables.ErrInvalidName},
		{[]string{"syslog:server=unix:/dev/log"}, `syslog is not supported in "access_log"`, nil},
	}
	for _, tc := range tests {
		_, err := ParseAccessLog(tc.args, reg, formats)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: err %v, want %s", tc.args, err, tc.want)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%q: not %v", tc.args, tc.is)
		}
	}
}
