// Command gatehouse is a reverse proxy that reads nginx configuration,
// terminates TLS for clients and forwards requests to upstream groups over
// verified TLS or mutual TLS. It is driven like nginx: the same flags,
// signals, pid file and error-log lines.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"gatehouse/internal/config"
	"gatehouse/internal/errorlog"
	"gatehouse/internal/nginxconf"
	"gatehouse/internal/server"
)

func main() {
	os.Exit(run(os.Args[1:], stdio{out: os.Stdout, err: os.Stderr}))
}

// stdio and the hooks are what run needs from the outside world; tests
// replace them.
type stdio struct {
	out, err io.Writer
	// resolve looks up host names at load; nil means the system resolver.
	resolve config.Resolver
	// signals, if set, replaces the process's signal delivery.
	signals chan os.Signal
	// ready, if set, is called with the server once it serves.
	ready func(*server.Server)
	// reloaded, if set, is called after each reload with its outcome.
	reloaded func(error)
}

// systemResolve is the resolver used at load for upstream host names.
func systemResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}

func run(args []string, io stdio) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: %s\n", err)
		return 1
	}
	if o.demo {
		return runDemo(o.demoArgs, io)
	}
	if o.help {
		printHelp(io.err)
		return 0
	}
	if o.version {
		printVersion(io.err, o.versionFull)
		if !o.test {
			return 0
		}
	}
	if io.resolve == nil {
		io.resolve = systemResolve
	}
	paths := resolvePaths(o)

	if o.doctor {
		return runDoctor(o, paths, io)
	}
	if o.test {
		return testConfig(o, paths, io)
	}
	if o.signal != "" {
		return sendSignal(o, paths, io)
	}
	return serve(o, paths, io)
}

// paths are the prefix and configuration file after -p and -c.
type paths struct {
	prefix, conf, confPrefix string
}

func resolvePaths(o *options) paths {
	p := paths{prefix: o.prefix}
	if p.prefix == "" {
		p.prefix = defaultPrefix
	}
	p.conf = o.conf
	if p.conf == "" {
		p.conf = defaultConf
	}
	if !filepath.IsAbs(p.conf) {
		p.conf = p.prefix + p.conf
	}
	p.confPrefix = filepath.Dir(p.conf) + "/"
	return p
}

// loaded is a configuration read and compiled.
type loaded struct {
	tree *nginxconf.Tree
	cfg  *config.Config
}

// load parses and compiles the configuration, reporting the first error
// nginx would report.
func load(o *options, p paths, resolve config.Resolver) (*loaded, error) {
	popts := nginxconf.Options{ConfPrefix: p.confPrefix}
	var globals *nginxconf.Tree
	if o.globals != "" {
		g, err := nginxconf.ParseCommandLine(o.globals, popts)
		if err != nil {
			return nil, err
		}
		globals = g
	}
	copts := config.Options{Prefix: p.prefix, ConfPrefix: p.confPrefix, Resolve: resolve, Root: os.Geteuid() == 0}
	tree, perr := nginxconf.ParseFile(p.conf, popts)
	if tree != nil && globals != nil {
		tree.Directives = append(globals.Directives, tree.Directives...)
	}
	if perr != nil {
		if tree != nil {
			if err := config.CheckDirectives(tree.Directives, copts); err != nil {
				return nil, err
			}
		}
		return nil, perr
	}
	cfg, err := config.Compile(tree, copts)
	if err != nil {
		return nil, err
	}
	return &loaded{tree: tree, cfg: cfg}, nil
}

// deps are the runtime dependencies of a process.
func deps(log *errorlog.Logger) server.Deps {
	host, _ := os.Hostname()
	return server.Deps{
		Log:            log,
		PID:            os.Getpid(),
		Hostname:       host,
		Product:        "gatehouse",
		ProductVersion: "gatehouse/" + version,
	}
}

func printWarnings(w io.Writer, cfg *config.Config) {
	for _, warn := range cfg.Warnings {
		fmt.Fprintf(w, "gatehouse: [warn] %s\n", warn.Error())
	}
}

