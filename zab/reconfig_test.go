package zab

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// commitOn proposes data on leader and checks every live peer applied it.
func commitOn(t *testing.T, h *harness, leader int64, data string) {
	t.Helper()
	h.propose(leader, data)
	h.deliverAll()
	for _, id := range h.ids() {
		p := h.peers[id]
		if p.node == nil || p.node.Status().Removed {
			continue
		}
		if got := h.applied(id); len(got) == 0 || got[len(got)-1] != data {
			h.fatalf("%d did not apply %q: %v", id, data, got)
		}
	}
}

// TestReconfigAddVoter: a fourth peer, started with the members and
// itself, joins as a learner that counts nowhere; the configuration that
// adds it commits with a quorum of both; then its acks count: with two of
// the old voters down, nothing commits without it.
func TestReconfigAddVoter(t *testing.T) {
	h := newHarness(t, 1, voters(3), nil, nil)
	l := h.serving(30)
	commitOn(t, h, l, "before")
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.serving(30)
	if st := h.peers[4].node.Status(); st.Role != RoleFollowing || st.Leader != l || st.ConfigVersion != 0 {
		h.fatalf("joiner: %+v", st)
	}
	// It started with a guess (the members and itself); the sync gave it
	// the configuration the ensemble has, under which it counts nowhere.
	if ci := h.configOf(4); !sameIDs(ci.Members.Voters, ids(1, 2, 3)) {
		h.fatalf("joiner's configuration after the sync: %+v", ci)
	}
	v := h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)})
	if st := h.peers[l].node.Status(); st.PendingConfig != v {
		h.fatalf("leader's pending configuration %#x, want %#x", st.PendingConfig, v)
	}
	h.deliverAll()
	h.agreeOn(v, 5)
	h.converged()
	commitOn(t, h, l, "after")
	// The new quorum is 3 of 4: the leader, one old follower and 4.
	var down []int64
	for _, id := range voters(3) {
		if id != l && len(down) == 0 {
			down = append(down, id)
		}
	}
	h.crash(down[0])
	h.deliverAll()
	commitOn(t, h, l, "with 4")
	h.crash(4)
	h.deliverAll()
	if st := h.peers[l].node.Status(); st.Serving {
		h.fatalf("the leader serves with 2 of 4 voters: %+v", st)
	}
}

// TestReconfigRemoveFollower: the removed follower keeps following as a
// non-voting member, as ZooKeeper's does: it applies every commit and its
// acks count nowhere. A reconfig adds it back without a restart (the
// leader counts it synced), and its acks count again. Removed once more
// and restarted, it stays removed: its configuration says so.
func TestReconfigRemoveFollower(t *testing.T) {
	h := newHarness(t, 2, voters(3), nil, nil)
	l := h.serving(30)
	f := without(voters(3), l)
	gone, other := f[0], f[1]
	rest := without(voters(3), gone)
	v := h.reconfig(l, Membership{Voters: rest})
	h.deliverAll()
	h.agreeOn(v, 5)
	st := h.peers[gone].node.Status()
	if st.Removed || st.RemovedBy != v || st.Role != RoleFollowing || st.Leader != l || !st.Serving {
		h.fatalf("removed follower: %+v", st)
	}
	if !slices.Contains(h.peers[l].node.Status().Synced, gone) {
		h.fatalf("the leader dropped the removed learner")
	}
	commitOn(t, h, l, "two of two") // the removed follower applies it too
	// Its acks count nowhere: with the other voter down there is no quorum.
	h.crash(other)
	h.deliverAll()
	if st := h.peers[l].node.Status(); st.Serving {
		h.fatalf("the leader serves with a removed follower and itself: %+v", st)
	}
	h.restart(other)
	l = h.serving(60)
	if l == gone {
		h.fatalf("the removed peer leads")
	}
	h.waitFor("the removed peer to follow again", 60, func() bool { return h.servesUnder(gone, l) })

	// Added back, without a restart: its acks count again.
	v2 := h.reconfig(l, Membership{Voters: voters(3)})
	h.deliverAll()
	h.agreeOn(v2, 5)
	if st := h.peers[gone].node.Status(); st.RemovedBy != 0 || st.Role != RoleFollowing {
		h.fatalf("added back: %+v", st)
	}
	other = 6 - l - gone
	h.crash(other)
	h.deliverAll()
	commitOn(t, h, l, "with the one added back")
	h.restart(other)
	h.waitFor("all three to serve", 60, func() bool { return h.servesUnder(other, l) })

	// Removed again and restarted: it stays removed.
	v3 := h.reconfig(l, Membership{Voters: rest})
	h.deliverAll()
	h.agreeOn(v3, 5)
	h.crash(gone)
	h.restart(gone)
	h.run(5)
	if st := h.peers[gone].node.Status(); !st.Removed || st.Serving {
		h.fatalf("restarted removed peer: %+v", st)
	}
	if _, err := h.peers[gone].node.Propose([]byte("x")); !errors.Is(err, ErrRemoved) || !errors.Is(err, ErrNotServing) {
		h.fatalf("Propose on a removed peer: %v", err)
	}
	if err := h.peers[gone].node.Step(l, &Message{Type: MsgPing, Epoch: 1, ID: 1}); !errors.Is(err, ErrRemoved) {
		h.fatalf("Step on a removed peer: %v", err)
	}
	commitOn(t, h, l, "still")
	h.converged()
}

