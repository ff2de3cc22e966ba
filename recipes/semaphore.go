package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/embedzk/zk"
)

// Semaphore is Curator's InterProcessSemaphoreV2: at most n leases held at
// once, across processes. A contender takes the admission lock at
// path/locks (a Mutex: contenders queue there, watching their predecessor),
// creates its lease node at path/leases ("<marker>-lease-<seq>") and, while
// more than n lease nodes exist, waits for one to go; then it releases the
// admission lock. A lease is returned by Release, or lost with its session.
// As in Curator, n is a convention every user of the path must share.
type Semaphore struct {
	c      *Client
	path   string
	n      int
	lock   *Mutex // admission: one contender at a time
	leases spec
	// kind labels the metrics of the leases, set once granted (a lease
	// node granted too late to be an admission is not measured).
	kind string
}

// NewSemaphore returns the semaphore of n leases at path. n must be at
// least 1.
func NewSemaphore(c *Client, path string, n int) (*Semaphore, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: semaphore %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("semaphore", path); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("recipes: semaphore %s: %w: %d leases (at least 1)", path, zk.ErrBadArguments, n)
	}
	s := newSemaphore(c, path, n, nil)
	s.kind = kindSemaphore
	return s, nil
}

func newSemaphore(c *Client, path string, n int, onDone func()) *Semaphore {
	return &Semaphore{
		c: c, path: path, n: n,
		lock:   newMutex(c, path+"/locks", "lock-", []string{"lock-"}, exclusive),
		leases: spec{dir: path + "/leases", name: "lease-", names: []string{"lease-"}, data: c.id, onDone: onDone},
	}
}

// Acquire waits for a lease (see Mutex.Acquire for ctx and errors).
func (s *Semaphore) Acquire(ctx context.Context) (*Lease, error) {
	h, err := s.acquire(ctx, time.Now())
	if err != nil {
		return nil, fmt.Errorf("recipes: semaphore %s: %w", s.path, err)
	}
	return h.lease(), nil
}

// AcquireN waits for qty leases, all or none: if one cannot be had before
// ctx ends, those already taken are returned. qty must be in [1, n].
func (s *Semaphore) AcquireN(ctx context.Context, qty int) ([]*Lease, error) {
	if qty < 1 || qty > s.n {
		return nil, fmt.Errorf("recipes: semaphore %s: %w: %d leases of %d", s.path, zk.ErrBadArguments, qty, s.n)
	}
	var got []*Lease
	for len(got) < qty {
		h, err := s.acquire(ctx, time.Now())
		if err != nil {
			for i := len(got) - 1; i >= 0; i-- {
				giveBack(got[i])
			}
			return nil, fmt.Errorf("recipes: semaphore %s: %w", s.path, err)
		}
		got = append(got, h.lease())
	}
	return got, nil
}

// acquire waits for a lease; the wait, for the metrics, began at start.
func (s *Semaphore) acquire(ctx context.Context, start time.Time) (*hold, error) {
	actx, done, err := s.c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	for {
		inner, err := s.lock.Acquire(actx)
		if err != nil {
			return nil, err
		}
		h, err := s.admit(actx, inner)
		giveBack(inner)
		if err == nil && h.ctx.Err() != nil {
			// Lost while the admission lock was given back (the session
			// went, say): a lease already lost is no acquisition.
			s.c.withdraw(h.node)
			err = errRetry
		}
		if err == nil {
			s.c.measureLate(h, s.kind, start)
		}
		if !errors.Is(err, errRetry) {
			return h, err
		}
	}
}

// errAdmission: the admission lock was lost before the lease was granted.
var errAdmission = errors.New("recipes: admission lock lost")

// admit creates a lease node under the admission lock and waits for room.
func (s *Semaphore) admit(ctx context.Context, inner *Lease) (*hold, error) {
	node, err := s.c.create(ctx, &s.leases, "")
	if err != nil {
		return nil, err
	}
	h, err := s.awaitRoom(ctx, node, inner)
	if err == nil && inner.Err() != nil {
		// Granted too late: the admission was not ours any more.
		h.lose(fmt.Errorf("%w: %w", ErrLockLost, errAdmission))
		s.c.withdraw(node)
		return nil, errRetry
	}
	if err != nil {
		s.c.withdraw(node)
		if (errors.Is(err, errNodeGone) || errors.Is(err, errAdmission)) && ctx.Err() == nil {
			return nil, errRetry
		}
	}
	return h, err
}

