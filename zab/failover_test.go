package zab

import (
	"fmt"
	"testing"
)

// TestFailoverWithoutResend is the slow failover of issue 9 through whole
// Nodes: the leader dies; follower 2 learns it first (its link breaks) and
// its notification reaches 1 while 1 still follows the dead leader; then 1
// learns it too and looks, in the same round, with a worse vote. A new
// leader must serve after the finalize wait alone (one tick), well before
// the election's re-send interval (ElectionResend, 5 ticks here as in zk).
func TestFailoverWithoutResend(t *testing.T) {
	h := newHarness(t, 11, voters(3), nil, func(c *Config) { c.ElectionResend = 5 })
	if l := h.serving(40); l != 3 {
		t.Fatalf("leader %d, want 3", l)
	}
	for i := 0; i < 3; i++ {
		h.propose(3, fmt.Sprint("w", i))
	}
	h.deliverAll()
	h.converged()

	h.crash(3)
	h.deliver(3, 2) // 2 learns the leader is gone and looks
	if st := h.peers[2].node.Status(); st.Role != RoleLooking {
		t.Fatalf("2 after its link to the leader broke: %v", st.Role)
	}
	h.deliver(2, 1) // 2's vote reaches 1, which still follows 3
	if st := h.peers[1].node.Status(); st.Role != RoleFollowing || st.Leader != 3 {
		t.Fatalf("1 should still follow 3: %+v", st)
	}
	h.deliver(3, 1) // now 1 looks too, with a worse vote than 2's
	h.deliverAll()
	h.tickAll() // the finalize wait
	h.deliverAll()
	if l := h.leader(); l != 2 || !h.servesUnder(1, 2) {
		t.Fatalf("no leader serving one tick after the votes crossed (leader %d):\n%s", l, h)
	}
}
