package recipes

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// TestMultiLockAllOrNone: a MultiLock holds all its locks, gives back
// those it took when one cannot be had, releases in reverse.
func TestMultiLockAllOrNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		a := must[*Mutex](t)(NewMutex(c, "/a"))
		b := must[*Mutex](t)(NewMutex(c, "/b"))
		sem := must[*Semaphore](t)(NewSemaphore(c, "/s", 2))
		ml := must[*MultiLock](t)(NewMultiLock(a, b, sem))
		lease := must[*MultiLease](t)(ml.Acquire(w.ctx))
		toks := lease.Tokens()
		if len(toks) != 3 || len(lease.Leases()) != 3 {
			t.Fatalf("tokens %v", toks)
		}
		// Another client: b is held, so it must give a back.
		c2 := w.client()
		ml2 := must[*MultiLock](t)(NewMultiLock(must[*Mutex](t)(NewMutex(c2, "/a")), must[*Mutex](t)(NewMutex(c2, "/b"))))
		if err := lease.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := lease.Release(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("second release: %v", err)
		}
		holdB := must[*Lease](t)(b.Acquire(w.ctx))
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan error, 1)
		go func() { _, err := ml2.Acquire(ctx); done <- err }()
		synctest.Wait()
		if kids := w.children("/a"); len(kids) != 1 {
			t.Fatalf("ml2 should hold /a while waiting for /b: %v", kids)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if kids := w.children("/a"); len(kids) != 0 {
			t.Fatalf("a failed MultiLock kept /a: %v", kids)
		}
		// A member lost: the MultiLease's context ends.
		if err := holdB.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := ml2.Lock(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := ml2.Unlock(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := ml2.Unlock(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("unlock without lock: %v", err)
		}
	})
}

// TestMultiLeaseLost: the MultiLease's context ends when one member is
// lost.
func TestMultiLeaseLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		admin, _ := w.session()
		c := w.client()
		ml := must[*MultiLock](t)(NewMultiLock(must[*Mutex](t)(NewMutex(c, "/a")), must[*Mutex](t)(NewMutex(c, "/b"))))
		lease := must[*MultiLease](t)(ml.Acquire(w.ctx))
		if err := admin.Delete(w.ctx, lease.Leases()[1].Node(), -1); err != nil {
			t.Fatal(err)
		}
		<-lease.Context().Done()
		if err := lease.Err(); !errors.Is(err, ErrLockLost) || !errors.Is(err, zk.ErrNoNode) {
			t.Fatalf("cause %v", err)
		}
		if err := lease.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		if kids := w.children("/a"); len(kids) != 0 {
			t.Fatalf("/a: %v", kids)
		}
	})
}
