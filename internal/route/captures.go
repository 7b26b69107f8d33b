package route

import "regexp"

// Captures holds the submatches of the last regular expression with capture
// groups that matched (a regex server_name or location), which is what
// nginx exposes as $1..$9 and as named-capture variables.
//
// Subject aliases the caller's memory (the host or the normalised URI) and
// is valid only as long as that memory is.
//
// In nginx the named captures of a server_name regex become variables that
// stay set after a location regex has replaced $1..$9; a caller that needs
// both keeps its own copy of the server-name Captures. For SNI, pass nil:
// nginx matches server_name regexes without captures during the handshake.
type Captures struct {
	// Regexp is the expression that matched; its SubexpNames give the
	// names of the groups.
	Regexp *regexp.Regexp
	// Subject is the text the expression was matched against.
	Subject []byte
	// Index holds pairs of offsets into Subject as returned by
	// regexp.FindSubmatchIndex; -1 marks a group that did not participate.
	Index []int
}

// Reset forgets any previous match.
func (c *Captures) Reset() {
	*c = Captures{}
}

// Len is the number of groups including group 0 (the whole match); zero
// when nothing has matched.
func (c *Captures) Len() int {
	return len(c.Index) / 2
}

// Group returns submatch n ($n; 0 is the whole match). It reports false
// when there is no such group or the group did not participate, in which
// case nginx substitutes an empty string.
func (c *Captures) Group(n int) ([]byte, bool) {
	if n < 0 || 2*n+1 >= len(c.Index) {
		return nil, false
	}
	lo, hi := c.Index[2*n], c.Index[2*n+1]
	if lo < 0 || hi < lo || hi > len(c.Subject) {
		return nil, false
	}
	return c.Subject[lo:hi], true
}

// Named returns the submatch of the group called name, as nginx sets the
// variable $name for a named capture.
func (c *Captures) Named(name string) ([]byte, bool) {
	if c.Regexp == nil || name == "" {
		return nil, false
	}
	for i, n := range c.Regexp.SubexpNames() {
		if n == name {
			return c.Group(i)
		}
	}
	return nil, false
}

// match runs re against subject. When re has capture groups and caps is not
// nil, a successful match replaces caps (this allocates the offset slice);
// otherwise the match is allocation-free and caps is left untouched, as in
// nginx, where a regex without captures does not reset $1..$9.
func match(re *regexp.Regexp, subject []byte, caps *Captures) bool {
	if caps == nil || re.NumSubexp() == 0 {
		return re.Match(subject)
	}
	idx := re.FindSubmatchIndex(subject)
	if idx == nil {
		return false
	}
	*caps = Captures{Regexp: re, Subject: subject, Index: idx}
	return true
}
