package session

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
)

// Sequencer hands out tickets in issue order and releases completions in
// ticket order: it is how the replies of one session are given back in the
// order its calls were issued (ZooKeeper's per-session FIFO), even when they
// complete out of order.
//
// A caller takes a ticket with Issue before it starts a call, Waits for its
// ticket once the call completed, hands its reply back, then calls Done. Every
// issued ticket must be Done exactly once, even when its Wait failed or its
// call was abandoned: a ticket never Done holds back every later one.
//
// The zero value is ready to use; tickets start at 1. A Sequencer is safe for
// concurrent use. Wait on a ticket whose predecessors are all Done costs two
// atomic loads and no lock or channel operation.
type Sequencer struct {
	issued  atomic.Uint64 // last ticket issued
	through atomic.Uint64 // every ticket <= through is Done

	mu       sync.Mutex
	finished map[uint64]struct{}      // Done tickets > through+1
	waiters  map[uint64]chan struct{} // ticket -> closed when through+1 >= ticket
}

// Issue returns the next ticket.
func (s *Sequencer) Issue() uint64 { return s.issued.Add(1) }

// Issued returns the last ticket issued (0: none).
func (s *Sequencer) Issued() uint64 { return s.issued.Load() }

// Through returns the highest ticket t such that every ticket up to t is
// Done (0: none).
func (s *Sequencer) Through() uint64 { return s.through.Load() }

// Wait returns nil once every ticket before ticket is Done, or ctx's error if
// ctx ends first (a ticket that is ready wins over an ended ctx).
func (s *Sequencer) Wait(ctx context.Context, ticket uint64) error {
	if s.through.Load()+1 >= ticket {
		return nil
	}
	s.mu.Lock()
	if s.through.Load()+1 >= ticket {
		s.mu.Unlock()
		return nil
	}
	if s.waiters == nil {
		s.waiters = make(map[uint64]chan struct{})
	}
	ch := s.waiters[ticket]
	if ch == nil {
		ch = make(chan struct{})
		s.waiters[ticket] = ch
	}
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		select {
		case <-ch:
			return nil
		default:
			return ctx.Err()
		}
	}
}

// Done marks ticket complete and releases the waiters it unblocks. It panics
// if ticket was never issued or is already Done.
func (s *Sequencer) Done(ticket uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ticket == 0 || ticket > s.issued.Load() {
		panic("session: Sequencer.Done of ticket " + strconv.FormatUint(ticket, 10) + " never issued")
	}
	old := s.through.Load()
	if _, dup := s.finished[ticket]; dup || ticket <= old {
		panic("session: Sequencer.Done of ticket " + strconv.FormatUint(ticket, 10) + " twice")
	}
	if ticket != old+1 {
		if s.finished == nil {
			s.finished = make(map[uint64]struct{})
		}
		s.finished[ticket] = struct{}{}
		return
	}
	through := ticket
	for {
		if _, ok := s.finished[through+1]; !ok {
			break
		}
		delete(s.finished, through+1)
		through++
	}
	s.through.Store(through)
	if len(s.waiters) == 0 {
		return
	}
	// Tickets old+2 .. through+1 just became ready.
	for t := old + 2; t <= through+1; t++ {
		if ch, ok := s.waiters[t]; ok {
			close(ch)
			delete(s.waiters, t)
		}
	}
}