// awaitRoom waits until at most n lease nodes exist, ours included.
func (s *Semaphore) awaitRoom(ctx context.Context, node string, inner *Lease) (*hold, error) {
	name := node[len(s.leases.dir)+1:]
	var b backoff
	for {
		changed := s.c.changedC()
		kids, _, ch, err := s.c.conn.ChildrenW(ctx, s.leases.dir)
		if err == nil {
			if !slices.Contains(kids, name) {
				return nil, errNodeGone
			}
			if inner.Err() != nil {
				return nil, errAdmission
			}
			if len(kids) <= s.n {
				h, err := s.c.grant(ctx, &s.leases, node, &b)
				if !errors.Is(err, errRetry) {
					return h, err
				}
				continue
			}
			select {
			case <-ch:
			case <-changed:
			case <-inner.Context().Done():
				return nil, errAdmission
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
			continue
		}
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case errors.Is(err, zk.ErrNoNode):
			return nil, errNodeGone
		case !transient(err):
			return nil, err
		}
		if err := s.c.pause(ctx, &b); err != nil {
			return nil, err
		}
	}
}

// Participants returns the lease holders (Kind "lease"; the newest may be
// still waiting for room) then the contenders queued for admission (Kind
// "lock"; the first is being admitted).
func (s *Semaphore) Participants(ctx context.Context) ([]Participant, error) {
	leases, err := s.c.participants(ctx, s.leases.dir, s.leases.names, func(kids []string) []bool {
		out := make([]bool, len(kids))
		for i := range out {
			out[i] = i < s.n
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	queue, err := s.lock.Participants(ctx)
	for i := range queue {
		queue[i].Holder = false
	}
	return append(leases, queue...), err
}

// SemaphoreMutex is Curator's InterProcessSemaphoreMutex: an exclusive
// lock that is not re-entrant, built on a Semaphore of one lease. Shared
// by several goroutines it excludes them, as sync.Mutex does.
type SemaphoreMutex struct {
	sem  *Semaphore
	slot chan struct{}
	kept keptLease // the lease Lock took, for Unlock
}

// NewSemaphoreMutex returns the lock at path.
func NewSemaphoreMutex(c *Client, path string) (*SemaphoreMutex, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: semaphore mutex %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("semaphore mutex", path); err != nil {
		return nil, err
	}
	m := &SemaphoreMutex{slot: make(chan struct{}, 1)}
	m.sem = newSemaphore(c, path, 1, func() { <-m.slot })
	m.sem.kind = kindSemaphoreMutex
	return m, nil
}

// Acquire waits until the lock is held (see Mutex.Acquire). Its lease
// cannot be re-entered.
func (m *SemaphoreMutex) Acquire(ctx context.Context) (*Lease, error) {
	start := time.Now()
	if err := takeSlot(ctx, m.sem.c, m.slot); err != nil {
		return nil, fmt.Errorf("recipes: lock %s: %w", m.sem.path, err)
	}
	h, err := m.sem.acquire(ctx, start)
	if err != nil {
		<-m.slot
		return nil, fmt.Errorf("recipes: lock %s: %w", m.sem.path, err)
	}
	l := h.lease()
	l.onRelease = m.kept.forget
	return l, nil
}

// Lock is Acquire keeping the lease for Unlock.
func (m *SemaphoreMutex) Lock(ctx context.Context) error { return m.kept.lock(ctx, m.Acquire) }

// Unlock releases the lease Lock took; without one it fails with
// ErrNotLocked.
func (m *SemaphoreMutex) Unlock(ctx context.Context) error { return m.kept.unlock(ctx, m.sem.path) }

// Participants returns the holder and the waiters (see
// Semaphore.Participants).
func (m *SemaphoreMutex) Participants(ctx context.Context) ([]Participant, error) {
	return m.sem.Participants(ctx)
}
