package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gatehouse/internal/server"
)

// demoConfig is the seed's complete example (../shared/seed/
// complete-example.conf) with its ports and file paths adapted to a
// throwaway directory on loopback. Two more changes, both marked: the
// front's proxy_pass gains the URI part /yourapp (the seed's backends only
// serve /yourapp), and the backends pass what they verified to the app.
const demoConfig = `# The seed's complete example, run by "gatehouse demo" on loopback.
pid       {{DIR}}/gatehouse.pid;
error_log {{DIR}}/error.log info;

http {
    access_log {{DIR}}/access.log;

    upstream backend.example.com {
        server backend1.example.com:{{B1}};
        server backend2.example.com:{{B2}};
    }

    server {
        listen      127.0.0.1:{{FRONT}};
        server_name www.example.com;

        location /upstream {
            # demo: "/yourapp" added, the backends serve nothing else
            proxy_pass                    https://backend.example.com/yourapp;
            proxy_ssl_certificate         {{DIR}}/client.pem;
            proxy_ssl_certificate_key     {{DIR}}/client.key;
            proxy_ssl_protocols           TLSv1 TLSv1.1 TLSv1.2;
            proxy_ssl_ciphers             HIGH:!aNULL:!MD5;
            proxy_ssl_trusted_certificate {{DIR}}/trusted_ca_cert.crt;
            proxy_ssl_verify              on;
            proxy_ssl_verify_depth        2;
            proxy_ssl_session_reuse       on;
        }
    }

    server {
        listen      127.0.0.1:{{B1}} ssl;
        server_name backend1.example.com;

        ssl_certificate        {{DIR}}/server.crt;
        ssl_certificate_key    {{DIR}}/server.key;
        ssl_client_certificate {{DIR}}/ca.crt;
        ssl_verify_client      optional;

        location /yourapp {
            proxy_pass http://url_to_app.com:{{APP}};
            # demo: show the app what the backend verified
            proxy_set_header X-Backend           backend1;
            proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
            proxy_set_header X-SSL-Client-S-DN   $ssl_client_s_dn;
        }
    }

    server {
        listen      127.0.0.1:{{B2}} ssl;
        server_name backend2.example.com;

        ssl_certificate        {{DIR}}/server.crt;
        ssl_certificate_key    {{DIR}}/server.key;
        ssl_client_certificate {{DIR}}/ca.crt;
        ssl_verify_client      optional;

        location /yourapp {
            proxy_pass http://url_to_app.com:{{APP}};
            # demo: show the app what the backend verified
            proxy_set_header X-Backend           backend2;
            proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
            proxy_set_header X-SSL-Client-S-DN   $ssl_client_s_dn;
        }
    }
}
`

// demoPorts are the ports tried first; a busy one is replaced by a free one.
var demoPorts = [...]int{8080, 8443, 8444, 8081}

// runDemo writes throwaway certificates and the seed's configuration into
// a temporary directory, starts an echo app and gatehouse on loopback,
// prints what to try, and runs until interrupted.
func runDemo(args []string, io stdio) int {
	if len(args) > 0 {
		fmt.Fprintf(io.err, "gatehouse: demo takes no arguments\n")
		return 1
	}
	dir, err := os.MkdirTemp("", "gatehouse-demo-")
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: [emerg] %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := writeDemoPKI(dir); err != nil {
		fmt.Fprintf(io.err, "gatehouse: [emerg] %v\n", err)
		return 1
	}

	// The application behind the backends: it echoes what it received.
	appLn, err := listenPreferred(demoPorts[3])
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: [emerg] %v\n", err)
		return 1
	}
	app := &http.Server{Handler: http.HandlerFunc(echoApp), ReadHeaderTimeout: 10 * time.Second}
	go app.Serve(appLn)
	defer app.Close()

	ports := map[string]int{"APP": appLn.Addr().(*net.TCPAddr).Port}
	for i, name := range []string{"FRONT", "B1", "B2"} {
		ports[name] = pickPort(demoPorts[i])
	}
	conf := strings.ReplaceAll(demoConfig, "{{DIR}}", dir)
	for k, v := range ports {
		conf = strings.ReplaceAll(conf, "{{"+k+"}}", fmt.Sprint(v))
	}
	confPath := filepath.Join(dir, "gatehouse.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		fmt.Fprintf(io.err, "gatehouse: [emerg] %v\n", err)
		return 1
	}

	io.resolve = demoResolve
	ready := io.ready
	io.ready = func(s *server.Server) {
		printDemoHelp(io.out, dir, ports)
		if ready != nil {
			ready(s)
		}
	}
	return run([]string{"-p", dir + "/", "-c", confPath, "-e", "stderr"}, io)
}

// demoResolve resolves the seed's example names to the loopback address.
func demoResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if strings.HasSuffix(host, ".example.com") || host == "url_to_app.com" || host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return systemResolve(ctx, host)
}

