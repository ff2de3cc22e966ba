package recipes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/embedzk/zk"
)

// Errors of the leader recipes' life cycle.
var (
	ErrNotStarted     = errors.New("recipes: not started")
	ErrAlreadyStarted = errors.New("recipes: already started")
)

type runState uint8

const (
	latent runState = iota
	started
	closed
)

// LeaderLatch is Curator's LeaderLatch: participants queue as ephemeral
// sequential nodes ("<marker>-latch-<seq>", their id as data); the first
// leads and each other one watches its predecessor. Leadership lasts until
// the latch is closed (which hands it on), its node is deleted, or the
// session may be lost: then the lease's context is cancelled and the
// listeners told. After a disconnection the latch keeps its node and leads
// again, with the same token, if it is still first; if its node went, it
// queues again with a new one.
type LeaderLatch struct {
	c  *Client
	sp spec

	mu        sync.Mutex
	state     runState
	lease     *Lease // the current term
	node      string // our node, kept between terms
	listeners []func(isLeader bool)
	closeMode LatchCloseMode
	changed   chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
}

// LatchCloseMode says whether closing a LeaderLatch tells its listeners
// (Curator's LeaderLatch.CloseMode).
type LatchCloseMode int

const (
	// CloseSilent: Close tells no listener, and drops them (Curator's
	// default, SILENT). The lease's context ends all the same.
	CloseSilent LatchCloseMode = iota
	// CloseNotifyLeader: a leader's listeners hear false from Close,
	// before the next participant can lead (Curator's NOTIFY_LEADER).
	CloseNotifyLeader
)

// LatchOption configures a LeaderLatch.
type LatchOption func(*LeaderLatch)

// WithCloseMode sets what Close tells the listeners; CloseSilent by
// default, as in Curator.
func WithCloseMode(m LatchCloseMode) LatchOption { return func(l *LeaderLatch) { l.closeMode = m } }

// NewLeaderLatch returns a latch at path for the participant id.
func NewLeaderLatch(c *Client, path, id string, opts ...LatchOption) (*LeaderLatch, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: leader latch %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("leader latch", path); err != nil {
		return nil, err
	}
	l := &LeaderLatch{c: c, changed: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	if l.closeMode != CloseSilent && l.closeMode != CloseNotifyLeader {
		return nil, fmt.Errorf("recipes: leader latch %s: %w: close mode %d", path, zk.ErrBadArguments, l.closeMode)
	}
	l.sp = spec{dir: path, name: "latch-", names: []string{"latch-"}, data: []byte(id), pred: exclusive, chain: true,
		kind: kindLatch}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l, nil
}

// AddListener adds fn, called with true when this participant gains
// leadership and false when it loses it, in order, on the latch's
// goroutine: keep it short.
func (l *LeaderLatch) AddListener(fn func(isLeader bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.listeners = append(l.listeners, fn)
}

// Start joins the election; it returns at once.
func (l *LeaderLatch) Start() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case started:
		return fmt.Errorf("recipes: leader latch %s: %w", l.sp.dir, ErrAlreadyStarted)
	case closed:
		return fmt.Errorf("recipes: leader latch %s: %w", l.sp.dir, zk.ErrClosed)
	}
	l.state = started
	go l.run()
	return nil
}

