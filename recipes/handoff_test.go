package recipes

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// readCounter is a session that counts the recipe's point reads with a
// watch (GetW, ExistsW).
type readCounter struct {
	*zk.Session
	getW, existsW atomic.Int32
}

func (r *readCounter) GetW(ctx context.Context, path string) ([]byte, zk.Stat, <-chan zk.Event, error) {
	r.getW.Add(1)
	return r.Session.GetW(ctx, path)
}

func (r *readCounter) ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error) {
	r.existsW.Add(1)
	return r.Session.ExistsW(ctx, path)
}

// TestMutexHandOffReads: a waiter that sees its predecessor's node deleted
// takes the lock after one read of its own node (grant's ExistsW): it does
// not read the deleted node again. (It used to: GetW on the predecessor
// once more, which failed with ErrNoNode, before granting: one more read
// on every hand-off.)
func TestMutexHandOffReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		holder := must[*Mutex](t)(NewMutex(w.client(), "/locks/h"))
		if err := holder.Lock(w.ctx); err != nil {
			t.Fatal(err)
		}
		s, err := w.ens.NewSession(w.ctx)
		if err != nil {
			t.Fatal(err)
		}
		rc := &readCounter{Session: s}
		c, err := NewClient(rc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		waiter := must[*Mutex](t)(NewMutex(c, "/locks/h"))
		got := make(chan error, 1)
		go func() { got <- waiter.Lock(w.ctx) }()
		synctest.Wait() // the waiter watches the holder's node
		if n := rc.getW.Load(); n != 1 {
			t.Fatalf("the waiter read its predecessor %d times before the release, want 1", n)
		}
		if err := holder.Unlock(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		if g, e := rc.getW.Load(), rc.existsW.Load(); g != 1 || e != 1 {
			t.Fatalf("hand-off: %d GetW and %d ExistsW by the waiter, want 1 and 1", g, e)
		}
		if err := waiter.Unlock(w.ctx); err != nil {
			t.Fatal(err)
		}
	})
}
