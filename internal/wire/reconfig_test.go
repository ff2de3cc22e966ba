package wire_test

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab/transport"
)

// superAuth is the super user's credential in the reconfig tests.
const superAuth = "super:pw"

// reconfigCluster is a 3-peer ensemble with reconfig enabled, a super
// user and client ports, whose network has room for peers that join later.
type reconfigCluster struct {
	t       *testing.T
	net     *transport.Network
	servers []engine.Server
	peers   map[int64]*engine.Ensemble
	tweak   func(*engine.Config) // if set, adjusts every peer's configuration
}

func reconfigServer(id int64) engine.Server {
	return engine.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id),
		ClientAddr: fmt.Sprintf("0.0.0.0:%d", 2180+id)}
}

// joinerSpec is id's server string as ZooKeeper's reconfig takes it.
func joinerSpec(id int64) string {
	return fmt.Sprintf("server.%d=inmem:%d:%d:participant;%d", id, 2000+id, 3000+id, 2180+id)
}

func startReconfigCluster(t *testing.T, tick time.Duration) *reconfigCluster {
	return startReconfigClusterWith(t, tick, nil)
}

// startReconfigClusterWith is startReconfigCluster with every peer's
// configuration adjusted by tweak.
func startReconfigClusterWith(t *testing.T, tick time.Duration, tweak func(*engine.Config)) *reconfigCluster {
	c := &reconfigCluster{t: t, peers: map[int64]*engine.Ensemble{}, tweak: tweak}
	c.net = transport.NewNetwork(transport.NetworkOptions{Peers: []int64{1, 2, 3, 4, 5, 6, 7}})
	t.Cleanup(c.net.Close)
	for id := int64(1); id <= 3; id++ {
		c.servers = append(c.servers, reconfigServer(id))
	}
	for id := int64(1); id <= 3; id++ {
		c.start(id, tick)
	}
	for _, e := range c.peers {
		must(t, e.WaitServing(testCtx(t)))
	}
	return c
}

// start starts peer id with the servers known so far (a joiner lists the
// members and itself, as ZooKeeper's documentation says to start one).
func (c *reconfigCluster) start(id int64, tick time.Duration) *engine.Ensemble {
	cfg := peerConfig()
	cfg.ManualClock, cfg.TickTime, cfg.FS = false, tick, vfs.NewMem()
	cfg.ID, cfg.Servers, cfg.Transport = id, slices.Clone(c.servers), c.net.Restart(id)
	cfg.Rand = &seeded{x: uint64(id) * 0x9e3779b97f4a7c15}
	cfg.ReconfigEnabled = true
	cfg.SuperDigest = engine.DigestAuth("super", "pw")
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	e, err := wire.NewEnsemble(cfg)
	must(c.t, err)
	c.t.Cleanup(func() { e.Close() })
	c.peers[id] = e
	return e
}

// join starts a new server id and waits until it serves.
func (c *reconfigCluster) join(id int64, tick time.Duration) *engine.Ensemble {
	c.servers = append(c.servers, reconfigServer(id))
	e := c.start(id, tick)
	must(c.t, e.WaitServing(testCtx(c.t)))
	return e
}

