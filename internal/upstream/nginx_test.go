package upstream

import (
	"bytes"
	"context"
	"fmt"
	"gatehouse/internal/testproc"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const nginxBinary = "/usr/sbin/nginx"

// startNginx runs nginx with conf (which must contain "DIR" where the
// temporary directory goes) and returns an HTTP client for its front
// socket DIR/front.sock. nginx runs in the foreground (conf says "daemon
// off"), in a process group that testproc stops at cleanup.
func startNginx(t *testing.T, conf string) (dir string, client *http.Client, final string) {
	t.Helper()
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("differential test skipped: %s not found", nginxBinary)
	}
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	dir, err := os.MkdirTemp("", "gh-ngx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf = strings.ReplaceAll(conf, "DIR", dir)
	conf = strings.ReplaceAll(conf, "PORT", strconv.Itoa(freePort(t)))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginxBinary, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	proc, err := testproc.Start(t, cmd)
	if err != nil {
		t.Skipf("differential test skipped: nginx did not start: %v", err)
	}
	front := filepath.Join(dir, "front.sock")
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if c, err := net.Dial("unix", front); err == nil {
			c.Close()
			break
		}
		select {
		case <-proc.Done():
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Skipf("differential test skipped: nginx did not start: %v\n%s\n%s", proc.Err(), out.Bytes(), log)
		case <-deadline:
			t.Fatalf("nginx did not listen on %s", front)
		case <-tick.C:
		}
	}
	client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", front)
		},
	}}
	t.Cleanup(client.CloseIdleConnections)
	return dir, client, conf
}

// freePort finds a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int { return testproc.FreePort(t) }

// tcpFrontFrom returns a client that connects to the TCP front, PORT in
// the configuration, from the loopback address src.
func tcpFrontFrom(t *testing.T, conf, src string) *http.Client {
	port := conf[strings.Index(conf, "listen 127.0.0.1:")+len("listen 127.0.0.1:"):]
	port = port[:strings.IndexByte(port, ';')]
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", "127.0.0.1:"+port)
		},
	}}
	return c
}

