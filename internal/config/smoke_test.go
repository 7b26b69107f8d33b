package config

import (
	"os"
	"testing"
)

func TestCompleteExample(t *testing.T) {
	src, err := os.ReadFile("testdata/complete-example.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustCompile(t, string(src))
	if len(cfg.Warnings) != 1 {
		t.Fatalf("warnings = %v, want exactly one", cfg.Warnings)
	}
	want := `"proxy_ssl_protocols" enables TLSv1, TLSv1.1, which are deprecated and weak (RFC 8996) in /t.conf:27`
	if got := cfg.Warnings[0].Error(); got != want {
		t.Fatalf("warning = %q, want %q", got, want)
	}
}