func (c *reconfigCluster) leader() int64 {
	for {
		for id, e := range c.peers {
			if st := e.Status(); st.Serving && st.Leader == id {
				return id
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func superDial(t *testing.T, addr string) (*gozk.Conn, <-chan gozk.Event) {
	c, events := dial(t, addr)
	must(t, c.AddAuth("digest", []byte(superAuth)))
	return c, events
}

// TestReconfigGoZookeeper drives go-zookeeper's IncrementalReconfig and
// Reconfig against a 3-peer ensemble: a fourth server is added and one
// removed while a client writes, then the membership is replaced as a
// whole. Each reply is ZooKeeper's (the new configuration's text and
// /zookeeper/config's Stat) and a watch on /zookeeper/config fires on
// each change.
func TestReconfigGoZookeeper(t *testing.T) {
	const tick = 50 * time.Millisecond
	c := startReconfigCluster(t, tick)
	// The clients stay on the leader and a follower; the other follower
	// goes (a leader removing itself hands over: see the engine's tests).
	l := c.leader()
	var stay, gone int64
	for id := int64(1); id <= 3; id++ {
		switch {
		case id == l:
		case stay == 0:
			stay = id
		default:
			gone = id
		}
	}
	admin, _ := superDial(t, c.peers[stay].ClientAddr())
	writer, _ := dial(t, c.peers[l].ClientAddr())
	n := 0
	write := func() {
		t.Helper()
		n++
		_, err := writer.Create(fmt.Sprintf("/w%03d", n), []byte("x"), 0, open)
		must(t, err)
	}
	write()
	_, _, watch, err := admin.GetW("/zookeeper/config")
	must(t, err)
	c.join(4, tick)
	write()
	st, err := admin.IncrementalReconfig([]string{joinerSpec(4)}, nil, -1)
	must(t, err)
	if ev := nextEvent(t, watch); ev.Type != gozk.EventNodeDataChanged || ev.Path != "/zookeeper/config" {
		t.Fatalf("watch on /zookeeper/config: %+v", ev)
	}
	data, got, err := admin.Get("/zookeeper/config")
	must(t, err)
	want := "server.1=inmem:2001:3001:participant;0.0.0.0:2181\nserver.2=inmem:2002:3002:participant;0.0.0.0:2182\n" +
		"server.3=inmem:2003:3003:participant;0.0.0.0:2183\nserver.4=inmem:2004:3004:participant;0.0.0.0:2184\n" +
		fmt.Sprintf("version=%x", st.Mzxid)
	if string(data) != want || *got != *st {
		t.Fatalf("after adding 4: %q %+v, want %q %+v", data, got, want, st)
	}
	write()
	// Peer 4 serves the writes: its acknowledgements count now.
	w4, _ := dial(t, c.peers[4].ClientAddr())
	_, err = w4.Create("/from4", nil, 0, open)
	if err != nil {
		t.Fatalf("%v: peer 4: %+v", err, c.peers[4].Status())
	}

	// Remove a follower, conditionally on the version just read.
	_, _, watch, err = admin.GetW("/zookeeper/config")
	must(t, err)
	st, err = admin.IncrementalReconfig(nil, []string{fmt.Sprint(gone)}, st.Mzxid)
	must(t, err)
	if ev := nextEvent(t, watch); ev.Type != gozk.EventNodeDataChanged {
		t.Fatalf("watch after removing %d: %+v", gone, ev)
	}
	waitFor(t, func() bool { return c.peers[gone].Status().RemovedBy == st.Mzxid })
	write()
	// The removed follower keeps serving, as a non-voting member.
	wg, _ := dial(t, c.peers[gone].ClientAddr())
	if _, err := wg.Create("/from-removed", nil, 0, open); err != nil {
		t.Fatalf("%v: removed peer %d: %+v", err, gone, c.peers[gone].Status())
	}
	data, _, err = admin.Get("/zookeeper/config")
	must(t, err)
	if strings.Contains(string(data), fmt.Sprintf("server.%d=", gone)) || !strings.Contains(string(data), fmt.Sprintf("version=%x", st.Mzxid)) {
		t.Fatalf("after removing 3: %q", data)
	}

	// The whole list: the two original peers left as voters, 4 an observer.
	a, b := min(l, stay), max(l, stay)
	members := []string{
		fmt.Sprintf("server.%d=inmem:%d:%d:participant;%d", a, 2000+a, 3000+a, 2180+a),
		fmt.Sprintf("server.%d=inmem:%d:%d;127.0.0.1:%d", b, 2000+b, 3000+b, 2180+b),
		"server.4=inmem:2004:3004:observer;2184",
	}
	st, err = admin.Reconfig(members, -1)
	must(t, err)
	data, _, err = admin.Get("/zookeeper/config")
	must(t, err)
	want = fmt.Sprintf("server.%d=inmem:%d:%d:participant;0.0.0.0:%d\n", a, 2000+a, 3000+a, 2180+a) +
		fmt.Sprintf("server.%d=inmem:%d:%d:participant;127.0.0.1:%d\n", b, 2000+b, 3000+b, 2180+b) +
		fmt.Sprintf("server.4=inmem:2004:3004:observer;0.0.0.0:2184\nversion=%x", st.Mzxid)
	if string(data) != want {
		t.Fatalf("after the new member list: %q, want %q", data, want)
	}
	write()
}

// reconfigCall sends a raw reconfig request and returns its error code.
func reconfigCall(r *rawConn, joining, leaving, members *string, version int64) int32 {
	r.t.Helper()
	h, _, _ := r.call(jute.OpReconfig, &jute.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving, NewMembers: members, CurConfigID: version})
	return h.Err
}

func str(s string) *string { return &s }

// TestReconfigErrors: each refusal gets ZooKeeper's code and changes
// nothing; the connection goes on after each.
func TestReconfigErrors(t *testing.T) {
	const tick = 50 * time.Millisecond
	c := startReconfigCluster(t, tick)
	addr := c.peers[1].ClientAddr()
	anon := rawDial(t, addr)
	anon.connect(jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	r := rawDial(t, addr)
	r.connect(jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte(superAuth)}, nil)
	var before jute.GetDataResponse
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/zookeeper/config"}, &before)

	for _, tc := range []struct {
		name                     string
		r                        *rawConn
		joining, leaving, member *string
		version                  int64
		want                     zkerr.Code
	}{
		{"not the super user", anon, nil, str("3"), nil, -1, zkerr.CodeNoAuth},
		{"not the super user, stale version (checked first, as ZooKeeper)", anon, nil, str("3"), nil, 0x7777, zkerr.CodeBadVersion},
		{"stale version before a malformed string (as ZooKeeper)", r, str("server.5"), nil, nil, 0x7777, zkerr.CodeBadVersion},
		{"two ports", r, str("server.5=inmem:2005:3005"), nil, nil, -1, zkerr.CodeBadArguments},
		{"no client port", r, str("server.5=inmem:2005:3005:participant"), nil, nil, -1, zkerr.CodeBadArguments},
		{"same ports", r, str("server.5=inmem:2005:2005;2185"), nil, nil, -1, zkerr.CodeBadArguments},
		{"bad role", r, str("server.5=inmem:2005:3005:leader;2185"), nil, nil, -1, zkerr.CodeBadArguments},
		{"no equals", r, str("server.5"), nil, nil, -1, zkerr.CodeBadArguments},
		{"bad client port", r, str("server.5=inmem:2005:3005;x"), nil, nil, -1, zkerr.CodeBadArguments},
		{"id not a number", r, str("server.x=inmem:2005:3005;2185"), nil, nil, -1, zkerr.CodeBadArguments},
		{"leaving not a number", r, nil, str("three"), nil, -1, zkerr.CodeBadArguments},
		{"unknown member key", r, nil, nil, str("server.1=inmem:2001:3001;2181,foo=1"), -1, zkerr.CodeBadArguments},
		{"empty member list", r, nil, nil, str(""), -1, zkerr.CodeBadArguments},
		{"no participant", r, nil, nil, str("server.1=inmem:2001:3001:observer;2181"), -1, zkerr.CodeBadArguments},
		{"stale version", r, nil, str("3"), nil, 0x7777, zkerr.CodeBadVersion},
		{"no quorum of the new config", r, str(joinerSpec(5) + "," + joinerSpec(6) + "," + joinerSpec(7)), nil, nil, -1, zkerr.CodeNewConfigNoQuorum},
	} {
		if got := reconfigCall(tc.r, tc.joining, tc.leaving, tc.member, tc.version); got != int32(tc.want) {
			t.Errorf("%s: error %d, want %d", tc.name, got, tc.want)
		}
	}
	var after jute.GetDataResponse
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/zookeeper/config"}, &after)
	if string(after.Data) != string(before.Data) || after.Stat != before.Stat {
		t.Fatalf("/zookeeper/config changed: %q %+v, was %q %+v", after.Data, after.Stat, before.Data, before.Stat)
	}

	// The super user may let another identity write /zookeeper/config,
	// which then may reconfig (here refused further on, for its version).
	alice := engine.DigestAuth("alice", "pw")
	r.ok(jute.OpSetACL, &jute.SetACLRequest{Path: "/zookeeper/config", Version: -1, ACL: []jute.ACL{
		{Perms: 1, ID: jute.Id{Scheme: "world", ID: "anyone"}}, {Perms: 3, ID: jute.Id{Scheme: "digest", ID: alice}},
	}}, nil)
	if got := reconfigCall(anon, nil, str("3"), nil, -1); got != int32(zkerr.CodeNoAuth) {
		t.Errorf("anonymous, after the ACL change: error %d, want NOAUTH", got)
	}
	anon.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("alice:pw")}, nil)
	if got := reconfigCall(anon, nil, str("3"), nil, 0x7777); got != int32(zkerr.CodeBadVersion) {
		t.Errorf("alice, allowed to write /zookeeper/config: error %d, want BADVERSION", got)
	}

	// Version 0 is stale: the first leader versioned the static
	// configuration (as ZooKeeper); its version (the mzxid) is current.
	c.join(4, tick)
	if got := reconfigCall(r, str(joinerSpec(4)), nil, nil, 0); got != int32(zkerr.CodeBadVersion) {
		t.Errorf("reconfig from version 0: error %d, want BADVERSION", got)
	}
	var resp jute.GetDataResponse
	r.ok(jute.OpReconfig, &jute.ReconfigRequest{JoiningServers: str(joinerSpec(4)), CurConfigID: before.Stat.Mzxid}, &resp)
	if !strings.Contains(string(resp.Data), "server.4=") || resp.Stat.Mzxid == before.Stat.Mzxid {
		t.Fatalf("reconfig from the static configuration's version: %q %+v", resp.Data, resp.Stat)
	}
	if got := reconfigCall(r, nil, str("4"), nil, before.Stat.Mzxid); got != int32(zkerr.CodeBadVersion) {
		t.Errorf("reconfig from the static version after a reconfig: error %d, want BADVERSION", got)
	}
	r.ok(jute.OpPing, nil, nil)
}

// TestReconfigDisabled: a peer without reconfigEnabled answers
// RECONFIGDISABLED before anything else, even to the super user, and the
// connection goes on.
func TestReconfigDisabled(t *testing.T) {
	cfg := peerConfig()
	cfg.SuperDigest = engine.DigestAuth("super", "pw")
	e := startPeer(t, cfg)
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte(superAuth)}, nil)
	if got := reconfigCall(r, str(joinerSpec(2)), nil, nil, -1); got != int32(zkerr.CodeReconfigDisabled) {
		t.Fatalf("reconfig: error %d, want RECONFIGDISABLED", got)
	}
	if got := reconfigCall(r, nil, nil, str("server.x=junk"), -1); got != int32(zkerr.CodeReconfigDisabled) {
		t.Fatalf("malformed reconfig: error %d, want RECONFIGDISABLED", got)
	}
	r.ok(jute.OpPing, nil, nil)
}

