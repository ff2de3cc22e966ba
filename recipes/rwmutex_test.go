package recipes

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestRWMutexReadersShareWriterExcludes: readers in together, a writer
// alone, never both.
func TestRWMutexReadersShareWriterExcludes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var readers, writers, maxReaders atomic.Int32
		var bad atomic.Bool
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			rw := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
			write := i%3 == 0
			wg.Go(func() {
				for j := 0; j < 4; j++ {
					var l *Lease
					var err error
					if write {
						l, err = rw.WriteLock().Acquire(w.ctx)
					} else {
						l, err = rw.ReadLock().Acquire(w.ctx)
					}
					if err != nil {
						t.Error(err)
						return
					}
					if write {
						if writers.Add(1) > 1 || readers.Load() > 0 {
							bad.Store(true)
						}
					} else {
						maxReaders.Store(max(maxReaders.Load(), readers.Add(1)))
						if writers.Load() > 0 {
							bad.Store(true)
						}
					}
					time.Sleep(time.Millisecond)
					if write {
						writers.Add(-1)
					} else {
						readers.Add(-1)
					}
					if err := l.Release(w.ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if bad.Load() {
			t.Fatal("a writer overlapped another holder")
		}
		if maxReaders.Load() < 2 {
			t.Fatalf("readers never shared the lock (%d at most)", maxReaders.Load())
		}
	})
}

// TestRWMutexWriterNotStarved: a reader that comes after a waiting writer
// waits for it, though a reader holds.
func TestRWMutexWriterNotStarved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		r1 := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		wr := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		r2 := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		lr1 := must[*Lease](t)(r1.ReadLock().Acquire(w.ctx))
		wdone := make(chan *Lease, 1)
		go func() { wdone <- must[*Lease](t)(wr.WriteLock().Acquire(w.ctx)) }()
		synctest.Wait()
		rdone := make(chan *Lease, 1)
		go func() { rdone <- must[*Lease](t)(r2.ReadLock().Acquire(w.ctx)) }()
		synctest.Wait()
		select {
		case <-rdone:
			t.Fatal("a reader overtook a waiting writer")
		case <-wdone:
			t.Fatal("the writer got in while a reader held")
		default:
		}
		if err := lr1.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		lw := <-wdone
		synctest.Wait()
		select {
		case <-rdone:
			t.Fatal("a reader got in while the writer held")
		default:
		}
		if err := lw.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		lr2 := <-rdone
		if lr2.Token() <= lw.Token() || lw.Token() <= lr1.Token() {
			t.Fatalf("tokens r1 %d, w %d, r2 %d", lr1.Token(), lw.Token(), lr2.Token())
		}
	})
}

// TestRWMutexDowngrade: the write holder takes the read lock, releases the
// write lock, and a writer queued meanwhile still waits for the read hold;
// a new reader joins it at once.
func TestRWMutexDowngrade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		rw := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		other := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		third := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		lw := must[*Lease](t)(rw.WriteLock().Acquire(w.ctx))
		wdone := make(chan *Lease, 1)
		go func() { wdone <- must[*Lease](t)(other.WriteLock().Acquire(w.ctx)) }()
		synctest.Wait()
		lr := must[*Lease](t)(rw.ReadLock().AcquireHolding(w.ctx, lw))
		if err := lw.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		select {
		case <-wdone:
			t.Fatal("a queued writer got in while the downgraded read hold lasted")
		default:
		}
		if lr.Err() != nil {
			t.Fatal(lr.Err())
		}
		if err := lr.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		lw2 := <-wdone
		if _, err := third.ReadLock().AcquireHolding(w.ctx, lw2); err == nil {
			t.Fatal("AcquireHolding with a write lease of another Client accepted")
		}
		if _, err := rw.ReadLock().AcquireHolding(w.ctx, lr); err == nil {
			t.Fatal("AcquireHolding with a read lease accepted")
		}
	})
}

// TestRWMutexReenterAndUnlock: both sides re-enter; Unlock without Lock
// fails.
func TestRWMutexReenterAndUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		rw := must[*RWMutex](t)(NewRWMutex(w.client(), "/rw"))
		if err := rw.ReadLock().Unlock(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("read unlock: %v", err)
		}
		if err := rw.WriteLock().Unlock(w.ctx); !errors.Is(err, ErrNotLocked) {
			t.Fatalf("write unlock: %v", err)
		}
		if err := rw.ReadLock().Lock(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := rw.ReadLock().Lock(w.ctx); err != nil {
			t.Fatal(err)
		}
		ps := must[[]Participant](t)(rw.Participants(w.ctx))
		if len(ps) != 2 || !ps[0].Holder || !ps[1].Holder || ps[0].Kind != "read" {
			t.Fatalf("participants %+v", ps)
		}
		for i := 0; i < 2; i++ {
			if err := rw.ReadLock().Unlock(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		lw := must[*Lease](t)(rw.WriteLock().Acquire(w.ctx))
		again := must[*Lease](t)(lw.Reenter())
		if err := lw.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		if again.Err() != nil {
			t.Fatal(again.Err())
		}
		if err := again.Release(w.ctx); err != nil {
			t.Fatal(err)
		}
		w.noChildren("/rw", "nodes")
	})
}
