package election

import "testing"

// A peer that decided as a non-member (it follows the leader as an observer
// would) and that a new configuration makes a voter follows the same
// leader as a voter now: it answers a looking voter FOLLOWING, so that its
// answer counts towards the quorum that tells the looking voter who leads.
// (The simulation found it: seed 10 with -reconfig, a joiner added as a
// voter kept answering OBSERVING, and a voter that lost its leader looked
// forever: only the leader's answer counted, one of the two it needed.)
func TestReconfigureDecidedPeerAnswersInItsNewRole(t *testing.T) {
	n, e4 := electedThreeAndOutsider(t)
	for _, id := range []int64{1, 2, 3} {
		st := State(Following)
		if n.peers[id].State() == Leading {
			st = Leading
		}
		if err := e4.Step(id, Notification{Vote: n.peers[id].Vote(), Round: n.peers[id].Round(), State: st}); err != nil {
			t.Fatal(err)
		}
	}
	if e4.State() != Observing || e4.Leader() != 3 {
		t.Fatalf("non-member: %v leader %d", e4.State(), e4.Leader())
	}
	e4.Messages()

	// {1, 3, 4}: 4 replaces 2 and is a voter now.
	q, _ := NewMajority([]int64{1, 3, 4})
	if err := e4.Reconfigure(q, nil); err != nil {
		t.Fatal(err)
	}
	if e4.State() != Following || e4.Leader() != 3 {
		t.Fatalf("promoted: %v leader %d", e4.State(), e4.Leader())
	}
	// 1 lost the leader and looks in a new round; 3 and 4 answer it.
	e1, err := New(Config{ID: 1, Quorum: q, Resend: 2})
	if err != nil {
		t.Fatal(err)
	}
	e1.Start(Vote{Leader: 1, Zxid: 1, Epoch: 1})
	e1.Start(Vote{Leader: 1, Zxid: 1, Epoch: 1}) // a later round than the one 3 won
	if err := e4.Step(1, Notification{Vote: e1.Vote(), Round: e1.Round(), State: Looking}); err != nil {
		t.Fatal(err)
	}
	out := e4.Messages()
	if len(out) != 1 || out[0].To != 1 || out[0].Notification.State != Following || out[0].Notification.Vote.Leader != 3 {
		t.Fatalf("4 answers a looking voter with %+v, want FOLLOWING 3", out)
	}
	lead := Notification{Vote: n.peers[3].Vote(), Round: n.peers[3].Round(), State: Leading}
	for _, step := range []struct {
		from int64
		n    Notification
	}{{3, lead}, {4, out[0].Notification}} {
		if err := e1.Step(step.from, step.n); err != nil {
			t.Fatal(err)
		}
	}
	if e1.State() != Following || e1.Leader() != 3 {
		t.Fatalf("the looking voter: %v leader %d, want following 3", e1.State(), e1.Leader())
	}
}
