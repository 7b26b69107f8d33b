package config

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"gatehouse/internal/nginxconf"
)

// testResolver maps every name under example.com, example.net and
// localhost to 127.0.0.1 and fails for anything else, like a resolver
// that knows only those zones.
func testResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	h := strings.ToLower(host)
	if h == "localhost" || strings.HasSuffix(h, ".example.com") || h == "example.com" ||
		strings.HasSuffix(h, ".example.net") || h == "url_to_app.com" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, errors.New("no such host")
}

func testOptions() Options {
	return Options{Prefix: "/p/", ConfPrefix: "/etc/gh/", Resolve: testResolver}
}

// compileSrc parses src as /t.conf and compiles it.
func compileSrc(t testing.TB, src string) (*Config, error) {
	t.Helper()
	tree, err := nginxconf.ParseBytes("/t.conf", []byte(src), nginxconf.Options{ReadFile: func(string) ([]byte, error) { return nil, errors.New("no includes in tests") }})
	if err != nil {
		return nil, err
	}
	return Compile(tree, testOptions())
}

func mustCompile(t testing.TB, src string) *Config {
	t.Helper()
	cfg, err := compileSrc(t, src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return cfg
}
