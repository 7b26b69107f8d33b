package tlsterm

import (
	"crypto/sha256"
	"crypto/tls"
	"testing"
	"time"

	"gatehouse/internal/testpki"
	"gatehouse/internal/variables"
)

// TestSessionTicketKeysShared: two listeners (two instances behind a load
// balancer) built from the same ssl_session_ticket_key files resume each
// other's sessions; with other files they do not. Both TLS versions are
// checked, as their tickets differ.
func TestSessionTicketKeysShared(t *testing.T) {
	root := testpki.NewCA(t)
	cert := root.Leaf(testpki.WithDNS("a.test")).TLSCertificate()
	keyA := sha256.Sum256([]byte("file A"))
	keyB := sha256.Sum256([]byte("file B"))
	keyC := sha256.Sum256([]byte("file C"))
	mk := func(keys ...[32]byte) *Listener {
		l, err := New(Options{Servers: []Server{{
			Certificates:      []tls.Certificate{cert},
			SessionTimeout:    5 * time.Minute,
			SessionTicketKeys: keys,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		tests := []struct {
			name        string
			first, then *Listener
			want        string
		}{
			{"same file", mk(keyA), mk(keyA), "r"},
			// The second file of the other instance still decrypts: a
			// rotated-out key resumes until it is removed.
			{"old key second", mk(keyA), mk(keyB, keyA), "r"},
			{"different file", mk(keyA), mk(keyB), "."},
			{"own keys", mk(), mk(), "."},
			{"explicit vs own", mk(keyC), mk(), "."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := clientConfig(root.Pool(), "a.test")
				cfg.MaxVersion = version
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
				reused := func(l *Listener) string {
					t.Helper()
					r := handshake(t, l, cfg)
					if r.clientErr != nil || r.serverErr != nil {
						t.Fatalf("handshake: client %v, server %v", r.clientErr, r.serverErr)
					}
					return varString(t, r.info, variables.SSLSessionReused)
				}
				if got := reused(tt.first); got != "." {
					t.Fatalf("first handshake: $ssl_session_reused = %q", got)
				}
				if got := reused(tt.then); got != tt.want {
					t.Errorf("TLS %x: resumption on the other listener: $ssl_session_reused = %q, want %q", version, got, tt.want)
				}
			})
		}
	}
}
