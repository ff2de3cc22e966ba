package wire_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A real ZooKeeper 3.8 (Debian's) started by a test on 127.0.0.1, for the
// differential test and the benchmarks. Missing Java or ZooKeeper fails the
// test: .ci/run installs them.

var zkJars = []string{
	"/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-api.jar",
	"/usr/share/java/netty-all.jar", "/usr/share/java/metrics-core.jar", "/usr/share/java/commons-cli.jar",
	"/usr/share/java/commons-io.jar", "/usr/share/java/snappy-java.jar",
}

// freePort returns a port nothing listens on now, and none it returned
// before: the ports of an ensemble's servers are all chosen before the
// first server binds any, and the kernel may offer a port again once its
// probe closed (a ZooKeeper whose election port was another's client port
// exits).
func freePort(t testing.TB) int {
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
}

// handedOut are the ports freePort returned in this test process.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// startRealZK starts a standalone ZooKeeper in a temporary directory and
// returns its client address; it is killed at cleanup.
func startRealZK(t testing.TB) string {
	t.Helper()
	return startRealZKs(t, 1)[0]
}

// startRealZKs starts n ZooKeeper servers (an ensemble when n > 1) and
// returns their client addresses.
func startRealZKs(t testing.TB, n int) []string {
	t.Helper()
	return startRealZKsWith(t, n, "")
}

// startRealZKsWith is startRealZKs with extra lines in every zoo.cfg.
func startRealZKsWith(t testing.TB, n int, extra string) []string {
	t.Helper()
	for _, p := range append([]string{"/usr/bin/java"}, zkJars...) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: the real-ZooKeeper tests need Debian's zookeeper (apt-get install -y zookeeper, as .ci/run does)", p)
		}
	}
	servers := extra
	if n > 1 {
		servers += "initLimit=20\nsyncLimit=10\n"
		for i := 1; i <= n; i++ {
			servers += fmt.Sprintf("server.%d=127.0.0.1:%d:%d\n", i, freePort(t), freePort(t))
		}
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = startOneZK(t, i+1, servers)
	}
	for _, addr := range addrs {
		waitZK(t, addr)
	}
	return addrs
}

var zkLog = flag.Bool("wire.zklog", false, "the real ZooKeeper servers log (INFO and above, slf4j-simple) to the zk.log of their directories; a failed test prints their last warnings")

var zkJVMFlags = flag.String("wire.zkjvmflags", "", "benchmarks: extra JVM flags of the ZooKeeper servers (-XX:ActiveProcessorCount=1)")

// startOneZK starts server id of an ensemble described by servers ("" for
// standalone).
func startOneZK(t testing.TB, id int, servers string) string {
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\n%s",
		dir, port, servers)
	must(t, os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprint(id)), 0o644))
	args := []string{"-Xmx512m", "-Dzookeeper.extendedTypesEnabled=true",
		"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.forceSync=yes"}
	if *zkJVMFlags != "" {
		args = append(args, strings.Fields(*zkJVMFlags)...)
	}
	jars := zkJars
	if *zkLog {
		jars = append(slices.Clone(jars), "/usr/share/java/slf4j-simple.jar")
	}
	args = append(args, "-cp", strings.Join(jars, ":"), "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	cmd := exec.Command("/usr/bin/java", args...)
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	must(t, cmd.Start())
	serverPIDs.Store(fmt.Sprintf("127.0.0.1:%d", port), cmd.Process.Pid)
	if *zkLog {
		zkRunning.Store(cmd.Process.Pid, logf)
	}
	t.Cleanup(func() {
		if t.Failed() && *zkLog {
			dumpThreads() // every server's before the first is killed
		}
		zkRunning.Delete(cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			logZKWarnings(t, id, logf.Name())
		}
	})
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// waitZK waits until the server at addr serves (srvr reports a mode).
func waitZK(t testing.TB, addr string) {
	deadline := time.Now().Add(90 * time.Second)
	for !serving(addr) {
		if time.Now().After(deadline) {
			t.Fatalf("ZooKeeper at %s did not serve within 90s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func serving(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	nc.Write([]byte("srvr"))
	b, _ := io.ReadAll(nc)
	return strings.Contains(string(b), "Mode: ")
}

// zkRunning maps the pid of each ZooKeeper server a test runs with
// -wire.zklog to its log file, until the test stops it.
var zkRunning sync.Map

// dumpThreads appends a thread dump (jstack, bounded in time) of every
// running ZooKeeper server to its log, once per server: where a stalled
// ensemble waits. A failed test calls it before it kills any server.
func dumpThreads() {
	zkRunning.Range(func(k, v any) bool {
		zkRunning.Delete(k)
		log := v.(*os.File)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/usr/bin/jstack", "-l", fmt.Sprint(k))
		cmd.Stdout, cmd.Stderr = log, log
		fmt.Fprintf(log, "--- jstack at %s ---\n", time.Now().Format("15:04:05.000"))
		_ = cmd.Run() // a dump that fails leaves its error in the log
		return true
	})
}

// logZKWarnings logs the last warnings and errors of a ZooKeeper server's
// log, for a test that failed.
func logZKWarnings(t testing.TB, id int, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "WARN") || strings.Contains(line, "ERROR") {
			lines = append(lines, line)
		}
	}
	lines = lines[max(0, len(lines)-20):]
	t.Logf("ZooKeeper server %d's last warnings:\n%s", id, strings.Join(lines, "\n"))
	if *zkLog {
		kept := filepath.Join(os.TempDir(), fmt.Sprintf("zk%d-%s.log", id, time.Now().Format("150405.000")))
		if os.WriteFile(kept, b, 0o644) == nil {
			t.Logf("ZooKeeper server %d's whole log: %s", id, kept)
		}
	}
}
