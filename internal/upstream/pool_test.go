package upstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeConn records whether the pool closed it.
type fakeConn struct {
	net.Conn
	id     string
	closed atomic.Int32
}

func (f *fakeConn) Close() error { f.closed.Add(1); return nil }

func newPoolGroup(t *testing.T, k Keepalive) (*testGroup, *Peer, *Peer) {
	tg := newTestGroup(t, RoundRobin, lettered("a"), lettered("b"))
	tg.pool = newPool(k, tg.clock.Now)
	return tg, tg.Peers()[0], tg.Peers()[1]
}

func id(c *Conn) string {
	if c == nil {
		return "-"
	}
	return c.Conn.(*fakeConn).id
}

func TestPoolLIFOAndEviction(t *testing.T) {
	tg, a, b := newPoolGroup(t, Keepalive{MaxIdle: 3})
	pool := tg.Pool()
	conns := map[string]*fakeConn{}
	mk := func(p *Peer, name string) *Conn {
		f := &fakeConn{id: name}
		conns[name] = f
		return pool.NewConn(p, f, "")
	}
	for _, c := range []*Conn{mk(a, "a1"), mk(b, "b1"), mk(a, "a2"), mk(a, "a3")} {
		if !pool.Put(c) {
			t.Fatalf("Put(%s) refused", id(c))
		}
	}
	// Four puts into three slots: the least recently used (a1) is closed.
	if conns["a1"].closed.Load() != 1 || pool.Len() != 3 {
		t.Errorf("a1 closed %d, len %d", conns["a1"].closed.Load(), pool.Len())
	}
	// Most recently used first, by peer.
	got := []string{id(pool.Get(a, "")), id(pool.Get(b, "")), id(pool.Get(a, "")), id(pool.Get(a, "")), id(pool.Get(b, ""))}
	eq(t, got, []string{"a3", "b1", "a2", "-", "-"})
	for _, n := range []string{"a2", "a3", "b1"} {
		if conns[n].closed.Load() != 0 {
			t.Errorf("%s closed", n)
		}
	}
}

func TestPoolScope(t *testing.T) {
	tg, a, _ := newPoolGroup(t, Keepalive{MaxIdle: 4})
	pool := tg.Pool()
	pool.Put(pool.NewConn(a, &fakeConn{id: "plain"}, ""))
	pool.Put(pool.NewConn(a, &fakeConn{id: "tls"}, "tls:example.com"))
	eq(t, []string{id(pool.Get(a, "tls:other")), id(pool.Get(a, "tls:example.com")), id(pool.Get(a, "tls:example.com")), id(pool.Get(a, ""))},
		[]string{"-", "tls", "-", "plain"})
}

func TestPoolLimits(t *testing.T) {
	t.Run("keepalive_requests", func(t *testing.T) {
		tg, a, _ := newPoolGroup(t, Keepalive{MaxIdle: 4, Requests: 3})
		pool := tg.Pool()
		f := &fakeConn{id: "c"}
		c := pool.NewConn(a, f, "")
		var kept []bool
		for range 3 {
			kept = append(kept, pool.Put(c))
			if got := pool.Get(a, ""); got != nil && got != c {
				t.Fatal("other connection")
			}
		}
		if kept[0] != true || kept[1] != true || kept[2] != false || f.closed.Load() != 1 || c.Requests() != 3 {
			t.Errorf("kept %v, closed %d, requests %d", kept, f.closed.Load(), c.Requests())
		}
	})
	t.Run("keepalive_time", func(t *testing.T) {
		tg, a, _ := newPoolGroup(t, Keepalive{MaxIdle: 4, Time: time.Hour})
		pool := tg.Pool()
		c := pool.NewConn(a, &fakeConn{id: "c"}, "")
		tg.clock.Add(time.Hour)
		if !pool.Put(c) { // age == keepalive_time is still fine
			t.Fatal("refused at exactly keepalive_time")
		}
		pool.Get(a, "")
		tg.clock.Add(time.Second)
		if pool.Put(c) {
			t.Fatal("kept past keepalive_time")
		}
	})
	t.Run("keepalive_timeout", func(t *testing.T) {
		tg, a, _ := newPoolGroup(t, Keepalive{MaxIdle: 4, Timeout: 60 * time.Second})
		pool := tg.Pool()
		f1, f2 := &fakeConn{id: "old"}, &fakeConn{id: "new"}
		pool.Put(pool.NewConn(a, f1, ""))
		tg.clock.Add(30 * time.Second)
		pool.Put(pool.NewConn(a, f2, ""))
		tg.clock.Add(30 * time.Second) // old idle 60s: expired; new 30s
		if n := pool.Sweep(); n != 1 || f1.closed.Load() != 1 || f2.closed.Load() != 0 {
			t.Fatalf("sweep closed %d", n)
		}
		tg.clock.Add(29 * time.Second)
		if got := pool.Get(a, ""); id(got) != "new" {
			t.Fatalf("got %s", id(got))
		}
		pool.Put(pool.Get(a, ""))
		pool.Put(pool.NewConn(a, f2, ""))
		tg.clock.Add(60 * time.Second)
		if got := pool.Get(a, ""); got != nil || pool.Len() != 0 {
			t.Fatalf("expired connection handed out: %s", id(got))
		}
	})
	t.Run("keepalive off", func(t *testing.T) {
		tg, a, _ := newPoolGroup(t, Keepalive{})
		f := &fakeConn{id: "c"}
		if tg.Pool().Put(tg.Pool().NewConn(a, f, "")) || f.closed.Load() != 1 {
			t.Fatal("kept with keepalive off")
		}
	})
}

