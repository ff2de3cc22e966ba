package sim

import (
	"fmt"
	"slices"
	"testing"

	zk "github.com/embedzk/zk"
)

// reconfigVia makes the admin client's reconfig call on p and drives the
// world until it returns.
func (s *scenario) reconfigVia(p *simPeer, req zk.ReconfigRequest, what string) *opRecord {
	s.t.Helper()
	op := &opRecord{c: s.rc.admin, peer: p, kind: opReconfig, reconfig: req, path: what}
	s.launch(op)
	s.until(fmt.Sprintf("reconfig %q to return", what), 600, func() bool { return s.rc.admin.op == nil })
	return op
}

// serverIDs lists a configuration's server ids.
func serverIDs(c zk.ClusterConfig) []int64 {
	var ids []int64
	for _, sv := range c.Servers {
		ids = append(ids, sv.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestReconfigSnapSyncedPeerKnowsConfig: the ingredients of reconfig seed
// 211 (before 109dc48 and a5bb573). A voter is down while a change removes
// another one, and comes back after the leader purged the log it would
// need: it syncs by snapshot and never applies the change's entry. Its
// ClusterConfig must still be the committed configuration (the snapshot's
// /zookeeper/config), not the one it was started with: a leader computes
// the next configuration from it. Seed 211 lost that: the stale peer led,
// an admin's "remove 1 2 3 5" (the members it saw elsewhere) applied to
// its stale list {1..5} made {4} (a server removed earlier), and that
// configuration committed. Then, with the stale peer leading, a change
// made through it must be computed from the committed configuration: the
// removed server stays out.
func TestReconfigSnapSyncedPeerKnowsConfig(t *testing.T) {
	s := newScenario(t, Options{Voters: 5, Observers: -1, Reconfig: true, SnapCount: 10})
	ld := s.leaderPeer()
	var fs []*simPeer // the followers, highest id first
	for _, p := range s.live() {
		if p != ld && !p.observer {
			fs = append(fs, p)
		}
	}
	slices.SortFunc(fs, func(a, b *simPeer) int { return int(b.id - a.id) })
	stale, gone := fs[0], fs[1] // stale: the highest id, so that it wins the election below
	c := s.clients[0]
	s.session(c, ld)
	s.writes(c, 2)
	s.down(stale, 100)
	if op := s.reconfigVia(ld, zk.ReconfigRequest{Remove: []int64{gone.id}}, fmt.Sprintf("remove %d", gone.id)); op.err != nil {
		t.Fatalf("removing %d: %v", gone.id, op.err)
	}
	want := ld.ens.ClusterConfig()
	s.until("the removed peer to know it", 200, func() bool { return gone.ens == nil || gone.ens.Status().RemovedBy != 0 })
	s.retireRemoved(true)
	installs := s.stats.SnapInstalls
	s.run(300, true) // snapshots, and purges of the log the stale peer needs
	s.restart(stale)
	s.until("the stale peer to serve", 400, func() bool { return stale.ens != nil && stale.ens.Status().Serving })
	if s.stats.SnapInstalls == installs {
		t.Fatal("the stale peer was not synced by snapshot")
	}
	got := stale.ens.ClusterConfig()
	if got.Version != want.Version || !slices.Equal(serverIDs(got), serverIDs(want)) {
		t.Errorf("after a snapshot sync, peer %d's configuration is version %#x servers %v; the committed one is version %#x servers %v",
			stale.id, got.Version, serverIDs(got), want.Version, serverIDs(want))
	}

	// The stale peer leads: the old leader goes down (it rejoins as a follower).
	s.down(ld, 100)
	s.until("the stale peer to lead", 600, func() bool { return s.leader() == stale })
	s.restart(ld)
	s.until("the old leader to follow", 600, func() bool { return ld.ens.Status().Serving })
	other := fs[2]
	op := s.reconfigVia(stale, zk.ReconfigRequest{Remove: []int64{other.id}}, fmt.Sprintf("remove %d", other.id))
	after := stale.ens.ClusterConfig()
	if op.err == nil && slices.Contains(serverIDs(after), gone.id) {
		t.Errorf("removing %d through peer %d made servers %v: %d, removed before, is back", other.id, stale.id, serverIDs(after), gone.id)
	}
	t.Logf("removing %d through peer %d: err %v, servers %v", other.id, stale.id, op.err, serverIDs(after))
	if err := s.finish().Err(); err != nil {
		t.Fatal(err)
	}
}

// TestReconfigRemovedServerServesThenAddedBack: ZooKeeper's removed server
// keeps following. A client with a session on a follower sees that
// follower removed and goes on writing and reading through it, every
// check of the world holding (its reads are linearizable, its writes
// committed once each); then a reconfig adds it back while it runs, no
// restart, and the ensemble goes on with it as a voter.
func TestReconfigRemovedServerServesThenAddedBack(t *testing.T) {
	s := newScenario(t, Options{Voters: 3, Observers: -1, Reconfig: true})
	ld := s.leaderPeer()
	gone := s.follower()
	c := s.clients[0]
	s.session(c, gone)
	s.writes(c, 2)
	removed := s.reconfigVia(ld, zk.ReconfigRequest{Remove: []int64{gone.id}}, fmt.Sprintf("remove %d", gone.id))
	if removed.err != nil {
		t.Fatalf("removing %d: %v", gone.id, removed.err)
	}
	s.until("the removed peer to know it", 100, func() bool { return gone.ens.Status().RemovedBy != 0 })
	s.writes(c, 3)
	for i := 0; i < 2; i++ {
		if op := s.call(c, &opRecord{kind: opGet, path: regKey(i), version: -1}); op.err != nil {
			t.Fatalf("a read on the removed peer: %v", op.err)
		}
	}
	if st := gone.ens.Status(); st.RemovedBy == 0 || st.Mode != zk.ModeFollowing || !st.Serving {
		t.Fatalf("the removed peer: %+v", st)
	}
	back := s.reconfigVia(ld, zk.ReconfigRequest{Add: []zk.Server{reconfigServer(gone.id, false)}}, fmt.Sprintf("add %d back", gone.id))
	if back.err != nil {
		t.Fatalf("adding %d back: %v", gone.id, back.err)
	}
	s.until("the peer to be a member again", 100, func() bool { return gone.ens.Status().RemovedBy == 0 })
	s.writes(c, 2)
	if got := serverIDs(gone.ens.ClusterConfig()); !slices.Contains(got, gone.id) {
		t.Fatalf("peer %d's configuration after adding it back: %v", gone.id, got)
	}
	if err := s.finish().Err(); err != nil {
		t.Fatal(err)
	}
}
