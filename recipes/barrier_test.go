package recipes

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

// TestBarrier: waiters wait while the barrier is set and go when it is
// removed; setting or removing twice is harmless.
func TestBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		ctl := must[*DistributedBarrier](t)(NewDistributedBarrier(w.client(), "/b/gate"))
		if err := ctl.Wait(w.ctx); err != nil {
			t.Fatalf("wait on a barrier not set: %v", err)
		}
		for range 2 {
			if err := ctl.Set(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 3)
		for range 3 {
			b := must[*DistributedBarrier](t)(NewDistributedBarrier(w.client(), "/b/gate"))
			go func() { done <- b.Wait(w.ctx) }()
		}
		time.Sleep(time.Minute)
		if len(done) != 0 {
			t.Fatal("a waiter passed a set barrier")
		}
		ctx, cancel := context.WithTimeout(w.ctx, time.Second)
		if err := ctl.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait with a deadline: %v", err)
		}
		cancel()
		for range 2 {
			if err := ctl.Remove(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	})
}

// enterAll starts Enter on each member and returns their results.
func enterAll(ctx context.Context, ms []*DistributedDoubleBarrier) chan error {
	out := make(chan error, len(ms))
	for _, m := range ms {
		go func() { out <- m.Enter(ctx) }()
	}
	return out
}

// TestDoubleBarrier: Enter returns once n members are in, Leave once all
// are out; the latch goes with the last member.
func TestDoubleBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var ms []*DistributedDoubleBarrier
		for range 3 {
			ms = append(ms, must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(w.client(), "/db", 3)))
		}
		if err := ms[0].Leave(w.ctx); !errors.Is(err, ErrNotEntered) {
			t.Fatalf("leave before enter: %v", err)
		}
		entered := enterAll(w.ctx, ms[:2])
		synctest.Wait()
		if len(entered) != 0 {
			t.Fatal("entered with 2 of 3 members")
		}
		if err := ms[2].Enter(w.ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := <-entered; err != nil {
				t.Fatal(err)
			}
		}
		if err := ms[0].Enter(w.ctx); !errors.Is(err, ErrAlreadyEntered) {
			t.Fatalf("second enter: %v", err)
		}
		for _, m := range ms {
			if m.Context().Err() != nil {
				t.Fatal("a member's context ended while entered")
			}
		}
		left := make(chan error, 3)
		for _, m := range ms[:2] {
			go func() { left <- m.Leave(w.ctx) }()
		}
		synctest.Wait()
		if len(left) != 0 {
			t.Fatal("left while a member is still in")
		}
		if ms[0].Context().Err() == nil {
			t.Fatal("a leaving member's context is live")
		}
		if err := ms[2].Leave(w.ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := <-left; err != nil {
				t.Fatal(err)
			}
		}
		w.noChildren("/db", "nodes")
	})
}

// TestDoubleBarrierStaleLatch: a latch left by an earlier round (whose
// members died while in, or Curator's, which says nothing) does not let a
// member through alone, as Curator's members would pass.
func TestDoubleBarrierStaleLatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var sessions []*zk.Session
		var ms []*DistributedDoubleBarrier
		for range 2 {
			s, c := w.session()
			sessions = append(sessions, s)
			ms = append(ms, must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(c, "/db", 2)))
		}
		entered := enterAll(w.ctx, ms)
		for range 2 {
			if err := <-entered; err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range sessions {
			w.expire(s) // the round dies inside: its latch stays
		}
		for _, m := range ms {
			<-m.Context().Done()
		}
		if kids := w.children("/db"); len(kids) != 1 || kids[0] != readyNode {
			t.Fatalf("nodes %v, want the latch alone", kids)
		}
		loneWaitsForOther(t, w, "/db", "a stale latch")
	})
}

// TestDoubleBarrierCuratorLatch: a latch a Curator member created (its
// data is the member's address, not a zxid) counts from its creation. One
// created after a member's node lets that member through, even when the
// Curator member that listed the others has already left (as a member
// that is not the lowest does at once in Leave): a Go member waiting
// alone would otherwise wait forever, and the Curator member for it. One
// created before a member's node (an earlier round's) does not.
func TestDoubleBarrierCuratorLatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, _ := w.session()
		a := must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(w.client(), "/db", 2))
		entered := enterAll(w.ctx, []*DistributedDoubleBarrier{a})
		synctest.Wait()
		if len(entered) != 0 {
			t.Fatal("a lone member passed")
		}
		curator := "/db/" + newMarker()[3:]
		if _, err := s.Multi(w.ctx, zk.CreateOp(curator, nil, zk.WithMode(zk.ModeEphemeral)),
			zk.CreateOp("/db/"+readyNode, []byte("10.0.0.7")), zk.DeleteOp(curator, -1)); err != nil {
			t.Fatal(err)
		}
		if err := <-entered; err != nil {
			t.Fatal(err)
		}

		if _, err := s.Create(w.ctx, "/old", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(w.ctx, "/old/"+readyNode, []byte("10.0.0.7")); err != nil {
			t.Fatal(err)
		}
		loneWaitsForOther(t, w, "/old", "an earlier round's Curator latch")
	})
}

// loneWaitsForOther checks that a lone member of the barrier of 2 at path
// does not pass the latch there (what names it), and that it passes once
// a second member enters.
func loneWaitsForOther(t *testing.T, w *world, path, what string) {
	t.Helper()
	lone := must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(w.client(), path, 2))
	entered := enterAll(w.ctx, []*DistributedDoubleBarrier{lone})
	synctest.Wait()
	if len(entered) != 0 {
		t.Fatal("a lone member passed " + what)
	}
	other := must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(w.client(), path, 2))
	if err := other.Enter(w.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-entered; err != nil {
		t.Fatal(err)
	}
}

// TestDoubleBarrierMembershipLost: a member whose session expires while
// in sees its context end; one whose Enter gives up leaves no node.
func TestDoubleBarrierMembershipLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		sa, ca := w.session()
		a := must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(ca, "/db", 2))
		b := must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(w.client(), "/db", 2))
		var wg sync.WaitGroup
		for _, m := range []*DistributedDoubleBarrier{a, b} {
			wg.Go(func() {
				if err := m.Enter(w.ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		w.expire(sa)
		<-a.Context().Done()
		if !errors.Is(context.Cause(a.Context()), ErrLockLost) {
			t.Fatalf("cause %v", context.Cause(a.Context()))
		}
		if err := b.Leave(w.ctx); err != nil {
			t.Fatalf("leave after the other member's session expired: %v", err)
		}
		c := must[*DistributedDoubleBarrier](t)(NewDistributedDoubleBarrier(w.client(), "/db2", 2))
		ctx, cancel := context.WithTimeout(w.ctx, time.Second)
		defer cancel()
		if err := c.Enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("enter alone with a deadline: %v", err)
		}
		synctest.Wait()
		if kids := w.children("/db2"); len(kids) != 0 {
			t.Fatalf("nodes left by a withdrawn member: %v", kids)
		}
	})
}