// Await waits until this participant leads and returns the term's lease:
// its context ends when leadership may be lost.
func (l *LeaderLatch) Await(ctx context.Context) (*Lease, error) {
	for {
		l.mu.Lock()
		lease, ch, st := l.lease, l.changed, l.state
		l.mu.Unlock()
		switch {
		case st == latent:
			return nil, fmt.Errorf("recipes: leader latch %s: %w", l.sp.dir, ErrNotStarted)
		case st == closed:
			return nil, fmt.Errorf("recipes: leader latch %s: %w", l.sp.dir, zk.ErrClosed)
		case lease != nil && lease.Err() == nil:
			return lease, nil
		}
		select {
		case <-ch:
		case <-l.done: // the latch stopped: closed, or its Client ended
			err := l.c.Err()
			if err == nil {
				err = zk.ErrClosed
			}
			return nil, fmt.Errorf("recipes: leader latch %s: %w", l.sp.dir, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("recipes: leader latch %s: %w", l.sp.dir, context.Cause(ctx))
		}
	}
}

// HasLeadership reports whether this participant leads now.
func (l *LeaderLatch) HasLeadership() bool { return l.Leadership() != nil }

// Leadership returns the current term's lease, or nil.
func (l *LeaderLatch) Leadership() *Lease {
	l.mu.Lock()
	lease := l.lease
	l.mu.Unlock()
	if lease == nil || lease.Err() != nil {
		return nil
	}
	return lease
}

// run takes terms until the latch is closed or its Client ends.
func (l *LeaderLatch) run() {
	defer close(l.done)
	var b backoff
	for l.ctx.Err() == nil {
		h, err := l.term()
		if err != nil {
			if l.ctx.Err() != nil || l.c.Err() != nil || l.c.pause(l.ctx, &b) != nil {
				return
			}
			continue
		}
		lease := h.lease()
		l.set(lease)
		select {
		case <-lease.Context().Done():
		case <-l.ctx.Done():
			return // Close releases it
		}
		l.set(nil)
		if errors.Is(lease.Err(), zk.ErrNoNode) || errors.Is(lease.Err(), ErrReleased) {
			lease.Release(l.ctx)
			l.mu.Lock()
			l.node = ""
			l.mu.Unlock()
		}
	}
}

// term waits for one term of leadership on our node (made if needed).
func (l *LeaderLatch) term() (*hold, error) {
	start := time.Now()
	ctx, done, err := l.c.begin(l.ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	l.mu.Lock()
	node := l.node
	l.mu.Unlock()
	if node == "" {
		if node, err = l.c.create(ctx, &l.sp, ""); err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.node = node
		l.mu.Unlock()
	}
	h, err := l.c.await(ctx, &l.sp, node)
	if errors.Is(err, errNodeGone) {
		l.c.withdraw(node)
		l.mu.Lock()
		l.node = ""
		l.mu.Unlock()
	}
	if err == nil {
		l.c.met.granted(l.sp.kind, start)
	}
	return h, err
}

// set records the current term and tells the listeners of a change.
func (l *LeaderLatch) set(lease *Lease) {
	l.mu.Lock()
	was := l.lease != nil
	l.lease = lease
	close(l.changed)
	l.changed = make(chan struct{})
	fns := append([]func(bool){}, l.listeners...)
	l.mu.Unlock()
	if now := lease != nil; now != was {
		for _, fn := range fns {
			fn(now)
		}
	}
}

// Close leaves the election: the latch's node is deleted (guaranteed), so
// leadership passes to the next participant, and the lease's context ends.
// With CloseNotifyLeader the listeners hear false if this one led; by
// default (CloseSilent) they hear nothing. Closing twice does nothing.
func (l *LeaderLatch) Close(ctx context.Context) error {
	l.mu.Lock()
	st := l.state
	l.state = closed
	l.mu.Unlock()
	if st == closed {
		return nil
	}
	l.cancel()
	if st == started {
		<-l.done
	}
	l.mu.Lock()
	lease, node := l.lease, l.node
	l.node = ""
	if l.closeMode == CloseSilent {
		l.listeners = nil
	}
	l.mu.Unlock()
	if lease != nil {
		// The listeners hear of the end before the next leader can lead.
		lease.h.ctx.cancel(ErrReleased)
		l.set(nil)
		lease.Release(ctx)
	} else if node != "" {
		l.c.deleteNode(ctx, node)
	}
	l.set(nil)
	return nil
}

// Participants returns the participants in queue order; the first leads.
func (l *LeaderLatch) Participants(ctx context.Context) ([]Participant, error) {
	return l.c.participants(ctx, l.sp.dir, l.sp.names, func(kids []string) []bool {
		out := make([]bool, len(kids))
		if len(out) > 0 {
			out[0] = true
		}
		return out
	})
}

// Leader returns the participant that leads, if any.
func (l *LeaderLatch) Leader(ctx context.Context) (Participant, bool, error) {
	return firstHolder(l.Participants(ctx))
}

func firstHolder(ps []Participant, err error) (Participant, bool, error) {
	if err != nil {
		return Participant{}, false, err
	}
	for _, p := range ps {
		if p.Holder {
			return p, true, nil
		}
	}
	return Participant{}, false, nil
}
