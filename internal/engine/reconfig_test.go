package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab/transport"
)

// newReconfigCluster is newCluster with reconfig enabled and spare ids on
// the network, for servers that join later (joinPeer); tweaks change each
// peer's Config further.
func newReconfigCluster(t *testing.T, voters int, spares []int64, seed uint64, tweaks ...func(*Config)) *cluster {
	c := &cluster{t: t, fs: map[int64]vfs.FS{}, ens: map[int64]*Ensemble{}, frozen: map[int64]bool{}, seed: seed,
		tweak: func(cfg *Config) {
			cfg.ReconfigEnabled = true
			for _, f := range tweaks {
				f(cfg)
			}
		}}
	var ids []int64
	for i := 1; i <= voters; i++ {
		id := int64(i)
		ids = append(ids, id)
		c.servers = append(c.servers, reconfigServer(id, false))
		c.fs[id] = vfs.NewMem()
	}
	c.net = transport.NewNetwork(transport.NetworkOptions{Peers: append(slices.Clone(ids), spares...), Manual: true, EventBuffer: 1 << 16})
	t.Cleanup(c.close)
	for _, id := range ids {
		c.start(id)
	}
	c.waitFor("a serving ensemble", 400, c.allServing)
	return c
}

func reconfigServer(id int64, observer bool) Server {
	return Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id), Observer: observer,
		ClientAddr: fmt.Sprintf("0.0.0.0:%d", 2180+id)}
}

// joinPeer starts a new server whose configuration lists the members and
// itself, as ZooKeeper's documentation says to start one, and waits until
// it serves (as a learner that counts nowhere yet).
func (c *cluster) joinPeer(id int64, observer bool) Server {
	c.t.Helper()
	s := reconfigServer(id, observer)
	c.servers = append(c.servers, s)
	c.fs[id] = vfs.NewMem()
	c.start(id)
	c.waitFor(fmt.Sprintf("peer %d to join", id), 400, func() bool { return c.ens[id].Status().Serving })
	return s
}

func (c *cluster) reconfig(on int64, req ReconfigRequest) (ClusterConfig, error) {
	var got ClusterConfig
	err := c.do(func(ctx context.Context) (err error) {
		got, err = c.ens[on].Reconfig(ctx, req)
		return err
	})
	return got, err
}

// configEverywhere checks every running peer but those restarted removed
// applied want:
// /zookeeper/config holds its text and Status its version.
func (c *cluster) configEverywhere(want ClusterConfig) {
	c.t.Helper()
	c.waitFor("the configuration everywhere", 100, func() bool {
		for _, id := range c.running() {
			if st := c.ens[id].Status(); !st.Removed && (st.ConfigVersion != want.Version || c.ens[id].ClusterConfig().Version != want.Version) {
				return false
			}
		}
		return true
	})
	for _, id := range c.running() {
		if c.ens[id].Status().Removed {
			continue
		}
		n, err := c.ens[id].tree.Get("/zookeeper/config")
		if err != nil || string(n.Data) != want.Text() {
			c.t.Fatalf("peer %d: /zookeeper/config %q (%v), want %q", id, n.Data, err, want.Text())
		}
	}
}

