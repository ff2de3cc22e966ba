package zab

import "errors"

// Errors returned by the Node's methods. Step's errors describe why a message
// was dropped; they never mean the Node is broken.
var (
	// ErrNotLeader: Propose on a peer that is not the leader.
	ErrNotLeader = errors.New("zab: not the leader")
	// ErrNotServing: the peer is not part of a working quorum (it is looking,
	// syncing, or its leader is not established).
	ErrNotServing = errors.New("zab: not serving")
	// ErrNoLeader: SendApp to the leader while there is none.
	ErrNoLeader = errors.New("zab: no leader")
	// ErrBadMessage: a malformed message, or one whose fields contradict
	// each other or the sender.
	ErrBadMessage = errors.New("zab: malformed message")
	// ErrStaleEpoch: a message of another epoch than the one in force.
	ErrStaleEpoch = errors.New("zab: message from a stale or impossible epoch")
	// ErrUnknownPeer: a message from a peer that is not a member, or from a
	// member this peer has no business with in its current role.
	ErrUnknownPeer = errors.New("zab: unknown or unexpected peer")
	// ErrUnexpected: a valid message that the current role and phase do not
	// expect (it is dropped).
	ErrUnexpected = errors.New("zab: unexpected message")
	// ErrProtocol: the leader broke the protocol (a gap, a bad truncation, a
	// sync that does not end where it says); the follower goes LOOKING.
	ErrProtocol = errors.New("zab: protocol violation")
	// ErrTooLarge: a proposal larger than Config.MaxMsgBytes.
	ErrTooLarge = errors.New("zab: entry too large")
	// ErrZxidRollover: the counter of the epoch is exhausted; the leader
	// stepped down so that a new epoch starts. It matches ErrNotServing too.
	ErrZxidRollover error = &rolloverError{}
	// ErrBadConfig: Config.Validate failed.
	ErrBadConfig = errors.New("zab: invalid config")
	// ErrBadMembership: a configuration that cannot be (a bad id, an id
	// twice, no voter whose vote counts, bad groups or weights), or data
	// that poses as a configuration entry.
	ErrBadMembership = errors.New("zab: invalid membership")
	// ErrReconfigInProgress: ProposeConfig while a proposed configuration is
	// not committed yet (ZooKeeper's ReconfigInProgress).
	ErrReconfigInProgress = errors.New("zab: a reconfiguration is in progress")
	// ErrNewConfigNoQuorum: the new configuration's voters that are synced
	// with the leader are not a quorum of it (ZooKeeper's NewConfigNoQuorum).
	ErrNewConfigNoQuorum = errors.New("zab: no quorum of the new configuration is connected and synced")
	// ErrRemoved: this peer started outside its configuration (a committed
	// configuration removed it before it restarted); it stopped. It matches
	// ErrNotServing too.
	ErrRemoved error = &removedError{}
	// ErrBadState: NewNode was given a Durable or Log that contradict each other.
	ErrBadState = errors.New("zab: inconsistent durable state")
)

type rolloverError struct{}

func (*rolloverError) Error() string {
	return "zab: zxid counter rolled over; the leader steps down to start a new epoch"
}

func (*rolloverError) Is(target error) bool { return target == ErrNotServing }

type removedError struct{}

func (*removedError) Error() string {
	return "zab: removed from the ensemble by a committed configuration"
}

func (*removedError) Is(target error) bool { return target == ErrNotServing }
