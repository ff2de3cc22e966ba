package recipes

import (
	"context"
	"fmt"
	"time"

	"github.com/embedzk/zk"
)

// Mutex is Curator's InterProcessMutex: a distributed lock that excludes
// every other holder, in this process and elsewhere. Contenders queue as
// ephemeral sequential nodes ("<marker>-lock-<seq>") under the lock's path;
// the lowest holds the lock and each other one watches only its
// predecessor, so a release wakes one waiter.
//
// A Mutex shared by several goroutines excludes them as sync.Mutex does:
// Lock blocks while any goroutine holds it through this Mutex (or anyone
// else through another). Re-entrancy, which Curator ties to a thread, is
// explicit: Lease.Reenter on a held lease takes the hold again without
// waiting; the node goes when every lease of the hold is released.
type Mutex struct {
	c    *Client
	sp   spec
	slot chan struct{} // this Mutex's holder, among local goroutines

	kept keptLease // the lease Lock took, for Unlock
}

// NewMutex returns the lock at path (which need not exist: it is created
// as a container, removed by the ensemble once empty).
func NewMutex(c *Client, path string) (*Mutex, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: mutex %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("mutex", path); err != nil {
		return nil, err
	}
	m := newMutex(c, path, "lock-", []string{"lock-"}, exclusive)
	m.sp.kind = kindMutex
	return m, nil
}

// newMutex returns a Mutex whose contenders are named name in a directory
// where names are in use; one that is alone there ("lock-") follows the
// chain of its predecessors (spec.chain).
func newMutex(c *Client, path, name string, names []string, pred func([]string, int) (bool, string)) *Mutex {
	m := &Mutex{c: c, slot: make(chan struct{}, 1)}
	m.sp = spec{dir: path, name: name, names: names, data: c.id, reentrant: true, pred: pred, onDone: func() { <-m.slot },
		chain: len(names) == 1}
	return m
}

// Path returns the lock's path.
func (m *Mutex) Path() string { return m.sp.dir }

// Acquire waits until the lock is held and returns the lease. If ctx ends
// first, the attempt is withdrawn (its node deleted) and ctx's error is
// returned; if the session ends, its error (zk.ErrSessionExpired,
// zk.ErrClosed). While the session's peer is not serving, Acquire waits on
// the session's state: it does not spin.
func (m *Mutex) Acquire(ctx context.Context) (*Lease, error) {
	start := time.Now()
	if err := takeSlot(ctx, m.c, m.slot); err != nil {
		return nil, fmt.Errorf("recipes: lock %s: %w", m.sp.dir, err)
	}
	h, err := m.c.acquire(ctx, &m.sp)
	if err != nil {
		<-m.slot
		return nil, fmt.Errorf("recipes: lock %s: %w", m.sp.dir, err)
	}
	m.c.met.granted(m.sp.kind, start)
	l := h.lease()
	l.onRelease = m.kept.forget
	return l, nil
}

// Lock is Acquire for code written as with sync.Mutex: the lease is kept
// for Unlock.
func (m *Mutex) Lock(ctx context.Context) error { return m.kept.lock(ctx, m.Acquire) }

// Unlock releases the lease Lock took (see Lease.Release). Any goroutine
// may call it, as with sync.Mutex. Without a Lock it fails with
// ErrNotLocked and changes nothing.
func (m *Mutex) Unlock(ctx context.Context) error { return m.kept.unlock(ctx, m.sp.dir) }

// Participants returns the lock's holder and waiters, in queue order.
func (m *Mutex) Participants(ctx context.Context) ([]Participant, error) {
	return m.c.participants(ctx, m.sp.dir, m.sp.names, func(kids []string) []bool {
		out := make([]bool, len(kids))
		for i := range kids {
			out[i], _ = m.sp.pred(kids, i)
		}
		return out
	})
}

// takeSlot takes a lock's local slot (one acquisition at a time per
// Client), or returns why not: ctx ended or the Client did. An end that
// already happened is checked first: the select would pick at random
// between it and a free slot, and a seed's replay must not depend on it.
func takeSlot(ctx context.Context, c *Client, slot chan struct{}) error {
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case c.ctx.Err() != nil:
		return context.Cause(c.ctx)
	}
	select {
	case slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-c.ctx.Done():
		return context.Cause(c.ctx)
	}
}
