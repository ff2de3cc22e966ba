package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Debian's ZooKeeper 3.8: the jars zkServer.sh's classpath reaches.
var zkJars = []string{
	"/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-api.jar",
	"/usr/share/java/netty-all.jar", "/usr/share/java/metrics-core.jar", "/usr/share/java/commons-cli.jar",
	"/usr/share/java/commons-io.jar", "/usr/share/java/snappy-java.jar",
}

const javaBin = "/usr/bin/java"

// zooKeeper is n server processes started by the benchmark: ZooKeeper's
// (JVMs), or zk's (examples/server, with server set: target zk-procs).
type zooKeeper struct {
	addrs  []string
	cmds   []*exec.Cmd
	logs   []*os.File
	server string // examples/server's binary for zk-procs; "" for ZooKeeper
}

// startZooKeeper starts n ZooKeeper servers on 127.0.0.1, each with its own
// zoo.cfg (tickTime 2000, the package's defaults otherwise; forceSync on)
// and data directory below dir, and waits until every one serves.
func startZooKeeper(dir string, n int) (*zooKeeper, error) {
	for _, p := range append([]string{javaBin}, zkJars...) {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s is missing: the ZooKeeper target needs Debian's zookeeper package (apt-get install zookeeper)", p)
		}
	}
	return startServers(dir, n, &zooKeeper{})
}

// startZKProcs starts n zk peers as processes of examples/server (-zk-server,
// or built here with the go command), from the same zoo.cfg as ZooKeeper's servers
// plus the ensemble's secret: zk laid out as ZooKeeper runs, one process
// per server, reached by the same go-zookeeper clients.
func startZKProcs(dir string, n int) (*zooKeeper, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin := *serverBin
	if bin == "" {
		bin = filepath.Join(dir, "zkserver")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/embedzk/zk/examples/server").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building examples/server (run the benchmark in the repository, or give -zk-server): %v: %s", err, out)
		}
	}
	return startServers(dir, n, &zooKeeper{server: bin})
}

// startServers starts z's n servers and waits until every one serves.
func startServers(dir string, n int, z *zooKeeper) (*zooKeeper, error) {
	servers := ""
	if n > 1 {
		servers = "initLimit=10\nsyncLimit=5\n"
		if z.server != "" {
			secret := filepath.Join(dir, "secret")
			if err := os.WriteFile(secret, []byte("zk bench secret 0123456789"), 0o600); err != nil {
				return nil, err
			}
			servers += "quorum.auth.secret.location=" + secret + "\n"
		}
		for i := 1; i <= n; i++ {
			p1, err1 := freePort()
			p2, err2 := freePort()
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("no free port")
			}
			servers += fmt.Sprintf("server.%d=127.0.0.1:%d:%d\n", i, p1, p2)
		}
	}
	for i := 1; i <= n; i++ {
		if err := z.startOne(filepath.Join(dir, fmt.Sprint("zookeeper", i)), i, servers); err != nil {
			z.close()
			return nil, err
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, addr := range z.addrs {
		for zkMode(addr) == "" {
			if time.Now().After(deadline) {
				z.close()
				return nil, fmt.Errorf("the server at %s did not serve within 90s", addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return z, nil
}

func (z *zooKeeper) startOne(dir string, id int, servers string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n%s", dir, port, servers)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprint(id)), 0o644); err != nil {
		return err
	}
	var cmd *exec.Cmd
	if z.server != "" {
		cmd = exec.Command(z.server, "-config", filepath.Join(dir, "zoo.cfg"))
	} else {
		args := append(strings.Fields(*jvmFlags), "-Dzookeeper.forceSync=yes",
			"-cp", strings.Join(zkJars, ":"), "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
		cmd = exec.Command(javaBin, args...)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	z.cmds = append(z.cmds, cmd)
	z.logs = append(z.logs, logf)
	z.addrs = append(z.addrs, fmt.Sprintf("127.0.0.1:%d", port))
	return nil
}

// zkMode returns the server's mode from its srvr four-letter word, or "".
func zkMode(addr string) string {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write([]byte("srvr")); err != nil {
		return ""
	}
	b, _ := io.ReadAll(nc)
	for _, line := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

func (z *zooKeeper) peers() int { return len(z.addrs) }

func (z *zooKeeper) leader() int {
	for i, a := range z.addrs {
		if m := zkMode(a); m == "leader" || m == "standalone" {
			return i
		}
	}
	return -1
}

func (z *zooKeeper) open(i int) (client, error) { return dialGozk(z.addrs[i%len(z.addrs)]) }

func (z *zooKeeper) pids() []int {
	var out []int
	for _, c := range z.cmds {
		out = append(out, c.Process.Pid)
	}
	return out
}

// close kills the servers and waits for them.
func (z *zooKeeper) close() {
	for _, c := range z.cmds {
		c.Process.Kill()
	}
	for i, c := range z.cmds {
		c.Wait()
		z.logs[i].Close()
	}
	z.cmds, z.logs = nil, nil
}
