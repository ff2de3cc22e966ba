// Package zk is Apache ZooKeeper as an embeddable Go library.
//
// A host application calls NewEnsemble and its process becomes one peer of a
// replicated ensemble — or, with no Servers configured, a standalone
// ensemble of one, the embedded default. Sessions opened on the Ensemble
// read and write a tree of znodes with ZooKeeper's semantics: persistent,
// ephemeral, sequential, container and TTL nodes, the full Stat, versions
// for optimistic concurrency, ACLs, multi-op transactions, one-shot and
// persistent watches.
//
//	ens, err := zk.NewEnsemble(zk.Config{DataDir: "/var/lib/myapp/zk"})
//	...
//	defer ens.Close()
//	sess, err := ens.NewSession(ctx)
//	...
//	path, err := sess.Create(ctx, "/jobs/job-", data, zk.WithMode(zk.ModePersistentSequential))
//
// # Guarantees
//
// Writes go through the leader and commit at a quorum after being fsynced
// to the transaction log; a write that returned without error is never lost.
// Every peer applies committed writes in the same (zxid) order. A session's
// calls complete in the order it issued them, and it reads its own writes;
// reads are served by the local peer, and Sync makes the next read
// linearizable. A watch event reaches a session before that session can read
// the change that caused it, and events reach a session in zxid order.
//
// # Errors
//
// Errors wrap sentinels with ZooKeeper's names (ErrNoNode, ErrNodeExists,
// ErrBadVersion, ...): test them with errors.Is. A call whose context ends
// while its write is in flight returns ErrOutcomeUnknown (which also matches
// ErrConnectionLoss): the write may still commit.
//
// # Concurrency and ownership
//
// Ensemble and Session are safe for concurrent use. Slices passed in are not
// retained after a call returns, except data given to Create and Set, which
// the library may keep: do not modify it afterwards. Slices returned belong
// to the caller.
//
// # Durability
//
// The transaction log is the source of truth: a write is acknowledged only
// after its record is fsynced. The tree (in Pebble) is written without its
// own log and replayed from the transaction log after a crash. A failed
// fsync stops the peer (fail-stop): it serves nothing more and reports the
// error in Status and through Config.Listener.Failed.
//
// # Layout
//
// This file is the whole root package: the public API, declared as aliases
// of the implementation in internal/engine (types keep their methods and
// identities, so errors.Is and type switches work across both names).
package zk

import (
	"io"
	"time"

	"github.com/embedzk/zk/internal/engine"
)

// Server is one member of a replicated ensemble, as zoo.cfg's
// server.N=host:quorumPort:electionPort[:observer] line describes it.
//
// zk multiplexes election and ZAB traffic on the quorum port; the election
// port is accepted for compatibility with existing zoo.cfg files and
// otherwise unused.
type Server = engine.Server

// Config configures one peer. Its fields map to zoo.cfg; the zero value of a
// field means its default. Clone it freely: NewEnsemble keeps its own copy.
type Config = engine.Config

// EventListener holds optional callbacks. They run on the peer's own
// goroutine: keep them short and never call back into the Ensemble from one.
type EventListener = engine.EventListener

// Ensemble is this process's peer of a ZooKeeper ensemble (or a standalone
// ensemble of one). Its methods are safe for concurrent use.
type Ensemble = engine.Ensemble

// Op is one operation of a Multi: build it with CreateOp, DeleteOp, SetOp or
// CheckOp.
type Op = engine.Op

// OpResult is the outcome of one op of a Multi. For a failed multi, the ops
// before the one that failed have a nil Err, that op its error, and the ops
// after it ErrRuntimeInconsistency, as ZooKeeper reports them.
type OpResult = engine.OpResult

// ReadOp is one read of a MultiRead: GetDataOp or GetChildrenOp.
type ReadOp = engine.ReadOp

// ReadResult is the outcome of one ReadOp.
type ReadResult = engine.ReadResult

// CreateOption configures Create.
type CreateOption = engine.CreateOption