// TestReconfigInProgress: while a change waits for acknowledgements (the
// two followers paused), another gets RECONFIGINPROGRESS; the first
// commits once they are back.
func TestReconfigInProgress(t *testing.T) {
	const tick = 500 * time.Millisecond // the pause stays well under syncLimit (2.5s)
	c := startReconfigCluster(t, tick)
	c.join(4, tick)
	l := c.leader()
	first, _ := superDial(t, c.peers[l].ClientAddr())
	r := rawDial(t, c.peers[l].ClientAddr())
	r.connect(jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte(superAuth)}, nil)
	var paused []int64
	for id := int64(1); id <= 3; id++ {
		if id != l {
			c.net.Pause(id)
			paused = append(paused, id)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := first.IncrementalReconfig([]string{joinerSpec(4)}, nil, -1)
		done <- err
	}()
	// Until the first change is proposed, the second (which has no quorum
	// in its new configuration) gets NEWCONFIGNOQUORUM; then it is refused
	// as in progress.
	spare := str(joinerSpec(5) + "," + joinerSpec(6) + "," + joinerSpec(7))
	for {
		got := reconfigCall(r, spare, nil, nil, -1)
		if got == int32(zkerr.CodeReconfigInProgress) {
			break
		}
		if got != int32(zkerr.CodeNewConfigNoQuorum) {
			t.Fatalf("second reconfig: error %d", got)
		}
	}
	for _, id := range paused {
		c.net.Resume(id)
	}
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the first reconfig did not complete")
	}
}

