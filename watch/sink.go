package watch

import (
	"sync/atomic"

	"github.com/embedzk/zk/internal/zkerr"
)

// Sink receives the events of one registration.
//
// The Manager calls a Sink with its lock held, so all calls into one Sink are
// serialized. A Sink must never block and must never call back into the
// Manager.
//
// Deliver returns false if the sink cannot take the event (its bounded buffer
// is full). The Manager then removes the registration and calls Overflow
// exactly once; the sink tells its consumer (ChanSink closes its channel
// after the buffered events, with Err = zkerr.ErrWatchOverflow).
//
// Close is called exactly once when the registration ends for any other
// reason (a one-shot watch fired, a removal, its session ended), after its
// last Deliver. After Close or Overflow the Manager never calls the Sink
// again.
type Sink interface {
	Deliver(Event) bool
	Overflow()
	Close()
}

// ChangeSink is a Sink that learns which change raised each event it gets
// from Trigger: the Manager numbers the changes it triggers, and every
// event of one change comes with the change's number, even within one
// multi (where the changes share a zxid). A receiver that merges the events
// several of its registrations get from one change, as a ZooKeeper client
// connection does (one event per change, path and type), merges by it.
// Events not raised by Trigger (removals, EventNotWatching) come through
// Deliver.
type ChangeSink interface {
	Sink
	DeliverChange(ev Event, change uint64) bool
}

// ChanSink is a Sink backed by a buffered channel. It holds up to n watch
// events, plus one reserved slot for the event that ends the registration
// (a removal event, EventNotWatching), so that the consumer always learns why
// its watch ended even when the buffer is full.
//
// Deliver never blocks. Close closes the channel after the buffered events.
// Overflow appends Event{Type: EventNotWatching, Path: the path of the event
// that did not fit, Err: zkerr.ErrWatchOverflow} in the reserved slot and then
// closes the channel; Err reports zkerr.ErrWatchOverflow from then on.
//
// The Manager serializes Deliver, Overflow and Close (they run under its
// lock); C and Err may be used from any goroutine.
type ChanSink struct {
	ch         chan Event
	n          int
	done       bool   // Close or Overflow happened; touched by the serialized side only
	lostPath   string // path of the first event that did not fit
	overflowed atomic.Bool
}

// NewChanSink returns a ChanSink that buffers n events (1 is enough for a
// one-shot watch). It panics if n < 1.
func NewChanSink(n int) *ChanSink {
	if n < 1 {
		panic("watch: NewChanSink: capacity must be at least 1")
	}
	return &ChanSink{ch: make(chan Event, n+1), n: n}
}

// C returns the channel of events. It is closed after the last event.
func (s *ChanSink) C() <-chan Event { return s.ch }

// Err returns zkerr.ErrWatchOverflow if the sink overflowed, nil otherwise.
func (s *ChanSink) Err() error {
	if s.overflowed.Load() {
		return zkerr.ErrWatchOverflow
	}
	return nil
}

// Deliver queues e if there is room. Only this side sends on the channel and
// the consumer only takes from it, so len(s.ch) can only shrink concurrently
// and the check below never lets a send block.
func (s *ChanSink) Deliver(e Event) bool {
	if s.done {
		return false
	}
	limit := s.n
	if e.Type.terminal() {
		limit = s.n + 1
	}
	if len(s.ch) >= limit {
		if s.lostPath == "" {
			s.lostPath = e.Path
		}
		return false
	}
	s.ch <- e
	return true
}

// Overflow records the overflow, queues the EventNotWatching that reports it
// and closes the channel.
func (s *ChanSink) Overflow() {
	if s.done {
		return
	}
	s.done = true
	s.overflowed.Store(true)
	ev := Event{Type: EventNotWatching, Path: s.lostPath, Err: zkerr.ErrWatchOverflow}
	if len(s.ch) < s.n+1 {
		s.ch <- ev
	}
	close(s.ch)
}

// Close closes the channel after the buffered events.
func (s *ChanSink) Close() {
	if s.done {
		return
	}
	s.done = true
	close(s.ch)
}
