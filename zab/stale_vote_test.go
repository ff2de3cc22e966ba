package zab

import (
	"testing"

	"github.com/embedzk/zk/election"
)

// TestFollowerLeavesALeaderThatVotesElsewhere: the race of three servers
// started one after another (the seeds' cluster walk-through). Peers 1 and
// 2 agree on 2; 1 decides first and follows 2; then 3 starts, and 2, still
// waiting out its election's finalize wait, moves its vote to 3 and
// follows it. 2 will never lead, so 1 must not wait out InitLimit for it:
// it goes back to the election when its would-be leader announces a vote
// for another (ZooKeeper's learner finds out at once too: the connection
// to a quorum port nobody listens on is refused), and follows 3.
func TestFollowerLeavesALeaderThatVotesElsewhere(t *testing.T) {
	h := oneFollowsTwo(t, 1)
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

// TestFollowersComeBackToALeaderThatVotedElsewhere: five voters, 1 to 3
// follow 4, which is still in its finalize wait when 5 starts, so it votes
// for 5 and its learners leave it. 4 may still lead (the learners' own
// FOLLOWING answers give it a quorum for itself); whoever leads, everyone
// serves under one leader within a few ticks, not after InitLimit. (Without
// the learners' leaving, 4 leads them here: this guards the leaving's
// liveness, the churn it may cost, rather than its reason.)
func TestFollowersComeBackToALeaderThatVotedElsewhere(t *testing.T) {
	h := newHarness(t, 2, []int64{1, 2, 3, 4, 5}, nil, nil)
	for _, id := range h.ids() {
		h.crash(id)
	}
	for _, id := range []int64{1, 2, 3, 4} {
		h.start(id)
	}
	h.deliverAll()
	for _, id := range []int64{1, 2, 3} {
		h.peers[id].node.Tick() // they decide first: they follow 4
		h.process(id)
		if st := h.peers[id].node.Status(); st.Role != RoleFollowing || st.Leader != 4 {
			h.fatalf("peer %d: %v under %d, want following 4", id, st.Role, st.Leader)
		}
	}
	h.start(5)
	for h.deliver(5, 4) { // 4 hears of 5 before anything else
	}
	h.serving(h.config(1).InitLimit / 2)
}

// TestFollowerLeavesALeaderThatFollowsAStranger: as above, but the peer
// we decided to follow now follows one our configuration does not let
// lead (it saw a configuration we have not: our election refuses the
// vote). The vote still says it will not lead: we look again at once
// rather than wait out InitLimit. (The simulation found it: seed 5458
// with -reconfig -onevoter, where the stale peer then waited 100 ticks.)
func TestFollowerLeavesALeaderThatFollowsAStranger(t *testing.T) {
	h := oneFollowsTwo(t, 3)
	m := &Message{Type: MsgNotification, Leader: 7, Epoch: 5, Zxid: MakeZxid(5, 1), Round: 9,
		State: uint8(election.Following), Committed: MakeZxid(4, 1)}
	if err := h.peers[1].node.Step(2, m); err != nil {
		t.Fatalf("a vote for a peer that cannot lead here, from the leader we follow: %v", err)
	}
	if st := h.peers[1].node.Status(); st.Role != RoleLooking {
		t.Fatalf("peer 1 still %v under %d", st.Role, st.Leader)
	}
}

// oneFollowsTwo starts peers 1 and 2 of three (3 has not started yet);
// they agree on 2, and 1 decides first: it follows 2, in discovery.
func oneFollowsTwo(t *testing.T, seed uint64) *harness {
	h := newHarness(t, seed, []int64{1, 2, 3}, nil, nil)
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
	return h
}
