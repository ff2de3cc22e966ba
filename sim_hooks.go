package zk

import "github.com/embedzk/zk/wal"

// This file holds the few accessors zk's deterministic simulation
// (internal/sim) needs to check a peer from the outside: the digest of its
// tree at its applied zxid, its durable log and epochs. They are not part
// of the supported API: they exist for zk's own tests and may change. Each
// one is safe to call from any goroutine, including from a
// Config.TestHooks callback running on the peer's own goroutine, and none
// of them blocks on the peer loop.

// SimApplied returns the zxid of the last txn applied to this peer's tree
// and the tree digest after it. Inside a hooks.BeforeWatchTrigger callback
// it describes exactly the txn just applied.
func (e *Ensemble) SimApplied() (zxid int64, digest uint64) { return e.tree.Applied() }

// SimLogEntries returns the durable log entries with a zxid above after,
// about maxBytes of data but at least one if there is any. After Close it
// fails with ErrClosed.
func (e *Ensemble) SimLogEntries(after int64, maxBytes int) ([]wal.Entry, error) {
	return e.wal.Entries(after, maxBytes)
}

// SimLogBase returns the zxid the log starts after (a snapshot's, or 0).
func (e *Ensemble) SimLogBase() int64 { return e.wal.Base() }

// SimLogState returns the durable accepted and current epochs.
func (e *Ensemble) SimLogState() (acceptedEpoch, currentEpoch int64) {
	st := e.wal.State()
	return st.AcceptedEpoch, st.CurrentEpoch
}

// SimSegmentSize sets the size at which cfg's log rolls to a new segment
// (0: wal's default), so that a simulation rolls and purges segments
// within a short run.
func SimSegmentSize(cfg *Config, bytes int64) { cfg.knobs.segmentSize = bytes }