// Session is a ZooKeeper session attached to this peer: the handle every
// data operation goes through. Its ephemeral nodes live as long as it does;
// its requests complete in the order they were issued (FIFO), and it reads its
// own writes. Methods are safe for concurrent use; calls made concurrently
// are ordered as they entered the session.
type Session = engine.Session

// SessionOption configures NewSession.
type SessionOption = engine.SessionOption

// Stat is a znode's metadata, with ZooKeeper's fields and update rules.
type Stat = engine.Stat

// ACL is one access control entry.
type ACL = engine.ACL

// Perm is a set of ACL permissions.
type Perm = engine.Perm

// CreateMode is the kind of node Create makes.
type CreateMode = engine.CreateMode

// Event is a watch event.
type Event = engine.Event

// EventType is the kind of a watch event.
type EventType = engine.EventType

// WatcherType selects the watches RemoveWatches removes.
type WatcherType = engine.WatcherType

// Mode is what a peer is doing.
type Mode = engine.Mode

// Status describes a peer at one moment.
type Status = engine.Status

// SessionState is the state of a Session.
type SessionState = engine.SessionState

// Watch is a persistent watch (ZooKeeper 3.6's addWatch): it stays until
// removed or its session ends.
type Watch = engine.Watch

// Defaults.
const (
	DefaultTickTime        = engine.DefaultTickTime
	DefaultInitLimit       = engine.DefaultInitLimit
	DefaultSyncLimit       = engine.DefaultSyncLimit
	DefaultSnapCount       = engine.DefaultSnapCount
	DefaultSnapRetainCount = engine.DefaultSnapRetainCount
	DefaultPurgeInterval   = engine.DefaultPurgeInterval
	// DefaultJuteMaxBuffer is ZooKeeper's default jute.maxbuffer (1 MiB -
	// 1), the default Config.JuteMaxBuffer: the largest request.
	DefaultJuteMaxBuffer = engine.DefaultJuteMaxBuffer
	// MinJuteMaxBuffer and MaxJuteMaxBuffer bound Config.JuteMaxBuffer.
	MinJuteMaxBuffer = engine.MinJuteMaxBuffer
	MaxJuteMaxBuffer = engine.MaxJuteMaxBuffer
	// MaxPathLength is the longest znode path zk accepts, in bytes.
	MaxPathLength = engine.MaxPathLength
	// TicksPerTickTime is how many times zk's internal clock ticks per
	// TickTime.
	TicksPerTickTime = engine.TicksPerTickTime
)

// ZooKeeper's permission bits.
const (
	PermRead   = engine.PermRead
	PermWrite  = engine.PermWrite
	PermCreate = engine.PermCreate
	PermDelete = engine.PermDelete
	PermAdmin  = engine.PermAdmin
	PermAll    = engine.PermAll
)

// Create modes, with ZooKeeper's values.
const (
	ModePersistent                  = engine.ModePersistent
	ModeEphemeral                   = engine.ModeEphemeral
	ModePersistentSequential        = engine.ModePersistentSequential
	ModeEphemeralSequential         = engine.ModeEphemeralSequential
	ModeContainer                   = engine.ModeContainer
	ModePersistentWithTTL           = engine.ModePersistentWithTTL
	ModePersistentSequentialWithTTL = engine.ModePersistentSequentialWithTTL
)

// Event types, with ZooKeeper's values.
const (
	EventNodeCreated            = engine.EventNodeCreated
	EventNodeDeleted            = engine.EventNodeDeleted
	EventNodeDataChanged        = engine.EventNodeDataChanged
	EventNodeChildrenChanged    = engine.EventNodeChildrenChanged
	EventDataWatchRemoved       = engine.EventDataWatchRemoved
	EventChildWatchRemoved      = engine.EventChildWatchRemoved
	EventPersistentWatchRemoved = engine.EventPersistentWatchRemoved
	// EventNotWatching ends a watch that will never fire: its session ended
	// (Err is ErrSessionExpired or ErrClosed) or it overflowed
	// (ErrWatchOverflow).
	EventNotWatching = engine.EventNotWatching
)

