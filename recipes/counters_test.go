package recipes

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

// TestAtomicLongIncrements: concurrent increments from three sessions
// (two goroutines each) lose none; no two successful ones saw the same
// value before them.
func TestAtomicLongIncrements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var mu sync.Mutex
		pre := map[int64]bool{}
		var wg sync.WaitGroup
		for range 3 {
			a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(w.client(), "/counters/hits",
				WithRetryPolicy(RetryPolicy{Tries: 1000, Backoff: 0})))
			for range 2 {
				wg.Go(func() {
					for range 10 {
						v, err := a.Increment(w.ctx)
						if err != nil || !v.Succeeded || v.PostValue != v.PreValue+1 {
							t.Errorf("increment: %+v %v", v, err)
							return
						}
						mu.Lock()
						if pre[v.PreValue] {
							t.Errorf("two increments from %d", v.PreValue)
						}
						pre[v.PreValue] = true
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(w.client(), "/counters/hits"))
		if v := must[AtomicValue](t)(a.Get(w.ctx)); v.PostValue != 60 {
			t.Fatalf("value %d after 60 increments", v.PostValue)
		}
		synctest.Wait()
		w.noChildren("/counters/hits", "markers")
	})
}

// TestAtomicLongOutcomeUnknown: an increment whose reply is lost although
// it happened is reported as done, and done once (Curator's retry would
// see a bad version and try again: two increments, or a failure that
// happened); one lost before it was sent is made on the retry.
func TestAtomicLongOutcomeUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(context.Background())
		a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(c, "/n"))
		for i, after := range []bool{true, false, true} {
			once := true
			lose := func(name string, err error) error {
				if name == "multi" && once {
					once = false
					return fmt.Errorf("lost: %w", zk.ErrConnectionLoss)
				}
				return err
			}
			if after {
				cc.set(nil, lose)
			} else {
				cc.set(func(name string) error { return lose(name, nil) }, nil)
			}
			v, err := a.Increment(w.ctx)
			cc.set(nil, nil)
			if err != nil || !v.Succeeded || v.PostValue != int64(i+1) || v.Stats.OptimisticTries != 1 {
				t.Fatalf("increment %d (reply lost: %v): %+v %v", i, after, v, err)
			}
			if got := must[AtomicValue](t)(a.Get(w.ctx)).PostValue; got != int64(i+1) {
				t.Fatalf("value %d after %d increments", got, i+1)
			}
		}
	})
}

// TestAtomicLongOperations: Get of a missing node, Initialize,
// CompareAndSet, TrySet, ForceSet, Add, Subtract, Decrement.
func TestAtomicLongOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(w.client(), "/a/b"))
		if v := must[AtomicValue](t)(a.Get(w.ctx)); !v.Succeeded || v.PostValue != 0 {
			t.Fatalf("get of a missing node: %+v", v)
		}
		if v := must[AtomicValue](t)(a.CompareAndSet(w.ctx, 0, 5)); v.Succeeded {
			t.Fatalf("compare and set of a missing node: %+v", v)
		}
		if ok := must[bool](t)(a.Initialize(w.ctx, 7)); !ok {
			t.Fatal("initialize of a missing node")
		}
		if ok := must[bool](t)(a.Initialize(w.ctx, 9)); ok {
			t.Fatal("initialize of an existing node")
		}
		if v := must[AtomicValue](t)(a.CompareAndSet(w.ctx, 6, 1)); v.Succeeded || v.PreValue != 7 {
			t.Fatalf("compare and set, wrong expected: %+v", v)
		}
		if v := must[AtomicValue](t)(a.CompareAndSet(w.ctx, 7, -2)); !v.Succeeded || v.PostValue != -2 {
			t.Fatalf("compare and set: %+v", v)
		}
		steps := []struct {
			f    func(context.Context) (AtomicValue, error)
			want int64
		}{
			{func(ctx context.Context) (AtomicValue, error) { return a.Add(ctx, 10) }, 8},
			{func(ctx context.Context) (AtomicValue, error) { return a.Subtract(ctx, 3) }, 5},
			{a.Decrement, 4},
			{func(ctx context.Context) (AtomicValue, error) { return a.TrySet(ctx, 100) }, 100},
		}
		for i, s := range steps {
			if v := must[AtomicValue](t)(s.f(w.ctx)); !v.Succeeded || v.PostValue != s.want {
				t.Fatalf("step %d: %+v, want %d", i, v, s.want)
			}
		}
		if err := a.ForceSet(w.ctx, 1<<40); err != nil {
			t.Fatal(err)
		}
		b := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(w.client(), "/other"))
		if err := b.ForceSet(w.ctx, 3); err != nil {
			t.Fatal(err)
		}
		if v := must[AtomicValue](t)(a.Get(w.ctx)); v.PostValue != 1<<40 {
			t.Fatalf("after force set: %+v", v)
		}
		if v := must[AtomicValue](t)(b.Get(w.ctx)); v.PostValue != 3 {
			t.Fatalf("force set of a missing node: %+v", v)
		}
	})
}

