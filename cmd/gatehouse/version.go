package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"gatehouse/internal/variables"
)

const (
	// version is gatehouse's own version.
	version = "0.1.0"
	// defaultPrefix, defaultConf and defaultErrorLog mirror nginx's compiled-in
	// paths.
	defaultPrefix   = "/usr/local/gatehouse/"
	defaultConf     = "conf/gatehouse.conf"
	defaultErrorLog = "logs/error.log"
)

// withoutModules lists the nginx modules that a default nginx build has and
// gatehouse does not, so a tool probing "configure arguments" sees the truth.
var withoutModules = []string{
	"http_charset_module", "http_gzip_module", "http_ssi_module",
	"http_userid_module", "http_access_module", "http_auth_basic_module",
	"http_mirror_module", "http_autoindex_module", "http_geo_module",
	"http_map_module", "http_split_clients_module", "http_referer_module",
	"http_rewrite_module", "http_fastcgi_module", "http_uwsgi_module",
	"http_scgi_module", "http_grpc_module", "http_memcached_module",
	"http_limit_conn_module", "http_limit_req_module", "http_empty_gif_module",
	"http_browser_module", "http_upstream_zone_module", "http-cache",
}

func printVersion(w io.Writer, full bool) {
	fmt.Fprintf(w, "nginx version: nginx/%s (gatehouse %s)\n", variables.NginxRelease, version)
	if !full {
		return
	}
	fmt.Fprintf(w, "built with %s (Go crypto/tls)\n", runtime.Version())
	fmt.Fprintln(w, "TLS SNI support enabled")
	var b strings.Builder
	b.WriteString("configure arguments: --prefix=" + defaultPrefix + " --with-http_ssl_module")
	for _, m := range withoutModules {
		b.WriteString(" --without-" + m)
	}
	fmt.Fprintln(w, b.String())
}

func printHelp(w io.Writer) {
	printVersion(w, false)
	fmt.Fprint(w, `Usage: gatehouse [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]
       gatehouse doctor [-p prefix] [-c filename] [-g directives]
       gatehouse demo

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: `+defaultPrefix+`)
  -e filename   : set error log file (default: `+defaultErrorLog+`)
  -c filename   : set configuration file (default: `+defaultConf+`)
  -g directives : set global directives out of configuration file

Commands:
  doctor        : dial every upstream server of the configuration with the
                  proxy's TLS settings and report what each presents, whether
                  it verifies (and the fix when not) and what nginx would do;
                  exit status 1 unless every upstream is reachable and verifies
  demo          : run the seed's front proxy and two mTLS backends on
                  loopback with throwaway certificates, and print what to try
`)
}
