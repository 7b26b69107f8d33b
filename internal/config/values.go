package config

import (
	"math"
	"strings"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/tempfile"
	"gatehouse/internal/tlsterm"
	"gatehouse/internal/upstream"
)

// parseNumber is ngx_atoi: decimal digits only, no sign, no overflow.
func parseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt-int(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseSize is ngx_parse_size (k, m suffixes) and, with offset, also g
// (ngx_parse_offset).
func parseSize(s string, offset bool) (int64, bool) {
	if s == "" {
		return 0, false
	}
	scale := int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		scale = 1 << 10
		s = s[:len(s)-1]
	case 'm', 'M':
		scale = 1 << 20
		s = s[:len(s)-1]
	case 'g', 'G':
		if offset {
			scale = 1 << 30
			s = s[:len(s)-1]
		}
	}
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n > math.MaxInt64/scale {
		return 0, false
	}
	return n * scale, true
}

// parseTime is ngx_parse_time. With sec it reads a seconds-typed value
// (rejects "ms"); otherwise a millisecond-typed one (rejects "y" and "M").
// Parts must come in descending unit order; a bare number means seconds.
func parseTime(s string, sec bool) (time.Duration, bool) {
	const (
		stStart = iota
		stYear
		stMonth
		stWeek
		stDay
		stHour
		stMin
		stSec
		stMsec
		stLast
	)
	step := stMonth
	if sec {
		step = stStart
	}
	var total, value int64
	valid := false
	const maxV = int64(math.MaxInt32) // nginx's limits are per-unit; a 32-bit cap per part is close and safe
	for i := 0; i < len(s); {
		c := s[i]
		i++
		if c >= '0' && c <= '9' {
			if value > maxV {
				return 0, false
			}
			value = value*10 + int64(c-'0')
			valid = true
			continue
		}
		var scale int64
		switch c {
		case 'y':
			if step > stStart {
				return 0, false
			}
			step, scale = stYear, 365*86400
		case 'M':
			if step >= stMonth {
				return 0, false
			}
			step, scale = stMonth, 30*86400
		case 'w':
			if step >= stWeek {
				return 0, false
			}
			step, scale = stWeek, 7*86400
		case 'd':
			if step >= stDay {
				return 0, false
			}
			step, scale = stDay, 86400
		case 'h':
			if step >= stHour {
				return 0, false
			}
			step, scale = stHour, 3600
		case 'm':
			if i < len(s) && s[i] == 's' {
				if sec || step >= stMsec {
					return 0, false
				}
				i++
				step, scale = stMsec, 1
				break
			}
			if step >= stMin {
				return 0, false
			}
			step, scale = stMin, 60
		case 's':
			if step >= stSec {
				return 0, false
			}
			step, scale = stSec, 1
		case ' ':
			if step >= stSec {
				return 0, false
			}
			step, scale = stLast, 1
		default:
			return 0, false
		}
		if step != stMsec && !sec {
			scale *= 1000
		}
		if value > math.MaxInt64/int64(time.Millisecond)/scale/2 {
			return 0, false
		}
		total += value * scale
		value = 0
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	if !valid {
		return 0, false
	}
	if !sec {
		value *= 1000
	}
	total += value
	if sec {
		return time.Duration(total) * time.Second, true
	}
	return time.Duration(total) * time.Millisecond, true
}

// parseFlag reports the value of an on/off argument (case-insensitive).
func parseFlag(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "on"):
		return true, true
	case strings.EqualFold(s, "off"):
		return false, true
	}
	return false, false
}

// enumValue is one word of an enum or bitmask directive.
type enumValue struct {
	name string
	val  uint64
}

var (
	httpVersionEnum  = []enumValue{{"1.0", uint64(HTTP10)}, {"1.1", uint64(HTTP11)}}
	bodyInFileEnum   = []enumValue{{"off", uint64(tempfile.InFileOff)}, {"on", uint64(tempfile.InFileOn)}, {"clean", uint64(tempfile.InFileClean)}}
	verifyClientEnum = []enumValue{
		{"off", uint64(tlsterm.VerifyOff)}, {"on", uint64(tlsterm.VerifyOn)},
		{"optional", uint64(tlsterm.VerifyOptional)}, {"optional_no_ca", uint64(tlsterm.VerifyOptionalNoCA)},
	}
	protocolBits = []enumValue{
		{"SSLv2", uint64(certs.SSLv2)}, {"SSLv3", uint64(certs.SSLv3)}, {"TLSv1", uint64(certs.TLSv1)},
		{"TLSv1.1", uint64(certs.TLSv1_1)}, {"TLSv1.2", uint64(certs.TLSv1_2)}, {"TLSv1.3", uint64(certs.TLSv1_3)},
	}
	nextUpstreamBits = []enumValue{
		{"error", uint64(upstream.NextError)}, {"timeout", uint64(upstream.NextTimeout)},
		{"invalid_header", uint64(upstream.NextInvalidHeader)}, {"http_500", uint64(upstream.NextHTTP500)},
		{"http_502", uint64(upstream.NextHTTP502)}, {"http_503", uint64(upstream.NextHTTP503)},
		{"http_504", uint64(upstream.NextHTTP504)}, {"http_403", uint64(upstream.NextHTTP403)},
		{"http_404", uint64(upstream.NextHTTP404)}, {"http_429", uint64(upstream.NextHTTP429)},
		{"non_idempotent", uint64(upstream.NextNonIdempotent)}, {"off", uint64(upstream.NextOff)},
	}
)

func lookupEnum(tab []enumValue, s string) (uint64, bool) {
	for _, e := range tab {
		if strings.EqualFold(e.name, s) {
			return e.val, true
		}
	}
	return 0, false
}

// protocolNames lists the words of p in nginx's order.
func protocolNames(p certs.ProtocolSet) []string {
	var out []string
	for _, e := range protocolBits {
		if uint64(p)&e.val != 0 {
			out = append(out, e.name)
		}
	}
	return out
}

// hasVariable reports whether s has a "$", which is how nginx decides
// (ngx_http_script_variables_count) that a value is evaluated per request.
func hasVariable(s string) bool {
	return strings.IndexByte(s, '$') >= 0
}
