package route

import "errors"

// ErrInvalidURI classifies a request target that nginx rejects while
// normalising it (bad or NUL %-escape, "/.." above the root): the request is
// answered with 400 and logged as "client sent invalid request".
var ErrInvalidURI = errors.New("client sent invalid request")

// URI is the result of normalising a request target.
type URI struct {
	// Path is the normalised path ($uri) used for location matching; it
	// aliases the buffer passed to NormalizeURI.
	Path []byte
	// Args is the raw query after the first "?" up to any "#" ($args); it
	// aliases the target. Nil when there is no "?" or nothing follows it
	// (nginx then treats $args as not found).
	Args []byte
	// Quoted reports that the path had a %-escape (nginx's quoted_uri),
	// which makes proxy_pass with a URI part re-escape the mapped path.
	Quoted bool
	// Plus reports a "+" in the path, raw or escaped (nginx's plus_in_uri).
	Plus bool
}

// NormalizeURI turns a raw origin-form request target (path and optional
// query) into the URI nginx matches locations against, exactly like
// ngx_http_parse_complex_uri: %XX escapes are decoded (a decoded "/" or "."
// takes part in the steps below, a decoded "?", "%" or "#" does not), "/./"
// is removed, "/../" removes the previous segment, "//" is merged when
// mergeSlashes is set, and the path ends at "?" or "#". An empty target or
// one starting with "?" (absolute form without a path) gets the path "/".
//
// The raw target is left untouched ($request_uri); the path is appended to
// dst[:0], which should have capacity len(target)+1 to avoid allocating.
// Errors wrap ErrInvalidURI.
func NormalizeURI(dst, target []byte, mergeSlashes bool) (URI, error) {
	const (
		usual = iota
		slash
		dot
		dotDot
		quoted
		quotedSecond
	)
	var res URI
	u := dst[:0]
	if len(target) == 0 || target[0] == '?' {
		u = append(u, '/')
	} else if target[0] != '/' {
		return URI{}, ErrInvalidURI
	}

	state, quotedState := usual, usual
	var decoded, ch byte
	i := 0
	again := false
	args := -1
	stopped := false // ended at "?" or "#" rather than at the end

	// back removes the last segment after "/..": u ends with "/.." and
	// the segment before it is dropped, keeping its leading slash.
	back := func() bool {
		j := len(u) - 4
		for {
			if j < 0 {
				return false
			}
			if u[j] == '/' {
				u = u[:j+1]
				return true
			}
			j--
		}
	}

loop:
	for {
		if !again {
			if i >= len(target) {
				break
			}
			ch = target[i]
			i++
		}
		again = false

		switch state {
		case usual:
			switch ch {
			case '/':
				state = slash
				u = append(u, ch)
			case '%':
				quotedState = state
				state = quoted
			case '?':
				args = i
				stopped = true
				break loop
			case '#':
				stopped = true
				break loop
			case '+':
				res.Plus = true
				u = append(u, ch)
			default:
				u = append(u, ch)
			}

		case slash:
			switch ch {
			case '/':
				if !mergeSlashes {
					u = append(u, ch)
				}
			case '.':
				state = dot
				u = append(u, ch)
			case '%':
				quotedState = state
				state = quoted
			case '?':
				args = i
				stopped = true
				break loop
			case '#':
				stopped = true
				break loop
			case '+':
				res.Plus = true
				fallthrough
			default:
				state = usual
				u = append(u, ch)
			}

		case dot:
			switch ch {
			case '/':
				state = slash
				u = u[:len(u)-1]
			case '.':
				state = dotDot
				u = append(u, ch)
			case '%':
				quotedState = state
				state = quoted
			case '?':
				u = u[:len(u)-1]
				args = i
				stopped = true
				break loop
			case '#':
				u = u[:len(u)-1]
				stopped = true
				break loop
			case '+':
				res.Plus = true
				fallthrough
			default:
				state = usual
				u = append(u, ch)
			}

		case dotDot:
			switch ch {
			case '/', '?', '#':
				if !back() {
					return URI{}, ErrInvalidURI
				}
				if ch == '?' {
					args = i
					stopped = true
					break loop
				}
				if ch == '#' {
					stopped = true
					break loop
				}
				state = slash
			case '%':
				quotedState = state
				state = quoted
			case '+':
				res.Plus = true
				fallthrough
			default:
				state = usual
				u = append(u, ch)
			}

		case quoted:
			res.Quoted = true
			if h, ok := unhex(ch); ok {
				decoded = h
				state = quotedSecond
				continue
			}
			return URI{}, ErrInvalidURI

		case quotedSecond:
			h, ok := unhex(ch)
			if !ok {
				return URI{}, ErrInvalidURI
			}
			ch = decoded<<4 | h
			switch ch {
			case 0:
				return URI{}, ErrInvalidURI
			case '%', '#', '?':
				state = usual
				u = append(u, ch)
				continue
			case '+':
				res.Plus = true
			}
			state = quotedState
			again = true
		}
	}

	if !stopped {
		switch state {
		case quoted, quotedSecond:
			return URI{}, ErrInvalidURI
		case dot:
			u = u[:len(u)-1]
		case dotDot:
			if !back() {
				return URI{}, ErrInvalidURI
			}
		}
	}

	if args >= 0 {
		end, hash := len(target), false
		for j := args; j < len(target); j++ {
			if target[j] == '#' {
				end, hash = j, true
				break
			}
		}
		// nginx leaves $args unset for a bare trailing "?" but sets it,
		// empty, when a "#" ends it.
		if end > args || hash {
			res.Args = target[args:end:end]
		}
	}
	res.Path = u
	return res, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10, true
	}
	return 0, false
}
