package recipes

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk"
)

// Lease is one hold of a lock, a semaphore lease or a leadership: what an
// acquisition returns. Its context is cancelled as soon as the holder may
// have lost what it holds (see the package documentation); its token
// fences a resource against stale holders. Release it when done, also
// after a loss: that deletes its node if it is still there.
type Lease struct {
	h         *hold
	released  atomic.Bool
	onRelease func(*Lease) // the recipe forgets the lease
}

// Context returns a context cancelled when the hold may be lost (its cause,
// context.Cause, wraps ErrLockLost and the reason) or when it is released
// (ErrReleased). Derive the contexts of the work done under the hold from
// it. Err checks the session synchronously, so it may report a loss a
// moment before Done is closed, never after.
func (l *Lease) Context() context.Context { return l.h.ctx }

// Token returns the fencing token: the zxid that created the holder's node.
// Successive holders of an exclusive lock have strictly increasing tokens,
// so a resource that remembers the highest token it saw can refuse a stale
// holder. Re-entered leases share their hold's token.
func (l *Lease) Token() int64 { return l.h.token }

// Node returns the path of the holder's node.
func (l *Lease) Node() string { return l.h.node }

// Acquired returns when this process saw the hold granted.
func (l *Lease) Acquired() time.Time { return l.h.since }

// Err returns nil while the lease holds, else why it ended.
func (l *Lease) Err() error {
	if l.h.ctx.Err() == nil {
		return nil
	}
	return context.Cause(l.h.ctx)
}

// Reenter takes the hold again, as a thread re-enters Curator's
// InterProcessMutex: it never waits, and returns a lease with the same
// context and token. The node is deleted when every lease of the hold is
// released. It fails with ErrNotReentrant for recipes that are not
// re-entrant, and with the loss if the hold is lost.
func (l *Lease) Reenter() (*Lease, error) {
	if l.released.Load() {
		return nil, fmt.Errorf("recipes: reenter %s: %w", l.h.node, ErrNotLocked)
	}
	if !l.h.reentrant {
		return nil, fmt.Errorf("recipes: reenter %s: %w", l.h.node, ErrNotReentrant)
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("recipes: reenter %s: %w", l.h.node, err)
	}
	l.h.mu.Lock()
	defer l.h.mu.Unlock()
	if l.h.refs == 0 {
		return nil, fmt.Errorf("recipes: reenter %s: %w", l.h.node, ErrNotLocked)
	}
	l.h.refs++
	return &Lease{h: l.h}, nil
}

// Release gives the lease back. The last lease of a hold cancels its
// context and deletes its node, guaranteed: retried while ctx lasts, then
// in the background until it happens or the session ends. Releasing twice
// fails with ErrNotLocked.
func (l *Lease) Release(ctx context.Context) error {
	if l == nil || !l.released.CompareAndSwap(false, true) {
		return fmt.Errorf("recipes: release: %w", ErrNotLocked)
	}
	if l.onRelease != nil {
		l.onRelease(l)
	}
	l.h.unref(ctx)
	return nil
}

// hold is one node held: one acquisition, shared by re-entered leases.
type hold struct {
	c         *Client
	node      string
	token     int64
	since     time.Time
	ctx       *leaseCtx
	reentrant bool
	onDone    func() // after the final release (a Mutex's local slot)
	kind      string // the recipe's, for the metrics ("": not measured); guarded by c.mu once registered

	mu   sync.Mutex
	refs int
}

// leaseCtx is a lease's context: a cancel context whose Err also checks the
// session at the moment it is called, so that a loss the Client has not
// processed yet is reported at once.
type leaseCtx struct {
	context.Context
	cancel context.CancelCauseFunc
	c      *Client
}

func (x *leaseCtx) Err() error {
	if err := x.Context.Err(); err != nil {
		return err
	}
	if cause := x.c.lossNow(); cause != nil {
		x.cancel(cause)
	}
	return x.Context.Err()
}

func newHold(c *Client, node string, token int64, reentrant bool, onDone func()) *hold {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &hold{
		c: c, node: node, token: token, since: time.Now(), reentrant: reentrant, onDone: onDone,
		ctx: &leaseCtx{Context: ctx, cancel: cancel, c: c}, refs: 1,
	}
}

func (h *hold) lease() *Lease { return &Lease{h: h} }

// lose ends the hold with cause (the node stays until released).
func (h *hold) lose(cause error) {
	// The loss is recorded (with its reason) before the lease's context
	// ends: whoever wakes on that end and releases the lease, as a leader
	// latch does, must find the hold dropped already, not drop it first as
	// a release.
	h.c.unregister(h, cause)
	h.ctx.cancel(cause)
}

// unref drops one lease; the last one releases the hold.
func (h *hold) unref(ctx context.Context) {
	h.mu.Lock()
	h.refs--
	last := h.refs == 0
	h.mu.Unlock()
	if !last {
		return
	}
	h.ctx.cancel(ErrReleased)
	h.c.unregister(h, nil)
	h.c.deleteNode(ctx, h.node)
	if h.onDone != nil {
		h.onDone()
	}
}

// watch follows the held node until the hold ends: its deletion, or the end
// of the session, loses the hold.
func (h *hold) watch(ch <-chan zk.Event) {
	defer h.c.wg.Done()
	for {
		select {
		case ev, ok := <-ch:
			switch {
			case ok && ev.Type == zk.EventNodeDeleted:
				h.lose(fmt.Errorf("%w: node %s deleted: %w", ErrLockLost, h.node, zk.ErrNoNode))
				return
			case ok && ev.Type == zk.EventNotWatching:
				h.lose(fmt.Errorf("%w: watch on %s ended: %w", ErrLockLost, h.node, ev.Err))
				return
			}
			if h.ctx.Context.Err() != nil {
				return
			}
			exists, st, next, err := h.c.conn.ExistsW(h.ctx, h.node)
			switch {
			case err != nil:
				h.lose(fmt.Errorf("%w: watching %s: %w", ErrLockLost, h.node, err))
				return
			case !exists || st.EphemeralOwner != h.c.conn.ID():
				h.lose(fmt.Errorf("%w: node %s deleted: %w", ErrLockLost, h.node, zk.ErrNoNode))
				return
			}
			ch = next
		case <-h.ctx.Done():
			return
		}
	}
}
