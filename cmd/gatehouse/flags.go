package main

import (
	"fmt"
	"strings"
)

// options are the parsed command-line flags, with nginx's meanings.
type options struct {
	help, version, versionFull bool
	test, dump, quiet          bool
	signal                     string // -s
	prefix                     string // -p, with a trailing slash
	conf                       string // -c, as given
	errorLog                   string // -e
	globals                    string // -g
	demo                       bool   // the "demo" subcommand
	demoArgs                   []string
	doctor                     bool // the "doctor" subcommand
}

// usageError is a command-line mistake; its text is printed after
// "gatehouse: " as nginx prints its own.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseArgs reads the arguments the way nginx's ngx_get_options does:
// flags may be combined (-tq), and a value may be attached (-cfile) or be
// the next argument (-c file).
func parseArgs(args []string) (*options, error) {
	o := &options{}
	if len(args) > 0 && args[0] == "demo" {
		o.demo = true
		o.demoArgs = args[1:]
		return o, nil
	}
	// "doctor" takes the flags that name the configuration (-c, -p, -g).
	if len(args) > 0 && args[0] == "doctor" {
		o.doctor = true
		args = args[1:]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			return nil, &usageError{fmt.Sprintf("invalid option: \"%s\"", a)}
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch c {
			case '?', 'h':
				o.help = true
			case 'v':
				o.version = true
			case 'V':
				o.version, o.versionFull = true, true
			case 't':
				o.test = true
			case 'T':
				o.test, o.dump = true, true
			case 'q':
				o.quiet = true
			case 's', 'p', 'c', 'e', 'g':
				var val string
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i+1 < len(args) {
					i++
					val = args[i]
				} else {
					return nil, &usageError{fmt.Sprintf("option \"-%c\" requires %s", c, valueName(c))}
				}
				switch c {
				case 's':
					switch val {
					case "stop", "quit", "reopen", "reload":
						o.signal = val
					default:
						return nil, &usageError{fmt.Sprintf("invalid option: \"-s %s\"", val)}
					}
				case 'p':
					if !strings.HasSuffix(val, "/") {
						val += "/"
					}
					o.prefix = val
				case 'c':
					o.conf = val
				case 'e':
					o.errorLog = val
				case 'g':
					o.globals = val
				}
				j = len(a)
			default:
				return nil, &usageError{fmt.Sprintf("invalid option: \"%c\"", c)}
			}
		}
	}
	return o, nil
}

// valueName is what nginx calls the value a flag requires, for its
// "requires" message.
func valueName(c byte) string {
	switch c {
	case 's', 'g':
		return "parameter"
	case 'p':
		return "directory name"
	}
	return "file name"
}
