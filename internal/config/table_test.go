package config

import (
	"strings"
	"testing"

	"gatehouse/internal/certs"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/tlsterm"
)

// TestTableRows runs every row of the directive table once with a
// plausible argument in a context it allows, so a wrong field name or a
// handler that cannot cope with its own arity shows up here.
func TestTableRows(t *testing.T) {
	sample := map[kind]string{
		kindFlag: "on", kindNumber: "2", kindSize: "4k", kindOffset: "1g", kindMsec: "5s", kindSec: "5m",
		kindString: "x", kindList: "X-Name", kindCustom: "1", kindBitmask: "TLSv1.2", kindEnum: "1.1",
	}
	for name, rows := range directives {
		for _, r := range rows {
			if r.block {
				continue
			}
			arg := sample[r.kind]
			var args []string
			for range max(r.min, 1) {
				args = append(args, arg)
			}
			if r.max == 0 {
				args = nil
			}
			d := &nginxconf.Directive{Name: name, Args: args, Pos: nginxconf.Pos{File: "/t.conf", Line: 1}}
			c := newCompiler(testOptions())
			for _, k := range []ctxKind{ctxMain, ctxEvents, ctxHTTP, ctxServer, ctxLocation, ctxUpstream} {
				if r.ctx&k == 0 {
					continue
				}
				f := &frame{kind: k, conf: &conf{}, srv: &srvRaw{}, loc: &locRaw{}, up: &upRaw{u: &Upstream{}}}
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Errorf("%s in context %d panicked: %v", name, k, p)
						}
					}()
					err := c.directive(d, f)
					if err != nil && strings.Contains(err.Error(), "not allowed here") {
						t.Errorf("%s: %v", name, err)
					}
				}()
				break
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		sec  bool
		want int64 // milliseconds, -1 for invalid
	}{
		{"10", false, 10000}, {"10", true, 10000}, {"500ms", false, 500}, {"500ms", true, -1},
		{"1h30m", false, 5400000}, {"1h 30m", false, 5400000}, {"1y", true, 365 * 86400 * 1000},
		{"1y", false, -1}, {"1M", false, -1}, {"2w1d", true, 15 * 86400 * 1000}, {"1m1h", false, -1},
		{"", false, -1}, {"s", false, -1}, {"5x", false, -1}, {"1d 1", true, 86401000},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in, tt.sec)
		if tt.want < 0 {
			if ok {
				t.Errorf("parseTime(%q, %v) = %v, want invalid", tt.in, tt.sec, got)
			}
			continue
		}
		if !ok || got.Milliseconds() != tt.want {
			t.Errorf("parseTime(%q, %v) = %v %v, want %dms", tt.in, tt.sec, got, ok, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in     string
		offset bool
		want   int64
	}{
		{"1k", false, 1024}, {"1K", false, 1024}, {"2m", false, 2 << 20}, {"1g", false, -1}, {"1g", true, 1 << 30},
		{"0", false, 0}, {"k", false, -1}, {"-1", false, -1}, {"99999999999999999999", true, -1},
	}
	for _, tt := range tests {
		got, ok := parseSize(tt.in, tt.offset)
		if (tt.want < 0) == ok || (ok && got != tt.want) {
			t.Errorf("parseSize(%q) = %d %v, want %d", tt.in, got, ok, tt.want)
		}
	}
}

func TestWeakCiphers(t *testing.T) {
	tests := map[string]bool{
		"HIGH:!aNULL:!MD5": false, "DEFAULT": false, "ECDHE-RSA-AES128-GCM-SHA256": false,
		"RC4-SHA": true, "DES-CBC3-SHA": true, "eNULL": true, "EXPORT": true, "aNULL": true,
		"AES128-SHA": true, "kRSA": true, "HIGH:!kRSA": false, "ECDHE+AESGCM:DHE+AESGCM": false,
	}
	for in, weak := range tests {
		if got := weakCiphers(in) != ""; got != weak {
			t.Errorf("weakCiphers(%q) = %v, want %v", in, got, weak)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := map[string]string{
		(certs.TLSv1_2 | certs.TLSv1_3).String(): "TLSv1.2 TLSv1.3",
		tlsterm.VerifyOptionalNoCA.String():      "optional_no_ca",
		HTTP11.String():                          "1.1",
		DefaultsNginx.String():                   "nginx",
	}
	for got, want := range tests {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
