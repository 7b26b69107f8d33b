package config

import (
	"strings"

	"gatehouse/internal/nginxconf"
)

// The directives of stock configurations that only tune what gatehouse
// does not do are accepted with no effect: sendfile and tcp_nopush (it
// sends no files), types_hash_max_size and types_hash_bucket_size (its
// types table is a map). "gzip off" is accepted; "gzip on" is an error.

// mimeTypes is the table the types blocks of one level build; further
// types blocks at the same level add to it.
type mimeTypes struct {
	m map[string]string
}

// defaultTypes is nginx's table for a location no types block reaches
// (ngx_http_core_default_types).
var defaultTypes = map[string]string{"html": "text/html", "gif": "image/gif", "jpg": "image/jpeg"}

// hTypes is ngx_http_core_types with ngx_http_core_type as the handler of
// each line: "TYPE EXT...;", extensions lowercased, a repeated extension
// replaced with a warning. The block's lines are not directives, so a
// "{" among them is nginx's parser error.
func hTypes(c *compiler, f *frame, d *nginxconf.Directive) error {
	o := &f.conf.Types
	if !o.Set {
		*o = opt[*mimeTypes]{V: &mimeTypes{m: map[string]string{}}, Pos: d.Pos, Set: true}
	}
	t := o.V.m
	for _, e := range d.Block {
		if e == nil {
			continue
		}
		if e.Block != nil {
			return nginxconf.Errorf(e.Pos, "unexpected \"{\"")
		}
		for _, a := range e.Args {
			ext := strings.ToLower(a)
			if old, ok := t[ext]; ok {
				c.warn(e.Pos, "duplicate extension \"%s\", content type: \"%s\", previous content type: \"%s\"", ext, e.Name, old)
			}
			t[ext] = e.Name
		}
	}
	return nil
}

// hAddHeader is ngx_http_headers_add for add_header.
func hAddHeader(c *compiler, f *frame, d *nginxconf.Directive) error {
	h := AddHeader{Name: d.Args[0], Value: d.Args[1], Pos: d.Pos}
	if len(d.Args) == 3 {
		if d.Args[2] != "always" {
			return nginxconf.Errorf(d.Pos, "invalid parameter \"%s\"", d.Args[2])
		}
		h.Always = true
	}
	o := &f.conf.AddHeaders
	o.V = append(o.V, h)
	o.Pos, o.Set = d.Pos, true
	return nil
}

// hErrorPage is ngx_http_core_error_page. nginx's own checks come first;
// then gatehouse refuses what it cannot do: a local URI or named
// location would need an internal redirect (and usually a static file).
func hErrorPage(c *compiler, f *frame, d *nginxconf.Directive) error {
	args := d.Args
	last := len(args) - 1
	overwrite := -1
	codes := args[:last]
	if w := args[last-1]; strings.HasPrefix(w, "=") {
		if last-1 == 0 {
			return nginxconf.Errorf(d.Pos, "invalid value \"%s\"", w)
		}
		overwrite = 0
		if len(w) > 1 {
			n, ok := parseNumber(w[1:])
			if !ok {
				return nginxconf.Errorf(d.Pos, "invalid value \"%s\"", w)
			}
			overwrite = n
		}
		codes = args[:last-1]
	}
	uri := args[last]
	var pages []ErrorPage
	for _, a := range codes {
		n, ok := parseNumber(a)
		if !ok || n == 499 {
			return nginxconf.Errorf(d.Pos, "invalid value \"%s\"", a)
		}
		if n < 300 || n > 599 {
			return nginxconf.Errorf(d.Pos, "value \"%s\" must be between 300 and 599", a)
		}
		pages = append(pages, ErrorPage{Status: n, Overwrite: overwrite, URI: uri, Pos: d.Pos})
	}
	if !isRedirectURL(uri) {
		return nginxconf.Errorf(d.Pos, "\"error_page\" with a local URI is not supported by gatehouse: it has no internal redirects; use an http:// or https:// URL")
	}
	o := &f.conf.ErrorPages
	o.V = append(o.V, pages...)
	o.Pos, o.Set = d.Pos, true
	return nil
}

// isRedirectURL reports whether an error_page URI is answered with a
// redirect rather than an internal one: a full URL, or one that starts
// with $scheme.
func isRedirectURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(s, "$scheme")
}

// hGzip accepts "gzip off" and rejects "gzip on": gatehouse never
// compresses responses, and ignoring "on" would change what clients get.
func hGzip(c *compiler, f *frame, d *nginxconf.Directive) error {
	if err := flagSlot("Gzip")(c, f, d); err != nil {
		return err
	}
	if f.conf.Gzip.V {
		return dirErr(d, "is not supported by gatehouse yet: compression is planned; use \"gzip off\" or remove it")
	}
	return nil
}
