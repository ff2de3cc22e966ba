package zab

import "testing"

// TestFollowerLeavesALeaderThatVotesElsewhere: the race of three servers
// started one after another (the seeds' cluster walk-through). Peers 1 and
// 2 agree on 2; 1 decides first and follows 2; then 3 starts, and 2, still
// waiting out its election's finalize wait, moves its vote to 3 and
// follows it. 2 will never lead, so 1 must not wait out InitLimit for it:
// it goes back to the election when its would-be leader announces a vote
// for another (ZooKeeper's learner finds out at once too: the connection
// to a quorum port nobody listens on is refused), and follows 3.
func TestFollowerLeavesALeaderThatVotesElsewhere(t *testing.T) {
	h := newHarness(t, 1, []int64{1, 2, 3}, nil, nil)
	for _, id := range h.ids() { // nothing was delivered: none has started yet
		h.crash(id)
	}
	h.start(1)
	h.start(2)
	h.deliverAll()
	h.peers[1].node.Tick() // 1 decides first: it follows 2
	h.process(1)
	if st := h.peers[1].node.Status(); st.Role != RoleFollowing || st.Leader != 2 {
		h.fatalf("peer 1: %v under %d, want following 2", st.Role, st.Leader)
	}
	if st := h.peers[2].node.Status(); st.Role != RoleLooking {
		t.Fatalf("peer 2 decided already (%v): the race needs it still looking", st.Role)
	}
	h.start(3)
	for h.deliver(3, 2) { // 2 hears of 3 before anything else
	}
	h.waitFor("everyone serving under 3", h.config(1).InitLimit/2, func() bool {
		for _, id := range []int64{1, 2, 3} {
			if !h.servesUnder(id, 3) {
				return false
			}
		}
		return true
	})
}
