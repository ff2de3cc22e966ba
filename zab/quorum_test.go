package zab

import (
	"slices"
	"testing"

	"github.com/embedzk/zk/election"
)

// ZooKeeper's documentation example: three groups of three, every weight 1.
var nineInThree = [][]int64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}

// withQuorum returns a harness tweak that sets the quorum rule (nil groups:
// the default majority).
func withQuorum(t testing.TB, groups [][]int64, weights map[int64]int64) func(*Config) {
	t.Helper()
	if groups == nil {
		return nil
	}
	q, err := election.NewHierarchical(groups, weights)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *Config) { c.Quorum = q }
}

// rules runs f under ZooKeeper's nine-in-three hierarchy and under the
// default majority of the same nine voters.
func rules(t *testing.T, f func(t *testing.T, hier bool, tweak func(*Config))) {
	t.Run("hierarchical", func(t *testing.T) { f(t, true, withQuorum(t, nineInThree, nil)) })
	t.Run("majority", func(t *testing.T) { f(t, false, nil) })
}

// TestHierarchicalEstablishesAndCommits: four voters of nine, two in each of
// two groups, are a hierarchical quorum though no majority: they elect a
// leader, ack its epoch and NEWLEADER, and commit proposals. Under the
// majority rule the same four never get a leader.
func TestHierarchicalEstablishesAndCommits(t *testing.T) {
	rules(t, func(t *testing.T, hier bool, tweak func(*Config)) {
		h := newHarness(t, 40, voters(9), nil, tweak)
		for _, id := range []int64{3, 6, 7, 8, 9} {
			h.crash(id)
		}
		if !hier {
			h.run(150)
			if l := h.leader(); l != 0 {
				t.Fatalf("4 of 9 voters established leader %d under a majority", l)
			}
			return
		}
		if l := h.serving(60); l != 5 {
			t.Fatalf("leader %d, want 5 (the highest id of equal logs)", l)
		}
		for _, d := range []string{"a", "b", "c"} {
			h.propose(5, d)
		}
		h.run(2)
		for _, id := range []int64{1, 2, 4, 5} {
			if got := h.applied(id); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Fatalf("%d applied %q", id, got)
			}
		}
		h.converged()
		for _, id := range []int64{3, 6, 7, 8, 9} {
			h.restart(id)
		}
		h.serving(60)
		h.converged()
	})
}

// TestHierarchicalRefusesMajority: five voters of nine (one whole group and
// one of each other group) are a majority but no hierarchical quorum: no
// leader is ever established. Under the majority rule they are one.
func TestHierarchicalRefusesMajority(t *testing.T) {
	rules(t, func(t *testing.T, hier bool, tweak func(*Config)) {
		h := newHarness(t, 41, voters(9), nil, tweak)
		for _, id := range []int64{5, 6, 8, 9} {
			h.crash(id)
		}
		if !hier {
			if l := h.serving(60); l != 7 {
				t.Fatalf("leader %d, want 7", l)
			}
			return
		}
		h.run(150)
		for _, id := range []int64{1, 2, 3, 4, 7} {
			if st := h.peers[id].node.Status(); st.Serving || st.Role == RoleLeading {
				t.Fatalf("%d: %v serving %v without a hierarchical quorum", id, st.Role, st.Serving)
			}
		}
	})
}

