package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/internal/certs"
	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/route"
	"gatehouse/internal/server"
)

// doctorUse is one location that proxies to an upstream group.
type doctorUse struct {
	loc *config.Location
	pp  *config.ProxyPass
}

// doctorRow is one upstream address as one or more locations with the
// same TLS settings reach it, and what dialling it showed.
type doctorRow struct {
	group   *config.Upstream
	network string // "tcp" or "unix"; "" when not dialled
	addr    string
	uses    []doctorUse
	opts    certs.UpstreamOptions
	timeout time.Duration

	verdict string // the VERIFY column
	failed  bool
	message string // nginx's text for the failure
	fix     string
	chain   []*x509.Certificate
	peer    *certs.PeerInfo // what a failed handshake saw, when chain is empty
	state   *tls.ConnectionState
	resumed string
	notes   []string // what nginx 1.28 would have done
	info    []string // other remarks
}

// doctorDeadline bounds how long the first connection is read after the
// handshake for the session tickets a TLS 1.3 upstream sends.
const doctorDeadline = time.Second

// runDoctor is "gatehouse doctor": it dials every upstream server of the
// configuration with the TLS context the proxy would use and reports, one
// row per address, what it presented and whether it verifies, with the fix
// when it does not and what nginx 1.28 would have done. The exit status is
// 0 only when every dialled upstream is reachable and, where proxy_ssl_verify
// is on, verifies.
func runDoctor(o *options, p paths, io stdio) int {
	ld, err := load(o, p, io.resolve)
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: [emerg] %s\n", err.Error())
		return 1
	}
	printWarnings(io.err, ld.cfg)
	rows, dynamic := doctorRows(ld.cfg)
	store := certs.NewStore(nil)
	for _, r := range rows {
		r.probe(context.Background(), ld.cfg, store)
	}
	failed := printDoctor(io.out, rows, dynamic)
	if failed > 0 {
		return 1
	}
	return 0
}

// doctorRows lists the upstream addresses of cfg in the order of the
// upstream groups, each with the locations that proxy to it grouped by
// their TLS settings; dynamic are the proxy_pass directives with
// variables, whose upstream is known only per request.
func doctorRows(cfg *config.Config) (rows []*doctorRow, dynamic []*config.ProxyPass) {
	if cfg.HTTP == nil {
		return nil, nil
	}
	uses := map[*config.Upstream][]doctorUse{}
	var walk func(ls []*config.Location)
	walk = func(ls []*config.Location) {
		for _, l := range ls {
			if pp := l.ProxyPass; pp != nil {
				if pp.HasVariables || pp.Upstream == nil {
					dynamic = append(dynamic, pp)
				} else {
					uses[pp.Upstream] = append(uses[pp.Upstream], doctorUse{l, pp})
				}
			}
			walk(l.Children)
		}
	}
	for _, s := range cfg.HTTP.Servers {
		walk(s.Locations)
	}
	for _, g := range cfg.HTTP.Upstreams {
		for _, s := range g.Servers {
			var addrs [][2]string
			if s.Unix != "" {
				addrs = append(addrs, [2]string{"unix", s.Unix})
			}
			for _, a := range s.Addrs {
				addrs = append(addrs, [2]string{"tcp", a.String()})
			}
			for _, a := range addrs {
				if len(uses[g]) == 0 {
					rows = append(rows, &doctorRow{group: g, addr: doctorAddr(a), verdict: "unused", info: []string{"no location proxies to this upstream: not dialled"}})
					continue
				}
				if s.Down {
					rows = append(rows, &doctorRow{group: g, addr: doctorAddr(a), uses: uses[g], verdict: "down", info: []string{"marked down: not dialled"}})
					continue
				}
				byKey := map[string]*doctorRow{}
				for _, u := range uses[g] {
					r := &doctorRow{group: g, network: a[0], addr: a[1], timeout: u.loc.Proxy.ConnectTimeout}
					if r.timeout <= 0 {
						r.timeout = 60 * time.Second
					}
					if u.pp.HTTPS {
						r.opts = server.UpstreamTLSOptions(cfg, u.loc, u.pp, nil)
					}
					key := fmt.Sprintf("%t %v %+v", u.pp.HTTPS, r.timeout, r.opts)
					if prev, ok := byKey[key]; ok {
						prev.uses = append(prev.uses, u)
						continue
					}
					r.uses = []doctorUse{u}
					byKey[key] = r
					rows = append(rows, r)
				}
			}
		}
	}
	return rows, dynamic
}

