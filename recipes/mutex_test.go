package recipes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// TestMutexExcludesSessions: contenders on several sessions, never two
// inside; tokens strictly increase in acquisition order.
func TestMutexExcludesSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var inside, worst atomic.Int32
		var mu sync.Mutex
		var tokens []int64
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			m := must[*Mutex](t)(NewMutex(w.client(), "/locks/a"))
			wg.Go(func() {
				for j := 0; j < 5; j++ {
					l, err := m.Acquire(w.ctx)
					if err != nil {
						t.Error(err)
						return
					}
					n := inside.Add(1)
					worst.Store(max(worst.Load(), n))
					mu.Lock()
					tokens = append(tokens, l.Token())
					mu.Unlock()
					inside.Add(-1)
					if err := l.Release(w.ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if worst.Load() != 1 {
			t.Fatalf("%d holders at once", worst.Load())
		}
		if !slices.IsSorted(tokens) || len(slices.Compact(slices.Clone(tokens))) != len(tokens) {
			t.Fatalf("tokens not strictly increasing: %v", tokens)
		}
	})
}

// TestMutexSharedByGoroutines is the seed's case: one Mutex shared by
// goroutines excludes them as sync.Mutex does (the old Mutex, re-entrant
// per handle, let them all in), and they queue locally: one node at most.
func TestMutexSharedByGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		m := must[*Mutex](t)(NewMutex(w.client(), "/lock"))
		if err := m.Lock(w.ctx); err != nil {
			t.Fatal(err)
		}
		var inside, worst atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Go(func() {
				if err := m.Lock(w.ctx); err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				worst.Store(max(worst.Load(), n))
				inside.Add(-1)
				if err := m.Unlock(w.ctx); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		if n := inside.Load(); n != 0 {
			t.Fatalf("%d goroutines got in while the lock was held", n)
		}
		if kids := w.children("/lock"); len(kids) != 1 {
			t.Fatalf("goroutines of one Mutex should queue locally; nodes: %v", kids)
		}
		if err := m.Unlock(w.ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if worst.Load() != 1 {
			t.Fatalf("%d holders at once", worst.Load())
		}
		w.noChildren("/lock", "nodes")
	})
}

// TestMutexReenter: re-entry through the lease shares the hold; the node
// goes with the last release.
func TestMutexReenter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a := must[*Mutex](t)(NewMutex(w.client(), "/l"))
		b := must[*Mutex](t)(NewMutex(w.client(), "/l"))
		l1 := must[*Lease](t)(a.Acquire(w.ctx))
		l2 := must[*Lease](t)(l1.Reenter())
		if l2.Token() != l1.Token() || l2.Context() != l1.Context() {
			t.Fatal("a re-entered lease should share the hold's token and context")
		}
		got := make(chan *Lease, 1)
		go func() { got <- must[*Lease](t)(b.Acquire(w.ctx)) }()
		if err := l1.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("b got the lock while a still held it once")
		default:
		}
		if err := l1.Release(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("second release of a lease: %v", err)
		}
		if _, err := l1.Reenter(); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("reenter of a released lease: %v", err)
		}
		if err := l2.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		lb := <-got
		if lb.Token() <= l1.Token() {
			t.Fatalf("token %d after %d", lb.Token(), l1.Token())
		}
		if !errors.Is(context.Cause(l1.Context()), ErrReleased) {
			t.Fatalf("released lease's cause: %v", context.Cause(l1.Context()))
		}
	})
}

// TestMutexCancelWithdraws: a wait given up deletes its node.
func TestMutexCancelWithdraws(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a := must[*Mutex](t)(NewMutex(w.client(), "/c"))
		b := must[*Mutex](t)(NewMutex(w.client(), "/c"))
		if err := a.Lock(w.ctx); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan error, 1)
		go func() { done <- b.Lock(ctx) }()
		synctest.Wait()
		if kids := w.children("/c"); len(kids) != 2 {
			t.Fatalf("want holder and waiter, got %v", kids)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled lock: %v", err)
		}
		if kids := w.children("/c"); len(kids) != 1 {
			t.Fatalf("a cancelled attempt left its node: %v", kids)
		}
	})
}

// TestMutexExpiryWhileHolding: the holder's context ends (cause: expired)
// before the next holder gets the lock.
func TestMutexExpiryWhileHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		sa, ca := w.session()
		a := must[*Mutex](t)(NewMutex(ca, "/e"))
		b := must[*Mutex](t)(NewMutex(w.client(), "/e"))
		la := must[*Lease](t)(a.Acquire(w.ctx))
		got := make(chan *Lease, 1)
		go func() {
			lb := must[*Lease](t)(b.Acquire(w.ctx))
			if la.Err() == nil {
				t.Error("b holds while a's lease is live")
			}
			got <- lb
		}()
		synctest.Wait()
		w.expire(sa)
		<-la.Context().Done()
		// The expiry deletes the node and ends the session in one step: the
		// hold may hear of either first.
		if err := la.Err(); !errors.Is(err, ErrLockLost) || !(errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrNoNode)) {
			t.Fatalf("cause %v", err)
		}
		lb := <-got
		if lb.Token() <= la.Token() {
			t.Fatalf("token %d after %d", lb.Token(), la.Token())
		}
		if err := la.Release(w.ctx); err != nil {
			t.Fatalf("release after loss: %v", err)
		}
		if _, err := a.Acquire(w.ctx); !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("acquire on an expired session: %v", err)
		}
	})
}

