package engine

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// zooQuorum collects zoo.cfg's hierarchical quorum keys while it is parsed:
// group.N=id:id:... (a group of voters; N is any number, unique) and
// weight.N=w (server N's weight). Config.Validate checks them against the
// server lines.
type zooQuorum struct {
	groups  map[int64][]int64
	weights map[int64]int64
}

// set records key if it is a group or weight key.
func (q *zooQuorum) set(key, value string) (known bool, err error) {
	switch {
	case strings.HasPrefix(key, "group."):
		n, err := strconv.ParseInt(strings.TrimPrefix(key, "group."), 10, 64)
		if err != nil {
			return true, fmt.Errorf("bad group number in %q", key)
		}
		if _, dup := q.groups[n]; dup {
			return true, fmt.Errorf("group %d is given twice", n)
		}
		var ids []int64
		for _, part := range strings.Split(value, ":") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return true, fmt.Errorf("%q is not a server id in %q (want id:id:...)", part, value)
			}
			ids = append(ids, id)
		}
		if q.groups == nil {
			q.groups = map[int64][]int64{}
		}
		q.groups[n] = ids
	case strings.HasPrefix(key, "weight."):
		id, err := strconv.ParseInt(strings.TrimPrefix(key, "weight."), 10, 64)
		if err != nil {
			return true, fmt.Errorf("bad server id in %q", key)
		}
		if _, dup := q.weights[id]; dup {
			return true, fmt.Errorf("the weight of server %d is given twice", id)
		}
		w, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return true, fmt.Errorf("%q is not an integer", value)
		}
		if q.weights == nil {
			q.weights = map[int64]int64{}
		}
		q.weights[id] = w
	default:
		return false, nil
	}
	return true, nil
}

// apply sets cfg's Groups (in increasing order of N) and Weights.
func (q *zooQuorum) apply(cfg *Config) {
	for _, n := range slices.Sorted(maps.Keys(q.groups)) {
		cfg.Groups = append(cfg.Groups, q.groups[n])
	}
	cfg.Weights = q.weights
}