// TestReconfigRemoveLeader: the leader commits the configuration that
// removes it, then steps down; the remaining voters elect a leader among
// them, which the old leader follows as a non-voting member.
func TestReconfigRemoveLeader(t *testing.T) {
	h := newHarness(t, 3, voters(3), nil, nil)
	l := h.serving(30)
	commitOn(t, h, l, "a")
	rest := without(voters(3), l)
	v := h.reconfig(l, Membership{Voters: rest})
	h.deliverAll()
	if st := h.peers[l].node.Status(); st.Removed || st.RemovedBy != v || st.Role == RoleLeading {
		h.fatalf("the removed leader: %+v", st)
	}
	l2 := h.serving(30)
	if l2 == l {
		h.fatalf("the removed leader leads again")
	}
	h.agreeOn(v, 5)
	h.waitFor("the old leader to follow the new one", 60, func() bool { return h.servesUnder(l, l2) })
	if st := h.peers[l].node.Status(); st.Role != RoleFollowing || st.RemovedBy != v {
		h.fatalf("the old leader: %+v", st)
	}
	commitOn(t, h, l2, "b")
	h.converged()
}

// TestReconfigObservers: an observer joins, is added, promoted to voter,
// demoted back, then removed.
func TestReconfigObservers(t *testing.T) {
	h := newHarness(t, 4, voters(3), nil, nil)
	l := h.serving(30)
	h.addPeer(5, Membership{Voters: voters(3), Observers: ids(5)})
	h.serving(30)
	if st := h.peers[5].node.Status(); st.Role != RoleObserving {
		h.fatalf("joining observer: %+v", st)
	}
	h.agreeOn(h.reconfig(l, Membership{Voters: voters(3), Observers: ids(5)}), 5)
	commitOn(t, h, l, "observed")

	// Promote: 5 rejoins as a follower and its acks count.
	h.agreeOn(h.reconfig(l, Membership{Voters: ids(1, 2, 3, 5)}), 5)
	if l = h.serving(30); h.peers[5].node.Status().Role != RoleFollowing {
		h.fatalf("promoted observer: %+v", h.peers[5].node.Status())
	}
	commitOn(t, h, l, "promoted")

	// Demote a follower other than the leader.
	f := without(voters(3), l)[0]
	voters := without(ids(1, 2, 3, 5), f)
	h.agreeOn(h.reconfig(l, Membership{Voters: voters, Observers: ids(f)}), 5)
	if l = h.serving(30); h.peers[f].node.Status().Role != RoleObserving {
		h.fatalf("demoted voter: %+v", h.peers[f].node.Status())
	}
	commitOn(t, h, l, "demoted")

	// Remove the observer.
	h.agreeOn(h.reconfig(l, Membership{Voters: voters}), 5)
	// As ZooKeeper's, it comes back as a non-voting follower.
	h.waitFor("the removed observer to follow", 60, func() bool { return h.servesUnder(f, l) })
	if st := h.peers[f].node.Status(); st.RemovedBy == 0 || st.Role != RoleFollowing {
		h.fatalf("removed observer: %+v", st)
	}
	commitOn(t, h, l, "gone")
	h.converged()
}

