package request

import (
	"gatehouse/internal/route"
	"gatehouse/internal/varmap"
)

// mapSlot is the per-request state of one map variable: its value once
// computed (nginx caches a non-volatile variable for the request), and
// the buffers its source value and lowercased key are computed in, kept
// from request to request.
type mapSlot struct {
	state      uint8
	val        []byte
	src, lower []byte
}

const (
	mapUnset uint8 = iota
	mapBusy
	mapDone
)

// mapVar answers the map variable m (slot i): ngx_http_map_variable. A
// regex key with capture groups that matches sets $1..$9 and its named
// groups for the rest of the request, as nginx's do. A map whose value
// needs itself is not found (nginx's "cycle while evaluating variable").
func (x *Ctx) mapVar(m *varmap.Map, i int, dst []byte) ([]byte, bool) {
	if len(x.maps) < len(x.Env.Maps) {
		// Sized once for every map, so that the recursion below never
		// moves a slot.
		x.maps = append(x.maps, make([]mapSlot, len(x.Env.Maps)-len(x.maps))...)
	}
	s := &x.maps[i]
	switch s.state {
	case mapDone:
		return append(dst, s.val...), true
	case mapBusy:
		return dst, false
	}
	s.state = mapBusy
	s.src = m.Source.Append(s.src[:0], x)
	key := s.src
	if m.Hostnames && len(key) > 0 && key[len(key)-1] == '.' {
		key = key[:len(key)-1]
	}
	var match varmap.Match
	match, s.lower = m.Table.Find(key, s.lower)
	if match.Regexp != nil {
		x.Caps = route.Captures{Regexp: match.Regexp, Subject: key, Index: match.Index}
	}
	s.val = s.val[:0]
	if t := m.Result(match); t != nil {
		s.val = t.Append(s.val, x)
	}
	if m.Volatile {
		s.state = mapUnset
	} else {
		s.state = mapDone
	}
	return append(dst, s.val...), true
}
