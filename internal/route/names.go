package route

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalidName classifies a server name that is neither exact, a
// "*.x", ".x" or "x.*" wildcard, nor a regular expression.
var ErrInvalidName = errors.New("invalid server name or wildcard")

// Name is one server_name argument after the configuration has validated
// it: an exact name, "*.example.com", ".example.com", "mail.*", "" (requests
// without Host), or a regular expression (Regexp set; Name then holds the
// text as written, with its leading "~").
type Name struct {
	Name   string
	Regexp *regexp.Regexp
}

// NamedServer is the routing view of one server block on one address: the
// caller's identifier for it and its server_name arguments in order.
type NamedServer struct {
	ID    int
	Names []Name
}

// Warning is a configuration-time notice that nginx logs at level warn,
// such as a server name claimed by two servers on one address.
type Warning struct {
	Text string
}

// String returns the text nginx logs, without level or file position.
func (w Warning) String() string { return w.Text }

// NameError reports a server name that cannot be used on an address; its
// text is nginx's, without the file position.
type NameError struct {
	Name string
	Addr string
}

// Error returns nginx's message for the name.
func (e *NameError) Error() string {
	return fmt.Sprintf("invalid server name or wildcard \"%s\" on %s", e.Name, e.Addr)
}

// Unwrap classifies the error as ErrInvalidName.
func (e *NameError) Unwrap() error { return ErrInvalidName }

// Names is the immutable server_name lookup table of one listening
// address:port. It is safe for concurrent use.
type Names struct {
	addr  string
	def   int
	built bool

	exact map[string]int
	head  map[string]headEntry // "*.x" and ".x" keyed by "x"
	tail  map[string]int       // "x.*" keyed by "x"
	regex []regexName
}

type headEntry struct {
	id   int
	bare bool // ".x": also matches "x" itself
}

type regexName struct {
	id int
	re *regexp.Regexp
}

// NewNames builds the lookup table for the servers of one address, given in
// configuration order; addr is the address text used in messages (e.g.
// "0.0.0.0:80") and defaultID the default server of the address.
//
// As in nginx, a name already taken on this address (by any server,
// including the same one) is ignored with the warning `conflicting server
// name "x" on ADDR, ignored`; ".x" conflicts with both "x" and "*.x". Also
// as in nginx, an address with a single server gets no table at all (every
// request goes to that server, Find reports no match and nothing is
// checked or warned), unless that server's last regex name has captures.
func NewNames(addr string, servers []NamedServer, defaultID int) (*Names, []Warning, error) {
	t := &Names{addr: addr, def: defaultID}
	if len(servers) == 0 {
		return t, nil, nil
	}
	if len(servers) == 1 && !lastRegexCaptures(servers[0].Names) {
		return t, nil, nil
	}
	t.built = true
	t.exact = make(map[string]int)
	t.head = make(map[string]headEntry)
	t.tail = make(map[string]int)
	taken := make(map[string]struct{}) // exact keys, including the "x" of ".x"
	var warns []Warning
	conflict := func(name string) {
		warns = append(warns, Warning{Text: fmt.Sprintf("conflicting server name \"%s\" on %s, ignored", name, addr)})
	}

	for _, s := range servers {
		for _, n := range s.Names {
			if n.Regexp != nil {
				t.regex = append(t.regex, regexName{id: s.ID, re: n.Regexp})
				continue
			}
			name := asciiLower(n.Name)
			kind, key := classifyName(name)
			switch kind {
			case nameInvalid:
				return nil, warns, &NameError{Name: name, Addr: addr}
			case nameExact:
				if _, ok := taken[key]; ok {
					conflict(name)
					continue
				}
				taken[key] = struct{}{}
				t.exact[key] = s.ID
			case nameDot:
				if _, ok := taken[key]; ok {
					conflict(name)
					continue
				}
				// nginx records the exact part before it checks the
				// wildcard part, so a later exact "x" conflicts even if
				// this ".x" itself is ignored.
				taken[key] = struct{}{}
				if _, ok := t.head[key]; ok {
					conflict(name)
					continue
				}
				t.head[key] = headEntry{id: s.ID, bare: true}
			case nameHead:
				if _, ok := t.head[key]; ok {
					conflict(name)
					continue
				}
				t.head[key] = headEntry{id: s.ID}
			case nameTail:
				if _, ok := t.tail[key]; ok {
					conflict(name)
					continue
				}
				t.tail[key] = s.ID
			}
		}
	}
	return t, warns, nil
}

// lastRegexCaptures mirrors nginx's cscf->captures, which each regex
// server_name overwrites: true when the last regex name has groups.
func lastRegexCaptures(names []Name) bool {
	c := false
	for _, n := range names {
		if n.Regexp != nil {
			c = n.Regexp.NumSubexp() > 0
		}
	}
	return c
}

type nameKind uint8

const (
	nameInvalid nameKind = iota
	nameExact
	nameDot  // .example.com
	nameHead // *.example.com
	nameTail // www.example.*
)

// classifyName applies the rules of nginx's ngx_hash_add_key with
// NGX_HASH_WILDCARD_KEY and returns the kind and the lookup key.
func classifyName(name string) (nameKind, string) {
	if strings.Count(name, "*") > 1 || strings.Contains(name, "..") || strings.IndexByte(name, 0) >= 0 {
		return nameInvalid, ""
	}
	switch {
	case len(name) > 1 && name[0] == '.':
		return nameDot, name[1:]
	case len(name) > 2 && name[0] == '*' && name[1] == '.':
		return nameHead, name[2:]
	case len(name) > 2 && name[len(name)-2] == '.' && name[len(name)-1] == '*':
		return nameTail, name[:len(name)-2]
	case strings.IndexByte(name, '*') >= 0:
		return nameInvalid, ""
	}
	return nameExact, name
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Default returns the identifier of the address's default server.
func (t *Names) Default() int { return t.def }

// Addr returns the address text the table was built for.
func (t *Names) Addr() string { return t.addr }

// Find looks up a host that ValidateHost has already normalised (empty for
// a request without Host) in nginx's order: exact name, longest "*.x" or
// ".x" wildcard, longest "x.*" wildcard, then regular expressions in
// configuration order (never for an empty host). It returns the matching
// server and true, or the default server and false.
//
// Exact and wildcard lookups do not allocate. When a regex with capture
// groups matches and caps is not nil, caps receives its submatches (which
// allocates); a regex without groups leaves caps untouched.
func (t *Names) Find(host []byte, caps *Captures) (id int, matched bool) {
	if t == nil {
		return 0, false
	}
	if !t.built {
		return t.def, false
	}
	if id, ok := t.exact[string(host)]; ok {
		return id, true
	}
	if len(t.head) > 0 {
		if e, ok := t.head[string(host)]; ok && e.bare {
			return e.id, true
		}
		for i, c := range host {
			if c == '.' {
				if e, ok := t.head[string(host[i+1:])]; ok {
					return e.id, true
				}
			}
		}
	}
	if len(t.tail) > 0 {
		for i := len(host) - 1; i >= 0; i-- {
			if host[i] == '.' {
				if id, ok := t.tail[string(host[:i])]; ok {
					return id, true
				}
			}
		}
	}
	if len(host) > 0 {
		for _, r := range t.regex {
			if match(r.re, host, caps) {
				return r.id, true
			}
		}
	}
	return t.def, false
}