// TestReconfigRefused: each unsafe or malformed change is refused with a
// clear error and changes nothing.
func TestReconfigRefused(t *testing.T) {
	h := newHarness(t, 5, voters(3), nil, nil)
	l := h.serving(30)
	f := without(voters(3), l)[0]
	try := func(who int64, m Membership, want error) {
		t.Helper()
		before := h.peers[who].node.Status()
		if _, err := h.peers[who].node.ProposeConfig(m, nil); !errors.Is(err, want) {
			h.fatalf("ProposeConfig(%v) on %d: %v, want %v", m, who, err, want)
		}
		if st := h.peers[who].node.Status(); st.LastZxid != before.LastZxid || st.PendingConfig != before.PendingConfig {
			h.fatalf("a refused change changed %d: %+v", who, st)
		}
	}
	try(f, Membership{Voters: ids(1, 2)}, ErrNotLeader)
	try(l, Membership{}, ErrBadMembership)
	try(l, Membership{Observers: voters(3)}, ErrBadMembership)
	try(l, Membership{Voters: ids(1, 2, 0)}, ErrBadMembership)
	try(l, Membership{Voters: ids(1, 2, 255)}, ErrBadMembership)
	try(l, Membership{Voters: ids(1, 2, 2)}, ErrBadMembership)
	try(l, Membership{Voters: ids(1, 2), Observers: ids(2)}, ErrBadMembership)
	try(l, Membership{Voters: ids(1, 2, 3), Weights: map[int64]int64{1: 0, 2: 0, 3: 0}}, ErrBadMembership)
	try(l, Membership{Voters: ids(1, 2, 3), Groups: [][]int64{{1, 2}}}, ErrBadMembership)
	// A new configuration whose quorum is not synced: new voters that
	// never joined, or an old one that is down.
	try(l, Membership{Voters: ids(4, 5, 6)}, ErrNewConfigNoQuorum)
	h.crash(f)
	h.deliverAll()
	try(l, Membership{Voters: ids(1, 2, 3, 4)}, ErrNewConfigNoQuorum)
	h.restart(f)
	h.serving(30)
	// Data posing as a configuration entry.
	if _, err := h.peers[l].node.Propose(append(slices.Clone(configMarker), 1, 2)); !errors.Is(err, ErrBadMembership) {
		h.fatalf("Propose of marker data: %v", err)
	}
	// A second change while the first is pending.
	v := h.reconfig(l, Membership{Voters: voters(3), Observers: ids(7)})
	try(l, Membership{Voters: voters(3)}, ErrReconfigInProgress)
	h.deliverAll()
	h.agreeOn(v, 5)
	h.reconfig(l, Membership{Voters: voters(3)}) // committed: the next may go
	h.deliverAll()
}

