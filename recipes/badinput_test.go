package recipes

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// nodes counts every node of the tree, to show that bad input changed
// nothing.
func (w *world) nodes() int64 {
	w.t.Helper()
	s := must[*zk.Session](w.t)(w.ens.NewSession(w.ctx))
	defer s.Close(w.ctx)
	return must[int64](w.t)(s.AllChildrenNumber(w.ctx, "/"))
}

// TestBadInput: every bad input gets a clear error and changes nothing.
func TestBadInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		before := w.nodes()
		for _, p := range []string{"", "rel", "/", "/a/", "/a//b", "/a/./b", "/a/../b", "/a\x00b", "/a\x01", "/a\u00ff\ufff5"} {
			errs := []error{}
			_, err := NewMutex(c, p)
			errs = append(errs, err)
			_, err = NewSemaphoreMutex(c, p)
			errs = append(errs, err)
			_, err = NewSemaphore(c, p, 2)
			errs = append(errs, err)
			_, err = NewRWMutex(c, p)
			errs = append(errs, err)
			_, err = NewLeaderLatch(c, p, "id")
			errs = append(errs, err)
			_, err = NewLeaderSelector(c, p, "id", func(context.Context, *Lease) error { return nil })
			errs = append(errs, err)
			for i, err := range errs {
				if !errors.Is(err, zk.ErrInvalidPath) {
					t.Errorf("path %q, constructor %d: %v", p, i, err)
				}
			}
		}
		for _, n := range []int{0, -1} {
			if _, err := NewSemaphore(c, "/s", n); !errors.Is(err, zk.ErrBadArguments) {
				t.Errorf("semaphore of %d: %v", n, err)
			}
		}
		sem := must[*Semaphore](t)(NewSemaphore(c, "/s", 2))
		for _, q := range []int{0, -1, 3} {
			if _, err := sem.AcquireN(w.ctx, q); !errors.Is(err, zk.ErrBadArguments) {
				t.Errorf("AcquireN(%d) of 2: %v", q, err)
			}
		}
		if _, err := NewMutex(nil, "/m"); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("nil client: %v", err)
		}
		if _, err := NewLeaderSelector(c, "/m", "id", nil); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("nil function: %v", err)
		}
		if _, err := NewMultiLock(); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("empty multilock: %v", err)
		}
		if _, err := NewMultiLock(must[*Mutex](t)(NewMutex(c, "/m")), nil); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("multilock with nil: %v", err)
		}
		m := must[*Mutex](t)(NewMutex(c, "/m"))
		sm := must[*SemaphoreMutex](t)(NewSemaphoreMutex(c, "/sm"))
		rw := must[*RWMutex](t)(NewRWMutex(c, "/rw"))
		ml := must[*MultiLock](t)(NewMultiLock(m))
		for i, unlock := range []func(context.Context) error{m.Unlock, sm.Unlock, rw.WriteLock().Unlock, rw.ReadLock().Unlock, ml.Unlock} {
			if err := unlock(w.ctx); !errors.Is(err, ErrNotLocked) {
				t.Errorf("unlock %d without lock: %v", i, err)
			}
		}
		var nilLease *Lease
		if err := nilLease.Release(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Errorf("release of nil: %v", err)
		}
		if _, err := rw.ReadLock().AcquireHolding(w.ctx, nil); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("AcquireHolding(nil): %v", err)
		}
		if got := w.nodes(); got != before {
			t.Fatalf("bad input changed the tree: %d nodes, was %d", got, before)
		}
	})
}

// TestUseAfterEnd: a Client whose session was closed, or which was closed,
// refuses work with the reason, and changes nothing; closing twice is fine.
func TestUseAfterEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, c := w.session()
		m := must[*Mutex](t)(NewMutex(c, "/m"))
		l := must[*LeaderLatch](t)(NewLeaderLatch(c, "/l", "id"))
		if err := s.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		<-c.Done()
		if !errors.Is(c.Err(), zk.ErrClosed) {
			t.Fatalf("client of a closed session: %v", c.Err())
		}
		before := w.nodes()
		if _, err := m.Acquire(w.ctx); !errors.Is(err, zk.ErrClosed) {
			t.Errorf("acquire: %v", err)
		}
		if err := l.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Await(w.ctx); err == nil {
			t.Error("await on a dead client")
		}
		if err := l.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(w.ctx); err != nil {
			t.Fatalf("second latch close: %v", err)
		}
		if err := c.Close(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(w.ctx); err != nil {
			t.Fatalf("second client close: %v", err)
		}
		if got := w.nodes(); got != before {
			t.Fatalf("use after the end changed the tree: %d nodes, was %d", got, before)
		}
	})
}
