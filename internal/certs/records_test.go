package certs

import "testing"

// TestUpstreamFullSizeRecords: requests go to upstreams in full 16 KB
// records from the first byte, as OpenSSL sends nginx's buffers, not in
// crypto/tls's MSS-sized opening records (one write system call each).
func TestUpstreamFullSizeRecords(t *testing.T) {
	u, err := NewUpstream(UpstreamOptions{}, NewStore(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, peer := range []string{"10.0.0.1:443", ""} {
		if !u.Config(peer, "backend.test").DynamicRecordSizingDisabled {
			t.Errorf("peer %q: dynamic record sizing is on", peer)
		}
	}
}
