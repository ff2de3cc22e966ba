package engine

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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

// TestReconfigRemovedServerRejoins: a member that a reconfig removed,
// restarted with Rejoin, comes back with its data directory as a joiner
// (serving, not removed, counting in no quorum), catches up with what was
// written while it was away, and the reconfig that adds it again makes it
// a voter. Restarted without Rejoin it stays removed (first part, and
// TestReconfigWalkthrough).
func TestReconfigRemovedServerRejoins(t *testing.T) {
	c := newReconfigCluster(t, 3, nil, 5)
	leader := c.leader()
	gone := c.others(leader)[0]
	removed, err := c.reconfig(leader, ReconfigRequest{Remove: []int64{gone}})
	if err != nil {
		t.Fatalf("removing %d: %v", gone, err)
	}
	c.configEverywhere(removed)
	c.waitFor("the removed server to know it", 400, func() bool { return c.ens[gone].Status().RemovedBy == removed.Version })
	c.stop(gone)
	if err := c.create(c.session(leader), "/while-removed"); err != nil {
		t.Fatal(err)
	}
	c.start(gone)
	c.settle()
	if st := c.ens[gone].Status(); !st.Removed || st.Serving {
		t.Fatalf("restarted without Rejoin: %+v", st)
	}
	c.stop(gone)
	c.tweak = func(cfg *Config) { cfg.ReconfigEnabled, cfg.Rejoin = true, cfg.ID == gone }
	c.start(gone)
	c.waitFor("the removed server to serve again, as a joiner", 400, func() bool { return c.ens[gone].Status().Serving })
	if st := c.ens[gone].Status(); st.Removed || st.Mode != ModeFollowing {
		t.Fatalf("restarted with Rejoin: %+v", st)
	}
	if ok, _, err := c.session(gone).Exists(testCtx(t), "/while-removed"); err != nil || !ok {
		t.Fatalf("the rejoined server does not have what was written while it was away: %v %v", ok, err)
	}
	back, err := c.reconfig(leader, ReconfigRequest{Add: []Server{reconfigServer(gone, false)}})
	if err != nil {
		t.Fatalf("adding %d back: %v", gone, err)
	}
	if !slices.Contains(serverIDs(back.Servers), gone) || len(back.Servers) != 3 {
		t.Fatalf("after adding %d back: %+v", gone, back)
	}
	c.configEverywhere(back)
	if err := c.create(c.session(gone), "/back"); err != nil {
		t.Fatal(err)
	}
	c.sameTrees()
}

