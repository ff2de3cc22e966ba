package zab

import (
	"slices"
	"testing"
)

// TestReconfigCommitLearnedWhileLookingAppliesNothing: the leader of
// {1,2,3} removes itself; the change commits and the leader stops, and its
// COMMITs are lost. One follower is down, the other looks: it holds the
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
	rest := slices.DeleteFunc(voters(3), func(id int64) bool { return id == l })
	a, b := rest[0], rest[1]
	v := h.reconfig(l, Membership{Voters: rest})
	for _, to := range rest {
		for h.deliver(l, to) {
		}
	}
	for _, from := range rest {
		for h.deliver(from, l) {
		}
	}
	if !h.peers[l].node.Status().Removed {
		h.fatalf("the leader did not commit the change that removes it: %+v", h.peers[l].node.Status())
	}
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
