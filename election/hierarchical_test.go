package election

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func mustHier(t testing.TB, groups [][]int64, weights map[int64]int64) *Hierarchical {
	t.Helper()
	h, err := NewHierarchical(groups, weights)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ZooKeeper's documentation example: three groups of three, every weight 1.
var nineInThree = [][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}

// TestHierarchicalRule checks HasQuorum against cases worked out by hand
// from ZooKeeper's QuorumHierarchical.containsQuorum: a group counts when
// the set's weight in it is more than half of the group's total (integer
// division: w > total/2), and the set is a quorum when more than half of
// the groups of non-zero weight count.
func TestHierarchicalRule(t *testing.T) {
	for _, tc := range []struct {
		name    string
		groups  [][]int64
		weights map[int64]int64
		ids     []int64
		want    bool
	}{
		{"two groups of three by two: 4 of 9", nineInThree, nil, []int64{1, 2, 4, 5}, true},
		{"one whole group and two singles: 5 of 9", nineInThree, nil, []int64{1, 2, 3, 4, 7}, false},
		{"every group by one: 3 of 9", nineInThree, nil, []int64{1, 4, 7}, false},
		{"everyone", nineInThree, nil, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"empty set", nineInThree, nil, nil, false},
		{"duplicates count once", nineInThree, nil, []int64{1, 1, 4, 4}, false},
		{"non-members are ignored", nineInThree, nil, []int64{1, 2, 4, 10, 11, 12}, false},
		{"non-members are ignored (quorum)", nineInThree, nil, []int64{1, 2, 4, 5, 10}, true},
		// Two groups: both must count (2 > 2/2).
		{"heavy voter alone is not both groups", [][]int64{{1, 2, 3}, {4, 5}}, map[int64]int64{1: 3}, []int64{1}, false},
		{"heavy voter and the whole second group", [][]int64{{1, 2, 3}, {4, 5}}, map[int64]int64{1: 3}, []int64{1, 4, 5}, true},
		{"half of the second group is not more than half", [][]int64{{1, 2, 3}, {4, 5}}, map[int64]int64{1: 3}, []int64{1, 4}, false},
		{"two light voters against a heavy one", [][]int64{{1, 2, 3}, {4, 5}}, map[int64]int64{1: 3}, []int64{2, 3, 4, 5}, false},
		// One group: a weighted majority.
		{"weight 3 of 5 alone", [][]int64{{1, 2, 3}}, map[int64]int64{1: 3}, []int64{1}, true},
		{"weight 2 of 5", [][]int64{{1, 2, 3}}, map[int64]int64{1: 3}, []int64{2, 3}, false},
		{"exactly half (2 of 4)", [][]int64{{1, 2, 3}}, map[int64]int64{1: 2}, []int64{1}, false},
		{"exactly half the other way", [][]int64{{1, 2, 3}}, map[int64]int64{1: 2}, []int64{2, 3}, false},
		{"3 of 4", [][]int64{{1, 2, 3}}, map[int64]int64{1: 2}, []int64{1, 3}, true},
		// Weight 0: takes part, never counts.
		{"zero weight does not count", [][]int64{{1, 2, 3}}, map[int64]int64{3: 0}, []int64{1, 3}, false},
		{"two of weight one", [][]int64{{1, 2, 3}}, map[int64]int64{3: 0}, []int64{1, 2}, true},
		{"zero weight alone", [][]int64{{1, 2, 3}}, map[int64]int64{3: 0}, []int64{3}, false},
		// A group of weight 0 is not counted among the groups: one of the
		// two others does not suffice, both do.
		{"zero group ignored: one of two", [][]int64{{1, 2, 3}, {4, 5, 6}, {7}}, map[int64]int64{7: 0}, []int64{1, 2, 7}, false},
		{"zero group ignored: two of two", [][]int64{{1, 2, 3}, {4, 5, 6}, {7}}, map[int64]int64{7: 0}, []int64{1, 2, 4, 5}, true},
		{"zero group alone", [][]int64{{1, 2}, {3}}, map[int64]int64{3: 0}, []int64{3}, false},
		{"zero group: the other group decides", [][]int64{{1, 2}, {3}}, map[int64]int64{3: 0}, []int64{1, 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHier(t, tc.groups, tc.weights)
			if got := h.HasQuorum(tc.ids); got != tc.want {
				t.Fatalf("%v: HasQuorum(%v) = %v, want %v", h, tc.ids, got, tc.want)
			}
		})
	}
}

func TestHierarchicalMembers(t *testing.T) {
	h := mustHier(t, [][]int64{{7, 3}, {5}}, map[int64]int64{5: 0, 7: 4})
	if got := h.Voters(); !slices.Equal(got, []int64{3, 5, 7}) {
		t.Fatalf("Voters = %v", got)
	}
	for id, want := range map[int64]int64{3: 1, 5: 0, 7: 4, 9: 0} {
		if got := h.Weight(id); got != want {
			t.Errorf("Weight(%d) = %d, want %d", id, got, want)
		}
	}
	for id, want := range map[int64]bool{3: true, 5: false, 7: true, 9: false} {
		if got := CanLead(h, id); got != want {
			t.Errorf("CanLead(%d) = %v", id, got)
		}
	}
	if !h.IsVoter(5) || h.IsVoter(9) {
		t.Error("IsVoter: a weight-0 member is a voter, a stranger is not")
	}
	if got := h.String(); got != "more than half the weight of 1 of 1 groups" {
		t.Errorf("String = %q", got)
	}
	m, _ := NewMajority([]int64{1, 2, 3})
	if m.Weight(2) != 1 || m.Weight(4) != 0 || !CanLead(m, 2) || CanLead(m, 4) || m.String() != "2 of 3 voters" {
		t.Errorf("Majority: weights %d %d, %q", m.Weight(2), m.Weight(4), m)
	}
}

func TestHierarchicalErrors(t *testing.T) {
	for _, tc := range []struct {
		groups  [][]int64
		weights map[int64]int64
		msg     string
	}{
		{nil, nil, "no groups"},
		{[][]int64{{1}, {}}, nil, "group 1 has no members"},
		{[][]int64{{1, 0}}, nil, "id 0 outside"},
		{[][]int64{{1, 255}}, nil, "id 255 outside"},
		{[][]int64{{1, 2}, {3, 2}}, nil, "server 2 is in groups 0 and 1"},
		{[][]int64{{1, 2, 1}}, nil, "lists server 1 twice"},
		{[][]int64{{1, 2}}, map[int64]int64{3: 1}, "server 3, which is in no group"},
		{[][]int64{{1, 2}}, map[int64]int64{2: -1}, "weight of server 2 is -1"},
		{[][]int64{{1, 2}}, map[int64]int64{2: MaxWeight + 1}, "outside 0..2147483647"},
		{[][]int64{{1, 2}, {3}}, map[int64]int64{1: 0, 2: 0, 3: 0}, "every voter weighs 0"},
	} {
		_, err := NewHierarchical(tc.groups, tc.weights)
		if !errors.Is(err, ErrBadQuorum) || !containsStr(err.Error(), tc.msg) {
			t.Errorf("NewHierarchical(%v, %v) = %v, want %q", tc.groups, tc.weights, err, tc.msg)
		}
	}
}

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

// subsets returns every subset of ids.
func subsets(ids []int64) [][]int64 {
	var out [][]int64
	for mask := 0; mask < 1<<len(ids); mask++ {
		var s []int64
		for i, id := range ids {
			if mask&(1<<i) != 0 {
				s = append(s, id)
			}
		}
		out = append(out, s)
	}
	return out
}

// TestHierarchicalProperties checks, over every subset of the voters of a
// few configurations: one group of weight-1 voters is exactly a majority;
// a superset of a quorum is a quorum; the voters that weigh something are
// a quorum; and any two quorums share a voter of positive weight (what
// makes two leaders, or two commits, impossible).
func TestHierarchicalProperties(t *testing.T) {
	five := []int64{1, 2, 3, 4, 5}
	m, _ := NewMajority(five)
	one := mustHier(t, [][]int64{five}, nil)
	for _, s := range subsets(five) {
		if m.HasQuorum(s) != one.HasQuorum(s) {
			t.Fatalf("one group differs from a majority on %v", s)
		}
	}
	for _, tc := range []struct {
		groups  [][]int64
		weights map[int64]int64
	}{
		{nineInThree, nil},
		{[][]int64{{1, 2, 3}, {4, 5}}, map[int64]int64{1: 3}},
		{[][]int64{{1, 2}, {3, 4}, {5, 6}, {7, 8}}, map[int64]int64{1: 2, 4: 0, 8: 0}},
		{[][]int64{{1, 2, 3}, {4, 5, 6}, {7}}, map[int64]int64{7: 0, 2: 5}},
		{[][]int64{{1, 2, 3, 4}}, map[int64]int64{1: 2, 2: 0}},
	} {
		h := mustHier(t, tc.groups, tc.weights)
		var quorums [][]int64
		var heavy []int64
		for _, id := range h.Voters() {
			if h.Weight(id) > 0 {
				heavy = append(heavy, id)
			}
		}
		if !h.HasQuorum(heavy) {
			t.Fatalf("%v %v: the voters of positive weight %v are no quorum", tc.groups, tc.weights, heavy)
		}
		all := subsets(h.Voters())
		for _, s := range all {
			if h.HasQuorum(s) {
				quorums = append(quorums, s)
			}
		}
		for _, q := range quorums {
			for _, id := range h.Voters() {
				if !h.HasQuorum(append(slices.Clone(q), id)) {
					t.Fatalf("%v %v: %v is a quorum but %v plus %d is not", tc.groups, tc.weights, q, q, id)
				}
			}
			for _, o := range quorums {
				if !sharesWeight(h, q, o) {
					t.Fatalf("%v %v: quorums %v and %v share no voter of positive weight", tc.groups, tc.weights, q, o)
				}
			}
		}
		if len(quorums) == 0 || len(quorums) == len(all) {
			t.Fatalf("%v: %d quorums of %d sets", tc.groups, len(quorums), len(all))
		}
	}
}

func sharesWeight(h *Hierarchical, a, b []int64) bool {
	for _, id := range a {
		if h.Weight(id) > 0 && slices.Contains(b, id) {
			return true
		}
	}
	return false
}

func TestCommittedIndexHierarchical(t *testing.T) {
	h := mustHier(t, nineInThree, nil)
	for _, tc := range []struct {
		acks map[int64]int64
		want int64
	}{
		// 4 of 9, two in each of two groups: a quorum at 5.
		{map[int64]int64{1: 9, 2: 5, 4: 7, 5: 6}, 5},
		// 5 of 9 at 8, but one group whole and two singles: only at 3.
		{map[int64]int64{1: 8, 2: 8, 3: 8, 4: 8, 7: 8, 5: 3}, 3},
		{map[int64]int64{1: 8, 2: 8, 3: 8, 4: 8, 7: 8}, 0},
	} {
		if got := CommittedIndex(h, tc.acks); got != tc.want {
			t.Errorf("CommittedIndex(%v) = %d, want %d", tc.acks, got, tc.want)
		}
	}
}

// electWith starts the given peers of a 9-voter ensemble (the others stay
// down) with the rule q, peer best holding the highest zxid, and reports
// who leads after maxTicks ticks (0: nobody decided).
func electWith(t *testing.T, q Quorum, up []int64, best int64, maxTicks int) (leader int64, n *net) {
	n = newNetQ(t, q, nil, 1)
	for _, id := range q.Voters() {
		if !slices.Contains(up, id) {
			n.crash(id)
		}
	}
	for _, id := range up {
		zxid := int64(0x100000005)
		if id == best {
			zxid = 0x100000009
		}
		n.start(id, zxid, 1)
	}
	for i := 0; i < maxTicks && !n.allDecided(); i++ {
		n.deliverAll()
		n.tick()
	}
	n.deliverAll()
	for _, id := range up {
		if n.peers[id].State() == Looking {
			return 0, n
		}
	}
	return n.peers[up[0]].Leader(), n
}

// TestHierarchicalElection: with three groups of three, four voters (two in
// each of two groups) elect a leader although they are no majority of nine;
// five voters (one whole group and one of each other) are a majority but
// never elect. The same runs under a majority rule decide the other way,
// so the rule is what decides.
func TestHierarchicalElection(t *testing.T) {
	hier := mustHier(t, nineInThree, nil)
	maj, _ := NewMajority([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	for _, tc := range []struct {
		name string
		q    Quorum
		up   []int64
		want int64 // the leader, or 0: nobody decides
	}{
		{"hierarchical quorum, no majority", hier, []int64{1, 2, 4, 5}, 4},
		{"majority rule, same peers", maj, []int64{1, 2, 4, 5}, 0},
		{"majority, no hierarchical quorum", hier, []int64{1, 2, 3, 4, 7}, 0},
		{"majority rule, same peers", maj, []int64{1, 2, 3, 4, 7}, 4},
	} {
		t.Run(fmt.Sprintf("%s %v", tc.name, tc.up), func(t *testing.T) {
			leader, n := electWith(t, tc.q, tc.up, 4, 300)
			if leader != tc.want {
				t.Fatalf("leader %d, want %d: %s", leader, tc.want, n)
			}
			if leader != 0 {
				n.expect(leader)
			}
		})
	}
}

// TestWeightZeroNeverLeads: a voter of weight 0 takes part and follows, but
// is never elected even with the best log (ZooKeeper's totalOrderPredicate
// refuses a vote for it), and does not count towards a quorum.
func TestWeightZeroNeverLeads(t *testing.T) {
	q := mustHier(t, [][]int64{{1, 2, 3}}, map[int64]int64{3: 0})
	n := newNetQ(t, q, nil, 1)
	n.start(1, 0x100000005, 1)
	n.start(2, 0x100000005, 1)
	n.start(3, 0x100000009, 1) // the best log, but it cannot lead
	n.settle(100)
	n.expect(2)
	if o := n.peers[3].Outcome(); o.Initial != NoVote || o.Quorum != q.String() {
		t.Fatalf("weight-0 voter's outcome: initial %v, quorum %q", o.Initial, o.Quorum)
	}

	// With 1 down, {2, 3} is a majority of the voters, but 3 weighs
	// nothing: no one decides.
	leader, n2 := electWith(t, q, []int64{2, 3}, 3, 200)
	if leader != 0 {
		t.Fatalf("{2, 3} elected %d: %s", leader, n2)
	}
	// A weight-0 voter restarting joins the running leader.
	n.crash(3)
	n.restart(3)
	n.start(3, 0x100000009, 1)
	n.settle(50)
	n.expect(2)
}

// TestStepWeightZero: a vote naming a voter that cannot lead is refused; a
// looking voter's NoVote (a weight-0 voter's first vote) is taken and
// answered.
func TestStepWeightZero(t *testing.T) {
	q := mustHier(t, [][]int64{{1, 2, 3}}, map[int64]int64{3: 0})
	e, err := New(Config{ID: 1, Quorum: q, Finalize: 1, Resend: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(Vote{1, 5, 1})
	e.Messages()
	for _, st := range []State{Looking, Following, Leading} {
		if err := e.Step(2, Notification{Vote: Vote{3, 9, 1}, Round: 1, State: st}); !errors.Is(err, ErrBadNotification) {
			t.Errorf("vote for weight-0 voter 3 as %v: %v", st, err)
		}
	}
	if err := e.Step(2, Notification{Vote: NoVote, Round: 1, State: Following}); !errors.Is(err, ErrBadNotification) {
		t.Errorf("NoVote while following: %v", err)
	}
	if err := e.Step(3, Notification{Vote: NoVote, Round: 1, State: Looking}); err != nil {
		t.Fatalf("NoVote of a looking weight-0 voter: %v", err)
	}
	msgs := e.Messages()
	if len(msgs) != 1 || msgs[0].To != 3 || msgs[0].Notification.Vote != (Vote{1, 5, 1}) {
		t.Fatalf("answer to the weight-0 voter: %+v", msgs)
	}
	if e.State() != Looking {
		t.Fatalf("decided on %v", e.Vote())
	}
}
