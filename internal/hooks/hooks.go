// Package hooks lets zk's own tests (the deterministic simulation above
// all) stop a peer at a named point of its persistence and replication code,
// to simulate a crash exactly there. Production code passes a nil *Hooks:
// every call is then a no-op.
package hooks

import "errors"

// ErrCrash is what a hook returns to crash the peer at its point: the peer
// stops at once (fail-stop) and does nothing after the point.
var ErrCrash = errors.New("hooks: simulated crash")

// Points at which the root calls Hooks.At.
const (
	BeforeAppend       = "before-log-append"         // entries about to be written to the log
	AfterAppend        = "after-log-append"          // entries durable, nothing sent or acked yet
	BeforeEpoch        = "before-epoch-persist"      // acceptedEpoch/currentEpoch about to be written
	AfterEpoch         = "after-epoch-persist"       // epochs durable, no ack sent
	BeforeAck          = "before-send-after-persist" // everything durable; ACK / ACKEPOCH / NEWLEADER ack not sent
	BeforeSnapInstall  = "before-snapshot-install"   // leader's snapshot file durable, log not reset yet
	AfterSnapInstall   = "after-snapshot-install"    // log reset to the snapshot, tree not restored yet
	BeforeWatchTrigger = "before-watch-trigger"      // a txn applied to the tree, its watch events not queued
	BeforeExpire       = "before-expire-proposal"    // the leader decided a session expired, nothing proposed
	BeforeSnapshot     = "before-snapshot-commit"    // a periodic snapshot written, not committed
	// Queued is called (on the client's goroutine) once a client request is
	// queued for the peer loop; its error is ignored.
	Queued = "request-queued"
	// BeforeReadLock is called (on the client's goroutine) by a read or a
	// watch registration once its session was found usable, before it takes
	// the apply lock; its error is ignored. A test ends the session there
	// to show that what the read registers still ends with it.
	BeforeReadLock = "before-read-lock"
	// BetweenRequests is called (on the client's goroutine) by a call
	// made of two requests to the peer loop, between them: Reattach, after
	// its sync round and before it revalidates the session at the leader.
	// Its error is ignored. A simulation gives the call its turn there, so
	// that calls woken in one step queue their second requests in the
	// schedule's order rather than in their goroutines'.
	BetweenRequests = "between-requests"
	// BeforeAttach is called (on the client's goroutine) by Reattach once
	// it found the session live, before it attaches the handle; its error
	// is ignored. A test makes the peer lose its local sessions there.
	BeforeAttach = "before-attach"
)

// Hooks holds the test's callback. A nil *Hooks does nothing.
type Hooks struct {
	// Func is called with the peer's id and the point's name; a non-nil
	// error (normally ErrCrash) stops the peer there.
	Func func(peer int64, point string) error
	// Stepped makes the peer loop handle transport events and client
	// requests only inside Ensemble.Barrier (events first, then requests,
	// each in arrival order) and take snapshots inline, so that a
	// simulation that calls Barrier and Tick decides the order of
	// everything that happens.
	Stepped bool
	// SegmentSize, if positive, is the size at which the peer's log rolls
	// to a new segment, so that a short test rolls and purges segments.
	SegmentSize int64
	// JournalSize, if positive, bounds the peer's journal of recent changes
	// (which serves resuming watches) instead of its default 32 MiB, so
	// that a short test sees a resume fall back to the log, or compacted.
	JournalSize int
	// Broken turns on deliberately wrong behaviours, for the tests that
	// show a check catches the bug each stands for. Never set outside
	// them.
	Broken Broken
	// Attach, if set, is called once by zk.NewEnsemble, after the peer
	// recovered its storage and before it starts, with a view of the
	// peer's internals for checks from the outside.
	Attach func(v View)
	// Trace, if set, is called at each step of a request's way through
	// the peers (Mark's points), on the goroutine taking the step; it
	// must be quick and must not call the peer. For latency benchmarks
	// (examples/bench -trace); it changes nothing the peer does.
	Trace func(m Mark)
}

// Mark is one step of a request's way, for Hooks.Trace.
type Mark struct {
	Peer    int64  // the peer taking the step
	Point   string // what happened: see the Trace* points
	Session int64  // the request's session, where known
	Req     uint64 // the request's id in its peer's loop, where known
	Zxid    int64  // the txn's zxid (for a batch, its last), where known
}

// Trace points. A peer message sent or received is "send-" or "recv-"
// followed by its type (zab.MsgType's String).
const (
	TraceSubmit      = "submit"       // a session hands a write to its peer's loop (Session)
	TraceTake        = "take"         // the loop takes it (Session, Req)
	TraceForward     = "forward"      // a follower forwarded it to the leader (Req)
	TraceForwardRecv = "forward-recv" // the leader got a forwarded write (Req; Peer: the leader)
	TraceProposed    = "proposed"     // the leader proposed it (Req, Zxid)
	TraceFsyncStart  = "fsync-start"  // a log append and fsync starts (Zxid: the batch's last)
	TraceFsyncDone   = "fsync-done"   // it is durable
	TraceApplyStart  = "apply-start"  // committed entries start being applied (Zxid: the last)
	TraceApplyDone   = "apply-done"   // they are applied, events queued, callers not yet answered
	TraceAnswer      = "answer"       // the loop answers the request's caller (Req, Zxid)
	TraceReturned    = "returned"     // the session's write call returns (Session, Zxid)
)

