package wire_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ZooKeeper's C client (libzookeeper_mt 3.8, Debian's libzookeeper-mt-dev)
// is the fourth client family the interop tests run, after zkCli.sh (Java),
// kazoo (Python) and go-zookeeper. Many bindings are built on it.
const (
	cHeader = "/usr/include/zookeeper/zookeeper.h"
	gcc     = "/usr/bin/gcc"
)

// buildCClient compiles testdata/cclient/zkc.c against libzookeeper_mt.
func buildCClient(t *testing.T) string {
	t.Helper()
	for _, p := range []string{gcc, cHeader} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing (apt-get install -y gcc libzookeeper-mt-dev, as .ci/run does): %v", p, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "zkc")
	out, err := exec.Command(gcc, "-Wall", "-Werror", "-O1", "-DTHREADED", "-o", bin,
		filepath.Join("testdata", "cclient", "zkc.c"), "-lzookeeper_mt", "-lpthread").CombinedOutput()
	if err != nil {
		t.Fatalf("compiling zkc.c: %v\n%s", err, out)
	}
	return bin
}

// runCClient runs zkc with args and returns its output. A line zkc prints
// as "@what" asks the test to act: act(what) runs, and zkc reads a line
// on its stdin when it has; such lines are not part of the output.
func runCClient(t *testing.T, bin string, act func(string), args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		if what, ok := strings.CutPrefix(line, "@"); ok && act != nil {
			act(what)
			io.WriteString(stdin, "go\n") // if zkc has ended, Wait says why
			continue
		}
		out.WriteString(line + "\n")
	}
	if err := lines.Err(); err != nil {
		t.Errorf("reading zkc's output: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("zkc %v: %v\n%s\nstderr:\n%s", args, err, out.String(), stderr.String())
	}
	return out.String()
}

// TestInteropCClient runs the same C client script against a real ZooKeeper
// 3.8 and a zk peer and compares every line: results, error names, Stat
// fields (zxids relative to the first create), sequence names, ACLs and
// the watch events each call's reply followed. The script covers creates of
// every mode (TTL too), sets, deletes with versions, children, sync, data,
// exists and child watches fired once, removeWatches, digest auth and
// ACLs (bad ones too), multi, 200 pipelined creates, a wrong password on
// re-attach, a read-only-allowed session, getconfig, reconfig, and a
// request over jute.maxbuffer.
func TestInteropCClient(t *testing.T) {
	bin := buildCClient(t)
	real := startRealZK(t)
	cfg := peerConfig()
	cfg.ManualClock = false // real time, as the real server runs
	ours := startPeer(t, cfg).ClientAddr()
	want := runCClient(t, bin, nil, real)
	got := runCClient(t, bin, nil, ours)
	for zookeeper, zk := range cClientDifferences {
		if !strings.Contains(want, zookeeper) {
			t.Errorf("ZooKeeper's output lacks %q, a listed difference", zookeeper)
		}
		want = strings.ReplaceAll(want, zookeeper, zk)
	}
	compareCClient(t, want, got,
		"create2 /c: ok /c | czxid=+0", "h1: changed /c (data)", "h1: child /c (kids)", "h1: deleted /w (gone)",
		"200 acreates in flight: 200 answered, 0 out of order, 0 failed, last /m/p-0000000",
		"h4 with h1's id and a wrong password: expired; h1 connected", "set 2 MiB: connection loss", "\ndone\n")
}

// compareCClient fails the test unless ZooKeeper's output (want) holds
// every required line, so that a script that stopped checking them cannot
// pass, and zk's (got) equals it line for line.
func compareCClient(t *testing.T, want, got string, required ...string) {
	t.Helper()
	for _, line := range required {
		if !strings.Contains(want, line) {
			t.Errorf("ZooKeeper's output lacks %q: the script no longer checks what it should", line)
		}
	}
	if got != want {
		t.Errorf("zk and ZooKeeper differ for the C client:\n%s", lineDiff(want, got))
	}
	if t.Failed() {
		t.Logf("ZooKeeper:\n%s", want)
	}
}