// TestReconfigLeaderCrashPending: the leader crashes with a change pending,
// at every point of its delivery. The change ends either committed on
// every peer or gone from every one, never half; and the history agrees.
func TestReconfigLeaderCrashPending(t *testing.T) {
	committed, gone := 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		h := newHarness(t, seed, voters(5), nil, nil)
		l := h.serving(40)
		commitOn(t, h, l, "a")
		rest := without(voters(5), l)
		v := h.reconfig(l, Membership{Voters: rest[:4]})
		// Deliver a random part of what is in flight, then crash the leader.
		for i := h.rng.IntN(12); i > 0; i-- {
			ks := h.pending()
			if len(ks) == 0 {
				break
			}
			k := ks[h.rng.IntN(len(ks))]
			h.deliver(k[0], k[1])
		}
		h.crash(l)
		l2 := h.serving(80)
		commitOn(t, h, l2, "b")
		want := h.configOf(l2).Version
		if want != v && want != 0 {
			h.fatalf("leader %d has configuration %#x, want %#x or 0", l2, want, v)
		}
		h.agreeOn(want, 10)
		h.restart(l)
		h.run(10)
		h.agreeOn(want, 20)
		h.converged()
		if want == v {
			committed++
			if st := h.peers[l].node.Status(); !st.Removed && st.RemovedBy != v {
				h.fatalf("the old leader is not removed by the committed change: %+v", st)
			}
		} else {
			gone++
		}
	}
	if committed == 0 || gone == 0 {
		t.Fatalf("committed %d gone %d: both outcomes should occur", committed, gone)
	}
	t.Logf("committed %d, gone %d", committed, gone)
}

func TestMembershipEncoding(t *testing.T) {
	for _, m := range []Membership{
		{Voters: ids(1)},
		{Voters: ids(3, 1, 2), Observers: ids(9, 8)},
		{Voters: ids(1, 2, 3, 4), Groups: [][]int64{{1, 2}, {3, 4}}, Weights: map[int64]int64{1: 2, 2: 0, 3: 1, 4: 1}},
		{Voters: ids(1, 2, 3), Weights: map[int64]int64{1: 3}},
	} {
		b, err := EncodeConfigEntry(m, []byte("tail"))
		if err != nil {
			t.Fatal(err)
		}
		got, payload, ok, err := DecodeConfigEntry(b)
		if !ok || err != nil || string(payload) != "tail" || fmt.Sprint(got) != fmt.Sprint(m) {
			t.Fatalf("%v: got %v %q %v %v", m, got, payload, ok, err)
		}
		v, got, err := decodeVersioned(encodeVersioned(77, m))
		if err != nil || v != 77 || fmt.Sprint(got) != fmt.Sprint(m) {
			t.Fatalf("versioned %v: %v %v %v", m, v, got, err)
		}
		for i := len(configMarker); i < len(b)-4; i++ {
			if _, _, ok, err := DecodeConfigEntry(b[:i]); !ok || err == nil {
				if m2, _, _, _ := DecodeConfigEntry(b[:i]); fmt.Sprint(m2) == fmt.Sprint(m) {
					continue // a prefix that happens to be the whole membership
				}
				t.Fatalf("%v cut at %d: ok %v err %v", m, i, ok, err)
			}
		}
	}
	if _, _, ok, _ := DecodeConfigEntry([]byte{2, 0, 0}); ok {
		t.Fatal("an ordinary entry decodes as a configuration")
	}
}

// TestReconfigStalePeerRejoins: a peer that was down while the
// configuration changed counts its election against the old voters, of
// which too few remain: it learns from the leader's notification that a
// newer configuration exists, follows it, and gets that configuration in
// the sync. (The simulation found it: seed 2 with -reconfig.)
func TestReconfigStalePeerRejoins(t *testing.T) {
	h := newHarness(t, 6, voters(3), nil, nil)
	l := h.serving(30)
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.serving(30)
	h.agreeOn(h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)}), 5)
	stale := without(voters(3), l)[0]
	h.crash(stale)
	h.deliverAll()
	v2 := h.reconfig(l, Membership{Voters: ids(1, 2, 3)})
	h.deliverAll()
	h.agreeOn(v2, 5)
	if st := h.peers[4].node.Status(); st.RemovedBy != v2 {
		h.fatalf("4 is not removed: %+v", st)
	}
	h.crash(4)
	h.restart(stale)
	h.waitFor("the stale peer to serve", 60, func() bool { return h.servesUnder(stale, l) })
	if ci := h.configOf(stale); ci.Version != v2 {
		h.fatalf("the stale peer has configuration %#x, want %#x", ci.Version, v2)
	}
	commitOn(t, h, l, "with the stale one back")
}