// TestInteropZkCliReconfig runs Debian's zkCli.sh 3.8 config and reconfig
// against a follower of a 3-peer ensemble: refused without the super
// user, then a fourth server added, config and config -c showing it.
func TestInteropZkCliReconfig(t *testing.T) {
	needTool(t, zkCli)
	const tick = 50 * time.Millisecond
	c := startReconfigCluster(t, tick)
	c.join(4, tick)
	var f int64
	for id := int64(1); id <= 3 && f == 0; id++ {
		if id != c.leader() {
			f = id
		}
	}
	script := []string{
		"reconfig -add " + joinerSpec(4), "addauth digest " + superAuth, "config -w",
		"reconfig -add " + joinerSpec(4), "config -c", "reconfig -v 1 -remove 4",
		"reconfig -add server.5=inmem:2005:3005", "ls /zookeeper", "quit",
	}
	cmd := exec.Command(zkCli, "-server", c.peers[f].ClientAddr())
	cmd.Stdin = strings.NewReader(strings.Join(script, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, text)
	}
	v := fmt.Sprintf("%x", c.peers[f].ClusterConfig().Version)
	for _, want := range []string{
		"Insufficient permission : ", // before addauth
		"Committed new configuration:\nserver.1=inmem:2001:3001:participant;0.0.0.0:2181\n",
		"server.4=inmem:2004:3004:participant;0.0.0.0:2184\nversion=" + v + "\n",
		"type:NodeDataChanged path:/zookeeper/config",
		v + " 0.0.0.0:218", // config -c (servers in a hash order)
		"version No is not valid : ",
		"Arguments are not valid : ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("zkCli output lacks %q", want)
		}
	}
	for _, bad := range []string{"Exception", "ConnectionLoss", "Unimplemented", "MarshallingError", "Reconfig is disabled"} {
		if strings.Contains(text, bad) {
			t.Errorf("zkCli output has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("zkCli output:\n%s", text)
	}
}

// TestReconfigRemoveLeader: a client on a follower removes the leader. The
// leader hands over; the client may lose its connection meanwhile (its
// peer's leader goes), but the change commits and the client, reconnected,
// reads it. The old leader follows the new one, as a non-voting member.
func TestReconfigRemoveLeader(t *testing.T) {
	const tick = 50 * time.Millisecond
	c := startReconfigCluster(t, tick)
	c.join(4, tick)
	l := c.leader()
	f := l%3 + 1
	admin, _ := superDial(t, c.peers[f].ClientAddr())
	_, err := admin.IncrementalReconfig([]string{joinerSpec(4)}, nil, -1)
	must(t, err)
	_, err = admin.IncrementalReconfig(nil, []string{fmt.Sprint(l)}, -1)
	t.Logf("removing the leader: %v", err)
	if err != nil && err != gozk.ErrConnectionClosed {
		t.Fatalf("removing the leader %d: %v", l, err)
	}
	waitFor(t, func() bool { return c.peers[l].Status().RemovedBy != 0 })
	var data []byte
	waitFor(t, func() bool {
		data, _, err = admin.Get("/zookeeper/config")
		return err == nil && !strings.Contains(string(data), fmt.Sprintf("server.%d=", l))
	})
	// The change applied on the client's peer can come before that peer
	// lost the old leader: its connection may close once more while the
	// new voters elect. The write goes through once they have.
	waitFor(t, func() bool {
		_, err = admin.Create("/after", nil, 0, open)
		return err == nil || errors.Is(err, gozk.ErrNodeExists)
	})
	waitFor(t, func() bool { st := c.peers[l].Status(); return st.Mode == engine.ModeFollowing && st.Serving })
}