// TestHierarchicalLeaderLosesQuorum: an established leader of the nine
// whose reachable voters shrink to a majority that is no hierarchical
// quorum commits nothing more and steps down once SyncLimit passes; under
// the majority rule it commits and keeps leading.
func TestHierarchicalLeaderLosesQuorum(t *testing.T) {
	rules(t, func(t *testing.T, hier bool, tweak func(*Config)) {
		h := newHarness(t, 42, voters(9), nil, tweak)
		if l := h.serving(60); l != 9 {
			t.Fatalf("leader %d", l)
		}
		h.propose(9, "a")
		h.run(1)
		for _, id := range []int64{5, 6, 7, 8} {
			h.stopSilently(id) // the leader learns it only from their silence
		}
		h.propose(9, "b") // acked by 1, 2, 3 and 4: five of nine with the leader
		h.deliverAll()
		syncLimit := h.config(9).SyncLimit
		for i := 0; i < syncLimit+2; i++ {
			h.tickAll()
			h.deliverAll()
		}
		want := []string{"a", "b"}
		if hier {
			want = want[:1]
		}
		for _, id := range []int64{1, 2, 3, 4, 9} {
			if got := h.applied(id); !slices.Equal(got, want) {
				t.Fatalf("%d applied %q, want %q", id, got, want)
			}
		}
		if st := h.peers[9].node.Status(); (st.Role == RoleLeading && st.Serving) == hier {
			t.Fatalf("leader after SyncLimit: %v serving %v", st.Role, st.Serving)
		}
	})
}

// TestWeightZeroFollowsButNeverCounts: of voters 1, 2 and 3, 3 weighs 0. It
// follows and acks, but it never leads (2 is elected although 3 has the
// highest id), and 2 and 3 without 1 are no quorum: nothing more commits
// and the leader steps down.
func TestWeightZeroFollowsButNeverCounts(t *testing.T) {
	h := newHarness(t, 43, voters(3), nil, withQuorum(t, [][]int64{{1, 2, 3}}, map[int64]int64{3: 0}))
	if l := h.serving(40); l != 2 {
		t.Fatalf("leader %d, want 2", l)
	}
	if st := h.peers[3].node.Status(); st.Role != RoleFollowing {
		t.Fatalf("weight-0 voter is %v", st.Role)
	}
	h.propose(2, "a")
	h.run(1)
	h.converged()
	h.stopSilently(1)
	h.propose(2, "b")
	h.run(h.config(2).SyncLimit + 2)
	for _, id := range []int64{2, 3} {
		if got := h.applied(id); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("%d applied %q", id, got)
		}
	}
	if st := h.peers[2].node.Status(); st.Serving {
		t.Fatalf("2 serves with only a weight-0 follower: %+v", st)
	}
	h.run(60)
	if l := h.leader(); l != 0 {
		t.Fatalf("%d leads without a quorum", l)
	}
	h.heal()
	h.restart(1)
	if l := h.serving(60); l == 3 {
		t.Fatal("the weight-0 voter leads")
	}
	h.converged()
}

func TestConfigQuorumMustMatchVoters(t *testing.T) {
	q, err := election.NewHierarchical([][]int64{{1, 2}, {3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{ID: 1, Voters: []int64{1, 2, 3, 4}, InitLimit: 10, SyncLimit: 5, Rand: newHarnessRand(), Quorum: q}
	if err := c.Validate(); err == nil {
		t.Fatal("a quorum over other voters was accepted")
	}
	c.Voters = []int64{3, 2, 1}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestRandomizedHierarchical is TestRandomized (random deliveries, ticks,
// proposals, barriers, crashes and partitions, with every safety check of
// the harness) on six voters under hierarchical quorums: three groups of
// two, with a heavy voter and a voter of weight 0 that change with the
// seed.
func TestRandomizedHierarchical(t *testing.T) {
	seeds := uint64(30)
	if testing.Short() {
		seeds = 8
	}
	total := map[string]int{}
	for seed := uint64(1); seed <= seeds; seed++ {
		heavy, zero := int64(seed%6+1), int64((seed+2)%6+1)
		q, err := election.NewHierarchical([][]int64{{1, 2}, {3, 4}, {5, 6}}, map[int64]int64{heavy: 2, zero: 0})
		if err != nil {
			t.Fatal(err)
		}
		runRandom(t, 1000+seed, *randomSteps, total, q)
		if t.Failed() {
			return
		}
	}
	t.Logf("over %d seeds: %v", seeds, total)
	for _, k := range []string{"committed", "established"} {
		if total[k] == 0 {
			t.Errorf("no %q over %d seeds", k, seeds)
		}
	}
}