func TestPoolCloseIdleAndAll(t *testing.T) {
	tg, a, b := newPoolGroup(t, Keepalive{MaxIdle: 8})
	pool := tg.Pool()
	fa, fb := &fakeConn{id: "a"}, &fakeConn{id: "b"}
	pool.Put(pool.NewConn(a, fa, ""))
	pool.Put(pool.NewConn(b, fb, ""))
	if n := pool.CloseIdle(func(p *Peer) bool { return p == b }); n != 1 || fb.closed.Load() != 1 || fa.closed.Load() != 0 {
		t.Fatalf("CloseIdle closed %d", n)
	}
	if n := pool.CloseAll(); n != 1 || fa.closed.Load() != 1 {
		t.Fatalf("CloseAll closed %d", n)
	}
	late := &fakeConn{id: "late"}
	if pool.Put(pool.NewConn(a, late, "")) || late.closed.Load() != 1 {
		t.Fatal("Put after CloseAll kept the connection")
	}
}

func TestPoolConcurrent(t *testing.T) {
	tg, a, b := newPoolGroup(t, Keepalive{MaxIdle: 4})
	pool := tg.Pool()
	var wg sync.WaitGroup
	var made atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			peer := a
			if w%2 == 1 {
				peer = b
			}
			for range 200 {
				c := pool.Get(peer, "")
				if c == nil {
					made.Add(1)
					c = pool.NewConn(peer, &fakeConn{}, "")
				} else if c.Peer() != peer {
					t.Error("wrong peer")
				}
				pool.Put(c)
				if w == 0 {
					pool.Sweep()
				}
			}
		}()
	}
	wg.Wait()
	if pool.Len() > 4 {
		t.Errorf("%d idle, max 4", pool.Len())
	}
	pool.CloseAll()
}

// loopbackPair returns a connected TCP pair over loopback.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

