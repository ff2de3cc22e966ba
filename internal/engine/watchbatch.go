package engine

import (
	"context"
	"fmt"
)

// NextBatch returns every event of the next transaction together, in
// order: the events of one zxid (a multi, a session close that deleted
// several ephemerals) come in one batch, so that a consumer never acts on
// half a transaction; with WithEventData, applying a batch moves a copy of
// the watched nodes from the state at one zxid to the state at the next.
// It waits, as Next does, only for the first event; the last event of a
// watch comes alone, and after it NextBatch returns Next's error.
//
// Use NextBatch or Next/TryNext on a watch, not both at once: a batch is
// gathered by taking events one by one.
func (w *Watch) NextBatch(ctx context.Context) ([]Event, error) {
	w.batchMu.Lock()
	defer w.batchMu.Unlock()
	first, err := w.q.Next(ctx)
	if err != nil {
		return nil, err
	}
	batch := []Event{w.out(first)}
	if first.Zxid == 0 {
		return batch, nil // a removal or the end
	}
	// The apply loop triggers a transaction's events in one call, under the
	// watch manager's lock: once a Barrier has passed, every event of
	// first.Zxid is in the queue.
	for barrier := false; ; barrier = true {
		for {
			ev, ok := w.q.TakeIfZxid(first.Zxid)
			if !ok {
				break
			}
			batch = append(batch, w.out(ev))
		}
		if barrier {
			return batch, nil
		}
		w.s.e.watches.Barrier()
	}
}

// Zxid returns the zxid of the state this session reads at its peer now:
// every call the session made before it saw a state at most this new, the
// peer has applied every change up to it, and every watch event of those
// changes is already queued. A consumer that loaded state with any number of
// reads, then calls Zxid, holds the state at Zxid once it has also applied
// its watch's events up to it (see WithEventData).
func (s *Session) Zxid(ctx context.Context) (int64, error) {
	var z int64
	err := s.read(ctx, func() error {
		z, _ = s.e.tree.Applied()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("zk: zxid: %w", err)
	}
	return z, nil
}
