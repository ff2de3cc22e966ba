package engine

import (
	"testing"

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