// TestAtomicLongPromotedToLock: when every optimistic try loses, the
// operation takes the lock and succeeds under it; the lock's node goes.
func TestAtomicLongPromotedToLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(context.Background())
		a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(c, "/n",
			WithRetryPolicy(RetryPolicy{Tries: 2, Backoff: 1}),
			WithPromotedToLock("/n-lock", time.Minute, RetryPolicy{Tries: 1})))
		lost := 0
		cc.set(func(name string) error {
			if name == "multi" && lost < 2 {
				lost++
				return fmt.Errorf("someone else wrote: %w", zk.ErrBadVersion)
			}
			return nil
		}, nil)
		v, err := a.Increment(w.ctx)
		if err != nil || !v.Succeeded || v.PostValue != 1 || v.Stats.OptimisticTries != 2 || v.Stats.PromotedTries != 1 {
			t.Fatalf("increment: %+v %v", v, err)
		}
		synctest.Wait()
		if kids := w.children("/n-lock"); len(kids) != 0 {
			t.Fatalf("lock nodes left: %v", kids)
		}
		cc.set(func(name string) error {
			if name == "multi" {
				return fmt.Errorf("someone else wrote: %w", zk.ErrBadVersion)
			}
			return nil
		}, nil)
		if v, err := a.Increment(w.ctx); err != nil || v.Succeeded {
			t.Fatalf("increment that always loses: %+v %v", v, err)
		}
	})
}

// TestSharedCount: two sessions share a count; TrySetCount fails on a
// stale version and refreshes; listeners hear versions in order.
func TestSharedCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a := must[*SharedCount](t)(NewSharedCount(w.client(), "/shared", 7))
		b := must[*SharedCount](t)(NewSharedCount(w.client(), "/shared", 99))
		var mu sync.Mutex
		var heard []VersionedCount
		b.AddListener(func(v VersionedCount) {
			mu.Lock()
			heard = append(heard, v)
			mu.Unlock()
		})
		if err := a.SetCount(w.ctx, 1); !errors.Is(err, ErrNotStarted) {
			t.Fatalf("set before start: %v", err)
		}
		for _, s := range []*SharedCount{a, b} {
			if err := s.Start(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if a.Count() != 7 || b.Count() != 7 {
			t.Fatalf("counts %d %d, want the first seed", a.Count(), b.Count())
		}
		v := a.VersionedCount()
		if ok := must[bool](t)(a.TrySetCount(w.ctx, v, 8)); !ok {
			t.Fatal("try set")
		}
		if ok := must[bool](t)(a.TrySetCount(w.ctx, v, 9)); ok {
			t.Fatal("try set with a stale version")
		}
		synctest.Wait()
		stale := VersionedCount{Version: 0, Count: 7}
		if ok := must[bool](t)(b.TrySetCount(w.ctx, stale, 9)); ok {
			t.Fatal("b set with a stale version")
		}
		if err := b.SetCount(w.ctx, 20); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if a.Count() != 20 || a.VersionedCount().Version != 2 {
			t.Fatalf("a sees %+v", a.VersionedCount())
		}
		mu.Lock()
		for i := 1; i < len(heard); i++ {
			if heard[i].Version <= heard[i-1].Version {
				t.Fatalf("listener heard %v", heard)
			}
		}
		if last := heard[len(heard)-1]; last.Count != 20 {
			t.Fatalf("listener heard %v", heard)
		}
		mu.Unlock()
		a.Close()
		b.Close()
		if err := a.SetCount(w.ctx, 1); !errors.Is(err, zk.ErrClosed) {
			t.Fatalf("set after close: %v", err)
		}
	})
}

