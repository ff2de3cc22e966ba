package wire_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
)

// TestReconfigToOneVoterLikeZooKeeper: with standaloneEnabled=false a
// three-server ZooKeeper 3.8 ensemble and a three-peer zk ensemble are
// shrunk to one participant through go-zookeeper, by removing the leader
// and a follower at once, and then asked the same things: both refuse to
// remove every participant, accept the change, lead with the one server
// left, commit a create there, and keep the removed servers serving reads
// as non-voting followers.
func TestReconfigToOneVoterLikeZooKeeper(t *testing.T) {
	t.Run("standaloneEnabled=false", testShrinkToOneLikeZooKeeper)
	t.Run("standaloneEnabled", testShrinkRefusedLikeZooKeeper)
}

func testShrinkToOneLikeZooKeeper(t *testing.T) {
	real := startRealZKReconfig(t, 3, "standaloneEnabled=false\n")
	c := startReconfigClusterWith(t, 50*time.Millisecond, func(cfg *engine.Config) { cfg.StandaloneDisabled = true })
	var mine []string
	for id := int64(1); id <= 3; id++ {
		mine = append(mine, c.peers[id].ClientAddr())
	}
	want := shrinkToOne(t, real, func(addr string) *gozk.Conn { conn, _ := dial(t, addr); return conn })
	got := shrinkToOne(t, mine, func(addr string) *gozk.Conn { conn, _ := superDial(t, addr); return conn })
	// The one difference, deliberate (README): ZooKeeper's follower that
	// the change makes the leader leaves its follower role on the commit
	// and may close its connections before it answers; zk's answers.
	if lost := "remove the leader and a follower: " + gozk.ErrConnectionClosed.Error(); len(want) > 1 && want[1] == lost {
		want[1] = "remove the leader and a follower: <nil>"
	}
	if !slices.Equal(got, want) {
		t.Fatalf("zk:\n  %s\nZooKeeper:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(got) != 6 || got[1] != "remove the leader and a follower: <nil>" || !strings.HasSuffix(got[2], "only the one left (<nil>)") {
		t.Fatalf("both ensembles refused or failed to shrink:\n  %s", strings.Join(got, "\n  "))
	}
	t.Logf("both:\n  %s", strings.Join(got, "\n  "))
}

// testShrinkRefusedLikeZooKeeper: with standaloneEnabled (the default)
// both refuse the same change.
func testShrinkRefusedLikeZooKeeper(t *testing.T) {
	real := startRealZKReconfig(t, 3, "")
	c := startReconfigCluster(t, 50*time.Millisecond)
	for name, try := range map[string]func() error{
		"ZooKeeper": func() error {
			conn, _ := dial(t, real[0])
			_, err := conn.IncrementalReconfig(nil, []string{"2", "3"}, -1)
			return err
		},
		"zk": func() error {
			conn, _ := superDial(t, c.peers[1].ClientAddr())
			_, err := conn.IncrementalReconfig(nil, []string{"2", "3"}, -1)
			return err
		},
	} {
		if err := try(); !errors.Is(err, gozk.ErrBadArguments) {
			t.Errorf("%s with standaloneEnabled: removing two of three: %v, want %v", name, err, gozk.ErrBadArguments)
		}
	}
}

// startRealZKReconfig starts an ensemble of n ZooKeeper servers with
// reconfig enabled, ACLs skipped (so that any client may reconfig) and
// extra zoo.cfg lines; it returns their client addresses, server i+1's at i.
func startRealZKReconfig(t *testing.T, n int, extra string) []string {
	t.Helper()
	servers := "initLimit=20\nsyncLimit=10\n"
	var clients []string
	for i := 1; i <= n; i++ {
		port := freePort(t)
		clients = append(clients, fmt.Sprintf("127.0.0.1:%d", port))
		servers += fmt.Sprintf("server.%d=127.0.0.1:%d:%d:participant;127.0.0.1:%d\n", i, freePort(t), freePort(t), port)
	}
	for i := 1; i <= n; i++ {
		dir := t.TempDir()
		must(t, os.WriteFile(filepath.Join(dir, "myid"), []byte(fmt.Sprint(i)), 0o644))
		cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nadmin.enableServer=false\nreconfigEnabled=true\n%s%s", dir, extra, servers)
		runZooCfg(t, dir, cfg, zkJars, "-Dzookeeper.skipACL=yes")
	}
	for _, a := range clients {
		waitZK(t, a)
	}
	return clients
}

// shrinkToOne removes the leader and one follower of the three servers at
// addrs (server i+1's client address at i) and returns what each step
// answered, in words that do not depend on which server leads.
func shrinkToOne(t *testing.T, addrs []string, connect func(addr string) *gozk.Conn) []string {
	var out []string
	note := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	leader := waitMode(t, addrs, "leader")
	sole := (leader + 1) % len(addrs)
	var gone []string
	for i := range addrs {
		if i != sole {
			gone = append(gone, fmt.Sprint(i+1))
		}
	}
	conn := connect(addrs[sole])
	_, err := conn.IncrementalReconfig(nil, []string{"1", "2", "3"}, -1)
	note("remove every participant: %v", err)
	_, err = conn.IncrementalReconfig(nil, gone, -1)
	note("remove the leader and a follower: %v", err)
	if !within(30*time.Second, func() bool { return modeOf(addrs[sole]) == "leader" }) {
		note("the one left does not lead: %q", modeOf(addrs[sole]))
		return out
	}
	conn = connect(addrs[sole])
	data, _, err := conn.Get("/zookeeper/config")
	note("participants in /zookeeper/config: %v (%v)", participants(string(data), sole+1), err)
	_, err = conn.Create("/one", []byte("x"), 0, gozk.WorldACL(gozk.PermAll))
	note("create on the one left: %v", err)
	for _, id := range gone {
		i := int(id[0] - '1')
		role := "the removed follower"
		if i == leader {
			role = "the removed leader"
		}
		if !within(30*time.Second, func() bool { return modeOf(addrs[i]) != "" }) {
			note("%s serves nothing", role)
			continue
		}
		r := connect(addrs[i])
		_, err := r.Sync("/one")
		ok, _, err2 := r.Exists("/one")
		note("%s: mode %s; sync %v, /one exists %v (%v)", role, modeOf(addrs[i]), err, ok, err2)
	}
	return out
}

// waitMode waits until one of addrs answers srvr with mode and returns its
// index.
func waitMode(t *testing.T, addrs []string, mode string) int {
	t.Helper()
	found := -1
	if !within(30*time.Second, func() bool {
		found = slices.IndexFunc(addrs, func(a string) bool { return modeOf(a) == mode })
		return found >= 0
	}) {
		t.Fatalf("no server of %v is %s", addrs, mode)
	}
	return found
}

// modeOf is srvr's mode at addr, "" if the server does not answer it (a
// connection refused or closed while its role changes).
func modeOf(addr string) string {
	ans, _ := askWord(addr, "srvr")
	for _, line := range strings.Split(ans, "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// within polls cond every 50 ms for up to d and reports whether it held.
func within(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			return false
		}
	}
	return true
}

// participants describes the participants of a configuration's text:
// "only the one left" when the one is server id, the lines otherwise.
func participants(text string, id int) string {
	var ps []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "server.") && !strings.Contains(line, ":observer") {
			ps = append(ps, line)
		}
	}
	if len(ps) == 1 && strings.HasPrefix(ps[0], fmt.Sprintf("server.%d=", id)) {
		return "only the one left"
	}
	return strings.Join(ps, ", ")
}
