package engine

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
)

// appliedMark tracks the last zxid this peer applied and lets callers wait
// for it to reach a zxid. The apply loop advances it; any goroutine waits.
type appliedMark struct {
	zxid atomic.Int64

	mu      sync.Mutex
	waiters waitHeap
	err     error // set when the peer stops: every wait fails with it
}

type waiter struct {
	zxid int64
	ch   chan struct{}
}

type waitHeap []waiter

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, j int) bool { return h[i].zxid < h[j].zxid }
func (h waitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(x any)        { *h = append(*h, x.(waiter)) }
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

func (m *appliedMark) load() int64 { return m.zxid.Load() }

// advance records that zxid is applied and releases the waiters it
// satisfies.
func (m *appliedMark) advance(zxid int64) {
	m.zxid.Store(zxid)
	m.mu.Lock()
	for m.waiters.Len() > 0 && m.waiters[0].zxid <= zxid {
		close(heap.Pop(&m.waiters).(waiter).ch)
	}
	m.mu.Unlock()
}

// stop fails every current and future wait with err.
func (m *appliedMark) stop(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
	}
	for m.waiters.Len() > 0 {
		close(heap.Pop(&m.waiters).(waiter).ch)
	}
	m.mu.Unlock()
}

// wait returns once zxid is applied, or with ctx's error, or with the error
// the peer stopped with.
func (m *appliedMark) wait(ctx context.Context, zxid int64) error {
	if m.zxid.Load() >= zxid {
		return nil
	}
	m.mu.Lock()
	if m.zxid.Load() >= zxid {
		m.mu.Unlock()
		return nil
	}
	if m.err != nil {
		m.mu.Unlock()
		return m.err
	}
	w := waiter{zxid: zxid, ch: make(chan struct{})}
	heap.Push(&m.waiters, w)
	m.mu.Unlock()
	select {
	case <-w.ch:
		if m.zxid.Load() >= zxid {
			return nil
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.err
	case <-ctx.Done():
		// The waiter stays in the heap until released; it is tiny.
		return ctx.Err()
	}
}