// TestReconfigRemovedServerAddedBack: a removed follower keeps following
// and serving as a non-voting member, as ZooKeeper's does: its session
// reads what the others commit and writes through it, and its data
// directory holds the removal mark; its acknowledgements count nowhere (with
// the other follower stopped, nothing commits). A reconfig adds it back
// without a restart (the leader counts it synced): the mark is gone and its
// acknowledgements count again. Meanwhile the leader shows it as a
// non-voting follower (mntr's synced_non_voting_followers).
func TestReconfigRemovedServerAddedBack(t *testing.T) {
	c := newReconfigCluster(t, 3, nil, 6)
	c.tweak = func(cfg *Config) { cfg.ReconfigEnabled, cfg.Registerer = true, prometheus.NewRegistry() }
	for _, id := range c.running() { // restarted with metrics
		c.stop(id)
		c.start(id)
	}
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	others := c.others(leader)
	gone, other := others[0], others[1]
	s := c.session(gone)
	removed, err := c.reconfig(leader, ReconfigRequest{Remove: []int64{gone}})
	if err != nil {
		t.Fatalf("removing %d: %v", gone, err)
	}
	c.configEverywhere(removed)
	if st := c.ens[gone].Status(); st.RemovedBy != removed.Version || st.Removed || !st.Serving || st.Mode != ModeFollowing {
		t.Fatalf("the removed follower: %+v", st)
	}
	if marked, err := wasRemoved(c.config(gone)); err != nil || !marked {
		t.Fatalf("removal mark after the removal: %v %v", marked, err)
	}
	if nv := nonVoting(t, c.ens[leader]); nv != 1 {
		t.Fatalf("the leader counts %v non-voting followers, want 1: %+v", nv, c.ens[leader].Status().Learners)
	}
	if err := c.create(s, "/on-the-removed"); err != nil {
		t.Fatalf("a write through the removed follower: %v", err)
	}
	if ok, _, err := c.session(other).Exists(testCtx(t), "/on-the-removed"); err != nil || !ok {
		t.Fatalf("the write is not on %d: %v %v", other, ok, err)
	}

	// Its acknowledgements count nowhere.
	c.stop(other)
	c.waitFor("the leader to lose its quorum", 400, func() bool { return !c.ens[leader].Status().Serving })
	c.start(other)
	c.waitFor("the ensemble to serve again", 400, c.allServing)

	leader = c.leader()
	back, err := c.reconfig(leader, ReconfigRequest{Add: []Server{reconfigServer(gone, false)}})
	if err != nil {
		t.Fatalf("adding %d back: %v", gone, err)
	}
	c.configEverywhere(back)
	if st := c.ens[gone].Status(); st.RemovedBy != 0 || st.Removed || !st.Serving {
		t.Fatalf("added back: %+v", st)
	}
	if marked, err := wasRemoved(c.config(gone)); err != nil || marked {
		t.Fatalf("removal mark after adding back: %v %v", marked, err)
	}
	if nv := nonVoting(t, c.ens[leader]); nv != 0 {
		t.Fatalf("the leader counts %v non-voting followers after adding it back", nv)
	}
	// Its acknowledgements count again: with the third voter stopped, the
	// leader and it commit.
	third := slices.DeleteFunc(c.others(leader), func(id int64) bool { return id == gone })[0]
	c.stop(third)
	if err := c.create(c.session(leader), "/with-it-counted"); err != nil {
		t.Fatalf("a write with %d counted again: %v", gone, err)
	}
	c.start(third)
	c.waitFor("all to serve", 400, c.allServing)
	c.sameTrees()
}

// nonVoting is the leader's synced_non_voting_followers metric, checked
// against its learners' statuses.
func nonVoting(t *testing.T, e *Ensemble) float64 {
	t.Helper()
	got := -1.0
	if err := RemoteOf(e).MetricValues(func(name string, v float64) {
		if name == "synced_non_voting_followers" {
			got = v
		}
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range e.Status().Learners {
		if l.NonVoting && l.Phase == "broadcast" {
			n++
		}
	}
	if float64(n) != got {
		t.Fatalf("synced_non_voting_followers %v, but %d learners are non-voting", got, n)
	}
	return got
}

// TestJoinGuess: a joiner restarted before a configuration listed it
// starts with the servers of the tree's configuration and its own entry,
// not with its own list (whose servers a reconfig may have removed); with
// groups it keeps its own list, which places it in one.
func TestJoinGuess(t *testing.T) {
	self := Server{ID: 5, Host: "h5", QuorumPort: 1, ElectionPort: 2, Observer: true}
	cfg := Config{ID: 5, Servers: []Server{{ID: 2, Host: "h2", QuorumPort: 1, ElectionPort: 2}, self}}
	cur := &ClusterConfig{Servers: []Server{{ID: 1, Host: "h1", QuorumPort: 1, ElectionPort: 2}}, Version: 0x30000001b}
	got := joinGuess(cfg, cur)
	if len(got.Servers) != 2 || got.Servers[0].ID != 1 || got.Servers[1] != self {
		t.Errorf("joinGuess: %+v, want server 1 and the joiner's own entry", got.Servers)
	}
	if len(cur.Servers) != 1 {
		t.Errorf("joinGuess changed the tree's configuration: %+v", cur.Servers)
	}
	cur.Groups = [][]int64{{1}}
	if got := joinGuess(cfg, cur); len(got.Servers) != 2 || got.Servers[0].ID != 2 {
		t.Errorf("with groups: %+v, want the joiner's own list", got.Servers)
	}
}
