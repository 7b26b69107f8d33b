package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// wireHTTP is the http block shared by gatehouse and nginx in the request
// wire tests; UP is the recording upstream's port.
const wireHTTP = `
    upstream backend.example.com { server 127.0.0.1:UP; }
    upstream b { server 127.0.0.1:UP; }
    server {
        listen 127.0.0.1:FRONT;
        server_name example.org;
        location /upstream {
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_pass http://backend.example.com;
        }
        location /name/ { proxy_pass http://b/remote/; }
        location /name2/ { proxy_pass http://b/remote; }
        location /name3 { proxy_pass http://b/remote/; }
        location /api/ { proxy_pass http://b/; }
        location /vars/ {
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Uri "$uri?$args";
            proxy_set_header User-Agent "";
            proxy_set_header Host $host;
            proxy_pass http://b;
        }
        location /noheaders/ { proxy_pass_request_headers off; proxy_pass http://b; }
        location / { proxy_pass http://b; }
    }
`

// wireCases are client requests and the exact bytes nginx 1.28 sends
// upstream for them under its own defaults (nginx.md §5.1-§5.3).
var wireCases = []struct {
	name, req, want string
}{
	{"nginx.md 5.3 wire example",
		"POST /upstream/x?a=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\nConnection: keep-alive\r\nX-Forwarded-For: 10.1.1.1\r\nContent-Length: 5\r\n\r\nhello",
		"POST /upstream/x?a=1 HTTP/1.0\r\nX-Forwarded-For: 10.1.1.1, 127.0.0.1\r\nHost: backend.example.com\r\nConnection: close\r\nContent-Length: 5\r\nUser-Agent: curl/8.5.0\r\n\r\nhello"},
	{"X-Forwarded-For without a client value",
		"GET /upstream HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /upstream HTTP/1.0\r\nX-Forwarded-For: 127.0.0.1\r\nHost: backend.example.com\r\nConnection: close\r\n\r\n"},
	{"X-Forwarded-For joins every client value",
		"GET /upstream HTTP/1.1\r\nHost: f\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\n\r\n",
		"GET /upstream HTTP/1.0\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1\r\nHost: backend.example.com\r\nConnection: close\r\n\r\n"},
	{"URI part replaces the prefix",
		"GET /name/x?y=1 HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /remote/x?y=1 HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"URI part without a slash",
		"GET /name2/x HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /remotex HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"location without a slash",
		"GET /name3/x HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /remote//x HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"URI part is a slash",
		"GET /api/v1 HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /v1 HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"escaped remainder is re-escaped in upper case",
		"GET /name/a%20b%3f%c3%a9?q=%20 HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /remote/a%20b%3F%C3%A9?q=%20 HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"escaped slash reaches the upstream as a slash",
		"GET /name/a%2Fb HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /remote/a/b HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"dot segments are resolved before the prefix is replaced",
		"GET /name/a/../b%7E HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /remote/b~ HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"without a URI part the target goes as sent",
		"GET /a//b/%7e/../c?x=%41 HTTP/1.1\r\nHost: f\r\n\r\n",
		"GET /a//b/%7e/../c?x=%41 HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"set headers with variables, an empty one deletes",
		"GET /vars/p?a=1 HTTP/1.1\r\nHost: Front.Example:8080\r\nUser-Agent: ua\r\nX-Real-IP: spoofed\r\nAccept: */*\r\n\r\n",
		"GET /vars/p?a=1 HTTP/1.0\r\nX-Real-IP: 127.0.0.1\r\nX-Uri: /vars/p?a=1\r\nHost: front.example\r\nConnection: close\r\nAccept: */*\r\n\r\n"},
	{"$host falls back to the server name",
		"GET /vars/h HTTP/1.0\r\n\r\n",
		"GET /vars/h HTTP/1.0\r\nX-Real-IP: 127.0.0.1\r\nX-Uri: /vars/h?\r\nHost: example.org\r\nConnection: close\r\n\r\n"},
	{"proxy_pass_request_headers off",
		"GET /noheaders/x HTTP/1.1\r\nHost: f\r\nAccept: x\r\nCookie: c=1\r\n\r\n",
		"GET /noheaders/x HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
	{"hop-by-hop headers nginx does not strip",
		"GET /x HTTP/1.1\r\nHost: f\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nTrailer: X-T\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\nUpgrade: websocket\r\nAccept: a\r\nAccept: b\r\n\r\n",
		"GET /x HTTP/1.0\r\nHost: b\r\nConnection: close\r\nX-Hop: 1\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nTrailer: X-T\r\nAccept: a\r\nAccept: b\r\n\r\n"},
	{"Expect is not forwarded",
		"PUT /x HTTP/1.1\r\nHost: f\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
		"PUT /x HTTP/1.0\r\nHost: b\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"},
	{"chunked body goes de-chunked with its length",
		"POST /x HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
		"POST /x HTTP/1.0\r\nHost: b\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world"},
	{"empty chunked body",
		"POST /x HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST /x HTTP/1.0\r\nHost: b\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
	{"Content-Length: 0 is forwarded",
		"POST /x HTTP/1.1\r\nHost: f\r\nContent-Length: 0\r\n\r\n",
		"POST /x HTTP/1.0\r\nHost: b\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
	{"HEAD",
		"HEAD /x HTTP/1.1\r\nHost: f\r\n\r\n",
		"HEAD /x HTTP/1.0\r\nHost: b\r\nConnection: close\r\n\r\n"},
}

// secureWire is what gatehouse sends under "defaults secure" instead of
// want: HTTP/1.1 and no Connection header (keep-alive to the upstream).
func secureWire(want string) string {
	want = strings.Replace(want, " HTTP/1.0\r\n", " HTTP/1.1\r\n", 1)
	return strings.Replace(want, "Connection: close\r\n", "", 1)
}

// sendOne sends raw to addr and reads one response.
func sendOne(t testing.TB, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	method := raw[:strings.IndexByte(raw, ' ')]
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	for err == nil && resp.StatusCode == 100 {
		resp, err = http.ReadResponse(br, &http.Request{Method: method})
	}
	if err != nil {
		t.Fatalf("reading the response to %q: %v", raw, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, string(body)
}

// TestProxyRequestWire checks byte for byte what gatehouse sends upstream
// under both defaults and, when nginx is installed, that nginx sends the
// same bytes for the same configuration.
func TestProxyRequestWire(t *testing.T) {
	up := newRawUpstream(t, nil, true, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	type target struct {
		name string
		addr string
		want func(string) string
	}
	var targets []target
	for _, d := range []struct{ name, directive string }{{"defaults nginx", "defaults nginx;"}, {"defaults secure", ""}} {
		port := freePort(t)
		conf := fmt.Sprintf("%s\nevents {}\npid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\nhttp {\n    access_log off;\n%s}\n", d.directive, wireHTTP)
		conf = strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port)).Replace(conf)
		start(t, conf)
		want := func(s string) string { return s }
		if d.directive == "" {
			want = secureWire
		}
		targets = append(targets, target{"gatehouse " + d.name, fmt.Sprintf("127.0.0.1:%d", port), want})
	}
	for _, tc := range wireCases {
		for _, tg := range targets {
			t.Run(tc.name+"/"+tg.name, func(t *testing.T) {
				resp, body := sendOne(t, tg.addr, tc.req)
				got := string(up.next(t))
				if want := strings.ReplaceAll(tg.want(tc.want), "UP", fmt.Sprint(up.port())); got != want {
					t.Errorf("upstream received\n%q\nwant\n%q", got, want)
				}
				if resp.StatusCode != 200 || (body != "ok" && !strings.HasPrefix(tc.req, "HEAD")) {
					t.Errorf("client got %d %q, want 200 \"ok\"", resp.StatusCode, body)
				}
			})
		}
	}
}

// TestProxyRequestWireNginx sends the same requests through nginx with
// the same configuration and compares what the upstream receives.
func TestProxyRequestWireNginx(t *testing.T) {
	nginxBinary(t)
	up := newRawUpstream(t, nil, false, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	port := freePort(t)
	conf := "http {\n    access_log off;\n" + wireHTTP + "}\n"
	startNginx(t, strings.NewReplacer("UP", fmt.Sprint(up.port()), "FRONT", fmt.Sprint(port)).Replace(conf))
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			sendOne(t, fmt.Sprintf("127.0.0.1:%d", port), tc.req)
			if got := string(up.next(t)); got != tc.want {
				t.Errorf("nginx sent upstream\n%q\ngatehouse's expectation\n%q", got, tc.want)
			}
		})
	}
}

// TestProxyRequestWireTLS is the nginx.md §5.3 example as written: an
// https upstream named by an upstream block. Under defaults nginx the
// certificate is not checked and no SNI is sent; under defaults secure it
// is verified and the request is HTTP/1.1 without Connection.
func TestProxyRequestWireTLS(t *testing.T) {
	ca := testpki.NewCA(t)
	leaf := ca.Leaf(testpki.WithDNS("backend.example.com"))
	sni := make(chan string, 8)
	up := newRawUpstream(t, &tls.Config{
		Certificates: []tls.Certificate{leaf.TLSCertificate()},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			sni <- h.ServerName
			return nil, nil
		},
	}, false, func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	const req = "POST /upstream/x?a=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\nConnection: keep-alive\r\nX-Forwarded-For: 10.1.1.1\r\nContent-Length: 5\r\n\r\nhello"
	const want = "POST /upstream/x?a=1 HTTP/1.0\r\nX-Forwarded-For: 10.1.1.1, 127.0.0.1\r\nHost: backend.example.com\r\nConnection: close\r\nContent-Length: 5\r\nUser-Agent: curl/8.5.0\r\n\r\nhello"
	for _, tc := range []struct {
		name, defaults, trust, want, sni string
	}{
		{"defaults nginx", "defaults nginx;", "", want, ""},
		{"defaults secure", "", "proxy_ssl_trusted_certificate " + ca.CertFile() + ";", secureWire(want), "backend.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			start(t, frontConf(tc.defaults, port, fmt.Sprintf("upstream backend.example.com { server 127.0.0.1:%d; }", up.port()), `
        location /upstream {
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_pass https://backend.example.com;
            `+tc.trust+`
        }`))
			resp, body := sendOne(t, fmt.Sprintf("127.0.0.1:%d", port), req)
			if got := string(up.next(t)); got != tc.want {
				t.Errorf("upstream received\n%q\nwant\n%q", got, tc.want)
			}
			if resp.StatusCode != 200 || body != "ok" {
				t.Errorf("client got %d %q", resp.StatusCode, body)
			}
			if got := <-sni; got != tc.sni {
				t.Errorf("SNI %q, want %q", got, tc.sni)
			}
		})
	}
}
