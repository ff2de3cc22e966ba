package zab

import (
	"fmt"
	"slices"
	"testing"
)

// walk runs the cluster walk-through of the issue: stop followers one by one
// (proposals still commit) until the quorum is gone (the leader stops
// serving after SyncLimit); restart one (service returns), then the rest;
// stop the leader (the others elect a new one); restart the old leader (it
// follows, the leader does not change).
func walk(t *testing.T, h *harness) {
	l := h.serving(30)
	var followers []int64
	for _, id := range h.voters {
		if id != l {
			followers = append(followers, id)
		}
	}
	spare := len(h.voters) - (len(h.voters)/2 + 1) // followers we can lose
	seq := 0
	commit := func(who int64) {
		t.Helper()
		seq++
		h.propose(who, fmt.Sprint("w", seq))
		h.deliverAll()
		if got := h.applied(who); got[len(got)-1] != fmt.Sprint("w", seq) {
			t.Fatalf("w%d did not commit: %v", seq, got)
		}
	}
	commit(l)

	// Stop followers while a quorum is left: proposals still commit.
	for _, f := range followers[:spare] {
		h.crash(f)
		h.deliverAll()
		commit(l)
	}
	// Stop one more, silently: the leader serves on for SyncLimit ticks
	// after it last heard it, then stops serving.
	last := followers[spare]
	h.loseQuorumSilently(t, l, last)

	// Restart one: service returns.
	h.restart(last)
	l2 := h.serving(60)
	commit(l2)

	// The other stopped followers come back too.
	for _, f := range followers {
		h.restart(f)
	}
	if got := h.serving(30); got != l2 {
		t.Fatalf("the leader changed from %d to %d when followers came back", l2, got)
	}
	commit(l2)

	// Stop the leader: the others elect a new one.
	h.crash(l2)
	h.deliverAll()
	l3 := h.serving(60)
	if l3 == l2 {
		t.Fatal("the stopped leader still leads")
	}
	commit(l3)
	epoch := h.peers[l3].node.Status().Epoch

	// Restart the old leader: it follows, the leader does not change.
	h.restart(l2)
	if got := h.serving(30); got != l3 || h.peers[l3].node.Status().Epoch != epoch {
		t.Fatalf("leader %d epoch %d, want %d epoch %d", got, h.peers[got].node.Status().Epoch, l3, epoch)
	}
	commit(l3)
	// Everyone back.
	for _, id := range h.ids() {
		h.restart(id)
	}
	h.serving(60)
	commit(h.leader())
	h.converged()
	for _, id := range h.observers {
		if !slices.Equal(h.applied(id), h.applied(l3)) {
			t.Fatalf("observer %d applied %v", id, h.applied(id))
		}
	}
}

func TestWalkthrough3(t *testing.T) {
	walk(t, newHarness(t, 70, voters(3), nil, nil))
}

func TestWalkthrough5PlusObserver(t *testing.T) {
	walk(t, newHarness(t, 71, voters(5), []int64{9}, nil))
}

// loseQuorumSilently stops follower f silently; leader l, left without a
// quorum, must stop serving exactly SyncLimit+1 ticks after it last heard
// f, and so must the observers.
func (h *harness) loseQuorumSilently(t *testing.T, l, f int64) {
	syncLimit := h.config(l).SyncLimit
	h.tickAll()
	h.deliverAll()
	h.stopSilently(f)
	stopped := 0
	for i := 1; i <= syncLimit+1; i++ {
		h.tickAll()
		if !h.peers[l].node.Status().Serving && stopped == 0 {
			stopped = i
		}
	}
	if stopped != syncLimit+1 {
		t.Fatalf("the leader stopped serving after %d ticks, SyncLimit is %d", stopped, syncLimit)
	}
	if h.leader() != 0 {
		t.Fatal("someone serves without a quorum")
	}
	for _, id := range h.observers {
		h.waitFor("the observer stops serving", syncLimit+2, func() bool { return !h.peers[id].node.Status().Serving })
	}
}