// TestReconfigRoleChangedWhileDown: a voter demoted while it was down comes
// back as a follower (its own configuration says so); the leader takes it,
// the sync brings it the new configuration, and it rejoins as an observer.
// The same the other way for an observer promoted while it was down. (The
// simulation found it: seed 12 with -reconfig; the leader refused the
// FOLLOWERINFO of a peer its configuration called an observer.)
func TestReconfigRoleChangedWhileDown(t *testing.T) {
	h := newHarness(t, 7, voters(4), ids(5), nil)
	l := h.serving(30)
	down := without(voters(3), l)[0]
	h.crash(down)
	h.crash(5)
	h.deliverAll()
	vs := without(ids(1, 2, 3, 4), down)
	v := h.reconfig(l, Membership{Voters: append(vs, 5), Observers: ids(down)})
	h.deliverAll()
	if h.peers[l].node.Config().Version != v {
		h.fatalf("not committed with 3 of 4 old voters and 3 of 4 new (5 is down)")
	}
	h.restart(down)
	h.restart(5)
	h.serving(60)
	h.agreeOn(v, 10)
	if r := h.peers[down].node.Status().Role; r != RoleObserving {
		h.fatalf("the demoted peer is %v", r)
	}
	if r := h.peers[5].node.Status().Role; r != RoleFollowing {
		h.fatalf("the promoted peer is %v", r)
	}
	commitOn(t, h, l, "roles settled")
	h.converged()
}

// TestReconfigPendingLostRejoins: a leader proposes promoting an observer,
// is cut off before anyone gets the entry, and the others elect a leader
// without it. Back, the old leader holds the change pending: its election
// needs the new configuration's quorum, which includes the observer, which
// never votes. It follows the leader that announces the committed
// configuration, and the sync truncates the lost change. (The simulation
// found it: seed 34 with -reconfig.)
func TestReconfigPendingLostRejoins(t *testing.T) {
	h := newHarness(t, 8, voters(3), ids(4), nil)
	l := h.serving(30)
	commitOn(t, h, l, "a")
	others := without(ids(1, 2, 3, 4), l)
	h.partition([]int64{l}, others)
	if _, err := h.peers[l].node.ProposeConfig(Membership{Voters: ids(1, 2, 3, 4)}, nil); err != nil {
		h.fatalf("ProposeConfig: %v", err)
	}
	h.process(l)
	var l2 int64
	h.waitFor("a leader among the others", 80, func() bool {
		l2 = h.leader()
		return l2 != 0 && l2 != l
	})
	h.propose(l2, "b")
	h.heal()
	h.waitFor("the old leader to follow", 60, func() bool { return h.servesUnder(l, l2) })
	if ci := h.configOf(l); ci.Pending != nil || ci.Version != 0 {
		h.fatalf("the old leader keeps the lost change: %+v", ci)
	}
	commitOn(t, h, l2, "c")
	h.converged()
}

// TestReconfigRemovedLeaderTellsCommit: the leader of {1,2} replaces
// itself by a joiner; the change commits, the leader steps down, and its
// COMMIT is lost. The two others hold the change pending: under the old
// configuration they need the removed leader's vote. The removed peer
// tells them the configuration it has committed, so they know it is
// committed and elect a leader under it. (The simulation found it: seed 40
// with -reconfig.)
func TestReconfigRemovedLeaderTellsCommit(t *testing.T) {
	h := newHarness(t, 9, voters(2), nil, nil)
	l := h.serving(30)
	other := 3 - l
	h.addPeer(3, Membership{Voters: ids(1, 2, 3)})
	h.serving(30)
	v := h.reconfig(l, Membership{Voters: ids(other, 3)})
	for _, to := range []int64{other, 3} {
		for h.deliver(l, to) {
		}
	}
	for _, from := range []int64{other, 3} {
		for h.deliver(from, l) {
		}
	}
	if st := h.peers[l].node.Status(); st.RemovedBy != v {
		h.fatalf("the leader did not commit the change that removes it: %+v", st)
	}
	h.disconnect(l, other, 0) // its COMMITs are lost
	h.disconnect(l, 3, 0)
	h.heal()
	h.waitFor("a leader of the new configuration", 60, func() bool {
		ld := h.leader()
		return ld != 0 && h.configOf(ld).Version == v
	})
	h.agreeOn(v, 10)
	l2 := h.leader()
	h.waitFor("the removed leader to follow", 60, func() bool { return h.servesUnder(l, l2) })
	commitOn(t, h, l2, "after")
}

