package engine

import (
	"time"

	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// Stat is a znode's metadata, with ZooKeeper's fields and update rules.
type Stat = znode.Stat

// ACL is one access control entry.
type ACL = znode.ACL

// Perm is a set of ACL permissions.
type Perm = znode.Perm

// Identity is one authenticated identity of a session (Session.Identities):
// {Scheme: "ip", ID: "10.0.0.7"}, {Scheme: "digest", ID: "alice:<base64
// sha1>"} or {Scheme: "super", ID: ""}.
type Identity = znode.Identity

// ZooKeeper's permission bits.
const (
	PermRead   = znode.PermRead
	PermWrite  = znode.PermWrite
	PermCreate = znode.PermCreate
	PermDelete = znode.PermDelete
	PermAdmin  = znode.PermAdmin
	PermAll    = znode.PermAll
)

// CreateMode is the kind of node Create makes.
type CreateMode = znode.CreateMode

// Create modes, with ZooKeeper's values.
const (
	ModePersistent                  = znode.ModePersistent
	ModeEphemeral                   = znode.ModeEphemeral
	ModePersistentSequential        = znode.ModePersistentSequential
	ModeEphemeralSequential         = znode.ModeEphemeralSequential
	ModeContainer                   = znode.ModeContainer
	ModePersistentWithTTL           = znode.ModePersistentWithTTL
	ModePersistentSequentialWithTTL = znode.ModePersistentSequentialWithTTL
)

// OpenACLUnsafe gives every permission to anyone (ZooKeeper's
// Ids.OPEN_ACL_UNSAFE). It is the default ACL of Create.
func OpenACLUnsafe() []ACL { return []ACL{{Perms: PermAll, Scheme: "world", ID: "anyone"}} }

// CreatorAllACL gives every permission to the identities the session has
// authenticated (ZooKeeper's Ids.CREATOR_ALL_ACL).
func CreatorAllACL() []ACL { return []ACL{{Perms: PermAll, Scheme: "auth", ID: ""}} }

// ReadACLUnsafe lets anyone read (ZooKeeper's Ids.READ_ACL_UNSAFE).
func ReadACLUnsafe() []ACL { return []ACL{{Perms: PermRead, Scheme: "world", ID: "anyone"}} }

// DigestACL gives perms to the holder of user's password, its id hashed
// with SHA-1, ZooKeeper's default digest algorithm; with another
// Config.DigestAlg, build the ACL from DigestAuthWith's id.
func DigestACL(perms Perm, user, password string) ACL {
	return ACL{Perms: perms, Scheme: "digest", ID: znode.DigestID(user, password)}
}

// Event is a watch event.
type Event = watch.Event

// EventType is the kind of a watch event.
type EventType = watch.EventType

// Event types, with ZooKeeper's values.
const (
	EventNodeCreated            = watch.EventNodeCreated
	EventNodeDeleted            = watch.EventNodeDeleted
	EventNodeDataChanged        = watch.EventNodeDataChanged
	EventNodeChildrenChanged    = watch.EventNodeChildrenChanged
	EventDataWatchRemoved       = watch.EventDataWatchRemoved
	EventChildWatchRemoved      = watch.EventChildWatchRemoved
	EventPersistentWatchRemoved = watch.EventPersistentWatchRemoved
	// EventNotWatching ends a watch that will never fire: its session ended
	// (Err is ErrSessionExpired or ErrClosed) or it overflowed
	// (ErrWatchOverflow).
	EventNotWatching = watch.EventNotWatching
)

// WatcherType selects the watches RemoveWatches removes.
type WatcherType = watch.WatcherType

// Watcher types, with ZooKeeper's values.
const (
	WatcherChildren            = watch.WatcherChildren
	WatcherData                = watch.WatcherData
	WatcherAny                 = watch.WatcherAny
	WatcherPersistent          = watch.WatcherPersistent
	WatcherPersistentRecursive = watch.WatcherPersistentRecursive
)

// Mode is what a peer is doing.
type Mode uint8

// Modes.
const (
	ModeStandalone Mode = iota + 1
	ModeLooking
	ModeFollowing
	ModeLeading
	ModeObserving
	ModeFailed
	ModeClosed
	// ModeReadOnly: cut off from a quorum, the peer serves reads to the
	// sessions that allow it (Config.ReadOnlyMode); ZooKeeper's srvr says
	// "Mode: read-only".
	ModeReadOnly
)

func (m Mode) String() string {
	switch m {
	case ModeStandalone:
		return "standalone"
	case ModeLooking:
		return "looking"
	case ModeFollowing:
		return "following"
	case ModeLeading:
		return "leading"
	case ModeObserving:
		return "observing"
	case ModeFailed:
		return "failed"
	case ModeClosed:
		return "closed"
	case ModeReadOnly:
		return "read-only"
	}
	return "unknown"
}

// Status describes a peer at one moment.
type Status struct {
	Mode     Mode
	ID       int64
	Leader   int64 // 0 when unknown
	Epoch    int64
	LastZxid int64 // last zxid in this peer's log
	Applied  int64 // last zxid applied to this peer's tree
	Serving  bool  // part of a working quorum: reads and writes are accepted
	Peers    []int64
	Sessions int // sessions attached to this peer
	Requests int // client requests queued or in flight at this peer
	Err      error
	// ConfigVersion is the version of the configuration in effect (0: the
	// static one). RemovedBy is the version of the committed reconfig that
	// removed this peer while it ran (0: none, or a later one added it
	// back): as ZooKeeper's removed server, it keeps following and serving
	// as a non-voting member, counted in no quorum, until a reconfig adds
	// it back or it stops. Removed: this peer restarted after a reconfig
	// removed it, and serves nothing (restart it with Config.Rejoin to take
	// part again).
	ConfigVersion int64
	RemovedBy     int64
	Removed       bool

	// Filled by Ensemble.Status only (zero in Listener.StatusChanged's):

	Why        string          // why the peer does not serve ("" while it serves)
	Round      int64           // the round (logical clock) of its last election
	Learners   []LearnerStatus // leading: each learner, by id, with its lag (as of the last tick)
	Znodes     int64           // nodes in the tree (ZooKeeper's znode_count is one more: it counts the root twice)
	Ephemerals int64           // ephemeral nodes (ephemerals_count)
	DataSize   int64           // bytes of every node's path and data (approximate_data_size)
	Watches    int             // watch registrations on this peer (ZooKeeper's watch_count counts (session, path) pairs)
	FsyncP99   time.Duration   // 99th percentile of the last 128 fsyncs of the log
}

// SessionState is the state of a Session.
type SessionState uint8

// Session states.
const (
	// StateConnected: the session's peer serves; calls go through.
	StateConnected SessionState = iota + 1
	// StateDisconnected: the peer lost its quorum; calls fail with
	// ErrNotServing until it is back, and the session may expire meanwhile.
	StateDisconnected
	// StateExpired: the ensemble expired the session; every call fails with
	// ErrSessionExpired. Terminal.
	StateExpired
	// StateClosed: the session was closed (or its Ensemble closed); calls
	// fail with ErrClosed. Terminal.
	StateClosed
	// StateConnectedReadOnly: the session's peer is in read-only mode
	// (Config.ReadOnlyMode, and the session allows it: WithReadOnly);
	// reads go through, writes and Sync fail with ErrNotReadOnly.
	// ZooKeeper's ConnectedReadOnly.
	StateConnectedReadOnly
)

func (s SessionState) String() string {
	switch s {
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateExpired:
		return "expired"
	case StateClosed:
		return "closed"
	case StateConnectedReadOnly:
		return "connected-read-only"
	}
	return "unknown"
}
