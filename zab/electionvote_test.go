package zab

import (
	"testing"

	"github.com/embedzk/zk/election"
)

// TestFollowNewerEndsTheElection: a stale peer that follows a leader
// announcing a newer configuration (not its election's decision) reports
// the leader's own vote, like the leader's other learners, and no later
// notification changes it. Before, its election stayed LOOKING while it
// followed; stale LEADING/FOLLOWING notifications could then "decide" it
// on a leader nobody follows, and a peer looking afterwards never saw a
// quorum agree on the real leader (the simulation found it: seed 204 with
// -reconfig stayed looking forever).
func TestFollowNewerEndsTheElection(t *testing.T) {
	h := newHarness(t, 6, voters(3), nil, nil)
	l := h.serving(30)
	h.addPeer(4, Membership{Voters: ids(1, 2, 3, 4)})
	h.serving(30)
	h.agreeOn(h.reconfig(l, Membership{Voters: ids(1, 2, 3, 4)}), 5)
	stale := without(voters(3), l)[0]
	h.crash(stale)
	h.deliverAll()
	h.agreeOn(h.reconfig(l, Membership{Voters: ids(1, 2, 3)}), 5)
	h.crash(4)
	h.restart(stale)
	h.waitFor("the stale peer to serve", 60, func() bool { return h.servesUnder(stale, l) })
	el, want := h.peers[stale].node.el, h.peers[l].node.el.Vote()
	if el.State() != election.Following || el.Vote() != want {
		h.fatalf("the stale peer's election is %v with %v, want FOLLOWING with the leader's %v", el.State(), el.Vote(), want)
	}
	// A stale ex-leader's word cannot change it.
	other := int64(6) - l - stale
	old := election.Notification{Vote: election.Vote{Leader: other, Zxid: 1, Epoch: 1}, Round: 1, State: election.Leading}
	_ = el.Step(other, old)
	if el.State() != election.Following || el.Vote() != want {
		h.fatalf("after a stale LEADING notification the stale peer's election is %v with %v", el.State(), el.Vote())
	}
}
