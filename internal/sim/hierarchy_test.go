package sim

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/embedzk/zk/election"
)

// hierSeed is the seed TestSimHierarchical runs: 5 voters, no observer,
// groups {2} {4} {1,3,5}, weights 1:3 3:0 4:3 5:3 (3 takes part but never
// counts). Some quorums are no majority ({2,4}: two of three groups) and
// some majorities are no quorum ({1,3,5}: one group).
const hierSeed = 16

// hierTicks is the length of its fault phase (shorter than TestSim's, to
// keep CI short).
const hierTicks = 1000

// differs reports whether q has a quorum that is no majority of its voters
// and a majority that is no quorum.
func differs(q election.Quorum) (quorumNotMajority, majorityNotQuorum bool) {
	voters := q.Voters()
	for mask := 0; mask < 1<<len(voters); mask++ {
		var set []int64
		for i, id := range voters {
			if mask&(1<<i) != 0 {
				set = append(set, id)
			}
		}
		maj := 2*len(set) > len(voters)
		if q.HasQuorum(set) && !maj {
			quorumNotMajority = true
		}
		if maj && !q.HasQuorum(set) {
			majorityNotQuorum = true
		}
	}
	return
}

// TestDrawHierarchy: every drawn hierarchy is a valid quorum (zk.Config
// accepts it), the draw is the seed's, and most draws decide differently
// from a majority.
func TestDrawHierarchy(t *testing.T) {
	unlike := 0
	for seed := uint64(1); seed <= 200; seed++ {
		voters := []int64{1, 2, 3, 4, 5}
		if seed%2 == 0 {
			voters = append(voters, 6)
		}
		g, w := drawHierarchy(seed, voters)
		q, err := election.NewHierarchical(g, w)
		if err != nil {
			t.Fatalf("seed %d: %v %v: %v", seed, g, w, err)
		}
		if !slices.Equal(q.Voters(), voters) {
			t.Fatalf("seed %d: voters %v", seed, q.Voters())
		}
		g2, w2 := drawHierarchy(seed, voters)
		if !slices.EqualFunc(g, g2, slices.Equal) || sortedWeights(w) != sortedWeights(w2) {
			t.Fatalf("seed %d: two draws differ", seed)
		}
		if a, b := differs(q); a || b {
			unlike++
		}
	}
	if unlike < 150 {
		t.Fatalf("only %d of 200 draws decide unlike a majority", unlike)
	}
}

// TestSimHierarchical runs the simulation (faults, workload, every check)
// on an ensemble with a hierarchical quorum; TestSim -hier runs more seeds
// (go test ./internal/sim -run 'TestSim$' -v -args -hier -seeds=20 -seed=1).
func TestSimHierarchical(t *testing.T) {
	opts := Options{Seed: hierSeed, Hierarchical: true, Ticks: hierTicks}
	w, err := newWorld(opts)
	if err != nil {
		t.Fatal(err)
	}
	groups, weights := w.groups, w.weights
	w.close()
	q, err := election.NewHierarchical(groups, weights)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := differs(q); !a || !b || !slices.Contains(slices.Collect(maps.Values(weights)), 0) {
		t.Fatalf("seed %d draws %v %v: quorum-not-majority %v, majority-not-quorum %v", hierSeed, groups, sortedWeights(weights), a, b)
	}
	res := Run(opts)
	if err := res.Err(); err != nil {
		t.Fatalf("seed %d failed:\n%v\n--- trace tail ---\n%s\nreplay: %s", hierSeed, err, res.Tail, replayCommand(Options{Seed: hierSeed, Ticks: hierTicks, Hierarchical: true}))
	}
	t.Logf("seed %d: %.0f simulated s, %d ops, %d committed, %d crashes, faults %s, %v", hierSeed, res.SimulatedSeconds(),
		res.Stats.Ops, res.Stats.Committed, res.Stats.Crashes, res.Faults, res.Elapsed.Round(time.Millisecond))
}