func serverIDs(ss []Server) []int64 {
	var ids []int64
	for _, s := range sortedServers(ss) {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestReconfigWalkthrough is the seeds' three-server walk-through with a
// fourth server added and one removed while writes go on: the added
// server's acknowledgements count, the removed one keeps serving as a
// non-voting member and says so (ZooKeeper's removed server), a peer
// restarted after the change comes back with the new configuration from
// its own tree, and the removed one, restarted, stays removed.
func TestReconfigWalkthrough(t *testing.T) {
	dir := t.TempDir()
	c := newReconfigCluster(t, 3, []int64{4}, 1)
	c.tweak = func(cfg *Config) {
		cfg.ReconfigEnabled = true
		cfg.DynamicConfigFile = filepath.Join(dir, fmt.Sprintf("zoo.cfg.dynamic.%d", cfg.ID))
	}
	leader := c.leader()
	followers := c.others(leader)
	s := c.session(followers[0])
	n := 0
	write := func(s *Session) {
		t.Helper()
		n++
		if err := c.create(s, fmt.Sprintf("/w%03d", n)); err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
	}
	write(s)
	c.joinPeer(4, false)
	write(s)
	// Add 4 through a follower (forwarded to the leader).
	cfg1, err := c.reconfig(followers[0], ReconfigRequest{Add: []Server{reconfigServer(4, false)}})
	if err != nil {
		t.Fatalf("adding 4: %v", err)
	}
	if !slices.Equal(serverIDs(cfg1.Servers), []int64{1, 2, 3, 4}) || cfg1.Version == 0 {
		t.Fatalf("after adding 4: %+v", cfg1)
	}
	c.configEverywhere(cfg1)
	if b, err := os.ReadFile(filepath.Join(dir, "zoo.cfg.dynamic.4")); err != nil || string(b) != cfg1.Text()+"\n" {
		t.Fatalf("peer 4's dynamic configuration file: %q %v", b, err)
	}
	write(c.session(4))
	// Remove a follower (not the one the session is on) while writing.
	gone := followers[1]
	cfg2, err := c.reconfig(leader, ReconfigRequest{Remove: []int64{gone}, FromConfig: cfg1.Version})
	if err != nil {
		t.Fatalf("removing %d: %v", gone, err)
	}
	c.configEverywhere(cfg2)
	st := c.ens[gone].Status()
	if st.Removed || st.RemovedBy != cfg2.Version || !st.Serving || st.Mode != ModeFollowing {
		t.Fatalf("removed peer %d: %+v", gone, st)
	}
	write(c.session(gone)) // forwarded, committed without it
	write(s)
	// Stale version, disabled quorum, bad requests: refused, nothing changes.
	for _, tc := range []struct {
		req  ReconfigRequest
		want error
	}{
		{ReconfigRequest{Remove: []int64{4}, FromConfig: cfg1.Version}, zkerr.ErrBadVersion},
		{ReconfigRequest{Members: []Server{reconfigServer(leader, false), reconfigServer(9, false)}}, zkerr.ErrNewConfigNoQuorum},
		{ReconfigRequest{Members: []Server{reconfigServer(4, true)}}, zkerr.ErrBadArguments},
		{ReconfigRequest{Add: []Server{{ID: 300, Host: "h", QuorumPort: 1}}}, zkerr.ErrBadArguments},
	} {
		if _, err := c.reconfig(leader, tc.req); !errors.Is(err, tc.want) {
			t.Fatalf("%+v: %v, want %v", tc.req, err, tc.want)
		}
	}
	c.configEverywhere(cfg2)
	// The new quorum is 2 of 3 among {1,2,3,4} minus gone: stop one more
	// member and the remaining two still commit; 4 counts.
	c.stop(gone)
	other := slices.DeleteFunc(c.others(leader), func(id int64) bool { return id == 4 })[0]
	c.stop(other)
	write(c.session(leader))
	// Restart it: it comes back with the new configuration from its tree.
	c.start(other)
	c.waitFor("the restarted peer to serve", 400, func() bool { return c.ens[other].Status().Serving })
	if v := c.ens[other].ClusterConfig().Version; v != cfg2.Version {
		t.Fatalf("restarted peer has configuration %x, want %x", v, cfg2.Version)
	}
	write(c.session(other))
	// The removed peer, restarted, stays removed.
	c.start(gone)
	c.settle()
	if st := c.ens[gone].Status(); !st.Removed || st.Serving {
		t.Fatalf("restarted removed peer: %+v", st)
	}
	if _, err := c.ens[gone].NewSession(testCtx(t)); !errors.Is(err, zkerr.ErrNotServing) || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("a session on the restarted removed peer: %v", err)
	}
	c.stop(gone)
	c.sameTrees()
}

// TestReconfigDisabled: without ReconfigEnabled, Reconfig is refused with
// ZooKeeper's error and changes nothing.
func TestReconfigDisabled(t *testing.T) {
	e := standalone(t)
	if _, err := e.Reconfig(testCtx(t), ReconfigRequest{Remove: []int64{1}}); !errors.Is(err, zkerr.ErrReconfigDisabled) {
		t.Fatalf("Reconfig without ReconfigEnabled: %v", err)
	}
	if v := e.ClusterConfig().Version; v != 0 {
		t.Fatalf("version %x", v)
	}
	cfg := testConfig(vfs.NewMem(), 2)
	cfg.ReconfigEnabled = true
	e2 := openTest(t, cfg)
	defer e2.Close()
	if _, err := e2.Reconfig(testCtx(t), ReconfigRequest{Remove: []int64{1}}); !errors.Is(err, zkerr.ErrUnimplemented) {
		t.Fatalf("Reconfig of a standalone peer: %v", err)
	}
}

func TestClusterConfigText(t *testing.T) {
	c := ClusterConfig{Servers: []Server{reconfigServer(2, false), {ID: 1, Host: "::1", QuorumPort: 2888, ElectionPort: 3888, Observer: true}},
		Groups: [][]int64{{2}}, Weights: map[int64]int64{2: 3}, Version: 0x100000002}
	want := "server.1=[::1]:2888:3888:observer\nserver.2=inmem:2002:3002:participant;0.0.0.0:2182\ngroup.1=2\nweight.2=3\nversion=100000002"
	if got := c.Text(); got != want {
		t.Fatalf("Text:\n%s\nwant:\n%s", got, want)
	}
	back, err := ParseClusterConfig([]byte(want))
	if err != nil || back.Text() != want {
		t.Fatalf("parsed back: %v\n%s", err, back.Text())
	}
	for _, bad := range []string{"server.x=h:1:2", "version=zz", "nonsense", "foo=1"} {
		if _, err := ParseClusterConfig([]byte(bad)); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Read as ZooKeeper reads it, with java.util.Properties' rules: a
	// key given twice takes its last value, ':' separates, '!' comments,
	// a trailing backslash continues the line.
	props := "server.1=h1:2888:3888\n! a comment\nserver.2:h2:2888:\\\n   3888\nserver.1 = h9:2888:3888\nversion 100000003\n"
	got, err := ParseClusterConfig([]byte(props))
	if err != nil || len(got.Servers) != 2 || got.Servers[0].Host != "h9" || got.Servers[1].ElectionPort != 3888 || got.Version != 0x100000003 {
		t.Errorf("%q: %+v, %v", props, got, err)
	}
}

func TestZooCfgDynamicConfigFile(t *testing.T) {
	dir := t.TempDir()
	dyn := filepath.Join(dir, "zoo.cfg.dynamic")
	text := "server.1=h1:2888:3888:participant;2181\nserver.2=h2:2888:3888:observer\nversion=100000000\n"
	if err := os.WriteFile(dyn, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// One voter: standaloneEnabled=false keeps it an ensemble, as in ZooKeeper.
	cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\nreconfigEnabled=true\nstandaloneEnabled=false\ndynamicConfigFile="+dyn+"\n"), []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ReconfigEnabled || cfg.DynamicConfigFile != dyn || len(cfg.Servers) != 2 || !cfg.Servers[1].Observer || cfg.Servers[0].ClientAddr != "2181" {
		t.Fatalf("parsed: %+v", cfg)
	}
	for _, bad := range []string{
		"reconfigEnabled=maybe",
		"dynamicConfigFile=" + filepath.Join(dir, "missing"),
		"server.1=h1:2888:3888\ndynamicConfigFile=" + dyn,
	} {
		if _, _, err := ParseZooCfg(strings.NewReader(bad), nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestReconfigTCP: over TCP, new servers connect and sync before the
// change that adds them, as ZooKeeper's joiners do. Servers 2 and 3 are the
// ensemble; 1 and 4 start listing the members and themselves. The members
// do not know them, so their transports admit them as strangers (the
// address comes from the handshake: 4 dials 2 and 3, 1 knocks and is
// dialed back) and the joiners sync as learners. Adding both at once needs
// 3 acks of {1,2,3,4}, so it commits only because a joiner is synced
// already (before strangers were admitted: ErrNewConfigNoQuorum).
func TestReconfigTCP(t *testing.T) {
	ports := freePorts(t, 4)
	var servers []Server
	for i := 0; i < 4; i++ {
		servers = append(servers, Server{ID: int64(i + 1), Host: "127.0.0.1", QuorumPort: ports[i], ElectionPort: ports[i]})
	}
	c := &tcpCluster{t: t}
	for i := 0; i < 4; i++ {
		members := servers[1:3]
		if i == 0 || i == 3 {
			members = append([]Server{servers[i]}, members...)
		}
		c.cfgs = append(c.cfgs, Config{ID: int64(i + 1), DataDir: "/zk", FS: vfs.NewMem(), Servers: members,
			TickTime: 50 * time.Millisecond, PeerSecret: []byte("tcp-cluster-test-secret"), ReconfigEnabled: true})
		c.ens = append(c.ens, nil)
		c.start(i)
	}
	t.Cleanup(c.close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, e := range c.ens {
		if err := e.WaitServing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var cfg ClusterConfig
	var err error
	for {
		cfg, err = c.ens[c.leader()].Reconfig(ctx, ReconfigRequest{Add: []Server{servers[0], servers[3]}})
		if !errors.Is(err, ErrNotServing) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("adding 1 and 4: %v", err)
	}
	if len(cfg.Servers) != 4 {
		t.Fatalf("configuration after the change: %+v", cfg)
	}
	for _, i := range []int{0, 3} {
		// A joiner made a voter re-syncs with the leader: while it does, a
		// new session's creation may fail (not serving, outcome unknown).
		s, err := c.ens[i].NewSession(ctx)
		for err != nil && (errors.Is(err, ErrNotServing) || errors.Is(err, ErrConnectionLoss)) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
			s, err = c.ens[i].NewSession(ctx)
		}
		if err != nil {
			t.Fatalf("a session on server %d: %v", i+1, err)
		}
		if err := writeRetrying(ctx, s, fmt.Sprintf("/via%d", i+1)); err != nil {
			t.Fatal(err)
		}
		for ctx.Err() == nil && c.ens[i].ClusterConfig().Version != cfg.Version {
			time.Sleep(time.Millisecond)
		}
		if v := c.ens[i].ClusterConfig().Version; v != cfg.Version {
			t.Fatalf("server %d has configuration %x, want %x", i+1, v, cfg.Version)
		}
	}
}
