package recipes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

// TestSemaphoreBound: many contenders, never more than n live leases; a
// lease acquired after another one returned has a greater token.
func TestSemaphoreBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		const n = 3
		var inside, worst atomic.Int32
		var mu sync.Mutex
		var returned []int64 // tokens, in the order Acquire returned
		var wg sync.WaitGroup
		for i := 0; i < 7; i++ {
			s := must[*Semaphore](t)(NewSemaphore(w.client(), "/sem", n))
			wg.Go(func() {
				for j := 0; j < 4; j++ {
					mu.Lock()
					before := slices.Clone(returned)
					mu.Unlock()
					l, err := s.Acquire(w.ctx)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, tok := range before {
						if tok >= l.Token() {
							t.Errorf("token %d after a lease of token %d returned", l.Token(), tok)
						}
					}
					returned = append(returned, l.Token())
					mu.Unlock()
					worst.Store(max(worst.Load(), inside.Add(1)))
					time.Sleep(time.Millisecond) // the others pile up meanwhile
					inside.Add(-1)
					if err := l.Release(w.ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if worst.Load() != n {
			t.Fatalf("at most %d leases at once, want exactly %d", worst.Load(), n)
		}
		w.noChildren("/sem/leases", "leases")
	})
}

// TestSemaphoreAcquireN: all or none.
func TestSemaphoreAcquireN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a := must[*Semaphore](t)(NewSemaphore(w.client(), "/s", 3))
		b := must[*Semaphore](t)(NewSemaphore(w.client(), "/s", 3))
		two := must[[]*Lease](t)(a.AcquireN(w.ctx, 2))
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan error, 1)
		go func() { _, err := b.AcquireN(ctx, 2); done <- err }()
		synctest.Wait()
		// b holds the third lease and waits for room with a fourth node.
		if kids := w.children("/s/leases"); len(kids) != 4 {
			t.Fatalf("leases: %v", kids)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if kids := w.children("/s/leases"); len(kids) != 2 {
			t.Fatalf("a failed AcquireN kept leases: %v", kids)
		}
		for _, l := range two {
			if err := l.Release(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := must[[]*Lease](t)(b.AcquireN(w.ctx, 3))
		if len(got) != 3 {
			t.Fatalf("%d leases", len(got))
		}
		if _, err := got[0].Reenter(); !errors.Is(err, ErrNotReentrant) {
			t.Fatalf("reenter a semaphore lease: %v", err)
		}
	})
}

// TestSemaphoreLeaseLostWithSession: an expired session's leases end and
// make room.
func TestSemaphoreLeaseLostWithSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		sa, ca := w.session()
		a := must[*Semaphore](t)(NewSemaphore(ca, "/s", 1))
		b := must[*Semaphore](t)(NewSemaphore(w.client(), "/s", 1))
		la := must[*Lease](t)(a.Acquire(w.ctx))
		got := make(chan *Lease, 1)
		go func() {
			lb := must[*Lease](t)(b.Acquire(w.ctx))
			if la.Err() == nil {
				t.Error("two leases of one")
			}
			got <- lb
		}()
		synctest.Wait()
		w.expire(sa)
		lb := <-got
		if !errors.Is(la.Err(), ErrLockLost) || lb.Err() != nil {
			t.Fatalf("a: %v, b: %v", la.Err(), lb.Err())
		}
	})
}

// TestSemaphoreMutex: exclusive between goroutines and sessions, not
// re-entrant.
func TestSemaphoreMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		m := must[*SemaphoreMutex](t)(NewSemaphoreMutex(w.client(), "/sm"))
		other := must[*SemaphoreMutex](t)(NewSemaphoreMutex(w.client(), "/sm"))
		var inside, worst atomic.Int32
		var wg sync.WaitGroup
		for _, mm := range []*SemaphoreMutex{m, m, m, other, other} {
			wg.Go(func() {
				for j := 0; j < 3; j++ {
					if err := mm.Lock(w.ctx); err != nil {
						t.Error(err)
						return
					}
					worst.Store(max(worst.Load(), inside.Add(1)))
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					if err := mm.Unlock(w.ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if worst.Load() != 1 {
			t.Fatalf("%d holders at once", worst.Load())
		}
		l := must[*Lease](t)(m.Acquire(w.ctx))
		if _, err := l.Reenter(); !errors.Is(err, ErrNotReentrant) {
			t.Fatalf("reenter: %v", err)
		}
		if err := m.Unlock(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("unlock of an Acquire'd lock: %v", err)
		}
		if err := l.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		ps := must[[]Participant](t)(m.Participants(w.ctx))
		if len(ps) != 0 {
			t.Fatalf("participants after release: %+v", ps)
		}
	})
}

// TestSemaphoreParticipants: lease holders first, then the queue.
func TestSemaphoreParticipants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var sems []*Semaphore
		for _, id := range []string{"a", "b", "c"} {
			s := must[*zk.Session](t)(w.ens.NewSession(w.ctx))
			c := must[*Client](t)(NewClient(s, WithID(id)))
			defer c.Close(w.ctx)
			sems = append(sems, must[*Semaphore](t)(NewSemaphore(c, "/p", 1)))
		}
		must[*Lease](t)(sems[0].Acquire(w.ctx))
		go sems[1].Acquire(w.ctx)
		synctest.Wait()
		go sems[2].Acquire(w.ctx)
		synctest.Wait()
		ps := must[[]Participant](t)(sems[0].Participants(w.ctx))
		var got []string
		for _, p := range ps {
			got = append(got, p.ID+":"+p.Kind+":"+map[bool]string{true: "holds", false: "waits"}[p.Holder])
		}
		want := []string{"a:lease:holds", "b:lease:waits", "b:lock:waits", "c:lock:waits"}
		if !slices.Equal(got, want) {
			t.Fatalf("participants %v, want %v", got, want)
		}
	})
}
