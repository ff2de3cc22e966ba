package recipes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/embedzk/zk"
)

// Locker is what a MultiLock is made of: Mutex, SemaphoreMutex, the sides
// of an RWMutex, Semaphore.
type Locker interface {
	Acquire(ctx context.Context) (*Lease, error)
}

var (
	_ Locker = (*Mutex)(nil)
	_ Locker = (*SemaphoreMutex)(nil)
	_ Locker = (*ReadLock)(nil)
	_ Locker = (*Semaphore)(nil)
)

// MultiLock is Curator's InterProcessMultiLock: several locks held as one,
// all or none. They are acquired in the order given (give every MultiLock
// the same order to avoid deadlocks) and released in reverse.
type MultiLock struct {
	locks []Locker

	mu   sync.Mutex
	held []*MultiLease
}

// NewMultiLock returns the lock made of locks (at least one).
func NewMultiLock(locks ...Locker) (*MultiLock, error) {
	if len(locks) == 0 {
		return nil, fmt.Errorf("recipes: multilock: %w: no locks", zk.ErrBadArguments)
	}
	for i, l := range locks {
		if l == nil {
			return nil, fmt.Errorf("recipes: multilock: %w: lock %d is nil", zk.ErrBadArguments, i)
		}
	}
	return &MultiLock{locks: append([]Locker(nil), locks...)}, nil
}

// Acquire takes every lock in order. If one fails (or ctx ends), those
// already taken are released, in reverse, and the error is returned.
func (m *MultiLock) Acquire(ctx context.Context) (*MultiLease, error) {
	var got []*Lease
	for i, l := range m.locks {
		lease, err := l.Acquire(ctx)
		if err != nil {
			for j := len(got) - 1; j >= 0; j-- {
				giveBack(got[j])
			}
			return nil, fmt.Errorf("recipes: multilock, lock %d: %w", i, err)
		}
		got = append(got, lease)
	}
	return newMultiLease(got), nil
}

// Lock is Acquire keeping the lease for Unlock.
func (m *MultiLock) Lock(ctx context.Context) error {
	ml, err := m.Acquire(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.held = append(m.held, ml)
	m.mu.Unlock()
	return nil
}

// Unlock releases the newest lease Lock took; without one it fails with
// ErrNotLocked.
func (m *MultiLock) Unlock(ctx context.Context) error {
	m.mu.Lock()
	var ml *MultiLease
	if n := len(m.held); n > 0 {
		ml = m.held[n-1]
		m.held = m.held[:n-1]
	}
	m.mu.Unlock()
	if ml == nil {
		return fmt.Errorf("recipes: multilock unlock: %w", ErrNotLocked)
	}
	return ml.Release(ctx)
}

// MultiLease holds every lock of a MultiLock.
type MultiLease struct {
	leases   []*Lease
	ctx      context.Context
	cancel   context.CancelCauseFunc
	stops    []func() bool
	released atomic.Bool
}

func newMultiLease(leases []*Lease) *MultiLease {
	ctx, cancel := context.WithCancelCause(context.Background())
	ml := &MultiLease{leases: leases, ctx: ctx, cancel: cancel}
	for _, l := range leases {
		l := l
		ml.stops = append(ml.stops, context.AfterFunc(l.Context(), func() { cancel(context.Cause(l.Context())) }))
	}
	return ml
}

// Context is cancelled as soon as any of the holds may be lost.
func (ml *MultiLease) Context() context.Context { return ml.ctx }

// Err returns nil while every hold holds, else why one ended.
func (ml *MultiLease) Err() error {
	for _, l := range ml.leases {
		if err := l.Err(); err != nil {
			ml.cancel(err)
			return err
		}
	}
	if ml.ctx.Err() != nil {
		return context.Cause(ml.ctx)
	}
	return nil
}

// Leases returns the member leases, in the MultiLock's order.
func (ml *MultiLease) Leases() []*Lease { return append([]*Lease(nil), ml.leases...) }

// Tokens returns the members' fencing tokens, in the MultiLock's order.
func (ml *MultiLease) Tokens() []int64 {
	out := make([]int64, len(ml.leases))
	for i, l := range ml.leases {
		out[i] = l.Token()
	}
	return out
}

// Release releases every member in reverse order (all of them, whatever
// happens); releasing twice fails with ErrNotLocked.
func (ml *MultiLease) Release(ctx context.Context) error {
	if !ml.released.CompareAndSwap(false, true) {
		return fmt.Errorf("recipes: multilock release: %w", ErrNotLocked)
	}
	for _, stop := range ml.stops {
		stop()
	}
	ml.cancel(ErrReleased)
	var errs []error
	for i := len(ml.leases) - 1; i >= 0; i-- {
		if err := ml.leases[i].Release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
