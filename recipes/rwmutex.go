package recipes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/embedzk/zk"
)

// Lock names of RWMutex nodes, Curator's (of equal length: they sort by
// the sequence after them).
const (
	readName  = "__READ__"
	writeName = "__WRIT__"
)

var rwNames = []string{readName, writeName}

// RWMutex is Curator's InterProcessReadWriteLock: readers share, a writer
// excludes readers and writers. Readers and writers queue together in
// order, so a waiting writer is not starved: readers that come after it
// wait for it. Both sides are re-entrant (Lease.Reenter), and the write
// holder may take the read lock (ReadLock.AcquireHolding), which lets it
// downgrade: take the read lock, then release the write lock.
type RWMutex struct {
	path string
	w    *Mutex
	r    *ReadLock
}

// NewRWMutex returns the read-write lock at path.
func NewRWMutex(c *Client, path string) (*RWMutex, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: rwmutex %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("rwmutex", path); err != nil {
		return nil, err
	}
	rw := &RWMutex{path: path, w: newMutex(c, path, writeName, rwNames, exclusive)}
	rw.w.sp.kind = kindWrite
	rw.r = &ReadLock{rw: rw, c: c, sp: spec{dir: path, name: readName, names: rwNames, data: c.id, reentrant: true,
		pred: readPred, kind: kindRead}}
	return rw, nil
}

// readPred grants a reader no writer precedes; it watches the nearest one.
func readPred(kids []string, ours int) (bool, string) {
	for j := ours - 1; j >= 0; j-- {
		if strings.Contains(kids[j], writeName) {
			return false, kids[j]
		}
	}
	return true, ""
}

// WriteLock returns the write side: a Mutex (shared by local goroutines, it
// excludes them).
func (rw *RWMutex) WriteLock() *Mutex { return rw.w }

// ReadLock returns the read side.
func (rw *RWMutex) ReadLock() *ReadLock { return rw.r }

// Participants returns readers and writers in queue order (Kind "read" or
// "write"); Holder marks those that hold.
func (rw *RWMutex) Participants(ctx context.Context) ([]Participant, error) {
	return rw.w.c.participants(ctx, rw.path, rwNames, func(kids []string) []bool {
		out := make([]bool, len(kids))
		for i, k := range kids {
			if strings.Contains(k, writeName) {
				out[i], _ = exclusive(kids, i)
			} else {
				out[i], _ = readPred(kids, i)
			}
		}
		return out
	})
}

// ReadLock is the read side of an RWMutex. Unlike the write side, the
// goroutines of a process share it: each acquisition is a hold of its own.
type ReadLock struct {
	rw *RWMutex
	c  *Client
	sp spec

	mu   sync.Mutex
	held []*Lease // taken by Lock, for Unlock
}

// Acquire waits until no writer precedes this reader (see Mutex.Acquire).
// The holder of the write lock takes the read lock with AcquireHolding:
// Acquire would wait for its own write lease, where Curator's readLock
// lets the thread that holds the write lock in.
func (r *ReadLock) Acquire(ctx context.Context) (*Lease, error) {
	start := time.Now()
	h, err := r.c.acquire(ctx, &r.sp)
	if err != nil {
		return nil, fmt.Errorf("recipes: read lock %s: %w", r.rw.path, err)
	}
	r.c.met.granted(r.sp.kind, start)
	l := h.lease()
	l.onRelease = r.forget
	return l, nil
}

// AcquireHolding takes the read lock for the holder of w, a write lease of
// the same RWMutex, without waiting: lock downgrading. Its node takes the
// write node's sequence number, so once w is released the read hold keeps
// out every writer that queued meanwhile. Curator's read node, created
// after the write lock's, gets a sequence number of its own, so such a
// writer sorts before it and takes the lock when the write lock is
// released. Curator processes on the same path read either node correctly.
func (r *ReadLock) AcquireHolding(ctx context.Context, w *Lease) (*Lease, error) {
	if w == nil || w.h.c != r.c || parentPath(w.Node()) != r.rw.path || !strings.Contains(w.Node(), writeName) {
		return nil, fmt.Errorf("recipes: read lock %s: %w: not a write lease of this lock", r.rw.path, zk.ErrBadArguments)
	}
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("recipes: read lock %s: write lease: %w", r.rw.path, err)
	}
	start := time.Now()
	actx, done, err := r.c.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("recipes: read lock %s: %w", r.rw.path, err)
	}
	defer done()
	seq := sortKey(w.Node()[len(r.rw.path)+1:], rwNames)
	node, err := r.c.create(actx, &r.sp, seq)
	if err != nil {
		return nil, fmt.Errorf("recipes: read lock %s: %w", r.rw.path, err)
	}
	var b backoff
	for {
		if err := w.Err(); err != nil {
			r.c.withdraw(node)
			return nil, fmt.Errorf("recipes: read lock %s: write lease: %w", r.rw.path, err)
		}
		h, err := r.c.grant(actx, &r.sp, node, &b)
		if errors.Is(err, errRetry) {
			continue
		}
		if err != nil {
			r.c.withdraw(node)
			return nil, fmt.Errorf("recipes: read lock %s: %w", r.rw.path, err)
		}
		r.c.met.granted(r.sp.kind, start)
		l := h.lease()
		l.onRelease = r.forget
		return l, nil
	}
}

// Lock is Acquire keeping the lease for Unlock.
func (r *ReadLock) Lock(ctx context.Context) error {
	l, err := r.Acquire(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.held = append(r.held, l)
	r.mu.Unlock()
	return nil
}

// Unlock releases the newest lease Lock took; without one it fails with
// ErrNotLocked.
func (r *ReadLock) Unlock(ctx context.Context) error {
	r.mu.Lock()
	var l *Lease
	if n := len(r.held); n > 0 {
		l = r.held[n-1]
		r.held = r.held[:n-1]
	}
	r.mu.Unlock()
	if l == nil {
		return fmt.Errorf("recipes: read unlock %s: %w", r.rw.path, ErrNotLocked)
	}
	return l.Release(ctx)
}

func (r *ReadLock) forget(l *Lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.held {
		if x == l {
			r.held = append(r.held[:i], r.held[i+1:]...)
			return
		}
	}
}
