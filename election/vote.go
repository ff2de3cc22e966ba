package election

import (
	"errors"
	"fmt"
)

// State is a peer's state in the ensemble (ZooKeeper's ServerState).
type State uint8

// The peer states.
const (
	Looking State = iota + 1
	Following
	Leading
	Observing
)

func (s State) String() string {
	switch s {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Valid reports whether s is one of the four states.
func (s State) Valid() bool { return s >= Looking && s <= Observing }

// MaxEpoch is the largest epoch: a zxid is epoch<<32 | counter in an int64,
// so the epoch must stay below 2^31.
const MaxEpoch = 1<<31 - 1

// Vote is a proposal for leader: the proposed leader, its last logged zxid
// and its current epoch (ZooKeeper's peerEpoch). A non-voter's initial vote
// is {0, -1, -1}, which every voter's vote beats.
type Vote struct {
	Leader int64
	Zxid   int64
	Epoch  int64
}

// NoVote is the initial vote of a peer that does not vote (an observer).
var NoVote = Vote{Leader: 0, Zxid: -1, Epoch: -1}

// Beats reports whether v is strictly better than o: a higher epoch, then a
// higher zxid, then a higher server id (ZooKeeper's totalOrderPredicate,
// without the voter check, which Election applies).
func (v Vote) Beats(o Vote) bool {
	if v.Epoch != o.Epoch {
		return v.Epoch > o.Epoch
	}
	if v.Zxid != o.Zxid {
		return v.Zxid > o.Zxid
	}
	return v.Leader > o.Leader
}

func (v Vote) String() string {
	return fmt.Sprintf("(leader %d, zxid %#x, epoch %d)", v.Leader, v.Zxid, v.Epoch)
}

// Notification is what peers exchange during an election: the sender's vote,
// its logical clock and its state.
type Notification struct {
	Vote
	Round int64 // the sender's logical clock (ZooKeeper's electionEpoch)
	State State
}

// ErrBadNotification reports a notification with impossible fields.
var ErrBadNotification = errors.New("election: invalid notification")

// Validate checks the fields of n on their own (without knowing the
// membership): a valid state, a positive round, and a vote that is either a
// non-voter's initial vote or names a peer id with a sane zxid and epoch.
func (n Notification) Validate() error {
	switch {
	case !n.State.Valid():
		return fmt.Errorf("%w: state %d", ErrBadNotification, n.State)
	case n.Round < 1:
		return fmt.Errorf("%w: round %d", ErrBadNotification, n.Round)
	case n.Vote == NoVote:
		return nil
	case n.Leader < 1 || n.Leader > MaxPeerID:
		return fmt.Errorf("%w: leader %d", ErrBadNotification, n.Leader)
	case n.Epoch < 0 || n.Epoch > MaxEpoch:
		return fmt.Errorf("%w: epoch %d", ErrBadNotification, n.Epoch)
	case n.Zxid < 0 || n.Zxid>>32 > MaxEpoch:
		return fmt.Errorf("%w: zxid %#x", ErrBadNotification, n.Zxid)
	}
	return nil
}
