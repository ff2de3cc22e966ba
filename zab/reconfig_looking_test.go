package zab

import (
	"slices"
	"testing"
)

// TestReconfigCommitLearnedWhileLookingAppliesNothing: the leader of
// {1,2,3} removes itself; the change commits and the leader steps down,
// and its COMMITs are lost. One follower is down, the other looks: it holds the
// change pending and cannot elect anyone. The removed leader tells it the
// configuration it committed, so the looking peer knows the change is
// committed and counts its election under it. It applies nothing until a
// leader syncs it: a looking peer may be serving reads in read-only mode,
// from the tree it had when it lost its leader (ZooKeeper's read-only
// server never applies a txn). Once the other follower is back, they elect
// a leader under the new configuration and both apply the change in the
// sync. (The simulation found it: seed 4 with -reconfig, a peer in
// read-only mode applied entries.)
func TestReconfigCommitLearnedWhileLookingAppliesNothing(t *testing.T) {
	h := newHarness(t, 11, voters(3), nil, nil)
	l := h.serving(30)
	commitOn(t, h, l, "a")
	rest := without(voters(3), l)
	a, b := rest[0], rest[1]
	v := h.commitRemovingLeader(l, Membership{Voters: rest}, rest)
	h.crash(b)
	h.disconnect(l, a, 0) // the COMMIT to a is lost
	applied := h.peers[a].disk.smZxid()
	if applied >= v {
		h.fatalf("%d applied %#x before its COMMIT", a, applied)
	}
	h.heal()
	h.waitFor("the looking peer to learn the change is committed", 30, func() bool { return h.configOf(a).Version == v })
	h.run(10)
	if st := h.peers[a].node.Status(); st.Role != RoleLooking {
		h.fatalf("%d alone should still look: %+v", a, st)
	}
	if got := h.peers[a].disk.smZxid(); got != applied {
		h.fatalf("%d applied up to %#x while looking (it had %#x): no leader synced it", a, got, applied)
	}
	h.restart(b)
	l2 := h.serving(60)
	if l2 != a && l2 != b {
		h.fatalf("leader %d", l2)
	}
	h.agreeOn(v, 10)
	commitOn(t, h, l2, "after")
	h.converged()
}

// TestReconfigJoinerAddedAsVoterAnswersFollowing: a joiner, which no
// configuration lists, takes part in an election as a non-voter and follows
// the leader it elects; a change then makes it a voter in place of the old
// leader, and it stays the leader's follower. A follower that then loses
// its connection to the leader looks in a new round: the leader answers
// LEADING and the joiner, a voter now, FOLLOWING, which together tell it
// who leads. (The simulation found it: seed 10 with -reconfig, the joiner
// went on answering OBSERVING, as its election had decided, which no
// election counts, and the follower looked forever.)
func TestReconfigJoinerAddedAsVoterAnswersFollowing(t *testing.T) {
	h := newHarness(t, 12, voters(3), nil, nil)
	l := h.serving(30)
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.serving(30)
	h.crash(l)
	var l2 int64
	h.waitFor("a leader among the others, the joiner following it", 80, func() bool {
		l2 = h.leader()
		return l2 != 0 && h.servesUnder(4, l2)
	})
	rest := slices.DeleteFunc(voters(3), func(id int64) bool { return id == l || id == l2 })
	f := rest[0]
	h.waitFor("the other follower", 40, func() bool { return h.servesUnder(f, l2) })
	v := h.reconfig(l2, Membership{Voters: ids(l2, f, 4)})
	h.deliverAll()
	h.agreeOn(v, 5)
	if st := h.peers[4].node.Status(); !h.servesUnder(4, l2) || st.Role != RoleFollowing {
		h.fatalf("the promoted joiner: %+v", st)
	}
	h.disconnect(f, l2, 0)
	h.deliverAll()
	if st := h.peers[f].node.Status(); st.Role != RoleLooking {
		h.fatalf("%d after losing the leader: %+v", f, st)
	}
	h.connect(f, l2)
	h.waitFor("the follower to serve under the leader again", 100, func() bool { return h.servesUnder(f, l2) })
	commitOn(t, h, l2, "all three")
}

