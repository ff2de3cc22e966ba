package zab

import (
	"fmt"
	"testing"
)

// TestLearnersShowLag: the leader's view of a follower that stopped
// acknowledging shows how many entries it lacks and how long ago the
// oldest of them was proposed; its peers lack none.
func TestLearnersShowLag(t *testing.T) {
	h := newHarness(t, 40, voters(3), nil, nil)
	leader := h.serving(30)
	var lagger, other int64
	for _, id := range h.ids() {
		switch {
		case id == leader:
		case lagger == 0:
			lagger = id
		default:
			other = id
		}
	}
	h.propose(leader, "before")
	h.deliverAll()
	for _, li := range h.peers[leader].node.Learners() {
		if li.LagTxns != 0 || li.LagTicks != 0 || li.Phase != "broadcast" || li.Sync == SyncNone {
			t.Fatalf("learner before the cut: %+v", li)
		}
	}
	h.isolateSilently(lagger)
	h.tickAll()
	h.tickAll() // the first missed entry is proposed 2 ticks from now
	for i := 0; i < 5; i++ {
		h.propose(leader, fmt.Sprint("w", i))
	}
	h.deliverAll()
	h.tickAll()
	h.tickAll()
	h.tickAll()
	h.deliverAll()
	byID := map[int64]LearnerInfo{}
	for _, li := range h.peers[leader].node.Learners() {
		byID[li.ID] = li
	}
	lag, ok := byID[lagger], byID[other]
	if lag.LagTxns != 5 || lag.LagTicks != 3 || lag.SilentTicks < 5 {
		t.Fatalf("lagging follower %d: %+v", lagger, lag)
	}
	if ok.LagTxns != 0 || ok.LagTicks != 0 {
		t.Fatalf("follower %d in step: %+v", other, ok)
	}
}

// TestSyncsReported: the leader reports the sync it chose for a learner
// that restarts behind it (DIFF, with the entries it lacks), and its
// election outcome names its round and the quorum's ballots.
func TestSyncsReported(t *testing.T) {
	h := newHarness(t, 41, voters(3), nil, nil)
	leader := h.serving(30)
	st := h.peers[leader].node.Status()
	if st.Election.Round == 0 || st.Election.Vote.Leader != leader || st.Election.Reason != "starting" {
		t.Fatalf("leader's election: %+v", st.Election)
	}
	follower := int64(1)
	if follower == leader {
		follower = 2
	}
	h.crash(follower)
	for i := 0; i < 4; i++ {
		h.propose(leader, fmt.Sprint("x", i))
	}
	h.deliverAll()
	before := len(h.peers[leader].syncs)
	h.restart(follower)
	h.serving(40)
	syncs := h.peers[leader].syncs[before:]
	if len(syncs) != 1 || syncs[0].Peer != follower || syncs[0].Mode != SyncDiff || syncs[0].Txns != 4 {
		t.Fatalf("syncs: %+v", syncs)
	}
}
