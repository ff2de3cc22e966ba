package election

import (
	"fmt"
	"slices"
)

// Joint is the quorum of two configurations at once (ZooKeeper's rule while
// a reconfiguration is proposed but not committed): a set is a quorum when
// it is a quorum of a AND of b. A voter of either is a voter; its weight is
// the larger of its two weights, so a peer that can lead in either
// configuration can be elected (safety comes from the quorums: any joint
// quorum contains a quorum of a, which meets every other quorum of a).
func Joint(a, b Quorum) Quorum {
	voters := slices.Concat(a.Voters(), b.Voters())
	slices.Sort(voters)
	return &joint{a: a, b: b, voters: slices.Compact(voters)}
}

type joint struct {
	a, b   Quorum
	voters []int64
}

func (j *joint) IsVoter(id int64) bool      { return j.a.IsVoter(id) || j.b.IsVoter(id) }
func (j *joint) Voters() []int64            { return slices.Clone(j.voters) }
func (j *joint) Weight(id int64) int64      { return max(j.a.Weight(id), j.b.Weight(id)) }
func (j *joint) HasQuorum(ids []int64) bool { return j.a.HasQuorum(ids) && j.b.HasQuorum(ids) }
func (j *joint) String() string             { return fmt.Sprintf("(%v) and (%v)", j.a, j.b) }

// Reconfigure replaces the election's membership: the quorum and the
// observers. It takes effect at once (the ballot box keeps the votes it has;
// only the voters of q count). Unlike New, this peer may be in neither:
// a peer not yet (or no longer) a member takes part as a non-voter.
func (e *Election) Reconfigure(q Quorum, observers []int64) error {
	if q == nil {
		return fmt.Errorf("%w: Quorum is nil", ErrBadConfig)
	}
	known := map[int64]bool{}
	for _, id := range q.Voters() {
		known[id] = true
	}
	for _, id := range observers {
		if id < 1 || id > MaxPeerID || known[id] {
			return fmt.Errorf("%w: observer %d", ErrBadConfig, id)
		}
		known[id] = true
	}
	e.cfg.Quorum, e.cfg.Observers = q, slices.Clone(observers)
	e.known, e.voter = known, q.IsVoter(e.cfg.ID)
	if e.state == Following || e.state == Observing {
		// A decided peer answers with the role it has now (ZooKeeper's
		// server state): a non-voter that becomes a voter follows the same
		// leader, and its FOLLOWING counts for a looking voter.
		e.state = Observing
		if e.voter {
			e.state = Following
		}
	}
	return nil
}
