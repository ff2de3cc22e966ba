package wire_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// freePort returns a port nothing listens on now.
func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRealZK starts a standalone ZooKeeper in a temporary directory and
// returns its client address; it is killed at cleanup.
func startRealZK(t testing.TB) string {
	t.Helper()
	for _, p := range append([]string{"/usr/bin/java"}, zkJars...) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: the real-ZooKeeper tests need Debian's zookeeper (apt-get install -y zookeeper, as .ci/run does)", p)
		}
	}
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\n", dir, port)
	must(t, os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644))
	cmd := exec.Command("/usr/bin/java", "-Xmx512m", "-Dzookeeper.extendedTypesEnabled=true",
		"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.forceSync=yes",
		"-cp", strings.Join(zkJars, ":"), "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ruok(addr) {
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "zk.log"))
			t.Fatalf("ZooKeeper did not start within 60s:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ruok(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	nc.Write([]byte("ruok"))
	b, _ := io.ReadAll(nc)
	return string(b) == "imok"
}