func doctorAddr(a [2]string) string {
	if a[0] == "unix" {
		return "unix:" + a[1]
	}
	return a[1]
}

// probe dials the row's address and records what it found.
func (r *doctorRow) probe(ctx context.Context, cfg *config.Config, store *certs.Store) {
	if r.network == "" {
		return
	}
	u := r.uses[0]
	if !u.pp.HTTPS {
		conn, err := r.dial(ctx)
		if err != nil {
			r.unreachable(err)
			return
		}
		conn.Close()
		r.verdict = "plain HTTP, not authenticated"
		return
	}
	name := certs.StripPort(r.opts.Name)
	if variablesIn(u.loc.ProxySSL.Name) {
		name = certs.StripPort(u.pp.Host)
		r.info = append(r.info, fmt.Sprintf("proxy_ssl_name %q has variables: checked against %q", u.loc.ProxySSL.Name, name))
	}
	up, err := certs.NewUpstream(r.opts, store)
	if err != nil {
		r.failed, r.verdict, r.message = true, "FAIL: configuration", err.Error()
		return
	}
	tc, err := r.handshake(ctx, up, name)
	if err != nil {
		r.handshakeFailed(ctx, err, store, name)
		r.notes = nginxNotes(cfg, u, r.opts, name, r.chain, store)
		return
	}
	// A TLS 1.3 upstream sends its session tickets, and rejects our
	// client certificate, only after the handshake: read until it closes,
	// ending the connection with close_notify so that it does so at once.
	tc.SetReadDeadline(time.Now().Add(min(doctorDeadline, r.timeout)))
	tc.CloseWrite()
	_, rerr := io.Copy(io.Discard, io.LimitReader(tc, 1<<20))
	cs := tc.ConnectionState()
	tc.Close()
	r.chain = cs.PeerCertificates
	var ue *certs.UpstreamError
	if rerr != nil && errors.As(up.ReadError(rerr, tc), &ue) {
		r.handshakeFailed(ctx, ue, store, name)
		r.notes = nginxNotes(cfg, u, r.opts, name, r.chain, store)
		return
	}
	r.state = &cs
	if r.opts.Verify {
		r.verdict = "ok"
	} else {
		r.verdict = "not verified"
		r.info = append(r.info, "proxy_ssl_verify is off: the certificate is not checked")
	}
	switch {
	case !r.opts.SessionReuse:
		r.resumed = "off"
	default:
		tc2, err := r.handshake(ctx, up, name)
		if err != nil {
			r.resumed = "no"
			r.info = append(r.info, "second connection failed: "+doctorError(err))
			break
		}
		if tc2.ConnectionState().DidResume {
			r.resumed = "yes"
		} else {
			r.resumed = "no"
		}
		tc2.Close()
	}
	r.notes = nginxNotes(cfg, u, r.opts, name, r.chain, store)
}

// dial connects within proxy_connect_timeout.
func (r *doctorRow) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var d net.Dialer
	return d.DialContext(ctx, r.network, r.addr)
}

// handshake connects and runs the proxy's TLS handshake, both within
// proxy_connect_timeout as nginx bounds them.
func (r *doctorRow) handshake(ctx context.Context, up *certs.Upstream, name string) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, r.network, r.addr)
	if err != nil {
		return nil, &dialError{err}
	}
	return up.HandshakeName(ctx, raw, r.addr, name)
}

// dialError is a failure to connect, before any TLS.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func (r *doctorRow) unreachable(err error) {
	r.failed, r.verdict = true, "unreachable"
	r.message = doctorError(&dialError{err})
}

// doctorError words a connection failure as nginx logs it.
func doctorError(err error) string {
	var de *dialError
	if errors.As(err, &de) {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return "upstream timed out (110: Connection timed out) while connecting to upstream"
		}
		return "connect() failed (" + errorlog.Errno(de.err) + ") while connecting to upstream"
	}
	var ue *certs.UpstreamError
	if errors.As(err, &ue) {
		return ue.Message()
	}
	return err.Error()
}

