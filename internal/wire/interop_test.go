package wire_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The interop tests run ZooKeeper's own clients against a zk peer. They
// never skip: a missing tool fails them (.ci/run installs Debian's
// zookeeper, python3-kazoo, libcurator-recipes-java, openjdk-17-jdk-headless
// and, for the C client, libzookeeper-mt-dev and gcc).

const (
	zkCli  = "/usr/share/zookeeper/bin/zkCli.sh"
	python = "/usr/bin/python3"
)

func needTool(t *testing.T, path string, check ...string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing (apt-get install -y zookeeper python3-kazoo, as .ci/run does): %v", path, err)
	}
	if len(check) > 0 {
		if out, err := exec.Command(path, check...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v failed (apt-get install -y python3-kazoo, as .ci/run does): %v\n%s", path, check, err, out)
		}
	}
}

// TestInteropZkCli runs the seeds' zkCli.sh command list against a peer.
func TestInteropZkCli(t *testing.T) {
	needTool(t, zkCli)
	e := startPeer(t, peerConfig())
	script := []string{
		"create /app data", "create -e /app/eph e", "create -s /app/seq- s", "create -c /app/box",
		"create -t 60000 /app/ttl t", "create -s -e /app/es- x", "ls -s -R -w /app", "get -s -w /app",
		"set -v 0 /app v1", "set -v 0 /app v2", "stat /app", "addWatch -m PERSISTENT_RECURSIVE /app",
		"addWatch /app/box", "removewatches /app/box", "addauth digest u:p", "setAcl /app/ttl auth:u:p:cdrwa",
		"getAcl /app/ttl", "whoami", "getEphemerals /app", "getAllChildrenNumber /app", "sync /app",
		"delete -v 0 /app/ttl", "delete /app/nope", "deleteall /app", "ls /", "quit",
	}
	cmd := exec.Command(zkCli, "-server", e.ClientAddr())
	cmd.Stdin = strings.NewReader(strings.Join(script, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, text)
	}
	for _, want := range []string{
		"Created /app", "Created /app/seq-0000000001", "Created /app/es-", "dataVersion = 1",
		"version No is not valid : /app", // the second set -v 0
		"'digest,'u:", "digest: u", "ip: 127.0.0.1", "[/app/eph, /app/es-0000000004]", "Sync is OK",
		"Node does not exist: /app/nope", "[zookeeper]", "type:NodeDataChanged path:/app",
		"type:NodeDeleted path:/app/ttl", // the persistent recursive watch
	} {
		if !strings.Contains(text, want) {
			t.Errorf("zkCli output lacks %q", want)
		}
	}
	for _, bad := range []string{"Exception", "ConnectionLoss", "Unimplemented", "MarshallingError"} {
		if strings.Contains(text, bad) {
			t.Errorf("zkCli output has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("zkCli output:\n%s", text)
	}
}

// TestInteropKazoo runs a kazoo script (ensure_path, lock, election,
// watches, transactions) against a peer.
func TestInteropKazoo(t *testing.T) {
	needTool(t, python, "-c", "import kazoo")
	e := startPeer(t, peerConfig())
	out, err := exec.Command(python, "-c", kazooScript, e.ClientAddr()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kazoo ok") {
		t.Fatalf("kazoo: %v\n%s", err, out)
	}
}

const kazooScript = `
import sys, threading
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=15)
zk.ensure_path("/kz/a/b")
assert zk.exists("/kz/a/b")
seen = []
ev = threading.Event()
@zk.DataWatch("/kz/a")
def w(data, stat):
    seen.append(data)
    if len(seen) == 2: ev.set()
zk.set("/kz/a", b"changed")
assert ev.wait(10), seen
kids = threading.Event()
@zk.ChildrenWatch("/kz")
def c(children):
    if "n" in children: kids.set()
zk.create("/kz/n", b"n")
assert kids.wait(10)
lock = zk.Lock("/kz/lock", "me")
with lock:
    assert len(lock.contenders()) == 1
elected = []
el = zk.Election("/kz/election", "me")
t = threading.Thread(target=el.run, args=(lambda: elected.append(1),))
t.start(); t.join(10)
assert elected == [1]
tx = zk.transaction()
tx.create("/kz/t", b"t")
tx.set_data("/kz/a", b"tx")
tx.check("/kz/a/b", 0)
res = tx.commit()
assert all(not isinstance(r, Exception) for r in res), res
tx = zk.transaction()
tx.create("/kz/t2", b"x")
tx.check("/kz/a/b", 7)
res = tx.commit()
assert any(isinstance(r, Exception) for r in res), res
assert zk.exists("/kz/t2") is None
data, stat = zk.get("/kz/a")
assert data == b"tx", data
zk.delete("/kz", recursive=True)
zk.stop()
print("kazoo ok")
`
