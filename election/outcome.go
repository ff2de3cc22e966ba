package election

import "slices"

// Ballot is one voter's latest notification as the ballot box held it.
type Ballot struct {
	From  int64
	Vote  Vote
	Round int64
	State State
	// Agrees: it counted towards the decision (ZooKeeper's Vote.equals
	// with the decided vote and round).
	Agrees bool
}

// Outcome describes how the last round of this peer's election ended: for
// logs and status, never for decisions.
type Outcome struct {
	Round   int64 // the logical clock the decision was made in
	Initial Vote  // this peer's own vote when the round started (NoVote for an observer)
	Vote    Vote  // the decided vote
	State   State // LEADING, FOLLOWING or OBSERVING
	// Joined: the decision followed a leader that already leads (its own
	// LEADING answer was among the agreeing ballots) rather than a quorum
	// of looking voters' proposals.
	Joined  bool
	Ballots []Ballot // every ballot held at the decision, by voter id
	Voters  []int64  // the voting members
}

// Outcome returns how the last decided round ended; the zero Outcome if no
// round was decided yet. The slices are the caller's.
func (e *Election) Outcome() Outcome {
	o := e.outcome
	o.Ballots = slices.Clone(o.Ballots)
	o.Voters = e.cfg.Quorum.Voters()
	return o
}

// record keeps the ballots that led to deciding v (before decide clears
// the ballot box).
func (e *Election) record(v Vote) {
	decided := ballot{vote: v, round: e.round, state: Looking}
	agrees := func(b ballot) bool {
		return b.same(decided) || (b.state != Looking && b.vote.Leader == v.Leader && b.vote.Epoch == v.Epoch)
	}
	o := Outcome{Round: e.round, Initial: e.self, Vote: v, State: Observing}
	switch {
	case v.Leader == e.cfg.ID:
		o.State = Leading
	case e.voter:
		o.State = Following
	}
	seen := map[int64]bool{}
	for _, box := range []map[int64]ballot{e.recv, e.outside} {
		for id, b := range box {
			if seen[id] {
				continue
			}
			seen[id] = true
			a := agrees(b)
			o.Joined = o.Joined || (a && b.state == Leading)
			o.Ballots = append(o.Ballots, Ballot{From: id, Vote: b.vote, Round: b.round, State: b.state, Agrees: a})
		}
	}
	slices.SortFunc(o.Ballots, func(a, b Ballot) int { return int(a.From - b.From) })
	e.outcome = o
}