// Tracing reports whether h traces.
func (h *Hooks) Tracing() bool { return h != nil && h.Trace != nil }

// Note calls Trace with m, if h traces.
func (h *Hooks) Note(m Mark) {
	if h != nil && h.Trace != nil {
		h.Trace(m)
	}
}

// Broken is a set of deliberately wrong behaviours of a peer: a build with
// one of ZooKeeper's known sync-phase bugs, switched on by a test.
type Broken uint32

const (
	// AckBeforePersist sends the acknowledgements that must wait for the
	// disk (ACK, DIFFACK, the NEWLEADER ack) before persisting what they
	// acknowledge (the class of ZOOKEEPER-4646).
	AckBeforePersist Broken = 1 << iota
	// EpochBeforeTxns persists the epochs before the log entries of the
	// same step (the class of ZOOKEEPER-4643).
	EpochBeforeTxns
	// SkipTruncate ignores the leader's TRUNC, so an uncommitted txn stays
	// in the log (the class of ZOOKEEPER-2845).
	SkipTruncate
	// ResetOnRefusal is zk's own issue 9: requests are not size-checked,
	// and a proposal the core refuses (too large) makes the leader forget
	// the pending view of every txn proposed before it, so the next ones
	// are prepared against a stale tree and every peer fail-stops on a
	// digest mismatch. Tests use it to show that a restart recovers.
	ResetOnRefusal
	// ReadOnlyThroughSync keeps read-only mode on until the peer serves
	// again, through the sync with a new leader, instead of ending it when
	// the election ends: read-only reads may then see a tree a snapshot is
	// replacing, and the peer logs and applies while it says read-only.
	ReadOnlyThroughSync
	// ReadOnlyQueuesWrites lets a session served read-only send its writes
	// and Syncs on instead of refusing them with NOTREADONLY: they wait
	// for a leader and may commit once the peer serves again, after the
	// client was told nothing of the mode.
	ReadOnlyQueuesWrites
	// CommitNewConfigAlone makes a leader with a reconfiguration pending
	// commit with a quorum of the new configuration alone, instead of one
	// of the old and one of the new: two disjoint quorums can then commit
	// different histories.
	CommitNewConfigAlone
	// NoSessionOwners makes the leader ignore session owners: a write from
	// the peer a session moved away from is applied, maybe after the
	// writes the client sent through the next peer (ZooKeeper without
	// SESSIONMOVED).
	NoSessionOwners
	// LocalSessionsSurvive lets the local sessions attached to a peer
	// that lost its leader reconnect when it serves again, instead of
	// expiring (as if its local tracker outlived its leader).
	LocalSessionsSurvive
	// UpgradeWithoutSession sends a local session's ephemeral create to
	// the leader without the CreateSession that upgrades it: the leader
	// refuses it, the session stays local.
	UpgradeWithoutSession
)

// Breaks reports whether h turns on the wrong behaviour b.
func (h *Hooks) Breaks(b Broken) bool { return h != nil && h.Broken&b != 0 }

// View lets a test look inside a running peer. Every method is safe to
// call from any goroutine, including from Func on the peer's own
// goroutine, and none waits for the peer loop.
type View interface {
	// Applied returns the zxid of the last txn applied to the tree and
	// the tree's digest after it. Inside Func at BeforeWatchTrigger it
	// describes exactly the txn just applied.
	Applied() (zxid int64, digest uint64)
	// LogBase returns the zxid the durable log starts after.
	LogBase() int64
	// LogEntries returns durable log entries with a zxid above after:
	// about maxBytes of data, but at least one if there is any.
	LogEntries(after int64, maxBytes int) ([]LogEntry, error)
	// LogState returns the durable accepted and current epochs.
	LogState() (acceptedEpoch, currentEpoch int64)
	// KeptApplies returns how many of its own txns this peer, while it
	// led, applied from the effects its pipeline kept (kept), and how many
	// it found kept on another state than the one its tree was at, and
	// ran again (missed: the pipeline and the apply disagree on what came
	// before; it must stay 0). Safe to call from any goroutine.
	KeptApplies() (kept, missed int64)
}

// LogEntry is one entry of a peer's log: its zxid and its encoded
// envelope (internal/entry).
type LogEntry struct {
	Zxid int64
	Data []byte
}

// SegmentBytes returns the log segment size h asks for (0: the default).
func (h *Hooks) SegmentBytes() int64 {
	if h == nil {
		return 0
	}
	return h.SegmentSize
}

// JournalBytes returns the journal bound h asks for (0: the default).
func (h *Hooks) JournalBytes() int {
	if h == nil {
		return 0
	}
	return h.JournalSize
}

// AttachView hands v to the test, if it asked for it.
func (h *Hooks) AttachView(v View) {
	if h != nil && h.Attach != nil {
		h.Attach(v)
	}
}

// IsStepped reports whether h asks for a stepped peer loop.
func (h *Hooks) IsStepped() bool { return h != nil && h.Stepped }

// At calls the hook, if any.
func (h *Hooks) At(peer int64, point string) error {
	if h == nil || h.Func == nil {
		return nil
	}
	return h.Func(peer, point)
}
