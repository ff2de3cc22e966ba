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
