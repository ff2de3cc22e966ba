package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
)

// drawHierarchy draws a hierarchical quorum over voters from the seed, on
// its own random stream (so the rest of the run draws what it would draw
// anyway): 2 or 3 groups (each with at least one voter) and weights of 0
// (the voter never counts), 1, 2 or 3. The first voter of the shuffled
// order weighs at least 1, so some set of voters is always a quorum.
func drawHierarchy(seed uint64, voters []int64) ([][]int64, map[int64]int64) {
	rng := rand.New(rand.NewPCG(seed, 0x41e7a7c4))
	ids := slices.Clone(voters)
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	k := 2 + rng.IntN(2)
	groups := make([][]int64, min(k, len(ids)))
	weights := map[int64]int64{}
	for i, id := range ids {
		g := i
		if i >= len(groups) {
			g = rng.IntN(len(groups))
		}
		groups[g] = append(groups[g], id)
		switch w := rng.IntN(6); {
		case w == 0 && i > 0:
			weights[id] = 0
		case w == 1:
			weights[id] = 2
		case w == 2:
			weights[id] = 3
		}
	}
	for _, g := range groups {
		slices.Sort(g)
	}
	return groups, weights
}

// sortedWeights renders weights in id order (for the trace).
func sortedWeights(weights map[int64]int64) string {
	s := "["
	for i, id := range slices.Sorted(maps.Keys(weights)) {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%d", id, weights[id])
	}
	return s + "]"
}