// TestReconfigLoneVoterElectsItself: the leader of {1,2,3} replaces the
// voters by one of its followers alone; the change commits, and the lone
// voter's COMMIT is lost. Looking, it counts the old voters too, which are
// all removed. Told by their notifications that the change is committed,
// it alone is a quorum: it must start another round and lead, as
// ZooKeeper restarts its election when a notification changes its
// configuration. (The simulation found it: seed 5449 with -reconfig
// -onevoter.)
func TestReconfigLoneVoterElectsItself(t *testing.T) {
	h := newHarness(t, 11, voters(3), nil, nil)
	l := h.serving(30)
	rest := without(voters(3), l)
	lone, third := rest[0], rest[1]
	v := h.commitRemovingLeader(l, Membership{Voters: ids(lone)}, rest)
	h.disconnect(l, lone, 0) // its COMMIT is lost
	for h.deliver(l, lone) { // the link's end: it looks
	}
	for h.deliver(l, third) {
	}
	if st, ci := h.peers[lone].node.Status(), h.configOf(lone); st.Role != RoleLooking || ci.PendingVersion != v {
		h.fatalf("the lone voter should look with the change pending: %+v %+v", st, ci)
	}
	h.heal()
	h.waitFor("the lone voter to lead", 60, func() bool {
		return h.leader() == lone && h.configOf(lone).Version == v
	})
	for _, id := range rest {
		h.waitFor("the removed peers to follow", 60, func() bool { return h.servesUnder(id, lone) })
	}
	commitOn(t, h, lone, "after")
}

// TestReconfigStaleMemberAskedTheRemoved: a voter is down while a joiner
// replaces all three voters; the two replaced ones keep running, removed,
// following the joiner. Back, the voter looks among its old voters: the
// new leader has no member to announce itself to, and only the removed
// peers hear the voter. Following a leader though not voters, they answer
// it with their vote and configuration, which name the leader; the voter
// asks the leader, which answers LEADING, and follows it. (The simulation
// found it: seed 5458 with -reconfig -onevoter.)
func TestReconfigStaleMemberAskedTheRemoved(t *testing.T) {
	h := newHarness(t, 12, voters(3), nil, nil)
	l := h.serving(30)
	stale := without(voters(3), l)[0]
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.serving(30)
	h.crash(stale)
	h.deliverAll()
	v := h.reconfig(l, Membership{Voters: ids(4)})
	h.waitFor("the joiner to lead", 80, func() bool { return h.leader() == 4 })
	for _, id := range without(voters(3), stale) {
		h.waitFor("the removed peers to follow it", 80, func() bool {
			st := h.peers[id].node.Status()
			return st.RemovedBy == v && h.servesUnder(id, 4)
		})
	}
	h.restart(stale)
	h.waitFor("the stale member to follow the new leader", 200, func() bool { return h.servesUnder(stale, 4) })
	commitOn(t, h, 4, "after")
}

