package config

import (
	"errors"
	"fmt"
	"strings"

	"gatehouse/internal/nginxconf"
	"gatehouse/internal/variables"
	"gatehouse/internal/varmap"
)

// Map is one map block (ngx_http_map_block): Variable (without "$") takes
// the Result of the first key Table matches Source's value with, or
// Default. The templates are compiled by the server with the registry of
// the generation, which knows every variable the configuration defines.
type Map struct {
	Pos      nginxconf.Pos
	Source   string
	Variable string
	// Table maps keys to indexes of Results.
	Table   *varmap.Table
	Results []MapResult
	// Default is nil when the block has no "default".
	Default   *MapResult
	Hostnames bool
	Volatile  bool
}

// MapResult is the value text of one map line, with its position.
type MapResult struct {
	Text string
	Pos  nginxconf.Pos
}

// hMap is ngx_http_map_block with ngx_http_map as the handler of each
// line of the block.
func hMap(c *compiler, f *frame, d *nginxconf.Directive) error {
	name := d.Args[1]
	if len(name) < 2 || name[0] != '$' {
		return nginxconf.Errorf(d.Pos, "invalid variable name \"%s\"", name)
	}
	name = name[1:]
	if _, err := variables.NewRegistry(name); err != nil {
		return nginxconf.Errorf(d.Pos, "%s", err.Error())
	}
	m := &Map{Pos: d.Pos, Source: d.Args[0], Variable: name, Table: varmap.NewTable()}
	for _, e := range d.Block {
		if e == nil {
			continue
		}
		if e.Block != nil {
			return nginxconf.Errorf(e.Pos, "unexpected \"{\"")
		}
		if len(e.Args) == 0 && e.Name == "hostnames" {
			m.Hostnames = true
			continue
		}
		if len(e.Args) == 0 && e.Name == "volatile" {
			m.Volatile = true
			continue
		}
		if len(e.Args) != 1 {
			return nginxconf.Errorf(e.Pos, "invalid number of the map parameters")
		}
		key, res := e.Name, MapResult{Text: e.Args[0], Pos: e.Pos}
		if key == "default" {
			if m.Default != nil {
				return nginxconf.Errorf(e.Pos, "duplicate default map parameter")
			}
			m.Default = &res
			continue
		}
		if strings.HasPrefix(key, "~") {
			pat, caseless := key[1:], false
			if strings.HasPrefix(pat, "*") {
				pat, caseless = pat[1:], true
			}
			re, err := compileRegex(pat, caseless)
			if err != nil {
				return &nginxconf.Error{Pos: e.Pos, Msg: fmt.Sprintf("regular expression \"%s\" cannot be compiled: %s", pat, regexReason(err)), Err: err}
			}
			m.Table.AddRegex(re, len(m.Results))
			m.Results = append(m.Results, res)
			continue
		}
		if strings.HasPrefix(key, "\\") {
			key = key[1:]
		}
		if err := m.Table.Add(key, len(m.Results), m.Hostnames); err != nil {
			if errors.Is(err, varmap.ErrWildcard) {
				return nginxconf.Errorf(e.Pos, "invalid hostname or wildcard \"%s\"", key)
			}
			// ngx_hash_add_key has lowercased the key by then.
			return nginxconf.Errorf(e.Pos, "conflicting parameter \"%s\"", varmap.ASCIILower(key))
		}
		m.Results = append(m.Results, res)
	}
	c.m.maps = append(c.m.maps, m)
	return nil
}