// TestInteropCClientMove runs the C client's second script against three
// ZooKeeper 3.8 servers and three zk peers: a session watching on one
// server loses it, another session on a second server changes what it
// watched (a data change, a child created, a node created and one
// deleted), and the first session moves to that second server. The
// client sets its watches again from the zxid it last saw (setWatches),
// and the server fires the ones it missed; both outputs are compared line
// for line.
func TestInteropCClientMove(t *testing.T) {
	bin := buildCClient(t)
	run := func(a, b string) string {
		proxy := newSwitchProxy(t, a)
		return runCClient(t, bin, func(what string) {
			switch what {
			case "cut":
				proxy.cut("")
			case "to-b":
				proxy.cut(b)
			default:
				t.Errorf("zkc asked for %q", what)
			}
		}, "-move", proxy.ln.Addr().String(), b)
	}
	real := startRealZKs(t, 3)
	want := run(real[0], real[1])
	peers := startCluster(t, 3)
	got := run(peers[0].ClientAddr(), peers[1].ClientAddr())
	compareCClient(t, want, got,
		"  h1: changed /mv (data)", "  h1: child /mv (kids)", "  h1: created /mv/new (new)", "  h1: deleted /mv/gone (gone)",
		"h1 exists /mv/eph on B: ok | czxid=+2", "  h1: created /mv/still (still)", "\ndone\n")
}

// TestInteropCClientReadOnly runs the C client's third script against a
// zk peer in read-only mode (Config.ReadOnlyMode), isolated from the two
// others of its ensemble: a session that allows read-only mode connects in
// that state, reads what the ensemble committed before and has every write
// refused (NOTREADONLY); one that does not allow it is not let in. There
// is no comparison with ZooKeeper here: Debian's ZooKeeper 3.8.0 refuses
// the C client's read-only connects ("Connection request from old client",
// then "Refusing session request for not-read-only client"), as it fails
// kazoo's own read-only test.
func TestInteropCClientReadOnly(t *testing.T) {
	bin := buildCClient(t)
	w := startROPeers(t)
	ctx := testCtx(t)
	w.leaderSession(ctx, "/ro")
	f := w.follower()
	w.isolate(f)
	got := runCClient(t, bin, nil, "-ro", f.ClientAddr())
	notRO := "state-changing request is passed to read-only server"
	want := []string{
		"  h1: session readonly", "h1 allowing read-only: state readonly",
		"get /ro: ok d | czxid=+0 mzxid=+0 pzxid=+0 ver=0 cver=0 aver=0 eph=none len=1 kids=0 ctime=mtime:1",
		"wexists /ro: ok", "children /: ok ro zookeeper |",
		"create /x: " + notRO, "create ephemeral /x: " + notRO, "set /ro: " + notRO, "delete /ro: " + notRO,
		"set_acl /ro: " + notRO, "  sync " + notRO, "sync sent: ok",
		"  h1: auth ok", "add_auth: ok", "get /ro again: ok d",
		"h2 not allowing read-only, after 2 s: not let in", "done",
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	for i, line := range lines {
		if i >= len(want) || !strings.HasPrefix(line, want[i]) {
			t.Fatalf("line %d of the C client's output is %q, want %q\n%s", i+1, line, want[min(i, len(want)-1)], got)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("the C client printed %d lines, want %d\n%s", len(lines), len(want), got)
	}
}

// cClientDifferences are the lines of ZooKeeper's output that zk answers
// otherwise on purpose (README, "Differences from ZooKeeper"), with zk's.
var cClientDifferences = map[string]string{
	// exists needs READ on the node, as in ZooKeeper 3.8.4+
	// (ZOOKEEPER-2590); Debian's 3.8.0 still answers it.
	"\nh2 exists /a: ok\n": "\nh2 exists /a: not authenticated\n",
}

// lineDiff lists the lines that differ, position by position.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out strings.Builder
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d\n  zookeeper: %s\n  zk:        %s\n", i+1, x, y)
		}
	}
	return out.String()
}