// TestSharedCountOutcomeUnknown: a TrySetCount whose reply is lost
// although it happened is reported true (Curator's retry reports false).
func TestSharedCountOutcomeUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(context.Background())
		sc := must[*SharedCount](t)(NewSharedCount(c, "/sc", 0))
		if err := sc.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		once := true
		cc.set(nil, func(name string, err error) error {
			if name == "multi" && once {
				once = false
				return fmt.Errorf("lost: %w", zk.ErrConnectionLoss)
			}
			return err
		})
		if ok, err := sc.TrySetCount(w.ctx, sc.VersionedCount(), 1); !ok || err != nil {
			t.Fatalf("try set: %v %v", ok, err)
		}
		if got := sc.VersionedCount(); got != (VersionedCount{Version: 1, Count: 1}) {
			t.Fatalf("count %+v", got)
		}
	})
}

// TestSharedCountCorrupt: Start on a node that does not hold a count
// fails with ErrCorrupt and changes nothing (the node keeps its data, the
// count stays unstarted); once the node holds a count, Start succeeds.
func TestSharedCountCorrupt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, c := w.session()
		if _, err := s.Create(w.ctx, "/shared", []byte("abc")); err != nil {
			t.Fatal(err)
		}
		sc := must[*SharedCount](t)(NewSharedCount(c, "/shared", 7))
		defer sc.Close()
		if err := sc.Start(w.ctx); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("start on a corrupt count: %v", err)
		}
		if data, _, err := s.Get(w.ctx, "/shared"); err != nil || string(data) != "abc" {
			t.Fatalf("node after the failed start: %q %v", data, err)
		}
		if err := sc.SetCount(w.ctx, 1); !errors.Is(err, ErrNotStarted) {
			t.Fatalf("set after the failed start: %v", err)
		}
		if _, err := s.Set(w.ctx, "/shared", countBytes(5), -1); err != nil {
			t.Fatal(err)
		}
		if err := sc.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		if got := sc.VersionedCount(); got != (VersionedCount{Version: 1, Count: 5}) {
			t.Fatalf("count %+v", got)
		}
	})
}

// TestCountersReadAsCurator: nodes a tool or Curator left read as
// Curator reads them. A long: no data is 0 (a node zkCli created empty),
// longer data counts by its first 8 bytes, 1 to 7 bytes are corrupt. A
// count: longer data counts by its first 4 bytes, fewer are corrupt.
func TestCountersReadAsCurator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, c := w.session()
		nine := append(binary.BigEndian.AppendUint64(nil, 5), 0xff)
		for path, data := range map[string][]byte{"/empty": nil, "/nine": nine, "/seven": make([]byte, 7),
			"/count6": {0, 0, 0, 9, 0xff, 0xff}} {
			if _, err := s.Create(w.ctx, path, data); err != nil {
				t.Fatal(err)
			}
		}
		for path, want := range map[string]int64{"/empty": 1, "/nine": 6} {
			a := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(c, path))
			if v := must[AtomicValue](t)(a.Increment(w.ctx)); !v.Succeeded || v.PostValue != want {
				t.Fatalf("increment of %s: %+v, want %d", path, v, want)
			}
		}
		seven := must[*DistributedAtomicLong](t)(NewDistributedAtomicLong(c, "/seven"))
		if _, err := seven.Increment(w.ctx); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("increment of 7 bytes: %v", err)
		}
		sc := must[*SharedCount](t)(NewSharedCount(c, "/count6", 0))
		defer sc.Close()
		if err := sc.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		if got := sc.Count(); got != 9 {
			t.Fatalf("count of 6 bytes: %d, want 9", got)
		}
	})
}
