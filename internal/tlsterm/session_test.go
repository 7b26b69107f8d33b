package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

// fakeClock is an injected clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// anyNameCache offers the last stored session for every server name, so a
// test can try to resume a session under a different SNI.
type anyNameCache struct {
	mu sync.Mutex
	cs *tls.ClientSessionState
}

func (c *anyNameCache) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cs, c.cs != nil
}

func (c *anyNameCache) Put(_ string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs != nil {
		c.cs = cs
	}
}

func TestSessionResumption(t *testing.T) {
	root := testpki.NewCA(t)
	cert := root.Leaf(testpki.WithDNS("a.test", "b.test", "c.test")).TLSCertificate()
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		name := map[uint16]string{tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}[version]
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			mk := func(s Server) *Listener {
				s.Certificates = []tls.Certificate{cert}
				s.SessionTimeout = 5 * time.Minute
				l, err := New(Options{Servers: []Server{s}, Now: clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			client := func() *tls.Config {
				cfg := clientConfig(root.Pool(), "a.test")
				cfg.MaxVersion = version
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
				cfg.Time = clock.Now
				return cfg
			}
			reused := func(l *Listener, cfg *tls.Config) string {
				t.Helper()
				r := handshake(t, l, cfg)
				if r.clientErr != nil || r.serverErr != nil {
					t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
				}
				return varString(t, r.info, variables.SSLSessionReused)
			}

			l := mk(Server{})
			cfg := client()
			if got := reused(l, cfg); got != "." {
				t.Fatalf("first connection: $ssl_session_reused = %q, want \".\"", got)
			}
			if got := reused(l, cfg); got != "r" {
				t.Fatalf("second connection: $ssl_session_reused = %q, want \"r\"", got)
			}

			// ssl_session_timeout: a ticket older than the timeout is refused.
			cfg = client()
			reused(l, cfg)
			clock.Advance(6 * time.Minute)
			if got := reused(l, cfg); got != "." {
				t.Errorf("after ssl_session_timeout: $ssl_session_reused = %q, want \".\"", got)
			}

			// ssl_session_tickets off: never resumed.
			off := mk(Server{SessionTicketsOff: true})
			cfg = client()
			reused(off, cfg)
			if got := reused(off, cfg); got != "." {
				t.Errorf("tickets off: $ssl_session_reused = %q, want \".\"", got)
			}

			// A new configuration (reload) has new ticket keys.
			cfg = client()
			reused(l, cfg)
			if got := reused(mk(Server{}), cfg); got != "." {
				t.Errorf("other listener: $ssl_session_reused = %q, want \".\"", got)
			}
		})
	}
}

