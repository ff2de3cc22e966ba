package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// initConfigEverywhere checks every running peer's /zookeeper/config holds
// the same bytes: the static servers, versioned by the zxid that wrote them.
func (c *cluster) initConfigEverywhere(servers []Server) ClusterConfig {
	c.t.Helper()
	var want ClusterConfig
	c.waitFor("the static configuration in /zookeeper/config", 200, func() bool {
		for _, id := range c.running() {
			if n, err := c.ens[id].tree.Get(znode.ConfigPath); err != nil || len(n.Data) == 0 {
				return false
			}
		}
		return true
	})
	for _, id := range c.running() {
		n, err := c.ens[id].tree.Get(znode.ConfigPath)
		if err != nil {
			c.t.Fatal(err)
		}
		if want.Version == 0 {
			want = ClusterConfig{Servers: servers, Version: n.Stat.Mzxid}
		}
		if string(n.Data) != want.Text() || n.Stat.Mzxid != want.Version {
			c.t.Fatalf("peer %d: /zookeeper/config %q mzxid %#x, want %q", id, n.Data, n.Stat.Mzxid, want.Text())
		}
		if st := c.ens[id].Status(); st.ConfigVersion != want.Version {
			c.t.Fatalf("peer %d: Status.ConfigVersion %#x, want %#x", id, st.ConfigVersion, want.Version)
		}
		if got := c.ens[id].ClusterConfig(); got.Version != want.Version || got.Text() != want.Text() {
			c.t.Fatalf("peer %d: ClusterConfig %q, want %q", id, got.Text(), want.Text())
		}
	}
	return want
}

// TestStaticConfigInTree: from the first leader on, /zookeeper/config holds
// the static configuration with its version (ZooKeeper's
// initConfigInZKDatabase) on every peer, the same bytes at the same zxid;
// a restart, a new leader and a new server started with its own list keep
// those bytes; a reconfig's -v can name that version.
func TestStaticConfigInTree(t *testing.T) {
	c := newReconfigCluster(t, 3, []int64{4}, 3)
	static := c.servers[:3:3]
	want := c.initConfigEverywhere(static)
	if want.Version>>32 == 0 {
		t.Fatalf("version %#x is not in an epoch", want.Version)
	}
	// A new leader does not write it again.
	old := c.leader()
	c.stop(old)
	c.waitFor("a new leader", 400, func() bool { l := c.leader(); return l != 0 && l != old })
	c.start(old)
	c.waitFor("the restarted peer to serve", 400, func() bool { return c.ens[old].Status().Serving })
	if got := c.initConfigEverywhere(static); got.Version != want.Version {
		t.Fatalf("rewritten at %#x, was %#x", got.Version, want.Version)
	}
	// A new server lists itself; it shows the ensemble's configuration.
	c.joinPeer(4, false)
	c.initConfigEverywhere(static)
	c.sameTrees()
	cfg, err := c.reconfig(c.leader(), ReconfigRequest{Add: []Server{reconfigServer(4, false)}, FromConfig: want.Version})
	if err != nil {
		t.Fatalf("reconfig from the static configuration's version: %v", err)
	}
	c.configEverywhere(cfg)
}

// TestReconfigRefusalsAsZooKeeper: PrepRequestProcessor's rules. An id to
// remove that is not a member is ignored and an empty incremental change
// commits the same servers under a new version; a new configuration with
// fewer than 2 participants is BADARGUMENTS ("at least 2 followers") and
// changes nothing.
func TestReconfigRefusalsAsZooKeeper(t *testing.T) {
	c := newReconfigCluster(t, 3, nil, 5)
	static := c.servers[:3:3]
	v0 := c.initConfigEverywhere(static).Version
	leader := c.leader()
	cfg1, err := c.reconfig(leader, ReconfigRequest{Remove: []int64{77}})
	if err != nil || cfg1.Version <= v0 || !slices.Equal(serverIDs(cfg1.Servers), []int64{1, 2, 3}) {
		t.Fatalf("removing a server that is not a member: %+v %v", cfg1, err)
	}
	c.configEverywhere(cfg1)
	cfg2, err := c.reconfig(c.others(leader)[0], ReconfigRequest{})
	if err != nil || cfg2.Version <= cfg1.Version || !sameServers(cfg1, cfg2) {
		t.Fatalf("an empty change: %+v %v", cfg2, err)
	}
	c.configEverywhere(cfg2)
	o := reconfigServer(3, true)
	for _, req := range []ReconfigRequest{
		{Remove: []int64{1, 2}},
		{Add: []Server{o}, Remove: []int64{2}},
		{Members: []Server{reconfigServer(1, false), reconfigServer(2, true), o}},
	} {
		if _, err := c.reconfig(leader, req); !errors.Is(err, zkerr.ErrBadArguments) || !strings.Contains(err.Error(), "at least 2") {
			t.Fatalf("%+v: %v, want ErrBadArguments (at least 2)", req, err)
		}
	}
	c.configEverywhere(cfg2)
}

// sameServers compares two configurations but for their versions.
func sameServers(a, b ClusterConfig) bool {
	at, _, _ := strings.Cut(a.Text(), "version=")
	bt, _, _ := strings.Cut(b.Text(), "version=")
	return at == bt
}

// TestStaticConfigWithoutReconfig: ZooKeeper's initConfigInZKDatabase does
// not depend on reconfigEnabled, so an ensemble without ReconfigEnabled
// shows its static configuration in /zookeeper/config too (Reconfig stays
// refused); a standalone peer leaves the node empty, as ZooKeeper 3.8's
// standalone server does (zkCli's config prints nothing there).
func TestStaticConfigWithoutReconfig(t *testing.T) {
	c := newCluster(t, 3, 0, 11)
	c.waitFor("a serving ensemble", 400, c.allServing)
	want := c.initConfigEverywhere(c.servers)
	if want.Version>>32 == 0 {
		t.Fatalf("version %#x is not in an epoch", want.Version)
	}
	if _, err := c.ens[c.leader()].Reconfig(testCtx(t), ReconfigRequest{Remove: []int64{3}}); !errors.Is(err, zkerr.ErrReconfigDisabled) {
		t.Fatalf("Reconfig without ReconfigEnabled: %v", err)
	}
	e := standalone(t)
	n, err := e.tree.Get(znode.ConfigPath)
	if err != nil || len(n.Data) != 0 || n.Stat.Mzxid != 0 || e.ClusterConfig().Version != 0 {
		t.Fatalf("standalone /zookeeper/config %q %+v %v, version %#x", n.Data, n.Stat, err, e.ClusterConfig().Version)
	}
}
