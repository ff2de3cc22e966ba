package recipes

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/embedzk/zk"
)

// TestBarrierWaiterSessionExpires: a waiter whose session expires stops
// waiting with zk.ErrSessionExpired; the barrier stays set for the others
// (its node is not the waiter's), and they pass when it is removed.
func TestBarrierWaiterSessionExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		ctl := must[*DistributedBarrier](t)(NewDistributedBarrier(w.client(), "/gate"))
		if err := ctl.Set(w.ctx); err != nil {
			t.Fatal(err)
		}
		s, c := w.session()
		lost := must[*DistributedBarrier](t)(NewDistributedBarrier(c, "/gate"))
		other := must[*DistributedBarrier](t)(NewDistributedBarrier(w.client(), "/gate"))
		lostDone, otherDone := make(chan error, 1), make(chan error, 1)
		go func() { lostDone <- lost.Wait(w.ctx) }()
		go func() { otherDone <- other.Wait(w.ctx) }()
		synctest.Wait()
		w.expire(s)
		if err := <-lostDone; !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("wait of an expired session: %v", err)
		}
		synctest.Wait()
		if len(otherDone) != 0 {
			t.Fatal("a waiter passed the set barrier when another's session expired")
		}
		if err := ctl.Remove(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-otherDone; err != nil {
			t.Fatal(err)
		}
	})
}

// TestSharedCountSessionExpires: a count whose session expires stops
// following and refuses work with zk.ErrSessionExpired; the value it set
// stays, and a count on another session goes on from it.
func TestSharedCountSessionExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		s, c := w.session()
		a := must[*SharedCount](t)(NewSharedCount(c, "/count", 1))
		if err := a.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.SetCount(w.ctx, 10); err != nil {
			t.Fatal(err)
		}
		w.expire(s)
		synctest.Wait()
		if err := a.SetCount(w.ctx, 11); !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("set on an expired session: %v", err)
		}
		if ok, err := a.TrySetCount(w.ctx, a.VersionedCount(), 11); ok || !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("try set on an expired session: %v %v", ok, err)
		}
		a.Close() // returns: the follower ended with the session
		b := must[*SharedCount](t)(NewSharedCount(w.client(), "/count", 1))
		if err := b.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if got := b.VersionedCount(); got != (VersionedCount{Version: 1, Count: 10}) {
			t.Fatalf("count after the setter's session expired: %+v", got)
		}
		if ok, err := b.TrySetCount(w.ctx, b.VersionedCount(), 11); !ok || err != nil {
			t.Fatalf("try set on a new session: %v %v", ok, err)
		}
	})
}

// TestServiceDiscoverySessionExpires: an instance whose registering
// session expires leaves the registry and the other caches; its
// ServiceDiscovery refuses work with zk.ErrSessionExpired; registering
// again needs a new session, and the caches see it come back.
func TestServiceDiscoverySessionExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		watcher := must[*ServiceDiscovery](t)(NewServiceDiscovery(w.client(), "/services"))
		defer watcher.Close(w.ctx)
		cache := must[*ServiceCache](t)(watcher.NewServiceCache("api"))
		if err := cache.Start(w.ctx); err != nil {
			t.Fatal(err)
		}
		s, c := w.session()
		reg := must[*ServiceDiscovery](t)(NewServiceDiscovery(c, "/services"))
		inst := ServiceInstance{Name: "api", ID: "a1", Address: "10.0.0.1"}
		must[ServiceInstance](t)(reg.Register(w.ctx, inst))
		synctest.Wait()
		if got := cache.Instances(); len(got) != 1 {
			t.Fatalf("cache before the expiry: %+v", got)
		}
		w.expire(s)
		synctest.Wait()
		if got := cache.Instances(); len(got) != 0 {
			t.Fatalf("cache after the registrar's session expired: %+v", got)
		}
		if _, err := reg.Register(w.ctx, inst); !errors.Is(err, zk.ErrSessionExpired) {
			t.Fatalf("register on an expired session: %v", err)
		}
		again := must[*ServiceDiscovery](t)(NewServiceDiscovery(w.client(), "/services"))
		defer again.Close(w.ctx)
		must[ServiceInstance](t)(again.Register(w.ctx, inst))
		synctest.Wait()
		if got := cache.Instances(); len(got) != 1 || got[0].ID != "a1" {
			t.Fatalf("cache after registering again: %+v", got)
		}
	})
}
