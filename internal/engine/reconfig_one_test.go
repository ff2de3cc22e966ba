package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

// TestReconfigToOneVoter: ZooKeeper refuses a reconfig that leaves fewer
// than 2 participants unless standaloneEnabled=false, which lets "a cluster
// reconfigure down to one node, and up from one node" (its reconfig
// documentation). Here the leader and a follower are removed at once; the
// follower left leads alone, commits alone (its removed peers stopped or
// not), restarts as the ensemble of one from its own tree, and grows back.
func TestReconfigToOneVoter(t *testing.T) {
	// The default refuses, and nothing changes.
	c := newReconfigCluster(t, 3, nil, 11)
	before := c.ens[c.leader()].ClusterConfig()
	leader := c.leader()
	_, err := c.reconfig(leader, ReconfigRequest{Remove: c.others(leader)})
	if !errors.Is(err, zkerr.ErrBadArguments) || !strings.Contains(err.Error(), "at least 2") {
		t.Fatalf("down to one voter without StandaloneDisabled: %v", err)
	}
	c.configEverywhere(before)
	c.close()

	c = newReconfigCluster(t, 3, []int64{4}, 12)
	c.tweak = func(cfg *Config) { cfg.ReconfigEnabled, cfg.StandaloneDisabled = true, true }
	for _, id := range c.running() { // restart each with the setting
		c.stop(id)
		c.start(id)
	}
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader = c.leader()
	others := c.others(leader)
	sole, gone := others[0], []int64{leader, others[1]}
	if _, err := c.reconfig(sole, ReconfigRequest{Members: []Server{reconfigServer(sole, true)}}); !errors.Is(err, zkerr.ErrBadArguments) {
		t.Fatalf("no participant at all: %v", err)
	}
	s := c.session(sole)
	one, err := c.reconfig(sole, ReconfigRequest{Remove: gone})
	if err != nil {
		t.Fatalf("removing %v: %v", gone, err)
	}
	if !slices.Equal(serverIDs(one.Servers), []int64{sole}) {
		t.Fatalf("after removing %v: %+v", gone, one)
	}
	c.waitFor(fmt.Sprintf("peer %d to lead alone", sole), 400, func() bool { return c.leader() == sole })
	c.configEverywhere(one)
	for _, id := range gone {
		if st := c.ens[id].Status(); st.RemovedBy != one.Version {
			t.Fatalf("removed peer %d: %+v", id, st)
		}
	}
	n := 0
	write := func(s *Session) {
		t.Helper()
		n++
		if err := c.create(s, fmt.Sprintf("/one%02d", n)); err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
	}
	write(s)
	write(c.session(gone[0])) // forwarded by a removed peer, committed by one
	c.sameTrees()
	for _, id := range gone {
		c.stop(id)
	}
	write(s)
	// Restarted, the one voter serves alone with the configuration of its
	// tree (its Config still lists three servers).
	c.stop(sole)
	c.start(sole)
	c.waitFor("the one voter to serve again", 400, func() bool { return c.leader() == sole })
	if v := c.ens[sole].ClusterConfig().Version; v != one.Version {
		t.Fatalf("restarted: configuration %x, want %x", v, one.Version)
	}
	write(c.session(sole))
	// And up from one: a new server joins and is added.
	c.joinPeer(4, false)
	two, err := c.reconfig(4, ReconfigRequest{Add: []Server{reconfigServer(4, false)}})
	if err != nil {
		t.Fatalf("adding 4: %v", err)
	}
	if !slices.Equal(serverIDs(two.Servers), []int64{sole, 4}) {
		t.Fatalf("after adding 4: %+v", two)
	}
	c.configEverywhere(two)
	write(c.session(4))
	// Two voters now: without 4 the other loses its quorum.
	c.stop(4)
	c.waitFor(fmt.Sprintf("peer %d to stop serving without 4", sole), 400, func() bool { return !c.ens[sole].Status().Serving })
}
