package zab

import "testing"

// TestReconfigRemovedWhileDownSyncsBySnap: a follower removed while it was
// down, that the leader syncs by snapshot (its log no longer reaches back),
// never sees the configuration entry; NEWLEADER's configuration, newer than
// its own and without it, removes it: it follows as a non-voting member and
// says so, as a follower that got the entry in a DIFF does.
func TestReconfigRemovedWhileDownSyncsBySnap(t *testing.T) {
	h := newHarness(t, 21, voters(3), nil, nil)
	l := h.serving(30)
	commitOn(t, h, l, "before")
	gone := without(voters(3), l)[0]
	h.crash(gone)
	h.deliverAll()
	v := h.reconfig(l, Membership{Voters: without(voters(3), gone)})
	h.deliverAll()
	h.agreeOn(v, 5)
	commitOn(t, h, l, "after")
	h.peers[l].disk.compact() // the leader purged its log: gone gets a SNAP
	h.restart(gone)
	h.waitFor("the removed peer to follow", 60, func() bool { return h.servesUnder(gone, l) })
	if h.peers[l].snaps == 0 {
		h.fatalf("the leader sent no snapshot")
	}
	if st := h.peers[gone].node.Status(); st.Removed || st.RemovedBy != v || st.Role != RoleFollowing {
		h.fatalf("removed peer: %+v", st)
	}
	commitOn(t, h, l, "without it")
}

// TestReconfigJoinerAfterChange: a new server started with the members and
// itself joins after a change that does not list it: the configuration
// entries of its sync replace its guess, they do not remove it.
func TestReconfigJoinerAfterChange(t *testing.T) {
	h := newHarness(t, 22, voters(3), nil, nil)
	l := h.serving(30)
	h.agreeOn(h.reconfig(l, Membership{Voters: voters(3)}), 5)
	commitOn(t, h, l, "after")
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.waitFor("the joiner to serve", 60, func() bool { return h.servesUnder(4, l) })
	v := h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)})
	h.deliverAll()
	h.agreeOn(v, 5)
	if st := h.peers[4].node.Status(); st.Removed || !st.Serving {
		h.fatalf("joiner: %+v", st)
	}
	commitOn(t, h, l, "with 4")
}
