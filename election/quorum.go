package election

import (
	"errors"
	"fmt"
	"slices"
)

// MaxPeerID is the largest server id (ZooKeeper's myid range is 1..254 here).
const MaxPeerID = 254

// Quorum decides which sets of peers form a quorum (ZooKeeper's
// QuorumVerifier). Implementations are immutable and safe for concurrent
// use.
//
// A voter is a participant: it takes part in elections, follows and
// acknowledges proposals. Its Weight says whether its vote counts: a voter
// of weight 0 takes part, but never counts towards a quorum and never
// leads (ZooKeeper's totalOrderPredicate refuses a vote for it).
type Quorum interface {
	// IsVoter reports whether id is a voting member (a participant).
	IsVoter(id int64) bool
	// Voters returns the voting members in increasing order (a copy).
	Voters() []int64
	// Weight returns id's weight: 0 for a non-voter or a voter whose vote
	// does not count, positive otherwise.
	Weight(id int64) int64
	// HasQuorum reports whether the voters among ids form a quorum.
	// Non-voters and duplicates in ids are ignored.
	HasQuorum(ids []int64) bool
	// String describes the rule, for logs ("2 of 3 voters").
	String() string
}

// CanLead reports whether q lets id lead: a voter whose vote counts.
func CanLead(q Quorum, id int64) bool { return q.IsVoter(id) && q.Weight(id) > 0 }

// ErrBadQuorum reports an invalid quorum configuration.
var ErrBadQuorum = errors.New("election: invalid quorum configuration")

// Majority is the quorum of more than half of the voters.
type Majority struct {
	voters []int64
	set    map[int64]struct{}
}

// NewMajority builds a majority quorum over voters (ids 1..MaxPeerID, no
// duplicates, at least one).
func NewMajority(voters []int64) (*Majority, error) {
	if len(voters) == 0 {
		return nil, fmt.Errorf("%w: no voters", ErrBadQuorum)
	}
	m := &Majority{set: make(map[int64]struct{}, len(voters))}
	for _, id := range voters {
		if id < 1 || id > MaxPeerID {
			return nil, fmt.Errorf("%w: voter id %d outside 1..%d", ErrBadQuorum, id, MaxPeerID)
		}
		if _, dup := m.set[id]; dup {
			return nil, fmt.Errorf("%w: duplicate voter %d", ErrBadQuorum, id)
		}
		m.set[id] = struct{}{}
		m.voters = append(m.voters, id)
	}
	slices.Sort(m.voters)
	return m, nil
}

// IsVoter implements Quorum.
func (m *Majority) IsVoter(id int64) bool {
	_, ok := m.set[id]
	return ok
}

// Voters implements Quorum.
func (m *Majority) Voters() []int64 { return slices.Clone(m.voters) }

// Weight implements Quorum: every voter weighs 1.
func (m *Majority) Weight(id int64) int64 {
	if m.IsVoter(id) {
		return 1
	}
	return 0
}

// String implements Quorum.
func (m *Majority) String() string {
	return fmt.Sprintf("%d of %d voters", m.Threshold(), len(m.voters))
}

// Threshold is the number of voters a quorum needs.
func (m *Majority) Threshold() int { return len(m.voters)/2 + 1 }

// HasQuorum implements Quorum.
func (m *Majority) HasQuorum(ids []int64) bool {
	n := 0
	seen := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup || !m.IsVoter(id) {
			continue
		}
		seen[id] = struct{}{}
		n++
	}
	return n >= m.Threshold()
}

// CommittedIndex returns the largest value v such that the voters whose ack is
// at least v form a quorum of q, or 0 if there is none. acks maps a peer to
// the highest value it acknowledged (acknowledgements are cumulative);
// entries of non-voters are ignored.
func CommittedIndex(q Quorum, acks map[int64]int64) int64 {
	vals := make([]int64, 0, len(acks))
	for id, v := range acks {
		if q.IsVoter(id) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	ids := make([]int64, 0, len(acks))
	for i := len(vals) - 1; i >= 0; i-- {
		ids = ids[:0]
		for id, v := range acks {
			if v >= vals[i] {
				ids = append(ids, id)
			}
		}
		if q.HasQuorum(ids) {
			return vals[i]
		}
	}
	return 0
}