// TestReconfigJoinerRestartsAsJoiner: a new server joins (the ensemble's
// configuration, which does not list it, reaches it in the sync and in its
// state machine) and restarts before a change adds it. Its driver starts
// it as the joiner it was (Config.Joining, with its starting membership):
// it is not removed by a configuration that never listed it, follows the
// leader again as a learner that counts nowhere, and the change that adds
// it makes it a voter.
func TestReconfigJoinerRestartsAsJoiner(t *testing.T) {
	h := newHarness(t, 13, voters(3), nil, nil)
	l := h.serving(30)
	h.agreeOn(h.reconfig(l, Membership{Voters: voters(3)}), 5) // the same members, a new version
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.serving(30)
	commitOn(t, h, l, "a")
	h.crash(4)
	h.propose(l, "b")
	h.deliverAll()
	h.joining = map[int64]bool{4: true}
	h.restart(4)
	h.waitFor("the joiner to follow again", 60, func() bool { return h.servesUnder(4, l) })
	if st := h.peers[4].node.Status(); st.Removed || st.Role != RoleFollowing {
		h.fatalf("the restarted joiner: %+v", st)
	}
	v := h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)})
	h.deliverAll()
	h.agreeOn(v, 5)
	commitOn(t, h, l, "with 4")
	h.converged()
}

// TestReconfigJoinerFollowsLeaderItsConfigCallsObserver: an observer is
// promoted and comes to lead; a joiner whose starting membership is the
// ensemble's first one (which lists that leader as an observer) follows it
// because it announces a newer configuration, and keeps following through
// the sync that brings that configuration, on its first start and when it
// restarts as the joiner it was. (The simulation found it: seed 3025 with
// -reconfig; the joiner's check that its leader is a voter ran against its
// stale configuration, and it went back to looking forever.)
func TestReconfigJoinerFollowsLeaderItsConfigCallsObserver(t *testing.T) {
	h := newHarness(t, 14, voters(3), ids(4), nil)
	l := h.serving(30)
	h.agreeOn(h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)}), 5)
	if l != 4 {
		h.crash(l)
		h.waitFor("4 to lead", 100, func() bool { return h.leader() == 4 })
		h.restart(l)
	}
	h.serving(60)
	h.addPeer(5, Membership{Voters: ids(1, 2, 3, 5), Observers: ids(4)})
	h.waitFor("the joiner to follow 4", 60, func() bool { return h.servesUnder(5, 4) })
	commitOn(t, h, 4, "a")
	h.crash(5)
	h.propose(4, "b")
	h.deliverAll()
	h.joining = map[int64]bool{5: true}
	h.restart(5)
	h.waitFor("the restarted joiner to follow 4", 60, func() bool { return h.servesUnder(5, 4) })
	commitOn(t, h, 4, "c")
	h.converged()
}

// TestReconfigAddBackLostThenRejoin: the lone voter adds back the removed
// peer that still follows it, and the peer crashes before the proposal
// reaches it. The change needs the peer's vote; the peer, restarted, finds
// itself outside its committed configuration and stays removed (ZooKeeper's
// server refuses to start then): nothing is elected, as in ZooKeeper. The
// operator's remedy is the peer's restart as a joiner (Config.Joining, the
// engine's Rejoin): it votes, the voter leads, and its establishment
// commits the change. (The simulation's one-voter campaign stalled so,
// seeds 5469, 5777, 5937, 6205 and 6229, until its world played the
// operator: internal/sim's rejoinStalled.)
func TestReconfigAddBackLostThenRejoin(t *testing.T) {
	h := newHarness(t, 15, voters(2), nil, nil)
	l := h.serving(30)
	o := 3 - l
	v1 := h.reconfig(l, Membership{Voters: ids(l)})
	h.waitFor("the other peer removed, following", 60, func() bool {
		return h.peers[o].node.Status().RemovedBy == v1 && h.servesUnder(o, l)
	})
	v2 := h.reconfig(l, Membership{Voters: ids(l, o)})
	h.crash(o) // before the proposal reaches it
	h.waitFor("the voter to look", 60, func() bool { return h.peers[l].node.Status().Role == RoleLooking })
	h.restart(o)
	h.run(100)
	if st := h.peers[o].node.Status(); !st.Removed || h.leader() != 0 {
		h.fatalf("want a stall: %d removed %v, leader %d", o, st.Removed, h.leader())
	}
	h.crash(o)
	h.joining = map[int64]bool{o: true}
	h.restart(o)
	h.waitFor("both to serve", 100, func() bool { return h.leader() != 0 && h.servesUnder(o, h.leader()) })
	h.agreeOn(v2, 10)
	commitOn(t, h, h.leader(), "after")
}
