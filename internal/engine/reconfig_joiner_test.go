package engine

import (
	"slices"
	"testing"
)

// TestReconfigJoinerRestartedBeforeAdded: a new server, started with the
// members and itself, syncs with the leader (its tree now holds the
// ensemble's configuration, which does not list it) and restarts before a
// reconfig adds it. It comes back as the joiner it was, not as a removed
// member: it waits, synced, as a learner that counts nowhere (ZooKeeper's
// non-voting joiner), and the reconfig that adds it then makes it a voter.
// A member that a reconfig removed still stays removed after a restart
// (TestReconfigWalkthrough).
func TestReconfigJoinerRestartedBeforeAdded(t *testing.T) {
	c := newReconfigCluster(t, 3, []int64{4}, 3)
	leader := c.leader()
	s := c.session(leader)
	if err := c.create(s, "/a"); err != nil {
		t.Fatal(err)
	}
	c.joinPeer(4, false)
	c.stop(4)
	if err := c.create(s, "/b"); err != nil {
		t.Fatal(err)
	}
	c.start(4)
	c.waitFor("the restarted joiner to serve", 400, func() bool { return c.ens[4].Status().Serving })
	if st := c.ens[4].Status(); st.Removed || st.Mode != ModeFollowing {
		t.Fatalf("the restarted joiner: %+v", st)
	}
	cfg, err := c.reconfig(leader, ReconfigRequest{Add: []Server{reconfigServer(4, false)}})
	if err != nil {
		t.Fatalf("adding 4: %v", err)
	}
	if !slices.Equal(serverIDs(cfg.Servers), []int64{1, 2, 3, 4}) {
		t.Fatalf("after adding 4: %+v", cfg)
	}
	c.configEverywhere(cfg)
	if err := c.create(c.session(4), "/c"); err != nil {
		t.Fatal(err)
	}
	c.sameTrees()
}
