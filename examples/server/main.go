// Command server runs one zk peer from a ZooKeeper zoo.cfg, as zkServer.sh
// runs a ZooKeeper server: ZooKeeper's clients (zkCli.sh, kazoo, Curator,
// go-zookeeper) connect to its clientPort.
//
//	go run ./examples/server -config zoo.cfg              # run the peer here (start-foreground)
//	go run ./examples/server start zoo.cfg                # in the background, as zkServer.sh start
//	go run ./examples/server status zoo.cfg               # ask a running peer its mode
//	go run ./examples/server stop zoo.cfg                 # stop the background peer gracefully
//
// The commands are zkServer.sh's: start-foreground (also what runs with no
// command) runs the peer in this process until SIGINT or SIGTERM; start
// runs it as a process of its own in a new session, writes that process's
// pid to $ZOOPIDFILE (default dataDir/zookeeper_server.pid) and its output
// to $ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out ($ZOO_LOG_DIR
// defaults to dataDir), and prints STARTED once the peer's storage is open
// and its ports listen (FAILED TO START if it ended before); stop sends
// that process SIGTERM and waits until it has ended; restart is stop, then
// start; status asks the peer for its mode; version prints the version
// the four-letter words report, and print-cmd the command line start runs
// (this program as start-foreground, its output to the .out file). start
// and stop lock the pid file (flock): one run while another holds it
// waits, and Ctrl-C ends their waits. start waits a minute at most for the peer's word, then
// prints STARTED if the process runs, as zkServer.sh would, and says on
// stderr that the peer has not said it started; stop gives up after a
// minute with exit 1, leaving the pid file.
//
// As with zkServer.sh, the configuration is $ZOOCFGDIR/$ZOOCFG (default
// ./zoo.cfg), or the file named after the command: a bare name is taken
// in $ZOOCFGDIR, a path as it is; -config overrides both.
//
// A replicated peer (server.N lines) needs the ensemble's shared secret:
// -secret-file names a file holding it (at least 16 bytes), the same on
// every peer. A server that a reconfig removed keeps serving as a
// non-voting member until a reconfig adds it back; restarted, it stays
// removed, and -rejoin brings it back with its data directory, as a joiner
// a reconfig can add again. The peer stops gracefully on SIGINT or SIGTERM.
//
// zoo.cfg's secureClientPort serves the clients over TLS too, from PEM
// files (ssl.keyStore.location, ssl.trustStore.location, ssl.clientAuth),
// as ZooKeeper's Netty server does.
//
// SASL DIGEST-MD5 clients (kazoo's sasl_options, the Java client with a
// JAAS Client section) authenticate as the users of a JAAS file's Server
// section: -jaas FILE, or -Djava.security.auth.login.config=FILE in
// SERVER_JVMFLAGS or JVMFLAGS, as zkServer.sh hands it to ZooKeeper's JVM.
// -Dzookeeper.superUser=NAME there (or superUser=NAME in zoo.cfg) names
// the SASL super user, -Dzookeeper.DigestAuthenticationProvider.superDigest
// the digest one.
//
// The server runs with GOGC=400 unless the environment sets GOGC: fewer
// garbage collections for a little more memory. It also runs with one
// more P (GOMAXPROCS) than the runtime would give it, unless the
// environment sets GOMAXPROCS: the client port's ring thread waits in the
// kernel while it holds a P (see extraProcs).
//
// It prints the peer's full status (zk.Status) once it serves and again on
// SIGUSR1 (kill -USR1 <pid>). When zoo.cfg names ZooKeeper's Prometheus
// metrics provider, the peer's metrics are served over HTTP as ZooKeeper
// serves them:
//
//	metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
//	metricsProvider.httpHost=127.0.0.1     # default 0.0.0.0
//	metricsProvider.httpPort=7000          # default 7000
//
// then http://127.0.0.1:7000/metrics has ZooKeeper's metric names
// (znode_count, fsynctime, ...) and the Go runtime's.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/embedzk/zk"
	"github.com/prometheus/client_golang/prometheus"
)

// gcPercent is the server's garbage-collection target (GOGC) unless the
// environment sets one: a peer's live heap is small (its tree lives in
// Pebble, outside it), so the runtime's default of 100 collects often;
// 400 takes about a tenth of the CPU per write off a busy peer for a few
// tens of MiB (examples/bench/PROFILE.md, "The ceiling over the wire").
const gcPercent = 400