// Watcher types, with ZooKeeper's values.
const (
	WatcherChildren            = engine.WatcherChildren
	WatcherData                = engine.WatcherData
	WatcherAny                 = engine.WatcherAny
	WatcherPersistent          = engine.WatcherPersistent
	WatcherPersistentRecursive = engine.WatcherPersistentRecursive
)

// Modes.
const (
	ModeStandalone = engine.ModeStandalone
	ModeLooking    = engine.ModeLooking
	ModeFollowing  = engine.ModeFollowing
	ModeLeading    = engine.ModeLeading
	ModeObserving  = engine.ModeObserving
	ModeFailed     = engine.ModeFailed
	ModeClosed     = engine.ModeClosed
)

// Session states.
const (
	// StateConnected: the session's peer serves; calls go through.
	StateConnected = engine.StateConnected
	// StateDisconnected: the peer lost its quorum; calls fail with
	// ErrNotServing until it is back, and the session may expire meanwhile.
	StateDisconnected = engine.StateDisconnected
	// StateExpired: the ensemble expired the session; every call fails with
	// ErrSessionExpired. Terminal.
	StateExpired = engine.StateExpired
	// StateClosed: the session was closed (or its Ensemble closed); calls
	// fail with ErrClosed. Terminal.
	StateClosed = engine.StateClosed
)

// DefaultWatchBuffer is the number of events a persistent watch buffers; a
// consumer that lets it fill up loses the watch (ErrWatchOverflow), never an
// event silently.
const (
	DefaultWatchBuffer = engine.DefaultWatchBuffer
)

// ErrInvalidConfig wraps every error Config.Validate returns; the message names
// the field.
var (
	ErrInvalidConfig = engine.ErrInvalidConfig
)

// Errors, with ZooKeeper's names. Every error zk returns wraps one of these;
// test them with errors.Is.
var (
	ErrNoNode                  = engine.ErrNoNode
	ErrNodeExists              = engine.ErrNodeExists
	ErrBadVersion              = engine.ErrBadVersion
	ErrNotEmpty                = engine.ErrNotEmpty
	ErrNoChildrenForEphemerals = engine.ErrNoChildrenForEphemerals
	ErrNoAuth                  = engine.ErrNoAuth
	ErrInvalidACL              = engine.ErrInvalidACL
	ErrAuthFailed              = engine.ErrAuthFailed
	ErrBadArguments            = engine.ErrBadArguments
	ErrInvalidPath             = engine.ErrInvalidPath
	ErrRequestTooLarge         = engine.ErrRequestTooLarge
	ErrSessionExpired          = engine.ErrSessionExpired
	ErrSessionMoved            = engine.ErrSessionMoved
	ErrConnectionLoss          = engine.ErrConnectionLoss
	ErrNotServing              = engine.ErrNotServing
	ErrOutcomeUnknown          = engine.ErrOutcomeUnknown
	ErrNoWatcher               = engine.ErrNoWatcher
	ErrWatchOverflow           = engine.ErrWatchOverflow
	ErrRuntimeInconsistency    = engine.ErrRuntimeInconsistency
	ErrDataInconsistency       = engine.ErrDataInconsistency
	ErrUnimplemented           = engine.ErrUnimplemented
	ErrSystem                  = engine.ErrSystem
	ErrClosed                  = engine.ErrClosed
)

// DigestAuth returns the digest identity ZooKeeper computes for user and
// password: "user:" + base64(sha1("user:password")). Use it to build
// Config.SuperDigest or digest ACLs.
func DigestAuth(user, password string) string { return engine.DigestAuth(user, password) }

// NewEnsemble opens (or creates) this peer's storage, recovers its state and
// starts it. With no Servers it is a standalone ensemble of one; otherwise it
// joins the ensemble the Servers describe. It returns once the peer runs;
// NewSession waits until it serves.
func NewEnsemble(cfg Config) (*Ensemble, error) { return engine.NewEnsemble(cfg) }

