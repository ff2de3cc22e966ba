package zab

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"

	"github.com/embedzk/zk/election"
)

// Config configures a Node. Limits are in driver ticks.
type Config struct {
	ID        int64
	Voters    []int64 // the voting members; contains ID unless this peer is an observer
	Observers []int64
	// Quorum decides which sets of voters form a quorum: the election's
	// decision, the epoch and NEWLEADER acknowledgements, commits, the
	// leader's check that it still has a quorum, and Sync rounds. Nil
	// means a majority of Voters; otherwise its voters must be Voters
	// (election.Hierarchical for ZooKeeper's groups and weights).
	Quorum election.Quorum
	// ConfigVersion is the version of this membership: the zxid of the
	// configuration entry that made it, 0 for a static one. The membership
	// is the one in effect at Durable.Applied (the driver keeps it with its
	// state). With a version, ID may be in neither Voters nor Observers: a
	// removed peer, which starts stopped (Status.Removed).
	ConfigVersion int64
	// Joining says that Voters and Observers are a new server's guess (the
	// members and itself, as a joiner starts) although the peer has a
	// history: it synced as a joiner and restarted before a configuration
	// listed it (ZooKeeper's non-voting joiner waits too). As on a first
	// start, only a committed entry that lists it, its first NEWLEADER or
	// an election won confirm it a member; until then a configuration
	// without it does not remove it.
	Joining bool
	// BrokenReconfigCommit is a deliberately wrong build for the
	// simulation's test that its checks catch it: with a reconfiguration
	// pending, commit with the new configuration's quorum alone. Never set
	// it otherwise.
	BrokenReconfigCommit bool

	// InitLimit bounds each wait of discovery and synchronization (a leader
	// gathering FOLLOWERINFOs, epoch acks, NEWLEADER acks; a learner's silence
	// before it is in broadcast).
	InitLimit int
	// SyncLimit bounds a synced peer's silence: a follower that hears nothing
	// from its leader for longer goes LOOKING; a leader drops such a learner
	// and steps down when the rest is not a quorum.
	SyncLimit int
	// HeartbeatInterval: the leader pings every N ticks (default SyncLimit/5,
	// at least 1).
	HeartbeatInterval int
	// ElectionFinalize: ticks to wait for a better vote after a quorum
	// agrees (default 1; skipped when every voter agrees).
	ElectionFinalize int
	// ElectionResend: a LOOKING peer re-sends its notifications every N ticks
	// when it hears nothing (default 5), doubling up to 8N.
	ElectionResend int
	// MaxMsgBytes caps the entry payload of one message (a DIFF or INFORM
	// batch, one proposal, one snapshot chunk); default 4 MiB.
	MaxMsgBytes int

	Rand   *rand.Rand   // required; seeded (jitters election re-sends)
	Logger *slog.Logger // optional
}

const defaultMaxMsgBytes = 4 << 20

// Validate checks c; its errors name the field.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadConfig, fmt.Sprintf(format, a...))
	}
	if c.ID < 1 || c.ID > election.MaxPeerID {
		return bad("ID %d outside 1..%d", c.ID, election.MaxPeerID)
	}
	if len(c.Voters) == 0 {
		return bad("Voters is empty")
	}
	seen := map[int64]string{}
	for _, group := range []struct {
		name string
		ids  []int64
	}{{"Voters", c.Voters}, {"Observers", c.Observers}} {
		for _, id := range group.ids {
			if id < 1 || id > election.MaxPeerID {
				return bad("%s: id %d outside 1..%d", group.name, id, election.MaxPeerID)
			}
			if prev, dup := seen[id]; dup {
				if prev == group.name {
					return bad("%s: duplicate id %d", group.name, id)
				}
				return bad("%s: id %d is also in %s", group.name, id, prev)
			}
			seen[id] = group.name
		}
	}
	if _, ok := seen[c.ID]; !ok && c.ConfigVersion == 0 {
		return bad("ID %d is in neither Voters nor Observers", c.ID)
	}
	if c.ConfigVersion < 0 {
		return bad("ConfigVersion %d is negative", c.ConfigVersion)
	}
	for _, f := range []struct {
		name     string
		v        int
		optional bool
	}{
		{"InitLimit", c.InitLimit, false}, {"SyncLimit", c.SyncLimit, false},
		{"HeartbeatInterval", c.HeartbeatInterval, true}, {"ElectionFinalize", c.ElectionFinalize, true},
		{"ElectionResend", c.ElectionResend, true}, {"MaxMsgBytes", c.MaxMsgBytes, true},
	} {
		if f.v < 0 || (f.v == 0 && !f.optional) {
			return bad("%s %d must be positive", f.name, f.v)
		}
	}
	if c.Rand == nil {
		return bad("Rand is nil")
	}
	if c.Quorum != nil {
		qv := c.Quorum.Voters()
		vs := slices.Sorted(slices.Values(c.Voters))
		if !slices.Equal(qv, vs) {
			return bad("Quorum's voters %v are not Voters %v", qv, vs)
		}
	}
	return nil
}

// withDefaults returns a copy of c with the defaults filled in.
func (c Config) withDefaults() Config {
	c.Voters = slices.Clone(c.Voters)
	c.Observers = slices.Clone(c.Observers)
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = max(1, c.SyncLimit/5)
	}
	if c.ElectionFinalize == 0 {
		c.ElectionFinalize = 1
	}
	if c.ElectionResend == 0 {
		c.ElectionResend = 5
	}
	if c.MaxMsgBytes == 0 {
		c.MaxMsgBytes = defaultMaxMsgBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