// TestReconfigStaleMemberFound: a voter is down while the two others are
// replaced by two joiners; the replaced ones are removed, then stopped. Back,
// the voter looks among its old voters, which are gone, and writes to no
// new member; the new leader announces itself to the members that are not
// its learners, and the voter follows it. (The simulation found it: seed
// 108 with -reconfig.)
func TestReconfigStaleMemberFound(t *testing.T) {
	h := newHarness(t, 10, voters(3), nil, nil)
	l := h.serving(30)
	stale := without(voters(3), l)[0]
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.addPeer(5, Membership{Voters: ids(1, 2, 3, 5)})
	h.serving(30)
	h.crash(stale)
	h.deliverAll()
	v := h.reconfig(l, Membership{Voters: ids(stale, 4, 5)})
	h.deliverAll()
	var l2 int64
	h.waitFor("a leader among the new members", 80, func() bool {
		l2 = h.leader()
		return l2 == 4 || l2 == 5
	})
	for _, id := range ids(1, 2, 3) {
		if id != stale {
			if st := h.peers[id].node.Status(); st.RemovedBy != v {
				h.fatalf("%d is not removed: %+v", id, st)
			}
			h.crash(id)
		}
	}
	h.restart(stale)
	h.waitFor("the stale member to follow the new leader", 200, func() bool { return h.servesUnder(stale, l2) })
	if h.configOf(stale).Version != v {
		h.fatalf("the stale member has configuration %+v", h.configOf(stale))
	}
	commitOn(t, h, l2, "all three")
}

// TestReconfigObserverToParticipant: ZooKeeper's documented way to turn an
// observer into a participant when the new configuration's quorum needs
// it: remove it (it becomes a non-voting follower, ACKing proposals that
// count nowhere), then add it back as a participant. With a voter down,
// the leader counts it synced, so the change has a quorum of the new
// configuration; as an observer it could not.
func TestReconfigObserverToParticipant(t *testing.T) {
	h := newHarness(t, 12, voters(3), ids(4), nil)
	l := h.serving(30)
	down := without(voters(3), l)[0]
	h.crash(down)
	h.deliverAll()
	if _, err := h.peers[l].node.ProposeConfig(Membership{Voters: ids(1, 2, 3, 4)}, nil); !errors.Is(err, ErrNewConfigNoQuorum) {
		h.fatalf("promoting the observer in place with a voter down: %v", err)
	}
	v := h.reconfig(l, Membership{Voters: voters(3)})
	h.deliverAll()
	h.agreeOn(v, 5)
	h.waitFor("the removed observer to follow", 60, func() bool { return h.servesUnder(4, l) })
	v2 := h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)})
	h.deliverAll()
	h.agreeOn(v2, 5)
	if st := h.peers[4].node.Status(); st.RemovedBy != 0 || st.Role != RoleFollowing {
		h.fatalf("4 after the change: %+v", st)
	}
	commitOn(t, h, l, "with 4 a voter") // 3 of 4 voters: the leader, the other and 4
}

// TestReconfigRemovedFollowerLearnsLeaderLooks: a leader that steps down
// tells its non-voting followers at once, as it tells its observers (its
// election tells only voters): a removed follower stops following it
// without waiting out SyncLimit (ZooKeeper's leader closes its learners'
// connections).
func TestReconfigRemovedFollowerLearnsLeaderLooks(t *testing.T) {
	h := newHarness(t, 13, voters(3), nil, nil)
	l := h.serving(30)
	f := without(voters(3), l)
	gone, other := f[0], f[1]
	v := h.reconfig(l, Membership{Voters: []int64{l, other}})
	h.deliverAll()
	h.agreeOn(v, 5)
	if !h.servesUnder(gone, l) {
		h.fatalf("the removed follower does not follow: %+v", h.peers[gone].node.Status())
	}
	h.crash(other) // the leader loses its quorum and looks
	h.deliverAll() // no tick
	if st := h.peers[l].node.Status(); st.Role != RoleLooking {
		h.fatalf("the leader without a quorum: %+v", st)
	}
	if st := h.peers[gone].node.Status(); st.Role != RoleLooking || st.Serving {
		h.fatalf("the removed follower still follows a leader that looks: %+v", st)
	}
}
