package watch

import (
	"context"
	"fmt"
	"sync"

	"github.com/embedzk/zk/internal/zkerr"
)

// minRing is the smallest ring a Queue allocates, and the largest it keeps
// once its consumer has taken every event.
const minRing = 4

// Queue is a Sink for a long-lived registration (a persistent or recursive
// watch) whose consumer pulls its events. It keeps the events not yet taken
// in a ring that is allocated on the first event, grows as events pile up
// (doubling, up to limit events) and shrinks as they are taken, so that a
// Queue that never got an event holds no event buffer, a drained one at
// most minRing events' worth, and a busy one at most about four times what
// is queued. Ready returns a channel of capacity 1 that tells the
// consumer there is something to take.
//
// Deliver never blocks. An event that would make more than limit events
// wait is refused (Deliver returns false; the Manager then ends the
// registration with Overflow). The event that ends the registration (a
// removal event, EventNotWatching) never counts against limit: it is kept
// apart, after the queued events, so the consumer always learns why its
// watch ended. Overflow ends the stream with Event{Type: EventNotWatching,
// Path: the path of the first event refused, Err: zkerr.ErrWatchOverflow}.
//
// The Manager serializes Deliver, Overflow and Close; Next, TryNext, Ready
// and Err may be called from any goroutine. Events are taken in the order
// they were delivered, each by exactly one caller.
type Queue struct {
	mu         sync.Mutex
	ring       []Event // nil until the first event; at most minRing long when empty
	head       int     // index in ring of the oldest queued event
	n          int     // number of queued events (the final one not counted)
	limit      int
	final      *Event // the event that ends the stream, once delivered
	lostPath   string // path of the first refused event
	ready      chan struct{}
	finalTaken bool // final was taken
	closed     bool // Close or Overflow happened: nothing more will come
	over       bool // overflowed
}

// NewQueue returns an empty Queue that holds up to limit events besides the
// final one. It panics if limit < 1.
func NewQueue(limit int) *Queue {
	if limit < 1 {
		panic("watch: NewQueue: limit must be at least 1")
	}
	return &Queue{limit: limit, ready: make(chan struct{}, 1)}
}

// signal makes Ready fire; q.mu is held.
func (q *Queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Deliver queues e if there is room, and reports whether it did.
func (q *Queue) Deliver(e Event) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.final != nil {
		return false
	}
	if e.Type.terminal() {
		final := e // a copy, so that only a final event goes to the heap
		q.final = &final
		q.signal()
		return true
	}
	if q.n >= q.limit {
		if q.lostPath == "" {
			q.lostPath = e.Path
		}
		return false
	}
	if q.n == len(q.ring) {
		q.resize(max(minRing, 2*len(q.ring)))
	}
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = e
	q.n++
	q.signal()
	return true
}

// resize moves the queued events, oldest first, into a ring of size, a
// power of two at least q.n (or 0 for none); q.mu is held. Ring sizes are
// powers of two so that an index wraps with a mask; the largest is the
// power of two at or above limit.
func (q *Queue) resize(size int) {
	var ring []Event
	if size > 0 {
		ring = make([]Event, size)
	}
	for i := 0; i < q.n; i++ {
		ring[i] = q.ring[(q.head+i)&(len(q.ring)-1)]
	}
	q.ring, q.head = ring, 0
}

// Overflow ends the stream with the EventNotWatching that reports the
// overflow (after the events already queued).
func (q *Queue) Overflow() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.over = true
	if q.final == nil {
		q.final = &Event{Type: EventNotWatching, Path: q.lostPath, Err: zkerr.ErrWatchOverflow}
	}
	q.close()
}

// Close ends the stream after the events already queued.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.close()
	}
}

// close marks the end; q.mu is held.
func (q *Queue) close() {
	q.closed = true
	q.signal()
}

// endErr is what Next returns once everything was taken from a closed
// stream; q.mu is held.
func (q *Queue) endErr() error {
	switch {
	case q.final == nil:
		return fmt.Errorf("watch: ended: %w", zkerr.ErrClosed)
	case q.final.Err != nil:
		return fmt.Errorf("watch: ended: %w", q.final.Err)
	case q.final.Type != EventNotWatching:
		return fmt.Errorf("watch: removed: %w", zkerr.ErrNoWatcher)
	}
	return fmt.Errorf("watch: ended: %w", zkerr.ErrClosed)
}

// pending reports whether the final event waits to be taken; q.mu is held.
func (q *Queue) pending() bool { return q.final != nil && !q.finalTaken }

// TryNext takes the oldest event if one is queued; it never blocks. It
// returns false when nothing is queued now (the stream may have ended: Next
// tells).
func (q *Queue) TryNext() (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.take()
}

// take pops the oldest event (the final one after all others) and keeps
// Ready firing while anything is left to take or the stream has ended;
// q.mu is held.
func (q *Queue) take() (Event, bool) {
	var e Event
	switch {
	case q.n > 0:
		e = q.ring[q.head]
		q.ring[q.head] = Event{} // release its path and error
		q.head = (q.head + 1) & (len(q.ring) - 1)
		q.n--
		q.shrink()
	case q.pending():
		e, q.finalTaken = *q.final, true
	default:
		return Event{}, false
	}
	if q.n > 0 || q.pending() || q.closed {
		q.signal()
	}
	return e, true
}

// shrink gives memory back as the consumer catches up: the ring halves
// when at most a quarter of it is used, and goes entirely (beyond minRing)
// when empty; q.mu is held.
func (q *Queue) shrink() {
	switch {
	case len(q.ring) <= minRing:
		if q.n == 0 {
			q.head = 0
		}
	case q.n == 0:
		q.ring, q.head = nil, 0
	case q.n <= len(q.ring)/4:
		q.resize(len(q.ring) / 2)
	}
}

// TakeIfZxid takes the oldest queued event only if it is a change event
// (not the final one) of zxid z; it never blocks. A consumer that gathers
// the events of one transaction uses it to stop at the next one without
// taking it.
func (q *Queue) TakeIfZxid(z int64) (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 || q.ring[q.head].Zxid != z {
		return Event{}, false
	}
	return q.take()
}

// Next takes the oldest event, waiting until one is queued or ctx ends
// (an event already queued is returned even if ctx is done). After the
// final event of the stream has been taken, Next returns an error instead:
// it wraps the final event's Err (zkerr.ErrSessionExpired, zkerr.ErrClosed,
// zkerr.ErrWatchOverflow), zkerr.ErrNoWatcher after a removal, or
// zkerr.ErrClosed for a stream closed without a final event.
func (q *Queue) Next(ctx context.Context) (Event, error) {
	for {
		q.mu.Lock()
		e, ok := q.take()
		var err error
		if !ok && q.closed {
			err = q.endErr()
		}
		q.mu.Unlock()
		switch {
		case ok:
			return e, nil
		case err != nil:
			return Event{}, err
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("watch: next event: %w", context.Cause(ctx))
		}
	}
}

// Ready returns a channel that holds a value whenever Next would not wait
// (an event is queued or the stream has ended) and no caller is about to
// take it. Receive from it, then take events with TryNext until it returns
// false; it fires again when the next one arrives. A value may be stale (a
// caller took the event without receiving it): TryNext then returns false.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Len returns the number of events waiting (the final one included).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending() {
		return q.n + 1
	}
	return q.n
}

// Err returns zkerr.ErrWatchOverflow if the queue overflowed, nil otherwise.
func (q *Queue) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.over {
		return zkerr.ErrWatchOverflow
	}
	return nil
}
