package zab

import (
	"errors"
	"fmt"
	"testing"
)

// TestObservers: an observer never votes (it cannot make a quorum and is
// never elected, even with the highest id), gets only committed entries
// (INFORM, never PROPOSAL or COMMIT) and never acks them.
func TestObservers(t *testing.T) {
	h := newHarness(t, 30, voters(3), []int64{9}, nil)
	h.record = true
	if l := h.serving(30); l != 3 {
		t.Fatalf("leader %d", l)
	}
	if st := h.peers[9].node.Status(); st.Role != RoleObserving || !st.Serving {
		t.Fatalf("observer: %+v", st)
	}
	for i := 0; i < 5; i++ {
		h.propose(3, fmt.Sprint("o", i))
	}
	h.deliverAll()
	h.converged()
	if h.count(MsgInform, 3, 9) == 0 || h.count(MsgProposal, 3, 9) != 0 || h.count(MsgCommit, 3, 9) != 0 || h.count(MsgAck, 9, 0) != 1 {
		t.Fatalf("observer got INFORM %d PROPOSAL %d COMMIT %d and sent ACK %d (only its NEWLEADER ack)",
			h.count(MsgInform, 3, 9), h.count(MsgProposal, 3, 9), h.count(MsgCommit, 3, 9), h.count(MsgAck, 9, 0))
	}
	// INFORM carries only committed entries: when the observer gets one,
	// a quorum of voters has it.
	for _, d := range h.delivered {
		if d.m.Type == MsgInform {
			for _, e := range d.m.Entries {
				if !h.peers[1].disk.has(e) && !h.peers[2].disk.has(e) {
					t.Fatalf("INFORM of %#x before a quorum had it", e.Zxid)
				}
			}
		}
	}
	// Two voters down: the leader and the observer are no quorum.
	h.crash(1)
	h.crash(2)
	h.run(3)
	if h.leader() != 0 {
		t.Fatal("a voter and an observer made a quorum")
	}
	if st := h.peers[9].node.Status(); st.Serving {
		t.Fatalf("observer serves without a quorum: %+v", st)
	}
	h.restart(1)
	h.restart(2)
	h.serving(40)
	h.converged()
	// The observer is never elected, whatever its id and log.
	h.crash(3)
	h.run(10)
	if l := h.serving(40); l == 9 || h.peers[9].node.Status().Role != RoleObserving {
		t.Fatalf("leader %d", l)
	}
}

// TestLeaderStepsDownAfterSyncLimit: the leader is cut off silently (no link
// ever reports a break). It keeps serving for SyncLimit ticks after it last
// heard its followers, then steps down; the followers, after as long a
// silence, elect a new leader among themselves.
func TestLeaderStepsDownAfterSyncLimit(t *testing.T) {
	h := threePeers(t, 31, 1)
	syncLimit := h.config(3).SyncLimit
	h.tickAll()
	h.deliverAll() // the followers answered the last ping
	h.isolateSilently(3)
	for i := 1; i <= syncLimit; i++ {
		h.tickAll()
		if !h.peers[3].node.Status().Serving {
			t.Fatalf("stopped serving after %d ticks, SyncLimit is %d", i, syncLimit)
		}
	}
	h.tickAll()
	if st := h.peers[3].node.Status(); st.Serving || st.Role == RoleLeading {
		t.Fatalf("still leading after SyncLimit+1 ticks: %+v", st)
	}
	if _, err := h.peers[3].node.Propose([]byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("propose on the deposed leader: %v", err)
	}
	h.waitFor("a new leader", 40, func() bool { l := h.leader(); return l != 0 && l != 3 })
	l := h.leader()
	h.propose(l, "new")
	h.heal()
	h.serving(40)
	h.converged()
}

// TestLeaderStepsDownOnLinkDown: when the links to a quorum break (the
// followers crashed), the leader steps down at its next tick.
func TestLeaderStepsDownOnLinkDown(t *testing.T) {
	h := threePeers(t, 32, 1)
	h.crash(1)
	h.deliverAll()
	if !h.peers[3].node.Status().Serving {
		t.Fatal("one follower left: the leader must keep serving")
	}
	h.crash(2)
	h.deliverAll()
	h.tickAll()
	if h.peers[3].node.Status().Serving {
		t.Fatal("serving without a quorum")
	}
}

// TestZxidRollover: when the counter of the epoch would reach its limit the
// leader refuses the proposal, steps down, and a new epoch starts.
func TestZxidRollover(t *testing.T) {
	h := threePeers(t, 33, 0)
	for _, id := range h.ids() {
		h.peers[id].node.maxCounter = 4
	}
	for i := 1; i <= 3; i++ {
		h.propose(3, fmt.Sprint("c", i))
	}
	h.deliverAll()
	if z := h.peers[3].node.NextZxid(); z != MakeZxid(1, 4) {
		t.Fatalf("NextZxid %#x", z)
	}
	_, err := h.peers[3].node.Propose([]byte("c4"))
	if !errors.Is(err, ErrZxidRollover) || !errors.Is(err, ErrNotServing) {
		t.Fatalf("propose past the counter: %v", err)
	}
	if h.peers[3].node.Status().Role == RoleLeading {
		t.Fatal("the leader did not step down")
	}
	l := h.serving(40)
	next := h.peers[l].node.NextZxid()
	z := h.propose(l, "c4")
	if z != next {
		t.Fatalf("NextZxid %#x, Propose %#x", next, z)
	}
	if h.peers[1].node.NextZxid() != 0 && l != 1 {
		t.Fatal("NextZxid on a follower")
	}
	if EpochOf(z) != 2 || CounterOf(z) != 1 {
		t.Fatalf("first zxid after the rollover: %#x", z)
	}
	h.deliverAll()
	h.converged()
}
