package znode

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// dbHealth watches the flushes of one Pebble DB. Pebble retries a failed
// flush at once and forever (a full disk, a directory made read-only), and
// its own Flush waits for one that succeeds, so a waiter would never
// return: dbHealth lets it learn of the first failure instead.
type dbHealth struct {
	log     *slog.Logger
	once    sync.Once
	failedC chan struct{} // closed at the first failed flush
	err     error         // set before failedC closes
	quiet   atomic.Bool   // the first background error was logged
}

// pebbleEmptyTable is the message of the error Pebble reports for a flush
// that had nothing to write (a flush of an empty memtable): not a failure.
// Pebble does not export it; TestFlushOnFullDisk and every test that
// flushes would notice a change.
const pebbleEmptyTable = "pebble: empty table"

func newDBHealth(log *slog.Logger) *dbHealth {
	return &dbHealth{log: log, failedC: make(chan struct{})}
}

// listener is the Pebble EventListener that feeds h.
func (h *dbHealth) listener() *pebble.EventListener {
	return &pebble.EventListener{
		FlushEnd: func(info pebble.FlushInfo) {
			if info.Err != nil && info.Err.Error() != pebbleEmptyTable {
				h.once.Do(func() { h.err = info.Err; close(h.failedC) })
			}
		},
		// A failing flush is retried in a loop: log the first error, and
		// the rest only at debug level.
		BackgroundError: func(err error) {
			if h.quiet.CompareAndSwap(false, true) {
				h.log.Error("pebble: background error", "err", err)
				return
			}
			h.log.Debug("pebble: background error", "err", err)
		},
	}
}

// flushErr returns the error of the first failed flush, or nil.
func (h *dbHealth) flushErr() error {
	select {
	case <-h.failedC:
		return h.err
	default:
		return nil
	}
}

// flush makes db's memtables durable; it returns the error of a failed
// flush (this one or an earlier one) instead of waiting for Pebble's
// retries.
func (h *dbHealth) flush(db *pebble.DB) error {
	if err := h.flushErr(); err != nil {
		return fmt.Errorf("znode: flush: %w", err)
	}
	flushed, err := db.AsyncFlush()
	if err != nil {
		return fmt.Errorf("znode: flush: %w", err)
	}
	select {
	case <-flushed:
		return nil
	case <-h.failedC:
		return fmt.Errorf("znode: flush: %w", h.err)
	}
}

// DefaultFlushEntries is the default of Options.FlushEntries; FlushBytes
// defaults to half the memtable (8 MiB). A crash replays at most twice
// that (16,384 txns, 16 MiB of batches), a small fraction of a second.
// Smaller intervals make Pebble compact more.
const DefaultFlushEntries = 8192

// l0CompactionThreshold is the number of L0 sublevels that starts an L0
// compaction. The tree flushes every few MiB and every flush overlaps the
// whole key range (the meta key and parents are rewritten by every txn), so
// Pebble's default (4) would rewrite the base level every few flushes; 16
// spends less on compaction than it costs reads.
const l0CompactionThreshold = 16

// autoFlush bounds what the log must replay after a crash. Pebble's WAL is
// off, so what was applied since the tree's last flush exists only in
// memory; after FlushEntries txns or FlushBytes of batches the tree starts
// a flush in the background, and before it starts the next one it waits
// for the previous one. So at any moment the last finished flush is at
// most two intervals behind the applied zxid: a crash replays at most
// 2*FlushEntries txns (and 2*FlushBytes of batches), plus one commit
// group (group.go).
type autoFlush struct {
	mu      sync.Mutex
	entries int   // txns applied since the last flush started
	bytes   int64 // batch bytes applied since the last flush started
	pending <-chan struct{}
	at      int64 // the applied zxid the pending flush makes durable
}

// settle records a pending flush that finished; f.mu is held.
func (t *Tree) settleFlush() {
	f := &t.auto
	if f.pending == nil {
		return
	}
	select {
	case <-f.pending:
		t.advanceDurable(f.at)
		f.pending = nil
	default:
	}
}

// advanceDurable raises the durable zxid to zxid.
func (t *Tree) advanceDurable(zxid int64) {
	for {
		d := t.durable.Load()
		if d >= zxid || t.durable.CompareAndSwap(d, zxid) {
			return
		}
	}
}

// beforeCommit runs before the batch of a group of txns (n bytes) is
// committed on top of the applied zxid: if the txns applied since the last
// flush started fill an interval, it starts a flush of them (up to
// applied), first waiting for the previous flush if it still runs; then it
// counts the new batch.
func (t *Tree) beforeCommit(applied int64, txns, n int) error {
	f := &t.auto
	f.mu.Lock()
	defer f.mu.Unlock()
	t.settleFlush()
	full := f.entries >= t.opts.FlushEntries || f.bytes >= t.opts.FlushBytes
	if t.opts.FlushEntries > 0 && full {
		if f.pending != nil {
			select {
			case <-f.pending:
				t.settleFlush()
			case <-t.health.failedC:
				return t.fail(fmt.Errorf("znode: flush: %w", t.health.err))
			}
		}
		flushed, err := t.db.AsyncFlush()
		if err != nil {
			return t.fail(fmt.Errorf("znode: flush: %w", err))
		}
		f.pending, f.at = flushed, applied
		f.entries, f.bytes = 0, 0
	}
	f.entries += txns
	f.bytes += int64(n)
	return nil
}

// resetAutoFlush forgets the flush under way (Restore replaced the DB).
func (t *Tree) resetAutoFlush() {
	f := &t.auto
	f.mu.Lock()
	f.entries, f.bytes, f.pending, f.at = 0, 0, nil, 0
	f.mu.Unlock()
}
