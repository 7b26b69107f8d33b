package tlsterm

import (
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"gatehouse/internal/testpki"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestFullSizeRecords: a fresh connection's first 32 KB go out as two
// full 16 KB records, two writes, as nginx sends them with its default
// ssl_buffer_size (crypto/tls alone would start with MSS-sized records,
// one write each).
func TestFullSizeRecords(t *testing.T) {
	root := testpki.NewCA(t)
	l, err := New(Options{
		Servers:   []Server{{Certificates: []tls.Certificate{root.Leaf(testpki.WithDNS("rec.test")).TLSCertificate()}}},
		LookupSNI: nameTable(map[string]int{"rec.test": 0}),
	})
	if err != nil {
		t.Fatal(err)
	}
	sc, cc := net.Pipe()
	defer sc.Close()
	defer cc.Close()
	raw := &countingConn{Conn: sc}
	srv := l.Server(raw)
	cli := tls.Client(cc, clientConfig(root.Pool(), "rec.test"))
	errc := make(chan error, 1)
	go func() {
		if err := srv.Handshake(); err != nil {
			errc <- err
			return
		}
		before := raw.writes.Load()
		_, err := srv.Write(make([]byte, 32<<10))
		if n := raw.writes.Load() - before; err == nil && n != 2 {
			t.Errorf("32 KB took %d writes, want 2", n)
		}
		errc <- err
	}()
	if _, err := io.ReadFull(cli, make([]byte, 32<<10)); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