// testConfig is -t and -T: everything a start does short of serving.
func testConfig(o *options, p paths, io stdio) int {
	fail := func(err error) int {
		// Warnings nginx printed before it met the error come first.
		for _, w := range config.Warnings(err) {
			fmt.Fprintf(io.err, "gatehouse: [warn] %s\n", w.Error())
		}
		fmt.Fprintf(io.err, "gatehouse: [emerg] %s\n", err.Error())
		fmt.Fprintf(io.err, "gatehouse: configuration file %s test failed\n", p.conf)
		return 1
	}
	ld, err := load(o, p, io.resolve)
	if err != nil {
		return fail(err)
	}
	printWarnings(io.err, ld.cfg)
	log, err := errorlog.New(nil, errorlog.Options{PID: os.Getpid(), Stderr: io.err, Echo: true})
	if err != nil {
		return fail(err)
	}
	defer log.Close()
	rt, err := server.Build(ld.cfg, deps(log), nil)
	if err != nil {
		return fail(err)
	}
	rt.Close()
	if !o.quiet {
		// What a move from nginx changes, at notice level before the
		// summary lines as nginx prints its warnings; -q leaves them out.
		for _, n := range migrationNotices(ld.cfg) {
			fmt.Fprintf(io.err, "gatehouse: [notice] %s\n", n)
		}
		fmt.Fprintf(io.err, "gatehouse: the configuration file %s syntax is ok\n", p.conf)
		fmt.Fprintf(io.err, "gatehouse: configuration file %s test is successful\n", p.conf)
	}
	if o.dump {
		io.out.Write(ld.tree.Dump())
	}
	return 0
}

// sendSignal is -s: find the running instance through its pid file.
func sendSignal(o *options, p paths, io stdio) int {
	ld, err := load(o, p, io.resolve)
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: [emerg] %s\n", err.Error())
		return 1
	}
	pidPath := ld.cfg.PID
	data, err := os.ReadFile(pidPath)
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: [error] open() %q failed (%s)\n", pidPath, errorlog.Errno(err))
		return 1
	}
	text := strings.TrimRight(string(data), "\n")
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 0 {
		fmt.Fprintf(io.err, "gatehouse: [error] invalid PID number %q in %q\n", text, pidPath)
		return 1
	}
	sig := map[string]syscall.Signal{"stop": syscall.SIGTERM, "quit": syscall.SIGQUIT, "reopen": syscall.SIGUSR1, "reload": syscall.SIGHUP}[o.signal]
	if err := syscall.Kill(pid, sig); err != nil {
		fmt.Fprintf(io.err, "gatehouse: [alert] kill(%d, %d) failed (%s)\n", pid, sig, errorlog.Errno(err))
		return 1
	}
	return 0
}

// earlyLog is the error log used before the configuration is read: the
// -e file ("stderr" means stderr), with messages at warn and above also
// echoed to stderr.
func earlyLog(o *options, p paths, io stdio) (*errorlog.Logger, error) {
	var targets []errorlog.Target
	if e := o.errorLog; e != "" {
		if e != "stderr" && !filepath.IsAbs(e) {
			e = p.prefix + e
		}
		targets = append(targets, errorlog.Target{Path: e, Level: errorlog.Notice})
	}
	return errorlog.New(targets, errorlog.Options{PID: os.Getpid(), Stderr: io.err, Echo: true})
}