func upstreamAddr(t *testing.T, c *http.Client, path string) string {
	t.Helper()
	resp, err := c.Get("http://front" + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Upstream")
}

// TestNginxDifferential compares the peers nginx picks (its
// $upstream_addr, attempts joined by ", ") with ours for the same groups.
func TestNginxDifferential(t *testing.T) {
	dir, client, conf := startNginx(t, `
daemon off;
master_process off;
worker_processes 1;
pid DIR/nginx.pid;
error_log DIR/error.log crit;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path DIR/body;
    proxy_temp_path DIR/proxy;
    fastcgi_temp_path DIR/fastcgi;
    uwsgi_temp_path DIR/uwsgi;
    scgi_temp_path DIR/scgi;

    upstream rr     { server unix:DIR/a.sock weight=5; server unix:DIR/b.sock; server unix:DIR/c.sock; }
    upstream rrfail { server unix:DIR/a.sock; server unix:DIR/gone.sock; server unix:DIR/c.sock weight=2; }
    upstream lc     { least_conn; server unix:DIR/a.sock weight=2; server unix:DIR/b.sock; server unix:DIR/c.sock; }
    upstream hash   { hash $arg_k; server unix:DIR/a.sock; server unix:DIR/b.sock weight=2; server unix:DIR/c.sock; }
    upstream chash  { hash $arg_k consistent; server unix:DIR/a.sock; server unix:DIR/b.sock weight=2; server unix:DIR/c.sock; }
    upstream chdown { hash $arg_k consistent; server unix:DIR/a.sock; server unix:DIR/b.sock down; server unix:DIR/c.sock; }
    upstream bk     { server unix:DIR/gone.sock; server unix:DIR/a.sock backup; server unix:DIR/b.sock backup; }
    upstream iph    { ip_hash; server unix:DIR/a.sock; server unix:DIR/b.sock weight=2; server unix:DIR/c.sock; }
    upstream iphd   { ip_hash; server unix:DIR/a.sock; server unix:DIR/b.sock down; server unix:DIR/c.sock; }

    server { listen unix:DIR/a.sock; return 200 a; }
    server { listen unix:DIR/b.sock; return 200 b; }
    server { listen unix:DIR/c.sock; return 200 c; }
    server {
        listen unix:DIR/front.sock;
        add_header X-Upstream $upstream_addr always;
        location /rr/     { proxy_pass http://rr; }
        location /rrfail/ { proxy_pass http://rrfail; }
        location /lc/     { proxy_pass http://lc; }
        location /hash/   { proxy_pass http://hash; }
        location /chash/  { proxy_pass http://chash; }
        location /chdown/ { proxy_pass http://chdown; }
        location /bk/     { proxy_pass http://bk; }
    }
    server {
        listen 127.0.0.1:PORT;
        add_header X-Upstream $upstream_addr always;
        location /iph/    { proxy_pass http://iph; }
        location /iphd/   { proxy_pass http://iphd; }
    }
}
`)
	sock := func(n string) string { return "unix:" + filepath.Join(dir, n+".sock") }
	s := func(n string, opts ...string) Server { return srv(sock(n), nil, opts...) }

	groups := []struct {
		path    string
		method  Method
		servers []Server
		keys    []string
		n       int
	}{
		{"/rr/", RoundRobin, []Server{s("a", "w=5"), s("b"), s("c")}, nil, 14},
		{"/rrfail/", RoundRobin, []Server{s("a"), s("gone"), s("c", "w=2")}, nil, 8},
		{"/lc/", LeastConn, []Server{s("a", "w=2"), s("b"), s("c")}, nil, 8},
		{"/hash/", Hash, []Server{s("a"), s("b", "w=2"), s("c")}, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "user42", "x"}, 0},
		{"/chash/", HashConsistent, []Server{s("a"), s("b", "w=2"), s("c")}, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "user42", "x"}, 0},
		{"/chdown/", HashConsistent, []Server{s("a"), s("b", "down"), s("c")}, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "user42", "x"}, 0},
		{"/bk/", RoundRobin, []Server{s("gone"), s("a", "backup"), s("b", "backup")}, nil, 5},
	}
	for _, gr := range groups {
		t.Run(strings.Trim(gr.path, "/"), func(t *testing.T) {
			g, err := NewGroup(Options{Name: "g", Method: gr.method, Servers: gr.servers}, Env{Now: newClock(1000).Now})
			if err != nil {
				t.Fatal(err)
			}
			requests := gr.keys
			if requests == nil {
				requests = make([]string, gr.n)
			}
			for i, key := range requests {
				path := gr.path
				if key != "" {
					path += "?k=" + key
				}
				want := upstreamAddr(t, client, path)
				got := ours(g, key, gone(dir))
				if got != want {
					t.Errorf("request %d %s: nginx picked %q, we picked %q", i, path, want, got)
				}
			}
		})
	}

	// ip_hash sees the client address: connect from several loopback
	// addresses (all of 127/8 is local on Linux).
	for _, gr := range []struct {
		path    string
		servers []Server
	}{
		{"/iph/", []Server{s("a"), s("b", "w=2"), s("c")}},
		{"/iphd/", []Server{s("a"), s("b", "down"), s("c")}},
	} {
		t.Run(strings.Trim(gr.path, "/"), func(t *testing.T) {
			g, err := NewGroup(Options{Name: "g", Method: IPHash, Servers: gr.servers}, Env{Now: newClock(1000).Now})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for i := range 12 {
				src := fmt.Sprintf("127.%d.%d.1", i%2, i)
				want := upstreamAddr(t, tcpFrontFrom(t, conf, src), gr.path)
				var a Attempt
				a.Reset(g, AttemptOptions{Client: netip.MustParseAddr(src)})
				p, err := g.Pick(&a)
				if err != nil {
					t.Fatal(err)
				}
				a.Done()
				if p.Name() != want {
					t.Errorf("client %s: nginx picked %q, we picked %q", src, want, p.Name())
				}
				seen[want] = true
			}
			if len(seen) < 2 {
				t.Errorf("all clients went to %v: the test tells nothing", seen)
			}
		})
	}
}

// gone says which peers refuse connections (their socket does not exist).
func gone(dir string) func(*Peer) bool {
	g := "unix:" + filepath.Join(dir, "gone.sock")
	return func(p *Peer) bool { return p.Name() == g }
}

// ours runs one request through g the way the proxy would, failing on the
// peers refuse says, and returns $upstream_addr.
func ours(g *Group, key string, refuse func(*Peer) bool) string {
	var a Attempt
	a.Reset(g, AttemptOptions{Key: []byte(key), NextUpstream: DefaultNextUpstream})
	var addrs []string
	for {
		p, err := g.Pick(&a)
		if err != nil {
			addrs = append(addrs, g.Name())
			break
		}
		addrs = append(addrs, p.Name())
		if !refuse(p) {
			a.Done()
			break
		}
		if d := a.Fail(Failure{Cond: CondError}); d.Action != ActionRetry {
			break
		}
	}
	return strings.Join(addrs, ", ")
}