// CreateOp creates a node (WithParents and WithStat are not supported in a
// multi).
func CreateOp(path string, data []byte, opts ...CreateOption) Op {
	return engine.CreateOp(path, data, opts...)
}

// DeleteOp deletes a node if its version is version (-1: any).
func DeleteOp(path string, version int32) Op { return engine.DeleteOp(path, version) }

// SetOp sets a node's data if its version is version (-1: any).
func SetOp(path string, data []byte, version int32) Op { return engine.SetOp(path, data, version) }

// CheckOp fails the multi unless the node's version is version (-1: the node
// exists). It needs READ permission.
func CheckOp(path string, version int32) Op { return engine.CheckOp(path, version) }

// GetDataOp reads a node's data.
func GetDataOp(path string) ReadOp { return engine.GetDataOp(path) }

// GetChildrenOp lists a node's children.
func GetChildrenOp(path string) ReadOp { return engine.GetChildrenOp(path) }

// WithMode sets the kind of node (default ModePersistent).
func WithMode(m CreateMode) CreateOption { return engine.WithMode(m) }

// WithACL sets the node's ACL (default OpenACLUnsafe).
func WithACL(acl ...ACL) CreateOption { return engine.WithACL(acl...) }

// WithTTL sets the TTL of a ModePersistentWithTTL or
// ModePersistentSequentialWithTTL node, in milliseconds resolution.
func WithTTL(d time.Duration) CreateOption { return engine.WithTTL(d) }

// WithParents creates missing parents as persistent nodes with the same ACL
// first, as kazoo's makepath and Curator's creatingParentsIfNeeded.
func WithParents() CreateOption { return engine.WithParents() }

// WithStat fills *st with the created node's Stat (ZooKeeper's create2).
func WithStat(st *Stat) CreateOption { return engine.WithStat(st) }

// WithSessionTimeout requests a session timeout; the ensemble negotiates it
// into [MinSessionTimeout, MaxSessionTimeout]. Default: MaxSessionTimeout/2.
func WithSessionTimeout(d time.Duration) SessionOption { return engine.WithSessionTimeout(d) }

// WithClientAddr gives the session the "ip" identity addr, for ACLs of the ip
// scheme (a host that proxies remote clients sets their address here).
func WithClientAddr(addr string) SessionOption { return engine.WithClientAddr(addr) }

// OpenACLUnsafe gives every permission to anyone (ZooKeeper's
// Ids.OPEN_ACL_UNSAFE). It is the default ACL of Create.
func OpenACLUnsafe() []ACL { return engine.OpenACLUnsafe() }

// CreatorAllACL gives every permission to the identities the session has
// authenticated (ZooKeeper's Ids.CREATOR_ALL_ACL).
func CreatorAllACL() []ACL { return engine.CreatorAllACL() }

// ReadACLUnsafe lets anyone read (ZooKeeper's Ids.READ_ACL_UNSAFE).
func ReadACLUnsafe() []ACL { return engine.ReadACLUnsafe() }

// DigestACL gives perms to the holder of user's password.
func DigestACL(perms Perm, user, password string) ACL { return engine.DigestACL(perms, user, password) }

// ParseZooCfg reads a ZooKeeper zoo.cfg into a Config, so a ZooKeeper user can
// bring their files. myid is the content of the data directory's myid file
// (nil or empty for a standalone configuration). Keys zk has no use for
// (clientPort, admin.*, 4lw.*, metrics providers, ...) are returned in ignored
// so the caller can log them; malformed values are errors naming the key and
// line. The result still needs Validate (and a PeerSecret or PeerTLS for a
// replicated ensemble).
func ParseZooCfg(r io.Reader, myid []byte) (cfg Config, ignored []string, err error) {
	return engine.ParseZooCfg(r, myid)
}

// LoadZooCfg reads the zoo.cfg file at path and the myid file in its dataDir
// (if there is one) into a Config; see ParseZooCfg.
func LoadZooCfg(path string) (Config, []string, error) { return engine.LoadZooCfg(path) }
