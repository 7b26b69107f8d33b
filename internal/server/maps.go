package server

import (
	"errors"
	"fmt"

	"gatehouse/internal/config"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/variables"
	"gatehouse/internal/varmap"
)

// compileMaps compiles the map blocks against reg into the table a
// request context answers map variables from, indexed by ID minus
// variables.FirstDefined (nil for defined variables that are not maps).
// A later map of the same variable replaces an earlier one, as nginx's
// last get_handler wins.
func compileMaps(reg *variables.Registry, maps []*config.Map) ([]*varmap.Map, error) {
	if len(maps) == 0 {
		return nil, nil
	}
	out := make([]*varmap.Map, reg.NumDefined())
	compile := func(text string, pos nginxconf.Pos) (*variables.Template, error) {
		if !variables.HasVariables(text) {
			return variables.Constant(text), nil
		}
		t, err := reg.Compile(text)
		if err != nil {
			if errors.Is(err, variables.ErrUnknown) {
				return nil, err // nginx names no position
			}
			return nil, posErr(pos, err)
		}
		return t, nil
	}
	for _, m := range maps {
		src, err := compile(m.Source, m.Pos)
		if err != nil {
			return nil, err
		}
		vm := &varmap.Map{Source: src, Table: m.Table, Hostnames: m.Hostnames, Volatile: m.Volatile,
			Results: make([]*variables.Template, len(m.Results))}
		for i, r := range m.Results {
			if vm.Results[i], err = compile(r.Text, r.Pos); err != nil {
				return nil, err
			}
		}
		if m.Default != nil {
			if vm.Default, err = compile(m.Default.Text, m.Default.Pos); err != nil {
				return nil, err
			}
		}
		id, _, err := reg.Lookup(m.Variable)
		if err != nil {
			return nil, err
		}
		if id < variables.FirstDefined {
			// Only "args" is a built-in nginx lets a map define.
			return nil, posErr(m.Pos, fmt.Errorf("\"map\" of the built-in variable \"$%s\" is not supported by gatehouse", m.Variable))
		}
		out[id-variables.FirstDefined] = vm
	}
	return out, nil
}
