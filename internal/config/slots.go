package config

import (
	"reflect"
	"strings"
	"time"

	"gatehouse/internal/nginxconf"
)

// handler reads one directive into the frame it appears in.
type handler func(c *compiler, f *frame, d *nginxconf.Directive) error

// spec is one row of the directive table.
type spec struct {
	ctx      ctxKind
	block    bool
	min, max int // argument count bounds; max -1 means no limit
	kind     kind
	fn       handler
}

// kind is a directive's value kind, for documentation and for tests that
// walk the table.
type kind int

const (
	kindCustom kind = iota
	kindFlag
	kindNumber
	kindSize
	kindOffset
	kindMsec
	kindSec
	kindEnum
	kindBitmask
	kindList
	kindString
	kindBlock
)

func flagSlot(name string) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[bool](f, name)
		if o.Set {
			return errDup(d)
		}
		v, ok := parseFlag(d.Args[0])
		if !ok {
			return nginxconf.Errorf(d.Pos, "invalid value \"%s\" in \"%s\" directive, it must be \"on\" or \"off\"", d.Args[0], d.Name)
		}
		*o = opt[bool]{V: v, Pos: d.Pos, Set: true}
		return nil
	}
}

func numSlot(name string) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[int](f, name)
		if o.Set {
			return errDup(d)
		}
		v, ok := parseNumber(d.Args[0])
		if !ok {
			return dirErr(d, "invalid number")
		}
		*o = opt[int]{V: v, Pos: d.Pos, Set: true}
		return nil
	}
}

func sizeSlot(name string, offset bool) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[int64](f, name)
		if o.Set {
			return errDup(d)
		}
		v, ok := parseSize(d.Args[0], offset)
		if !ok {
			return dirErr(d, "invalid value")
		}
		*o = opt[int64]{V: v, Pos: d.Pos, Set: true}
		return nil
	}
}

func timeSlot(name string, sec bool) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[time.Duration](f, name)
		if o.Set {
			return errDup(d)
		}
		v, ok := parseTime(d.Args[0], sec)
		if !ok {
			return dirErr(d, "invalid value")
		}
		*o = opt[time.Duration]{V: v, Pos: d.Pos, Set: true}
		return nil
	}
}

func strSlot(name string) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[string](f, name)
		if o.Set {
			return errDup(d)
		}
		*o = opt[string]{V: d.Args[0], Pos: d.Pos, Set: true}
		return nil
	}
}

func enumSlot(name string, tab []enumValue) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[uint64](f, name)
		if o.Set {
			return errDup(d)
		}
		v, ok := lookupEnum(tab, d.Args[0])
		if !ok {
			return nginxconf.Errorf(d.Pos, "invalid value \"%s\"", d.Args[0])
		}
		*o = opt[uint64]{V: v, Pos: d.Pos, Set: true}
		return nil
	}
}

// bitmaskSlot is ngx_conf_set_bitmask_slot: words are OR-ed, also across
// repeats of the directive at one level; a repeated word only warns.
func bitmaskSlot(name string, tab []enumValue) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[uint64](f, name)
		v := o.V
		if !o.Set {
			v = 0
		}
		for _, a := range d.Args {
			bit, ok := lookupEnum(tab, a)
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid value \"%s\"", a)
			}
			if v&bit != 0 {
				c.warn(d.Pos, "duplicate value \"%s\"", a)
			}
			v |= bit
		}
		*o = opt[uint64]{V: v, Pos: d.Pos, Set: true}
		return nil
	}
}

// listSlot appends lowercased names (proxy_hide_header, proxy_pass_header).
func listSlot(name string) handler {
	return func(c *compiler, f *frame, d *nginxconf.Directive) error {
		o := confField[[]string](f, name)
		o.V = append(o.V, strings.ToLower(d.Args[0]))
		o.Pos, o.Set = d.Pos, true
		return nil
	}
}

// acceptSlot accepts a directive that has no effect in gatehouse.
func acceptSlot(c *compiler, f *frame, d *nginxconf.Directive) error { return nil }

// confField returns the setting named name in the frame's conf. Names are
// fixed in the directive table; a test runs every row.
func confField[T any](f *frame, name string) *opt[T] {
	return reflect.ValueOf(f.conf).Elem().FieldByName(name).Addr().Interface().(*opt[T])
}