// handshakeFailed records a failed first connection. When the certificate
// is what failed, the upstream is dialled once more with verification off,
// through the same context otherwise, to show the chain it presents.
func (r *doctorRow) handshakeFailed(ctx context.Context, err error, store *certs.Store, name string) {
	var de *dialError
	if errors.As(err, &de) {
		r.unreachable(de.err)
		return
	}
	r.failed = true
	var ue *certs.UpstreamError
	if !errors.As(err, &ue) {
		r.verdict, r.message = "FAIL: handshake", err.Error()
		return
	}
	r.message, r.fix, r.peer = ue.Message(), ue.Fix, ue.Peer
	switch ue.Kind {
	case certs.FailVerify:
		r.verdict = "FAIL: " + ue.Code.String()
	case certs.FailName:
		r.verdict = "FAIL: name mismatch"
	case certs.FailClientCert:
		r.verdict = "FAIL: client certificate"
	case certs.FailProtocol:
		r.verdict = "FAIL: no common protocol or cipher"
	case certs.FailTimeout:
		r.verdict = "FAIL: handshake timed out"
	default:
		r.verdict = "FAIL: handshake"
	}
	if ue.Kind != certs.FailVerify && ue.Kind != certs.FailName {
		return
	}
	o := r.opts
	o.Verify, o.SessionReuse = false, false
	look, err := certs.NewUpstream(o, store)
	if err != nil {
		return
	}
	if tc, err := r.handshake(ctx, look, name); err == nil {
		r.chain = tc.ConnectionState().PeerCertificates
		tc.Close()
	}
}

// variablesIn reports whether a directive value holds a variable.
func variablesIn(s string) bool { return strings.IndexByte(s, '$') >= 0 }

// nginxNotes says what nginx 1.28 would have done differently with the
// same file: the "defaults secure" differences of the README's table that
// apply to this location (a directive written explicitly behaves alike).
func nginxNotes(cfg *config.Config, u doctorUse, o certs.UpstreamOptions, name string, chain []*x509.Certificate, store *certs.Store) []string {
	if cfg.Defaults == config.DefaultsNginx {
		return []string{"nginx would do the same (defaults nginx)"}
	}
	ps := u.loc.ProxySSL
	var n []string
	nginxVerifies := ps.Verify
	if ps.Verify && ps.VerifyPos == (nginxconf.Pos{}) {
		n = append(n, "nginx would not verify this upstream (proxy_ssl_verify is off by default in nginx)")
		nginxVerifies = false
	}
	if nginxVerifies && ps.TrustedCertificate == "" {
		n = append(n, "nginx would refuse this configuration: \"no proxy_ssl_trusted_certificate for proxy_ssl_verify\" (gatehouse uses the system trust store)")
		nginxVerifies = false
	}
	if ps.ServerName && ps.ServerNamePos == (nginxconf.Pos{}) && name != "" && !certs.IsIPLiteral(name) {
		n = append(n, "nginx would not send SNI (proxy_ssl_server_name is off by default in nginx)")
	}
	if !nginxVerifies || len(chain) == 0 {
		return n
	}
	leaf := chain[0]
	secureOK, nginxOK := certs.MatchName(leaf, name, certs.SecureNames), certs.MatchName(leaf, name, certs.NginxNames)
	switch {
	case nginxOK && !secureOK:
		n = append(n, fmt.Sprintf("nginx would accept the CN fallback (the certificate names %q only in its subject CN)", leaf.Subject.CommonName))
	case secureOK && !nginxOK:
		n = append(n, fmt.Sprintf("nginx would reject the name %q (nginx does not match IP subjectAltNames)", name))
	}
	if ps.VerifyDepthPos == (nginxconf.Pos{}) {
		if trust, err := store.Trust(ps.TrustedCertificate, ps.CRL); err == nil {
			now := time.Now()
			ours := trust.Verify(chain, certs.VerifyOptions{Depth: o.VerifyDepth, Purpose: certs.PurposeServer, Now: now, ExplainDepth: true})
			theirs := trust.Verify(chain, certs.VerifyOptions{Depth: 1, Purpose: certs.PurposeServer, Now: now, ExplainDepth: true})
			if ours.OK() && theirs.Code == certs.VerifyChainTooLong {
				n = append(n, "nginx would reject the chain (proxy_ssl_verify_depth is 1 by default in nginx; this chain needs "+strconv.Itoa(theirs.NeedDepth)+")")
			}
		}
	}
	return n
}

// locationLabel is a location as written: "/api", "= /x", "~ ^/re", "@n".
func locationLabel(l *config.Location) string {
	switch l.Kind {
	case route.Exact:
		return "= " + l.Name
	case route.PrefixNoRegex:
		return "^~ " + l.Name
	case route.Regex:
		return "~ " + l.Name
	case route.RegexCaseless:
		return "~* " + l.Name
	case route.Named:
		if !strings.HasPrefix(l.Name, "@") {
			return "@" + l.Name
		}
	}
	return l.Name
}

func posText(p nginxconf.Pos) string { return p.File + ":" + strconv.Itoa(p.Line) }

