package election

import (
	"fmt"
	"slices"
)

// MaxWeight is the largest weight a voter may have in a Hierarchical quorum
// (so that no sum of weights can overflow).
const MaxWeight = 1<<31 - 1

// Hierarchical is ZooKeeper's hierarchical quorum (QuorumHierarchical):
// the voters are split into disjoint groups and each voter has a weight
// (default 1). A group is satisfied by a set when the set's voters in the
// group weigh more than half of the group's total weight; a set is a quorum
// when it satisfies more than half of the groups whose total weight is not
// 0. A voter of weight 0 takes part (it follows and acknowledges) but never
// counts and never leads; a group that weighs 0 is not counted at all.
//
// Any two quorums share a voter of positive weight: both satisfy more than
// half of the counted groups, so at least one group is satisfied by both,
// and two sets that each hold more than half of its weight share a member
// that weighs something.
type Hierarchical struct {
	voters  []int64
	groups  [][]int64     // as given
	group   map[int64]int // voter -> index of its group
	weight  map[int64]int64
	total   []int64 // total weight of each group
	counted int     // groups whose total weight is not 0
}

// NewHierarchical builds a hierarchical quorum. groups lists the members of
// each group (every voter in exactly one group; ids 1..MaxPeerID); weights
// gives the weight of voters (0..MaxWeight; a voter it does not list
// weighs 1) and may only name voters. At least one group must weigh
// something, otherwise no set would ever be a quorum.
func NewHierarchical(groups [][]int64, weights map[int64]int64) (*Hierarchical, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("%w: no groups", ErrBadQuorum)
	}
	h := &Hierarchical{group: map[int64]int{}, weight: map[int64]int64{}, total: make([]int64, len(groups))}
	for _, members := range groups {
		h.groups = append(h.groups, slices.Clone(members))
	}
	for gi, members := range groups {
		if len(members) == 0 {
			return nil, fmt.Errorf("%w: group %d has no members", ErrBadQuorum, gi)
		}
		for _, id := range members {
			if id < 1 || id > MaxPeerID {
				return nil, fmt.Errorf("%w: group %d: id %d outside 1..%d", ErrBadQuorum, gi, id, MaxPeerID)
			}
			if other, dup := h.group[id]; dup {
				if other == gi {
					return nil, fmt.Errorf("%w: group %d lists server %d twice", ErrBadQuorum, gi, id)
				}
				return nil, fmt.Errorf("%w: server %d is in groups %d and %d (a server is in one group)", ErrBadQuorum, id, other, gi)
			}
			h.group[id] = gi
			h.weight[id] = 1
			h.voters = append(h.voters, id)
		}
	}
	for id, w := range weights {
		if _, ok := h.group[id]; !ok {
			return nil, fmt.Errorf("%w: weight of server %d, which is in no group", ErrBadQuorum, id)
		}
		if w < 0 || w > MaxWeight {
			return nil, fmt.Errorf("%w: weight of server %d is %d, outside 0..%d", ErrBadQuorum, id, w, MaxWeight)
		}
		h.weight[id] = w
	}
	for id, gi := range h.group {
		h.total[gi] += h.weight[id]
	}
	for _, t := range h.total {
		if t > 0 {
			h.counted++
		}
	}
	if h.counted == 0 {
		return nil, fmt.Errorf("%w: every voter weighs 0: no set of voters is a quorum", ErrBadQuorum)
	}
	slices.Sort(h.voters)
	return h, nil
}

// IsVoter implements Quorum.
func (h *Hierarchical) IsVoter(id int64) bool {
	_, ok := h.group[id]
	return ok
}

// Voters implements Quorum.
func (h *Hierarchical) Voters() []int64 { return slices.Clone(h.voters) }

// Groups returns the groups as NewHierarchical got them (a copy).
func (h *Hierarchical) Groups() [][]int64 {
	out := make([][]int64, len(h.groups))
	for i, g := range h.groups {
		out[i] = slices.Clone(g)
	}
	return out
}

// Weights returns every voter's weight (a copy).
func (h *Hierarchical) Weights() map[int64]int64 {
	out := make(map[int64]int64, len(h.weight))
	for id, w := range h.weight {
		out[id] = w
	}
	return out
}

// Weight implements Quorum.
func (h *Hierarchical) Weight(id int64) int64 { return h.weight[id] }

// HasQuorum implements Quorum.
func (h *Hierarchical) HasQuorum(ids []int64) bool {
	got := make([]int64, len(h.total))
	seen := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		gi, ok := h.group[id]
		if _, dup := seen[id]; dup || !ok {
			continue
		}
		seen[id] = struct{}{}
		got[gi] += h.weight[id]
	}
	satisfied := 0
	for gi, w := range got {
		if 2*w > h.total[gi] {
			satisfied++
		}
	}
	return 2*satisfied > h.counted
}

// String implements Quorum.
func (h *Hierarchical) String() string {
	return fmt.Sprintf("more than half the weight of %d of %d groups", h.counted/2+1, h.counted)
}