func printDemoHelp(w io.Writer, dir string, p map[string]int) {
	fmt.Fprintf(w, `
gatehouse demo: the seed's complete example is running on 127.0.0.1
  front proxy (www.example.com)     http://127.0.0.1:%d/upstream  -> upstream group over mutual TLS
  backend1.example.com              https://127.0.0.1:%d  (asks for a client certificate)
  backend2.example.com              https://127.0.0.1:%d
  the app behind both               http://127.0.0.1:%d  (echoes the headers it received)
  files (certificates, config, logs) %s

Try:
  # through the front: it presents its client certificate to a backend, which
  # verifies it and tells the app (SUCCESS and the front's subject DN)
  curl -s http://127.0.0.1:%[1]d/upstream/hello

  # to a backend directly, without a client certificate: optional, so NONE
  curl -s --cacert %[5]s/ca.crt --resolve backend1.example.com:%[2]d:127.0.0.1 https://backend1.example.com:%[2]d/yourapp/

  # with a client certificate the backend trusts: SUCCESS and your DN
  curl -s --cacert %[5]s/ca.crt --cert %[5]s/user.crt --key %[5]s/user.key \
       --resolve backend1.example.com:%[2]d:127.0.0.1 https://backend1.example.com:%[2]d/yourapp/

  # with a certificate from an unknown CA: 400 "The SSL certificate error"
  curl -s --cacert %[5]s/ca.crt --cert %[5]s/stranger.crt --key %[5]s/stranger.key \
       --resolve backend1.example.com:%[2]d:127.0.0.1 https://backend1.example.com:%[2]d/yourapp/

  # the configuration as gatehouse read it, and its logs
  cat %[5]s/gatehouse.conf %[5]s/access.log

Press Ctrl-C to stop.
`, p["FRONT"], p["B1"], p["B2"], p["APP"], dir)
}

// echoApp answers with the request line and headers it received.
func echoApp(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "app received: %s %s %s\n", r.Method, r.RequestURI, r.Proto)
	fmt.Fprintf(w, "Host: %s\n", r.Host)
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range r.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
}

func listenPreferred(port int) (net.Listener, error) {
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		return ln, nil
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// pickPort returns port if it is free now, else a free one.
func pickPort(port int) int {
	ln, err := listenPreferred(port)
	if err != nil {
		return port
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeDemoPKI makes a throwaway CA and the certificates the seed's
// configuration names, plus a user and a stranger certificate for curl.
func writeDemoPKI(dir string) error {
	now := time.Now()
	// Longer than the 14 days within which an expiring certificate is
	// warned about, so the demo starts without warnings.
	notAfter := now.Add(30 * 24 * time.Hour)
	caKey, caCert, err := demoCert(nil, nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "gatehouse demo CA", Organization: []string{"gatehouse demo"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	})
	if err != nil {
		return err
	}
	leaf := func(cn string, usage x509.ExtKeyUsage, dns ...string) *x509.Certificate {
		return &x509.Certificate{
			Subject:     pkix.Name{CommonName: cn, Organization: []string{"gatehouse demo"}},
			DNSNames:    dns,
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    notAfter,
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
	}
	files := map[string][]byte{"ca.crt": caCert, "trusted_ca_cert.crt": caCert}
	for _, c := range []struct {
		name string
		tmpl *x509.Certificate
		ca   bool
	}{
		{"server", leaf("backend.example.com", x509.ExtKeyUsageServerAuth, "backend.example.com", "backend1.example.com", "backend2.example.com"), true},
		{"client", leaf("www.example.com", x509.ExtKeyUsageClientAuth), true},
		{"user", leaf("demo user", x509.ExtKeyUsageClientAuth), true},
		{"stranger", leaf("stranger", x509.ExtKeyUsageClientAuth), false},
	} {
		var key, cert []byte
		if c.ca {
			key, cert, err = demoCert(caKey, caCert, c.tmpl)
		} else {
			key, cert, err = demoCert(nil, nil, c.tmpl)
		}
		if err != nil {
			return err
		}
		ext := ".crt"
		if c.name == "client" {
			ext = ".pem"
		}
		files[c.name+ext] = cert
		files[c.name+".key"] = key
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// demoCert signs tmpl with the CA (self-signed when caKey is nil) and
// returns the PEM key and certificate.
func demoCert(caKeyPEM, caCertPEM []byte, tmpl *x509.Certificate) (keyPEM, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	parent, signer := tmpl, any(key)
	if caKeyPEM != nil {
		kb, _ := pem.Decode(caKeyPEM)
		cb, _ := pem.Decode(caCertPEM)
		if kb == nil || cb == nil {
			return nil, nil, fmt.Errorf("demo CA: bad PEM")
		}
		caKey, err := x509.ParseECPrivateKey(kb.Bytes)
		if err != nil {
			return nil, nil, err
		}
		if parent, err = x509.ParseCertificate(cb.Bytes); err != nil {
			return nil, nil, err
		}
		signer = caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