// extraProcs is how many Ps the server adds to the runtime's default
// GOMAXPROCS unless the environment sets GOMAXPROCS. The client port's
// io_uring thread spends most of its time waiting in io_uring_enter, and a
// thread in a system call keeps its P until the runtime's monitor takes it
// back, after 20 µs or more, to run what is queued on it (often the peer
// loop, which the ring has just handed requests). One more P than the
// cores keeps an idle P for that work; the monitor then has fewer Ps to
// take back, and the server switches threads less. On a 2-core VM it took
// about a quarter off the server's context switches per create, and
// raised the client-port comparisons with ZooKeeper by 4–14%
// (examples/bench/PROFILE.md, "Threads waiting in the kernel").
const extraProcs = 1

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if n, ok := serverProcs(os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); ok {
		runtime.GOMAXPROCS(n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	usr := make(chan os.Signal, 1)
	notifyStatus(usr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, usr)
	signal.Stop(usr)
	stop()
	os.Exit(code)
}

// serverProcs returns the GOMAXPROCS the server sets, given the
// environment's GOMAXPROCS (env) and the runtime's current setting, and
// false when it keeps the runtime's (the environment chose).
func serverProcs(env string, current int) (int, bool) {
	if env != "" {
		return current, false
	}
	return current + extraProcs, true
}

// run runs the command in args until ctx ends; a value on statusReq
// (SIGUSR1) prints the peer's status. It returns the exit code: 2 for bad
// arguments, 1 for a failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, statusReq <-chan os.Signal) int {
	cmd := "start-foreground" // no command runs the peer here
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("server "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the zoo.cfg file (default $ZOOCFGDIR/$ZOOCFG, or ./zoo.cfg)")
	secretFile := fs.String("secret-file", "", "file holding the peers' shared secret (replicated ensembles)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write a profile of the run's allocations to this file at exit")
	jaas := fs.String("jaas", "", "JAAS file of the SASL DIGEST-MD5 users (default: java.security.auth.login.config from SERVER_JVMFLAGS or JVMFLAGS)")
	rejoin := fs.Bool("rejoin", false, "a server a reconfig removed joins again with its data directory (zk.Config.Rejoin), to be added back by a reconfig")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var file string // zkServer.sh's config argument; flags may follow it
	if fs.NArg() > 0 {
		file = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return 2
		}
	}
	if fs.NArg() > 0 || file != "" && *config != "" {
		fmt.Fprintf(stderr, "server: unexpected arguments: %s\n", strings.Join(append([]string{file}, fs.Args()...), " "))
		return 2
	}
	if *config == "" {
		*config = configPath(file, os.Getenv("ZOOCFGDIR"), os.Getenv("ZOOCFG"))
	}
	var err error
	switch cmd {
	case "start-foreground":
		ready := readyPipe(os.Getenv)
		os.Unsetenv(readyFDEnv) // read: not for whatever the peer runs
		err = profiled(*cpuProfile, *memProfile, func() error {
			return start(ctx, startArgs{*config, *secretFile, *jaas, *rejoin, ready}, stdout, stderr, statusReq)
		})
	case "start", "stop", "restart", "status", "version", "print-cmd":
		fmt.Fprintf(stderr, "Using config: %s\n", *config) // zkServer.sh's line
		return shellCommand(ctx, cmd, *config, passFlags(fs), stdout, stderr)
	default:
		fmt.Fprintf(stderr, "server: unknown command %q (want start, start-foreground, stop, restart, status, version or print-cmd)\n", cmd)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	return 0
}

// configPath is the zoo.cfg zkServer.sh would read: arg (the file named
// after the command) in dir ($ZOOCFGDIR, default .) if it is a bare name,
// as it is if it names a directory too; without arg, dir/name ($ZOOCFG,
// default zoo.cfg).
func configPath(arg, dir, name string) string {
	if dir == "" {
		dir = "."
	}
	if name == "" {
		name = "zoo.cfg"
	}
	switch {
	case arg == "":
		return filepath.Join(dir, name)
	case strings.ContainsRune(arg, filepath.Separator):
		return arg
	}
	return filepath.Join(dir, arg)
}

// loadZooCfg is zk.LoadZooCfg with lines placed before the file's own (a
// key given twice takes its last value, so the file's win).
func loadZooCfg(path, before string) (zk.Config, []string, error) {
	cfg, ignored, err := zk.LoadZooCfg(path)
	if err != nil || before == "" {
		return cfg, ignored, err
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return zk.Config{}, nil, err
	}
	var myid []byte
	if cfg.DataDir != "" {
		if myid, err = os.ReadFile(filepath.Join(cfg.DataDir, "myid")); err != nil && !os.IsNotExist(err) {
			return zk.Config{}, nil, err
		}
	}
	// The file alone parsed: an error now comes from the properties'
	// lines (its line numbers count them first).
	cfg, ignored, err = zk.ParseZooCfg(strings.NewReader(before+string(text)), myid)
	if err != nil {
		return zk.Config{}, nil, fmt.Errorf("zoo.cfg with the JVMFLAGS and SERVER_JVMFLAGS properties as its first lines:\n%s: %w", before, err)
	}
	cfg.InitialConfig = string(text) // the file as read
	return cfg, ignored, nil
}

// startArgs are the start command's flags, and the pipe on which a peer
// that start put in the background says it has started (nil otherwise).
type startArgs struct {
	config, secretFile, jaas string
	rejoin                   bool
	ready                    io.WriteCloser
}

// start runs the peer until ctx ends. With metricsProvider keys in zoo.cfg
// it serves the peer's Prometheus metrics at http://httpHost:httpPort/metrics.
func start(ctx context.Context, a startArgs, stdout, stderr io.Writer, statusReq <-chan os.Signal) error {
	props := readJVMFlags(os.Getenv)
	cfg, ignored, err := loadZooCfg(a.config, props.zooLines)
	if err != nil {
		return err
	}
	if err := props.apply(&cfg, a.jaas); err != nil {
		return err
	}
	if err := props.applyAdmin(&cfg, []byte(cfg.InitialConfig)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(ignored) > 0 {
		log.Info("zoo.cfg keys zk does not use", "keys", ignored)
	}
	if a.secretFile != "" {
		if cfg.PeerSecret, err = os.ReadFile(a.secretFile); err != nil {
			return err
		}
		cfg.PeerSecret = bytes.TrimSpace(cfg.PeerSecret)
	}
	cfg.Logger, cfg.Rejoin = log, a.rejoin
	if cfg.AuditEnabled {
		closeAudit, err := useAuditLog(&cfg, logDir(os.Getenv, cfg.DataDir), log)
		if err != nil {
			return err
		}
		defer closeAudit() // after the peer's Close, which logs serverStop
	}
	if cfg.ClientPort == 0 && cfg.SecureClientPort == 0 {
		log.Warn("no clientPort or secureClientPort in zoo.cfg: ZooKeeper clients cannot connect")
	}
	var ms *metricsServer
	if cfg.MetricsHTTPAddress != "" {
		reg := prometheus.NewRegistry()
		if ms, err = serveMetrics(cfg.MetricsHTTPAddress, reg, log); err != nil {
			return err
		}
		defer ms.close()
		cfg.Registerer = reg
	}
	e, err := zk.NewEnsemble(cfg)
	if a.ready != nil {
		if err == nil {
			io.WriteString(a.ready, "started\n") // start may have gone: nobody to tell
		}
		a.ready.Close()
	}
	if err != nil {
		return err
	}
	if addr := e.AdminAddr(); addr != "" {
		url := cfg.AdminCommandURL
		if url == "" {
			url = zk.DefaultAdminCommandURL
		}
		fmt.Fprintf(stdout, "admin server: http://%s%s\n", addr, url)
	}
	serve(ctx, e, ms, stdout, statusReq)
	fmt.Fprintln(stdout, "stopping")
	return e.Close()
}

// serve reports the peer once it serves and its status on each request,
// until ctx ends.
func serve(ctx context.Context, e *zk.Ensemble, ms *metricsServer, stdout io.Writer, statusReq <-chan os.Signal) {
	served := make(chan error, 1)
	go func() { served <- e.WaitServing(ctx) }()
	defer func() {
		if served != nil {
			<-served // ctx has ended: WaitServing returns
		}
	}()
	for {
		select {
		case err := <-served:
			served = nil
			if err != nil {
				return
			}
			st := e.Status()
			where := e.ClientAddr()
			if where == "" {
				where = "no client port"
			}
			if sec := e.SecureClientAddr(); sec != "" {
				where += ", TLS on " + sec
			}
			fmt.Fprintf(stdout, "zk peer %d serving on %s, mode: %s\n", st.ID, where, modeName(st.Mode))
			if ms != nil {
				fmt.Fprintf(stdout, "metrics: http://%s/metrics\n", ms.addr)
			}

			printStatus(stdout, e.Status())
		case <-statusReq:
			printStatus(stdout, e.Status())
		case <-ctx.Done():
			return
		}
	}
}

// profiled runs fn, writing a CPU profile of it to cpuPath and a profile
// of its allocations to memPath, each unless its path is "".
func profiled(cpuPath, memPath string, fn func() error) error {
	if memPath != "" {
		runtime.MemProfileRate = 4096 // before the run allocates
		return errors.Join(profiled(cpuPath, "", fn), writeAllocs(memPath))
	}
	if cpuPath == "" {
		return fn()
	}
	f, err := os.Create(cpuPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

// writeAllocs writes the allocations profile of the run so far to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// modeName names a mode as zkServer.sh status does.
func modeName(m zk.Mode) string {
	switch m {
	case zk.ModeLeading:
		return "leader"
	case zk.ModeFollowing:
		return "follower"
	case zk.ModeObserving:
		return "observer"
	}
	return m.String()
}