// waitReadable blocks, through the runtime's poller, until c's socket has
// something to read (data or end of file), without consuming it.
func waitReadable(t *testing.T, c net.Conn) {
	t.Helper()
	if u, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = u.NetConn()
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPoolDetectsClosedAndChattyUpstream(t *testing.T) {
	tg, a, _ := newPoolGroup(t, Keepalive{MaxIdle: 4})
	pool := tg.Pool()

	// Idle and quiet: handed out.
	quiet, _ := loopbackPair(t)
	pool.Put(pool.NewConn(a, quiet, ""))
	if got := pool.Get(a, ""); got == nil || got.Conn != quiet {
		t.Fatal("quiet idle connection not reused")
	}

	// Closed by the upstream: discarded.
	closedC, closedS := loopbackPair(t)
	pool.Put(pool.NewConn(a, closedC, ""))
	closedS.Close()
	waitReadable(t, closedC)
	if got := pool.Get(a, ""); got != nil {
		t.Fatal("connection closed by the upstream was handed out")
	}
	if _, err := closedC.Write([]byte("x")); err == nil {
		t.Error("discarded connection still open")
	}

	// Sent something unasked: discarded.
	chattyC, chattyS := loopbackPair(t)
	pool.Put(pool.NewConn(a, chattyC, ""))
	chattyS.Write([]byte("HTTP/1.1 408 Request Timeout\r\n\r\n"))
	waitReadable(t, chattyC)
	if got := pool.Get(a, ""); got != nil {
		t.Fatal("connection with unread data was handed out")
	}

	// Sweep finds them too, and keeps the healthy one.
	okC, _ := loopbackPair(t)
	deadC, deadS := loopbackPair(t)
	pool.Put(pool.NewConn(a, okC, ""))
	pool.Put(pool.NewConn(a, deadC, ""))
	deadS.Close()
	waitReadable(t, deadC)
	if n := pool.Sweep(); n != 1 || pool.Len() != 1 {
		t.Fatalf("sweep closed %d, %d left", n, pool.Len())
	}
}

// selfSigned makes a throwaway server certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pool test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"upstream.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestPoolTLS: a pooled TLS connection is reused as is (no new handshake),
// and one the upstream closed (close_notify, FIN) is discarded.
func TestPoolTLS(t *testing.T) {
	cert := selfSigned(t)
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	srvCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	cliCfg := &tls.Config{RootCAs: roots, ServerName: "upstream.test"}

	dial := func() (*tls.Conn, *tls.Conn) {
		rc, rs := loopbackPair(t)
		s := tls.Server(rs, srvCfg)
		c := tls.Client(rc, cliCfg)
		errc := make(chan error, 1)
		go func() { errc <- s.Handshake() }()
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		return c, s
	}

	tg, a, _ := newPoolGroup(t, Keepalive{MaxIdle: 4})
	pool := tg.Pool()

	c, s := dial()
	// One round trip, so the client has read everything the server sent.
	go func() {
		buf := make([]byte, 4)
		io.ReadFull(s, buf)
		s.Write(buf)
	}()
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	pool.Put(pool.NewConn(a, c, "tls"))
	got := pool.Get(a, "tls")
	if got == nil || got.Conn != c {
		t.Fatal("TLS connection not reused")
	}
	if !got.Conn.(*tls.Conn).ConnectionState().HandshakeComplete {
		t.Fatal("handshake state lost")
	}

	c2, s2 := dial()
	pool.Put(pool.NewConn(a, c2, "tls"))
	s2.Close() // close_notify, then FIN
	waitReadable(t, c2)
	if pool.Get(a, "tls") != nil {
		t.Fatal("TLS connection closed by the upstream was handed out")
	}
	if st := pool.Stats(); st.New != 2 || st.FullHandshakes != 2 || st.Resumed != 0 || st.Reused != 1 || st.Dead != 1 {
		t.Errorf("stats %+v, want 2 new with full handshakes, 1 reused, 1 dead", st)
	}
}

// TestPoolWorkers: keepalive N is per worker process, so a pool that
// stands for W workers keeps N × W idle connections.
func TestPoolWorkers(t *testing.T) {
	for _, tc := range []struct {
		k    Keepalive
		want int
	}{
		{Keepalive{MaxIdle: 3}, 3},
		{Keepalive{MaxIdle: 3, Workers: 1}, 3},
		{Keepalive{MaxIdle: 3, Workers: 2}, 6},
		{Keepalive{MaxIdle: 0, Workers: 4}, 0},
	} {
		tg, a, _ := newPoolGroup(t, tc.k)
		pool := tg.Pool()
		if got := pool.MaxIdle(); got != tc.want {
			t.Errorf("%+v: MaxIdle %d, want %d", tc.k, got, tc.want)
		}
		for i := range tc.want + 2 {
			pool.Put(pool.NewConn(a, &fakeConn{id: fmt.Sprint(i)}, ""))
		}
		// Two more than fit: two closed, evicted from a full pool or
		// discarded by one that keeps nothing.
		st := pool.Stats()
		if pool.Len() != tc.want || st.Evicted+st.Discarded != 2 {
			t.Errorf("%+v: %d idle after %d puts, stats %+v", tc.k, pool.Len(), tc.want+2, st)
		}
	}
}

// TestPoolStats: every connection made is counted once, and every one the
// pool closes is counted once under its reason.
func TestPoolStats(t *testing.T) {
	tg, a, b := newPoolGroup(t, Keepalive{MaxIdle: 2, Requests: 2, Timeout: time.Minute})
	pool := tg.Pool()
	mk := func(p *Peer) *Conn { return pool.NewConn(p, &fakeConn{}, "") }
	c1, c2, c3 := mk(a), mk(a), mk(b)
	pool.Put(c1)               // kept
	pool.Put(c2)               // kept
	pool.Put(c3)               // kept, c1 evicted
	if pool.Get(a, "") != c2 { // reused
		t.Fatal("c2 not reused")
	}
	pool.Put(c2) // second request: keepalive_requests 2 used up
	tg.clock.Add(time.Minute)
	pool.Get(b, "") // c3 expired on the way
	pool.Put(mk(a)) // kept
	pool.CloseAll() // discarded
	pool.Put(mk(b)) // discarded: closed pool
	want := PoolStats{New: 5, Reused: 1, Kept: 4, Evicted: 1, Renewed: 1, Expired: 1, Discarded: 2}
	if got := pool.Stats(); got != want {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}