// serve runs gatehouse in the foreground until QUIT, TERM or INT.
func serve(o *options, p paths, io stdio) int {
	early, err := earlyLog(o, p, io)
	if err != nil {
		fmt.Fprintf(io.err, "gatehouse: [alert] could not open error log file: %s\n", err.Error())
		early, _ = errorlog.New(nil, errorlog.Options{PID: os.Getpid(), Stderr: io.err, Echo: true})
	}
	defer early.Close()
	emerg := func(log *errorlog.Logger, err error) int {
		if log == nil {
			log = early
		}
		log.Log(errorlog.Emerg, nil, err.Error())
		return 1
	}
	// Signals are caught from the start, so one that arrives as soon as
	// the pid file exists is handled, not fatal.
	sigs := io.signals
	if sigs == nil {
		sigs = make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
		defer signal.Stop(sigs)
	}
	ld, err := load(o, p, io.resolve)
	if err != nil {
		return emerg(nil, err)
	}
	log, err := errorlog.New(server.LogTargets(ld.cfg.ErrorLogs), errorlog.Options{PID: os.Getpid(), Stderr: io.err, Echo: true})
	if err != nil {
		return emerg(nil, err)
	}
	defer log.Close()
	for _, w := range ld.cfg.Warnings {
		log.Log(errorlog.Warn, nil, w.Error())
	}
	d := deps(log)
	rt, err := server.Build(ld.cfg, d, nil)
	if err != nil {
		return emerg(log, err)
	}
	srv := server.New(log)
	if err := srv.Start(rt); err != nil {
		rt.Close()
		return emerg(log, err)
	}
	pidPath := ld.cfg.PID
	if err := writePid(pidPath); err != nil {
		srv.Shutdown(false)
		return emerg(log, err)
	}
	// The pid file may move on reload; remove the last one written.
	defer func() { os.Remove(pidPath) }()
	log.SetEcho(false)
	log.Log(errorlog.Notice, nil, "start worker processes")
	if io.ready != nil {
		io.ready(srv)
	}

	for sig := range sigs {
		switch sig {
		case syscall.SIGHUP:
			log.Log(errorlog.Notice, nil, "reconfiguring")
			newPid, err := reload(o, p, io, srv, log, pidPath)
			if err == nil {
				pidPath = newPid
			}
			if err != nil {
				log.Log(errorlog.Emerg, nil, err.Error())
			}
			if io.reloaded != nil {
				io.reloaded(err)
			}
		case syscall.SIGUSR1:
			log.Log(errorlog.Notice, nil, "reopening logs")
			if err := log.Reopen(); err != nil {
				log.Log(errorlog.Alert, nil, err.Error())
			}
			if err := srv.Current().Reopen(); err != nil {
				log.Log(errorlog.Alert, nil, err.Error())
			}
		case syscall.SIGQUIT:
			log.Log(errorlog.Notice, nil, "gracefully shutting down")
			srv.Shutdown(true)
			log.Log(errorlog.Notice, nil, "exiting")
			return 0
		case syscall.SIGTERM, syscall.SIGINT:
			log.Log(errorlog.Notice, nil, "exiting")
			srv.Shutdown(false)
			return 0
		}
	}
	return 0
}

// writePid writes the process id to the pid file at path, failing with
// nginx's message.
func writePid(path string) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("open() %q failed (%s)", path, errorlog.Errno(err))
	}
	return nil
}

// reload builds a new generation beside the running one and swaps it in;
// on any error the running one stays. When the configuration names
// another pid file, the new one is written before the swap and the old
// one removed after it, as nginx does; reload returns the pid file in
// use.
func reload(o *options, p paths, io stdio, srv *server.Server, log *errorlog.Logger, pidPath string) (string, error) {
	ld, err := load(o, p, io.resolve)
	if err != nil {
		return pidPath, err
	}
	for _, w := range ld.cfg.Warnings {
		log.Log(errorlog.Warn, nil, w.Error())
	}
	rt, err := server.Build(ld.cfg, deps(log), srv.Current())
	if err != nil {
		return pidPath, err
	}
	newPid := ld.cfg.PID
	if newPid != pidPath {
		if err := writePid(newPid); err != nil {
			rt.Close()
			return pidPath, err
		}
	}
	if err := srv.Reload(rt); err != nil {
		rt.Close()
		if newPid != pidPath {
			os.Remove(newPid)
		}
		return pidPath, err
	}
	if newPid != pidPath {
		os.Remove(pidPath)
	}
	if err := log.Reconfigure(server.LogTargets(ld.cfg.ErrorLogs)); err != nil {
		log.Log(errorlog.Alert, nil, err.Error())
	}
	return newPid, nil
}
