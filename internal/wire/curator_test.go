package wire_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The Curator interop test compiles the seeds' Curator programs
// (testdata/curator: the seed 002's §4 code, made to end and print what it
// saw) with javac against Debian's Curator 5.4 jars and runs them against a
// zk peer. It never skips: .ci/run installs libcurator-recipes-java and a
// JDK.

var curatorJars = []string{
	"/usr/share/java/curator-recipes.jar", "/usr/share/java/curator-framework.jar",
	"/usr/share/java/curator-client.jar", "/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/guava.jar", "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-simple.jar",
}

// compileCurator compiles the programs and returns the classpath to run them.
func compileCurator(t *testing.T) string {
	t.Helper()
	needTool(t, "/usr/bin/javac")
	for _, jar := range curatorJars {
		needTool(t, jar)
	}
	classes := t.TempDir()
	cp := strings.Join(curatorJars, ":")
	sources, err := filepath.Glob("testdata/curator/*.java")
	must(t, err)
	args := append([]string{"-encoding", "UTF-8", "-nowarn", "-cp", cp, "-d", classes}, sources...)
	if out, err := exec.Command("/usr/bin/javac", args...).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return classes + ":" + cp
}

// runJava runs a compiled program and returns its standard output lines.
// strict checks that no client saw its connection cut while closing.
func runJava(t *testing.T, strict bool, cp, class string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("/usr/bin/java", append([]string{"-Xmx256m", "-Dfile.encoding=UTF-8",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, class}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", class, err, out, stderr.String())
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "ERROR") || strings.HasPrefix(l, "MISSING") || strings.HasPrefix(l, "OVERLAP") {
			t.Errorf("%s: %s\nstderr:\n%s", class, l, stderr.String())
		}
	}
	// The Java client logs this when the server closes the socket before
	// the client finished closing its session.
	if strict && strings.Contains(stderr.String(), "An exception was thrown while closing send thread") {
		t.Errorf("%s: a client saw its connection cut while closing its session:\n%s", class, stderr.String())
	}
	return lines
}

// TestInteropCurator runs the seed's Curator programs against a peer: the
// API walk-through, the caches, and the 12306 ticket office under an
// InterProcessMutex. The same programs, with the same expectations, run
// against a real ZooKeeper 3.8 first (the expectations are ZooKeeper's
// behaviour), then against a zk peer and a 3-peer zk ensemble (each Curator
// client connects to a member of its choice).
func TestInteropCurator(t *testing.T) {
	cp := compileCurator(t)
	for _, target := range []string{"zookeeper", "zk", "zk3"} {
		t.Run(target, func(t *testing.T) {
			var addr string
			switch target {
			case "zookeeper":
				addr = startRealZK(t)
			case "zk":
				addr = startPeer(t, peerConfig()).ClientAddr()
			case "zk3":
				var addrs []string
				for _, e := range startCluster(t, 3) {
					addrs = append(addrs, e.ClientAddr())
				}
				addr = strings.Join(addrs, ",")
			}
			// ZooKeeper closes a closed session's socket as soon as its
			// reply is out, racing the Java client's own close; zk waits
			// for the client (see awaitClose), so only zk is held to it.
			strict := target != "zookeeper"
			t.Run("api", func(t *testing.T) { curatorAPI(t, strict, cp, addr) })
			t.Run("caches", func(t *testing.T) { curatorCaches(t, strict, cp, addr) })
			t.Run("tickets", func(t *testing.T) { curatorTickets(t, strict, cp, addr) })
		})
	}
}

func curatorAPI(t *testing.T, strict bool, cp, addr string) {
	var steps []string
	for _, l := range runJava(t, strict, cp, "CuratorApi", addr) {
		if strings.HasPrefix(l, "STEP ") {
			steps = append(steps, strings.TrimPrefix(l, "STEP "))
		}
	}
	want := []string{
		"create /app2", "create2 /app1", "create3 /app3", "create4 /app4/p1",
		"get1 127.0.0.1", "get2 [app1, app2, app3, app4]", "get3 version=0 czxid>0=true dataLength=9",
		"set itcast", "setForVersion 1 hehe BadVersion", "delete true", "delete2 true", "delete3 true",
		"delete4 DELETE 0 /app1", "done",
	}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps\n got %q\nwant %q", steps, want)
	}
}

func curatorCaches(t *testing.T, strict bool, cp, addr string) {
	lines := runJava(t, strict, cp, "CuratorCaches", addr)
	if lines[len(lines)-1] != "SEEN done" {
		t.Fatalf("the caches did not see every change:\n%s", strings.Join(lines, "\n"))
	}
}

func curatorTickets(t *testing.T, strict bool, cp, addr string) {
	const sellers, total = 4, 40
	lines := runJava(t, strict, cp, "LockTest", addr, strconv.Itoa(sellers), strconv.Itoa(total))
	seed, many := map[int]int{}, map[int]int{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "SOLD":
			seed[n]++
		case "MANYSOLD":
			many[n]++
		case "TIMEOUT":
			t.Errorf("a seller timed out acquiring the lock: %s", l)
		}
	}
	check := func(name string, sold map[int]int, n int) {
		for i := 1; i <= n; i++ {
			if sold[i] != 1 {
				t.Errorf("%s: ticket %d sold %d times", name, i, sold[i])
			}
		}
		if len(sold) != n {
			t.Errorf("%s: %d distinct tickets sold, want %d", name, len(sold), n)
		}
	}
	check("the seed's office (2 threads, one client)", seed, 10)
	check(fmt.Sprintf("%d sellers with a client each", sellers), many, total)
	if !slices.Contains(lines, "MANY DONE") {
		t.Fatalf("the ticket program did not finish:\n%s", strings.Join(lines, "\n"))
	}
}
