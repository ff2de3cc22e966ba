package election

import (
	"errors"
	"testing"
)

func TestJointNeedsBothQuorums(t *testing.T) {
	old, _ := NewMajority([]int64{1, 2, 3})
	nu, _ := NewMajority([]int64{3, 4, 5})
	j := Joint(old, nu)
	if got := j.Voters(); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Fatalf("voters %v", got)
	}
	for _, tc := range []struct {
		ids  []int64
		want bool
	}{
		{[]int64{1, 2}, false},       // old only
		{[]int64{4, 5}, false},       // new only
		{[]int64{1, 2, 4, 5}, true},  // both
		{[]int64{1, 3, 4}, true},     // 3 counts in both
		{[]int64{1, 3, 9, 9}, false}, // a stranger counts nowhere
	} {
		if got := j.HasQuorum(tc.ids); got != tc.want {
			t.Errorf("HasQuorum(%v) = %v, want %v", tc.ids, got, tc.want)
		}
	}
	h, _ := NewHierarchical([][]int64{{1, 2, 3}}, map[int64]int64{2: 0})
	j = Joint(h, nu)
	if j.Weight(2) != 0 || j.Weight(1) != 1 || j.Weight(4) != 1 || CanLead(j, 2) || !CanLead(j, 5) {
		t.Fatalf("weights: 1:%d 2:%d 4:%d", j.Weight(1), j.Weight(2), j.Weight(4))
	}
	if CommittedIndex(j, map[int64]int64{1: 9, 2: 9, 3: 7, 4: 9, 5: 5}) != 7 {
		t.Fatal("joint commit index")
	}
}

// A peer that reconfigures to a membership it is not part of takes part as
// a non-voter: it follows the quorum's leader as an observer would.
func TestReconfigureNonMemberObserves(t *testing.T) {
	n, e4 := electedThreeAndOutsider(t)
	if e4.Vote() != NoVote {
		t.Fatalf("a non-member proposes %v", e4.Vote())
	}
	if err := e4.Reconfigure(n.q, []int64{3}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("observer that is a voter: %v", err)
	}
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
}

// electedThreeAndOutsider elects a leader among peers 1, 2 and 3 and starts
// peer 4, which believed in {1,2,3,4} and is reconfigured to {1,2,3}, with
// a vote for itself of a newer epoch than theirs.
func electedThreeAndOutsider(t *testing.T) (*net, *Election) {
	t.Helper()
	n := newNet(t, []int64{1, 2, 3}, nil, 1)
	for _, id := range []int64{1, 2, 3} {
		n.start(id, 0, 0)
	}
	n.settle(10)
	n.expect(3)
	q4, _ := NewMajority([]int64{1, 2, 3, 4})
	e4, err := New(Config{ID: 4, Quorum: q4, Resend: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := e4.Reconfigure(n.q, nil); err != nil {
		t.Fatal(err)
	}
	e4.Start(Vote{Leader: 4, Zxid: 9, Epoch: 9})
	return n, e4
}
