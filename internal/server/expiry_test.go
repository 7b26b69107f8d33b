package server

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/testpki"
)

// TestExpiryWarnings: Build (so -t, start and reload) warns about served
// and proxy client certificates expiring within 14 days, once per file,
// and not about those expiring later; the warning repeats with the clock.
func TestExpiryWarnings(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	now := time.Now()
	soon, soonKey := ca.Leaf(testpki.WithCN("soon.test"), testpki.WithValidity(now.Add(-time.Hour), now.Add(3*24*time.Hour+time.Hour))).Files()
	late, lateKey := ca.Leaf(testpki.WithCN("late.test"), testpki.WithValidity(now.Add(-time.Hour), now.Add(30*24*time.Hour))).Files()
	client, clientKey := ca.Leaf(testpki.WithCN("client.test"), testpki.WithValidity(now.Add(-time.Hour), now.Add(3*24*time.Hour+time.Hour))).Files()
	lateClient, lateClientKey := ca.Leaf(testpki.WithCN("late-client.test"), testpki.WithValidity(now.Add(-time.Hour), now.Add(30*24*time.Hour))).Files()
	src := fmt.Sprintf(`events {}
http {
 access_log off;
 server { listen 127.0.0.1:1 ssl; ssl_certificate %s; ssl_certificate_key %s; }
 server { listen 127.0.0.1:2 ssl; ssl_certificate %s; ssl_certificate_key %s; }
 server { listen 127.0.0.1:3 ssl; ssl_certificate %s; ssl_certificate_key %s;
  location /a { proxy_pass https://127.0.0.1:4; proxy_ssl_certificate %s; proxy_ssl_certificate_key %s; }
  location /b { proxy_pass https://127.0.0.1:5; proxy_ssl_certificate %s; proxy_ssl_certificate_key %s; }
 }
}
`, soon, soonKey, late, lateKey, soon, soonKey, client, clientKey, lateClient, lateClientKey)
	cfg, err := compile(t, dir, src)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	log, err := errorlog.New(nil, errorlog.Options{Stderr: &out, Echo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	clock := now
	deps := Deps{Log: log, Product: "gatehouse", ProductVersion: "gatehouse/test", Now: func() time.Time { return clock }}
	rt, err := Build(cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	day := now.Add(3*24*time.Hour + time.Hour).UTC().Format("2006-01-02")
	conf := regexp.QuoteMeta(dir + "/test.conf")
	want := []*regexp.Regexp{
		regexp.MustCompile(`\[warn\] .*certificate "` + regexp.QuoteMeta(soon) + `" \(subject "CN=soon.test[^"]*"\) expires in 3 days, on ` + day + ` \(ssl_certificate in ` + conf + `:4\)`),
		regexp.MustCompile(`\[warn\] .*certificate "` + regexp.QuoteMeta(client) + `" \(subject "CN=client.test[^"]*"\) expires in 3 days, on ` + day + ` \(proxy_ssl_certificate in ` + conf + `:7\)`),
	}
	check := func(when string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", when, len(lines), len(want), out.String())
		}
		for i, re := range want {
			if !re.MatchString(lines[i]) {
				t.Errorf("%s: line %d = %q, want %s", when, i, lines[i], re)
			}
		}
	}
	check("at Build")

	// Thirteen days on, the 30-day certificates are due too, and the
	// 3-day ones have expired.
	out.Reset()
	clock = now.Add(17 * 24 * time.Hour)
	rt.WarnExpiring(log, clock)
	want = []*regexp.Regexp{
		regexp.MustCompile(`certificate "` + regexp.QuoteMeta(soon) + `" .* expired on ` + day),
		regexp.MustCompile(`certificate "` + regexp.QuoteMeta(late) + `" .* expires in 12 days`),
		regexp.MustCompile(`certificate "` + regexp.QuoteMeta(client) + `" .* expired on ` + day),
		regexp.MustCompile(`certificate "` + regexp.QuoteMeta(lateClient) + `" .* expires in 12 days`),
	}
	check("17 days later")
}