// expiry is the leaf's end of validity with the days left.
func expiry(notAfter, now time.Time) (short, long string) {
	date := notAfter.UTC().Format("2006-01-02 15:04:05") + " UTC"
	if notAfter.Before(now) {
		ago := int(now.Sub(notAfter).Hours() / 24)
		if ago == 0 {
			return "expired", date + " (expired less than a day ago)"
		}
		return "expired", date + " (expired " + dayCount(ago) + " ago)"
	}
	days := int(math.Floor(notAfter.Sub(now).Hours() / 24))
	return dayCount(days), date + " (" + dayCount(days) + " left)"
}

func dayCount(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// printDoctor writes the table, then each row's details, and returns the
// number of failed rows.
func printDoctor(w io.Writer, rows []*doctorRow, dynamic []*config.ProxyPass) int {
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "UPSTREAM\tADDRESS\tLOCATIONS\tVERIFY\tPROTOCOL\tCIPHER\tRESUMED\tALPN\tEXPIRES")
	failed := 0
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range rows {
		if r.failed {
			failed++
		}
		var locs []string
		for _, u := range r.uses {
			locs = append(locs, locationLabel(u.loc))
		}
		proto, cipher, alpn, exp := "", "", "", ""
		if r.state != nil {
			proto, cipher = certs.VersionName(r.state.Version), tls.CipherSuiteName(r.state.CipherSuite)
			alpn = r.state.NegotiatedProtocol
			if alpn == "" {
				alpn = "none"
			}
		}
		if len(r.chain) > 0 {
			exp, _ = expiry(r.chain[0].NotAfter, now)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.group.Name, r.addr, dash(strings.Join(locs, ",")), r.verdict,
			dash(proto), dash(cipher), dash(r.resumed), dash(alpn), dash(exp))
	}
	tw.Flush()
	for _, r := range rows {
		fmt.Fprintf(w, "\nupstream %q %s\n", r.group.Name, r.addr)
		for _, u := range r.uses {
			fmt.Fprintf(w, "  location %s: proxy_pass %s (%s)\n", locationLabel(u.loc), u.pp.Raw, posText(u.pp.Pos))
		}
		for i, c := range r.chain {
			fmt.Fprintf(w, "  chain %d: subject %q, issuer %q\n", i, certs.RawDN(c.RawSubject), certs.RawDN(c.RawIssuer))
		}
		if len(r.chain) > 0 {
			if sans := certs.DescribePeer(r.chain).SANs(); sans != "" {
				fmt.Fprintf(w, "  SANs: %s\n", sans)
			} else {
				fmt.Fprintf(w, "  SANs: none\n")
			}
			_, long := expiry(r.chain[0].NotAfter, now)
			fmt.Fprintf(w, "  expires: %s\n", long)
		} else if r.peer != nil {
			fmt.Fprintf(w, "  %s\n", r.peer.String())
		}
		if r.message != "" {
			fmt.Fprintf(w, "  error: %s\n", r.message)
		}
		if r.fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", r.fix)
		}
		for _, s := range r.info {
			fmt.Fprintf(w, "  note: %s\n", s)
		}
		for _, s := range r.notes {
			fmt.Fprintf(w, "  nginx: %s\n", s)
		}
	}
	for _, pp := range dynamic {
		fmt.Fprintf(w, "\nproxy_pass %s (%s): the upstream is chosen per request (variables): not checked\n", pp.Raw, posText(pp.Pos))
	}
	fmt.Fprintf(w, "\n%d upstream address(es), %d failed\n", len(rows), failed)
	return failed
}

// migrationNotices are the short form of doctor's nginx notes that -t
// prints without dialling: under "defaults secure", each https proxy_pass
// whose location leaves proxy_ssl_verify at its default, which nginx
// would not verify.
func migrationNotices(cfg *config.Config) []string {
	if cfg.HTTP == nil || cfg.Defaults != config.DefaultsSecure {
		return nil
	}
	var out []string
	var walk func(ls []*config.Location)
	walk = func(ls []*config.Location) {
		for _, l := range ls {
			pp := l.ProxyPass
			if pp != nil && pp.HTTPS && !pp.HasVariables && pp.Upstream != nil && l.ProxySSL.Verify && l.ProxySSL.VerifyPos == (nginxconf.Pos{}) {
				out = append(out, fmt.Sprintf("upstream %q (%s): gatehouse verifies its certificate; nginx would not (proxy_ssl_verify is off by default in nginx)", pp.Upstream.Name, posText(pp.Pos)))
			}
			walk(l.Children)
		}
	}
	for _, s := range cfg.HTTP.Servers {
		walk(s.Locations)
	}
	return out
}
