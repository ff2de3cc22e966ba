package recipes

import (
	"context"
	"fmt"
	"sync"

	"github.com/embedzk/zk"
)

// LeaderSelector is Curator's LeaderSelector: participants queue for a
// Mutex at path; the holder leads for as long as its take-leadership
// function runs. The function's context is cancelled when leadership may
// be lost or the selector closes: it must then return. When it returns,
// leadership is released (passed on); the participant queues again if
// AutoRequeue was set or Requeue is called.
type LeaderSelector struct {
	m  *Mutex
	fn func(ctx context.Context, lease *Lease) error

	mu     sync.Mutex
	state  runState
	auto   bool
	queued bool
	lease  *Lease
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// NewLeaderSelector returns a selector at path for the participant id,
// which leads by running fn.
func NewLeaderSelector(c *Client, path, id string, fn func(ctx context.Context, lease *Lease) error) (*LeaderSelector, error) {
	if c == nil || fn == nil {
		return nil, fmt.Errorf("recipes: leader selector %s: %w: nil Client or function", path, zk.ErrBadArguments)
	}
	if err := checkPath("leader selector", path); err != nil {
		return nil, err
	}
	m := newMutex(c, path, "lock-", []string{"lock-"}, exclusive)
	m.sp.data = []byte(id)
	m.sp.kind = kindSelector
	s := &LeaderSelector{m: m, fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// AutoRequeue makes the participant queue again each time its leadership
// ends.
func (s *LeaderSelector) AutoRequeue() {
	s.mu.Lock()
	s.auto = true
	s.mu.Unlock()
}

// Start queues the participant; it returns at once.
func (s *LeaderSelector) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case started:
		return fmt.Errorf("recipes: leader selector %s: %w", s.m.Path(), ErrAlreadyStarted)
	case closed:
		return fmt.Errorf("recipes: leader selector %s: %w", s.m.Path(), zk.ErrClosed)
	}
	s.state, s.queued = started, true
	go s.run()
	return nil
}

// Requeue queues the participant again, if it is neither queued nor
// leading; it reports whether it did.
func (s *LeaderSelector) Requeue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != started || s.queued || s.lease != nil {
		return false
	}
	s.queued = true
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// HasLeadership reports whether this participant leads now.
func (s *LeaderSelector) HasLeadership() bool {
	s.mu.Lock()
	lease := s.lease
	s.mu.Unlock()
	return lease != nil && lease.Err() == nil
}

func (s *LeaderSelector) run() {
	defer close(s.done)
	var b backoff
	for {
		s.mu.Lock()
		queued := s.queued
		s.mu.Unlock()
		if !queued {
			select {
			case <-s.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		lease, err := s.m.Acquire(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil || s.m.c.Err() != nil || s.m.c.pause(s.ctx, &b) != nil {
				return
			}
			continue
		}
		if !s.lead(lease) {
			return // closing: Close releases the lease
		}
	}
}

// lead runs the take-leadership function for one term; it reports false
// if the selector is closing.
func (s *LeaderSelector) lead(lease *Lease) bool {
	s.mu.Lock()
	s.lease, s.queued = lease, false
	s.mu.Unlock()
	ctx, cancel := context.WithCancelCause(lease.Context())
	stop := context.AfterFunc(s.ctx, func() { cancel(zk.ErrClosed) })
	_ = s.fn(ctx, lease) // its error ends the term like a return
	stop()
	cancel(nil)
	if s.ctx.Err() != nil {
		return false
	}
	lease.Release(s.ctx)
	s.mu.Lock()
	s.lease = nil
	s.queued = s.auto
	s.mu.Unlock()
	return true
}

// Close leaves the election: a running take-leadership function sees its
// context cancelled and is waited for, then leadership is released (its
// node deleted, guaranteed). Closing twice does nothing.
func (s *LeaderSelector) Close(ctx context.Context) error {
	s.mu.Lock()
	st := s.state
	s.state = closed
	s.mu.Unlock()
	if st == closed {
		return nil
	}
	s.cancel()
	if st == started {
		<-s.done
	}
	s.mu.Lock()
	lease := s.lease
	s.lease = nil
	s.mu.Unlock()
	if lease != nil {
		lease.Release(ctx)
	}
	return nil
}

// Participants returns the participants in queue order; the first leads.
func (s *LeaderSelector) Participants(ctx context.Context) ([]Participant, error) {
	return s.m.Participants(ctx)
}

// Leader returns the participant that leads, if any.
func (s *LeaderSelector) Leader(ctx context.Context) (Participant, bool, error) {
	return firstHolder(s.m.Participants(ctx))
}
