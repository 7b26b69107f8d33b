package variables

import "strings"

// Registry resolves variable names to IDs. It holds the built-in names and
// the names the configuration defines (set, map, named regex captures). It
// is immutable once built and safe for concurrent use. A nil *Registry
// knows only the built-ins.
//
// Like nginx, which checks variable names only after reading the whole
// configuration, the configuration layer should collect every defined name
// (including the named groups of every regex server_name, location and
// map) before building the registry, then compile arguments against it.
// Named captures are ordinary defined variables: the router stores a
// match's named groups into the request's slots for their IDs.
type Registry struct {
	defined map[string]ID
	names   []string // defined names by ID-FirstDefined
}

// NewRegistry returns a registry of the built-in variables plus the given
// defined names, which get IDs FirstDefined, FirstDefined+1, ... in order
// (repeats share the first ID). Names are case-insensitive. A defined name
// equal to a built-in that nginx does not allow to redefine is a
// *DuplicateError; one nginx allows ("args") keeps the built-in ID.
func NewRegistry(defined ...string) (*Registry, error) {
	r := &Registry{defined: make(map[string]ID, len(defined))}
	for _, n := range defined {
		n = strings.ToLower(n)
		if _, ok := r.defined[n]; ok {
			continue
		}
		if _, ok := builtinNames[n]; ok {
			if changeable[n] {
				continue
			}
			return nil, &DuplicateError{Name: n}
		}
		r.defined[n] = FirstDefined + ID(len(r.names))
		r.names = append(r.names, n)
	}
	return r, nil
}

// NumDefined returns how many distinct defined names the registry holds; a
// request context sizes its slot array with it.
func (r *Registry) NumDefined() int { return len(r.names) }

// DefinedName returns the name of a defined variable's ID.
func (r *Registry) DefinedName(id ID) (string, bool) {
	if id < FirstDefined || int(id-FirstDefined) >= len(r.names) {
		return "", false
	}
	return r.names[id-FirstDefined], true
}

// Lookup resolves a variable name (without "$"; any case) to its ID and the
// argument a Source receives with it: the lowercased NAME part for prefix
// families, the name itself for defined variables, nil otherwise. An
// unknown name is an *UnknownError.
//
// Precedence follows nginx: exact built-ins and defined names first, then
// the prefix families.
func (r *Registry) Lookup(name string) (ID, []byte, error) {
	lower := strings.ToLower(name)
	if id, ok := builtinNames[lower]; ok {
		return id, nil, nil
	}
	if r != nil {
		if id, ok := r.defined[lower]; ok {
			return id, []byte(lower), nil
		}
	}
	for _, p := range prefixes {
		if strings.HasPrefix(lower, p.prefix) {
			return p.id, []byte(lower[len(p.prefix):]), nil
		}
	}
	return None, nil, &UnknownError{Name: lower}
}