// TestMutexExpiryWhileWaiting: the wait ends with the session's error.
func TestMutexExpiryWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a := must[*Mutex](t)(NewMutex(w.client(), "/e"))
		sb, cb := w.session()
		b := must[*Mutex](t)(NewMutex(cb, "/e"))
		la := must[*Lease](t)(a.Acquire(w.ctx))
		done := make(chan error, 1)
		go func() { _, err := b.Acquire(w.ctx); done <- err }()
		synctest.Wait()
		w.expire(sb)
		if err := <-done; !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("wait on an expired session: %v", err)
		}
		if la.Err() != nil {
			t.Fatalf("the holder lost its lease: %v", la.Err())
		}
		if kids := w.children("/e"); len(kids) != 1 {
			t.Fatalf("nodes: %v", kids)
		}
	})
}

// TestMutexNodeDeleted: someone deletes the holder's node: its context
// ends (cause zk.ErrNoNode) and the next contender gets the lock.
func TestMutexNodeDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		admin, _ := w.session()
		a := must[*Mutex](t)(NewMutex(w.client(), "/d"))
		b := must[*Mutex](t)(NewMutex(w.client(), "/d"))
		la := must[*Lease](t)(a.Acquire(w.ctx))
		got := make(chan *Lease, 1)
		go func() { got <- must[*Lease](t)(b.Acquire(w.ctx)) }()
		synctest.Wait()
		if err := admin.Delete(w.ctx, la.Node(), -1); err != nil {
			t.Fatal(err)
		}
		<-la.Context().Done()
		if err := la.Err(); !errors.Is(err, ErrLockLost) || !errors.Is(err, zk.ErrNoNode) {
			t.Fatalf("cause %v", err)
		}
		lb := <-got
		if err := la.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		if lb.Err() != nil {
			t.Fatalf("the new holder lost its lease: %v", lb.Err())
		}
	})
}

// TestMutexProtectedCreate: a create whose reply is lost (it happened) is
// found again by its marker, not repeated.
func TestMutexProtectedCreate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(w.ctx)
		var lost atomic.Bool
		cc.set(nil, func(name string, err error) error {
			if name == "create" && err == nil && lost.CompareAndSwap(false, true) {
				return zk.ErrOutcomeUnknown
			}
			return err
		})
		m := must[*Mutex](t)(NewMutex(c, "/p"))
		l := must[*Lease](t)(m.Acquire(w.ctx))
		if !lost.Load() {
			t.Fatal("no reply was lost")
		}
		kids := w.children("/p")
		if len(kids) != 1 || "/p/"+kids[0] != l.Node() {
			t.Fatalf("lease on %s, nodes %v", l.Node(), kids)
		}
	})
}

// TestMutexUnknownOutcomeSwept: a create that happened although its caller
// gave up (ctx ended while the outcome was unknown) is deleted in the
// background: it would block the lock for as long as the session lives.
func TestMutexUnknownOutcomeSwept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(w.ctx)
		ctx, cancel := context.WithCancel(w.ctx)
		cc.set(nil, func(name string, err error) error {
			if name == "create" && err == nil {
				cancel()
				return zk.ErrOutcomeUnknown
			}
			return err
		})
		m := must[*Mutex](t)(NewMutex(c, "/p"))
		if _, err := m.Acquire(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("acquire: %v", err)
		}
		cc.set(nil, nil)
		synctest.Wait()
		if kids := w.children("/p"); len(kids) != 0 {
			t.Fatalf("the node of an abandoned create is still there: %v", kids)
		}
	})
}

// TestMutexParticipants: introspection shows the holder then the waiters
// in order, with ids and tokens.
func TestMutexParticipants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var ms []*Mutex
		for _, id := range []string{"ctrip", "fliggy", "qunar"} {
			s := must[*zk.Session](t)(w.ens.NewSession(w.ctx))
			c := must[*Client](t)(NewClient(s, WithID(id)))
			defer c.Close(w.ctx)
			ms = append(ms, must[*Mutex](t)(NewMutex(c, "/q")))
		}
		l := must[*Lease](t)(ms[0].Acquire(w.ctx))
		go ms[1].Acquire(w.ctx)
		synctest.Wait()
		go ms[2].Acquire(w.ctx)
		synctest.Wait()
		ps := must[[]Participant](t)(ms[2].Participants(w.ctx))
		var ids []string
		for i, p := range ps {
			ids = append(ids, p.ID)
			if p.Holder != (i == 0) || p.Kind != "lock" {
				t.Fatalf("participant %d: %+v", i, p)
			}
		}
		if !slices.Equal(ids, []string{"ctrip", "fliggy", "qunar"}) || ps[0].Token != l.Token() || ps[0].Node != l.Node() {
			t.Fatalf("participants %+v (lease %s %d)", ps, l.Node(), l.Token())
		}
		if !(ps[0].Token < ps[1].Token && ps[1].Token < ps[2].Token) {
			t.Fatalf("tokens out of order: %+v", ps)
		}
	})
}
