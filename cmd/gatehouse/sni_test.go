package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/testpki"
)

// TestHostVersusSNI: the server that answers is chosen by Host, the
// certificate by SNI; when SNI named a server and Host names another
// (or an unknown one, so the default, or none) that verifies client
// certificates, the answer is 421, as in nginx.
func TestHostVersusSNI(t *testing.T) {
	port, conf := sniVersusHostConf(t)
	in := start(t, "pid DIR/logs/gatehouse.pid;\nerror_log DIR/logs/error.log info;\n"+conf)
	checkHostVersusSNI(t, port)
	if log := in.errorLog(); !strings.Contains(log, "[info] ") || !strings.Contains(log, "client attempted to request the server name different from the one that was negotiated while reading client request headers, client: 127.0.0.1, server: a.example, request: \"GET / HTTP/1.1\", host: \"a.example\"") {
		t.Errorf("error log lacks the 421 line:\n%s", log)
	}
}

// TestHostVersusSNINginx runs TestHostVersusSNI's requests against nginx.
func TestHostVersusSNINginx(t *testing.T) {
	port, conf := sniVersusHostConf(t)
	startNginx(t, conf)
	checkHostVersusSNI(t, port)
}

func sniVersusHostConf(t *testing.T) (int, string) {
	ca := testpki.NewCA(t)
	cert, key := ca.Leaf(testpki.WithDNS("a.example", "b.example")).Files()
	port := freePort(t)
	return port, fmt.Sprintf(`
http {
    access_log off;
    ssl_certificate %s;
    ssl_certificate_key %s;
    server {
        listen 127.0.0.1:%d ssl default_server;
        server_name a.example;
        ssl_client_certificate %s;
        ssl_verify_client optional;
        location / { return 200 "a $ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:%[3]d ssl;
        server_name b.example;
        location / { return 200 "b $ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:%[3]d ssl;
        server_name c.example "";
        ssl_client_certificate %[4]s;
        ssl_verify_client optional;
        location / { return 200 "c $ssl_server_name $host\n"; }
    }
}
`, cert, key, port, ca.CertFile())
}

func checkHostVersusSNI(t *testing.T, port int) {
	tests := []struct {
		sni, request string
		want         string
	}{
		{"b.example", "GET / HTTP/1.1\r\nHost: a.example\r\n", "HTTP/1.1 421 Misdirected Request\r\n"},
		{"a.example", "GET / HTTP/1.1\r\nHost: b.example\r\n", "\r\n\r\nb a.example\n"},
		{"a.example", "GET / HTTP/1.1\r\nHost: zzz.example\r\n", "HTTP/1.1 421 Misdirected Request\r\n"},
		{"a.example", "GET / HTTP/1.1\r\nHost: A.example.\r\n", "\r\n\r\na a.example\n"},
		// Without Host the server is the one named "" (else the
		// default), whatever SNI said; as it verifies clients, a
		// request over SNI b.example is misdirected.
		{"b.example", "GET / HTTP/1.0\r\n", "HTTP/1.1 421 Misdirected Request\r\n"},
		{"", "GET / HTTP/1.0\r\n", "\r\n\r\nc  c.example\n"},
		{"", "GET / HTTP/1.1\r\nHost: b.example\r\n", "\r\n\r\nb \n"},
		{"", "GET / HTTP/1.1\r\nHost: a.example\r\n", "\r\n\r\na \n"},
	}
	for _, tt := range tests {
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, tt.request+"Connection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("SNI %q, %q: want %q in\n%s", tt.sni, tt.request, tt.want, b)
		}
	}
}