func TestNoResumptionAcrossServers(t *testing.T) {
	root := testpki.NewCA(t)
	certA := root.Leaf(testpki.WithDNS("a.test", "nocert.test", "open.test")).TLSCertificate()
	certB := root.Leaf(testpki.WithDNS("b.test")).TLSCertificate()
	clientCert := root.Leaf(testpki.WithCN("client")).TLSCertificate()
	// 0 a.test (default, optional verification), 1 b.test with its own
	// certificate, 2 nocert.test without a certificate but verifying
	// clients, 3 open.test without certificate nor verification.
	l, err := New(Options{
		Servers: []Server{
			{Certificates: []tls.Certificate{certA}, VerifyClient: VerifyOptional, VerifyDepth: 1, ClientCAs: []*x509.Certificate{root.Cert}},
			{Certificates: []tls.Certificate{certB}, VerifyClient: VerifyOptional, VerifyDepth: 1, ClientCAs: []*x509.Certificate{root.Cert}},
			{VerifyClient: VerifyOn},
			{},
		},
		LookupSNI: nameTable(map[string]int{"a.test": 0, "b.test": 1, "nocert.test": 2, "open.test": 3}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		tests := []struct {
			second string
			want   string
		}{
			{"a.test", "r"},
			{"b.test", "."},      // another server: its own ticket keys
			{"nocert.test", "."}, // same keys, but SNI changed onto a verifying server
			{"open.test", "r"},   // same keys, SNI changed, no verification: allowed
		}
		for _, tt := range tests {
			cache := &anyNameCache{}
			mkcfg := func(sni string) *tls.Config {
				return &tls.Config{
					ServerName: sni, InsecureSkipVerify: true, MaxVersion: version,
					ClientSessionCache: cache, GetClientCertificate: sendAlways(&clientCert),
				}
			}
			r := handshake(t, l, mkcfg("a.test"))
			if r.clientErr != nil || r.serverErr != nil || cache.cs == nil {
				t.Fatalf("first handshake: client %v, server %v, session cached %v", r.clientErr, r.serverErr, cache.cs != nil)
			}
			r = handshake(t, l, mkcfg(tt.second))
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("%s: handshake: client %v, server %v", tt.second, r.clientErr, r.serverErr)
			}
			if got := varString(t, r.info, variables.SSLSessionReused); got != tt.want {
				t.Errorf("version %x, a.test then %s: $ssl_session_reused = %q, want %q", version, tt.second, got, tt.want)
			}
			if tt.want == "r" {
				// Resumed sessions keep the client certificate and its result.
				if got := varString(t, r.info, variables.SSLClientVerify); got != "SUCCESS" {
					t.Errorf("resumed: $ssl_client_verify = %q, want SUCCESS", got)
				}
			}
		}
	}
}

// TestSessionTimeoutFromFirstHandshake: ssl_session_timeout counts from
// the full handshake that created the session, however often it is
// resumed (each TLS 1.2 resumption re-issues the ticket). With TLS 1.3 a
// resumption makes a new session, as in OpenSSL, so its clock restarts.
func TestSessionTimeoutFromFirstHandshake(t *testing.T) {
	root := testpki.NewCA(t)
	cert := root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()
	for _, tt := range []struct {
		version uint16
		last    string // $ssl_session_reused 6 minutes after the first handshake
	}{{tls.VersionTLS12, "."}, {tls.VersionTLS13, "r"}} {
		clock := newFakeClock()
		l, err := New(Options{Servers: []Server{{Certificates: []tls.Certificate{cert}, SessionTimeout: 5 * time.Minute}}, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		cfg := clientConfig(root.Pool(), "a.test")
		cfg.MaxVersion = tt.version
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		cfg.Time = clock.Now
		reused := func() string {
			t.Helper()
			r := handshake(t, l, cfg)
			if r.clientErr != nil || r.serverErr != nil {
				t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
			}
			return varString(t, r.info, variables.SSLSessionReused)
		}
		want := []string{".", "r", "r", tt.last}
		var got []string
		for i := range want {
			if i > 0 {
				clock.Advance(2 * time.Minute)
			}
			got = append(got, reused())
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("TLS %x: at 0, 2, 4, 6 minutes $ssl_session_reused = %q, want %q", tt.version, got, want)
		}
	}
}

// TestResumptionMatchesFreshHandshake: a session issued by a server that
// requires client certificates (ssl_verify_client on, with a CA) is
// offered to the other servers of the socket, which share its ticket keys
// by having no certificate of their own. Whenever it resumes, the
// connection must get the verdict and $ssl_client_verify a fresh handshake
// with the same client certificate gets; a server with other client
// certificate requirements must not resume it at all.
func TestResumptionMatchesFreshHandshake(t *testing.T) {
	root := testpki.NewCA(t)
	other := testpki.NewCA(t)
	cert := root.Leaf(testpki.WithDNS("on.test", "otherca.test", "optional.test", "off.test")).TLSCertificate()
	clientCert := root.Leaf(testpki.WithCN("client"), testpki.WithUsage(testpki.UsageClient)).TLSCertificate()
	l, err := New(Options{
		Servers: []Server{
			{Certificates: []tls.Certificate{cert}, VerifyClient: VerifyOn, VerifyDepth: 1, ClientCAs: []*x509.Certificate{root.Cert}},
			{VerifyClient: VerifyOn, VerifyDepth: 1, ClientCAs: []*x509.Certificate{other.Cert}},
			{VerifyClient: VerifyOptionalNoCA, VerifyDepth: 1},
			{},
		},
		LookupSNI: nameTable(map[string]int{"on.test": 0, "otherca.test": 1, "optional.test": 2, "off.test": 3}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for idx, tt := range []struct {
			sni    string
			resume bool
		}{{"on.test", true}, {"otherca.test", false}, {"optional.test", false}, {"off.test", true}} {
			mkcfg := func(cache tls.ClientSessionCache) *tls.Config {
				return &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true, MaxVersion: version,
					ClientSessionCache: cache, GetClientCertificate: sendAlways(&clientCert)}
			}
			fresh := handshake(t, l, mkcfg(nil))
			cache := &anyNameCache{}
			first := handshake(t, l, &tls.Config{ServerName: "on.test", InsecureSkipVerify: true, MaxVersion: version,
				ClientSessionCache: cache, GetClientCertificate: sendAlways(&clientCert)})
			if first.serverErr != nil || cache.cs == nil {
				t.Fatalf("first handshake: %v, session cached %v", first.serverErr, cache.cs != nil)
			}
			again := handshake(t, l, mkcfg(cache))
			if fresh.serverErr != nil || again.serverErr != nil {
				t.Fatalf("%s: fresh %v, again %v", tt.sni, fresh.serverErr, again.serverErr)
			}
			if got := again.info.cs.DidResume; got != tt.resume {
				t.Errorf("TLS %x %s: resumed %v, want %v", version, tt.sni, got, tt.resume)
			}
			host := []byte(tt.sni)
			if f, a := fresh.info.Check(host, idx), again.info.Check(host, idx); f != a {
				t.Errorf("TLS %x %s: verdict %v after the session from on.test, %v fresh", version, tt.sni, a, f)
			}
			for _, id := range []variables.ID{variables.SSLClientVerify, variables.SSLClientSDN, variables.SSLClientIDN} {
				if f, a := varString(t, fresh.info, id), varString(t, again.info, id); f != a {
					t.Errorf("TLS %x %s: variable %d %q after the session from on.test, %q fresh", version, tt.sni, id, a, f)
				}
			}
		}
	}
}
