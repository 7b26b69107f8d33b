// Package varmap is nginx's map module (ngx_http_map_module) at run time:
// the lookup table of one map block and the compiled map that turns a
// source value into the value of the map's variable.
package varmap

import (
	"errors"
	"regexp"
	"strings"

	"gatehouse/internal/variables"
)

// ErrConflict is a key defined twice in one map: nginx's
// `conflicting parameter "KEY"`.
var ErrConflict = errors.New("conflicting parameter")

// ErrWildcard is a hostnames key that is neither a name nor one of the
// wildcards "*.example.com", ".example.com" and "www.example.*": nginx's
// `invalid hostname or wildcard "KEY"`.
var ErrWildcard = errors.New("invalid hostname or wildcard")

// Table is the lookup of one map: exact keys (compared without regard to
// case, as ngx_http_map_find lowercases the value), hostname wildcards,
// then regexes in order (ngx_hash_find_combined, then the regex list).
// Values are indexes the caller gives meaning to. A Table is immutable once
// built and safe for concurrent use.
type Table struct {
	exact map[string]int
	// head holds "*.example.com" and ".example.com" as ".example.com";
	// tail holds "www.example.*" as "www.example.".
	head, tail map[string]int
	regex      []regexEntry
}

type regexEntry struct {
	re *regexp.Regexp
	v  int
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{exact: map[string]int{}, head: map[string]int{}, tail: map[string]int{}}
}

// Add adds key with value v, lowercased. With wildcards (a map with
// "hostnames" before the key), key may be a server_name style wildcard,
// as ngx_hash_add_key with NGX_HASH_WILDCARD_KEY accepts it. Errors are
// ErrConflict and ErrWildcard.
func (t *Table) Add(key string, v int, wildcards bool) error {
	key = ASCIILower(key)
	if !wildcards {
		return addTo(t.exact, key, v)
	}
	stars := strings.Count(key, "*")
	if stars > 1 || strings.Contains(key, "..") || strings.IndexByte(key, 0) >= 0 {
		return ErrWildcard
	}
	switch {
	case len(key) > 1 && key[0] == '.':
		// ".example.com" is "example.com" and "*.example.com".
		if _, ok := t.exact[key[1:]]; ok {
			return ErrConflict
		}
		if err := addTo(t.head, key, v); err != nil {
			return err
		}
		t.exact[key[1:]] = v
		return nil
	case len(key) > 2 && key[0] == '*' && key[1] == '.':
		if stars != 1 {
			return ErrWildcard
		}
		return addTo(t.head, key[1:], v)
	case len(key) > 2 && key[len(key)-2] == '.' && key[len(key)-1] == '*':
		return addTo(t.tail, key[:len(key)-1], v)
	case stars > 0:
		return ErrWildcard
	}
	return addTo(t.exact, key, v)
}

// ASCIILower lowercases A-Z only, as ngx_tolower does: other bytes,
// invalid UTF-8 included, are kept.
func ASCIILower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func addTo(m map[string]int, key string, v int) error {
	if _, ok := m[key]; ok {
		return ErrConflict
	}
	m[key] = v
	return nil
}

// AddRegex appends a regex key; regexes are tried in the order added,
// after every exact and wildcard key.
func (t *Table) AddRegex(re *regexp.Regexp, v int) {
	t.regex = append(t.regex, regexEntry{re: re, v: v})
}

// Regexps returns the table's regexes in order (their named groups are
// variables).
func (t *Table) Regexps() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(t.regex))
	for i, e := range t.regex {
		out[i] = e.re
	}
	return out
}

// Match is the outcome of Find.
type Match struct {
	// Value is the matched key's value, -1 when nothing matched.
	Value int
	// Regexp and Index are the regex that matched and its submatch
	// offsets into the value, when it has capture groups (nil otherwise).
	Regexp *regexp.Regexp
	Index  []int
}

// Find looks value up as ngx_http_map_find does: the lowercased value
// among the exact keys, then the longest "*.x" wildcard, then the
// longest "x.*" wildcard, then the regexes in order (only for a non-empty
// value). low is scratch for the lowercased value; Find returns it for
// reuse. Only a regex with capture groups that matches allocates.
func (t *Table) Find(value, low []byte) (Match, []byte) {
	low = low[:0]
	for _, c := range value {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low = append(low, c)
	}
	if v, ok := t.exact[string(low)]; ok {
		return Match{Value: v}, low
	}
	if len(t.head) > 0 {
		for i := 0; i < len(low); i++ {
			if low[i] == '.' {
				if v, ok := t.head[string(low[i:])]; ok {
					return Match{Value: v}, low
				}
			}
		}
	}
	if len(t.tail) > 0 {
		for i := len(low) - 2; i >= 0; i-- {
			if low[i] == '.' {
				if v, ok := t.tail[string(low[:i+1])]; ok {
					return Match{Value: v}, low
				}
			}
		}
	}
	if len(value) > 0 {
		for _, e := range t.regex {
			if e.re.NumSubexp() == 0 {
				if e.re.Match(value) {
					return Match{Value: e.v}, low
				}
				continue
			}
			if idx := e.re.FindSubmatchIndex(value); idx != nil {
				return Match{Value: e.v, Regexp: e.re, Index: idx}, low
			}
		}
	}
	return Match{Value: -1}, low
}

// Map is one compiled map directive: the source complex value, the
// table, the results by table value and the default (nil is the empty
// string nginx gives a map without one).
type Map struct {
	Source    *variables.Template
	Table     *Table
	Results   []*variables.Template
	Default   *variables.Template
	Hostnames bool
	// Volatile is "volatile": the value is computed anew at every use
	// instead of once per request.
	Volatile bool
}

// Result returns the template for a Find outcome.
func (m *Map) Result(match Match) *variables.Template {
	if match.Value >= 0 && match.Value < len(m.Results) {
		return m.Results[match.Value]
	}
	return m.Default
}
