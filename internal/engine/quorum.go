package engine

import (
	"fmt"
	"maps"
	"slices"

	"github.com/embedzk/zk/election"
)

// quorum returns the quorum rule Groups and Weights describe, checked
// against Servers; nil (a majority of the voters) without Groups. Its
// errors wrap ErrInvalidConfig and name the field.
func (c Config) quorum() (election.Quorum, error) {
	if len(c.Groups) == 0 {
		if len(c.Weights) > 0 {
			return nil, configErr("Weights", "weights need Groups (zoo.cfg group.N=id:id:...): every voter must be in a group")
		}
		return nil, nil
	}
	byID := map[int64]Server{}
	for _, s := range c.Servers {
		byID[s.ID] = s
	}
	grouped := map[int64]bool{}
	for i, g := range c.Groups {
		field := fmt.Sprintf("Groups[%d]", i)
		for _, id := range g {
			s, ok := byID[id]
			switch {
			case !ok:
				return nil, configErr(field, "server %d is not among Servers", id)
			case s.Observer:
				return nil, configErr(field, "server.%d is an observer: observers are in no group", id)
			}
			grouped[id] = true
		}
	}
	for _, s := range c.Servers {
		if !s.Observer && !grouped[s.ID] {
			return nil, configErr("Groups", "voter server.%d is in no group (with groups, every voter is in exactly one)", s.ID)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Weights)) {
		s, ok := byID[id]
		switch {
		case !ok:
			return nil, configErr("Weights", "server %d is not among Servers", id)
		case s.Observer:
			return nil, configErr("Weights", "server.%d is an observer: observers do not vote", id)
		}
	}
	q, err := election.NewHierarchical(c.Groups, c.Weights)
	if err != nil {
		return nil, configErr("Groups", "%v", err)
	}
	return q, nil
}

// cloneGroups returns a deep copy of groups.
func cloneGroups(groups [][]int64) [][]int64 {
	if groups == nil {
		return nil
	}
	out := make([][]int64, len(groups))
	for i, g := range groups {
		out[i] = slices.Clone(g)
	}
	return out
}
