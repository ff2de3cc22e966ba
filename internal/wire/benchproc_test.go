package wire_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/wire"
)

var (
	benchInproc  = flag.Bool("wire.inproc", false, "benchmarks: run the zk peers inside the test process")
	serverProfil = flag.String("wire.serverprofile", "", "benchmarks: directory (created if missing) where each zk server process N writes its CPU profile zkN.cpu")
	serverAllocs = flag.Bool("wire.serverallocs", false, "benchmarks: with -wire.serverprofile, each zk server process also writes its allocations profile zkN.mem (sampling allocations costs the server about a tenth of its CPU, so its CPU figures are then not comparable)")
	serverBin    = flag.String("wire.serverbin", "", "benchmarks: a prebuilt examples/server binary to run (another build, to compare)")
	serverMetric = flag.Bool("wire.servermetrics", false, "BenchmarkWireZK with -wire.only: the zk server processes keep metrics (metricsProvider), and the benchmark reports the log's txns per group commit and its mean write+fsync time from mntr")
	serverEnv    = flag.String("wire.serverenv", "", "benchmarks: extra environment of the zk server processes, comma-separated (GOGC=200,GOMAXPROCS=4)")
)

// startOurs starts n zk peers (an ensemble when n > 1) and returns their
// client addresses: server processes from examples/server, or peers in this
// process with -wire.inproc.
func startOurs(b *testing.B, n int) []string {
	b.Helper()
	if *benchInproc {
		if n == 1 {
			return []string{benchPeer(b)}
		}
		return benchCluster(b)
	}
	bin := *serverBin
	if bin == "" {
		bin = buildServer(b)
	}
	secret := filepath.Join(b.TempDir(), "secret")
	must(b, os.WriteFile(secret, []byte("bench-secret-0123456789"), 0o600))
	servers := ""
	if n > 1 {
		servers = "initLimit=20\nsyncLimit=10\nquorum.auth.secret.location=" + secret + "\n"
		for i := 1; i <= n; i++ {
			servers += fmt.Sprintf("server.%d=127.0.0.1:%d:%d\n", i, freePort(b), freePort(b))
		}
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = startOurProcess(b, bin, i+1, servers)
	}
	for _, addr := range addrs {
		waitZK(b, addr)
	}
	return addrs
}

// startOurProcess starts peer id of examples/server from a zoo.cfg; it is
// stopped (SIGTERM, as zkServer.sh stop) at cleanup.
func startOurProcess(b *testing.B, bin string, id int, servers string) string {
	dir := b.TempDir()
	port := freePort(b)
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n%s",
		dir, port, servers)
	if io := wire.ClientIOForTests(); io != "" {
		cfg += "zk.clientIO=" + io + "\n"
	}
	if *serverMetric {
		cfg += fmt.Sprintf("4lw.commands.whitelist=mntr,srvr\nmetricsProvider.className=%s\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=%d\n",
			engine.PrometheusMetricsProvider, freePort(b))
	}
	must(b, os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644))
	must(b, os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprint(id)), 0o644))
	args := []string{"start-foreground", "-config", filepath.Join(dir, "zoo.cfg")}
	if *serverProfil != "" {
		must(b, os.MkdirAll(*serverProfil, 0o755))
		args = append(args, "-cpuprofile", filepath.Join(*serverProfil, fmt.Sprintf("zk%d.cpu", id)))
		if *serverAllocs {
			args = append(args, "-memprofile", filepath.Join(*serverProfil, fmt.Sprintf("zk%d.mem", id)))
		}
	}
	cmd := exec.Command(bin, args...)
	if *serverEnv != "" {
		cmd.Env = append(os.Environ(), strings.Split(*serverEnv, ",")...)
	}
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	must(b, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	must(b, cmd.Start())
	serverPIDs.Store(fmt.Sprintf("127.0.0.1:%d", port), cmd.Process.Pid)
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if b.Failed() {
			log, _ := os.ReadFile(logf.Name())
			b.Logf("zk peer %d log:\n%s", id, strings.TrimSpace(string(log)))
		}
	})
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// serverPIDs maps the client address of each server process the tests
// started to its process id, for the benchmarks' CPU accounting.
var serverPIDs sync.Map

// serverCPU returns the CPU time the server processes at addrs have used
// so far (user and system, all threads), or 0 when one is not a process of
// ours (-wire.inproc).
func serverCPU(addrs []string) time.Duration {
	var total time.Duration
	for _, addr := range addrs {
		pid, ok := serverPIDs.Load(addr)
		if !ok {
			return 0
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid.(int)))
		if err != nil {
			return 0
		}
		// The fields after the command (which may hold spaces) start
		// after its closing parenthesis; utime and stime are the 14th and
		// 15th fields, in clock ticks (100 per second on Linux).
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return total
}

// serverPeakRSS returns the largest resident set size (VmHWM) of the server
// processes at addrs, summed, in MiB; 0 when one is not a process of ours.
func serverPeakRSS(addrs []string) float64 {
	var kb int64
	for _, addr := range addrs {
		pid, ok := serverPIDs.Load(addr)
		if !ok {
			return 0
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid.(int)))
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				kb += n
			}
		}
	}
	return float64(kb) / 1024
}

// buildServer builds examples/server into a temporary directory and
// returns the binary's path. A benchmark's is built with the server's
// profile (examples/server/server.pgo, profile-guided optimization); a
// test's without, sparing it the first build's recompilation of every
// package.
func buildServer(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "zkserver")
	args := []string{"build", "-o", bin}
	if _, bench := tb.(*testing.B); bench {
		args = append(args, "-pgo="+filepath.Join("..", "..", "examples", "server", "server.pgo"))
	}
	if out, err := exec.Command("go", append(args, "github.com/embedzk/zk/examples/server")...).CombinedOutput(); err != nil {
		tb.Fatalf("building examples/server: %v\n%s", err, out)
	}
	return bin
}
