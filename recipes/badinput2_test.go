package recipes

import (
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/embedzk/zk"
)

// TestBadInputRecipes2: the barriers, queues, counters, group members,
// service discovery and the protected/guaranteed helpers refuse bad input
// with zk.ErrInvalidPath or zk.ErrBadArguments, and change nothing.
func TestBadInputRecipes2(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		c := w.client()
		before := w.nodes()
		for _, p := range []string{"", "rel", "/", "/a/", "/a//b", "/a/./b", "/a\x00b"} {
			var errs []error
			add := func(_ any, err error) { errs = append(errs, err) }
			add(NewDistributedBarrier(c, p))
			add(NewDistributedDoubleBarrier(c, p, 2))
			add(NewDistributedQueue(c, p))
			add(NewDistributedPriorityQueue(c, p))
			add(NewDistributedDelayQueue(c, p))
			add(NewSharedCount(c, p, 0))
			add(NewDistributedAtomicLong(c, p))
			add(NewGroupMember(c, p, "m", nil))
			add(NewServiceDiscovery(c, p))
			add(c.CreateProtected(w.ctx, p, nil, zk.ModeEphemeral))
			errs = append(errs, c.DeleteGuaranteed(w.ctx, p))
			for i, err := range errs {
				if !errors.Is(err, zk.ErrInvalidPath) {
					t.Errorf("path %q, call %d: %v", p, i, err)
				}
			}
		}
		for _, id := range []string{"", "a/b", ".", ".."} {
			if _, err := NewGroupMember(c, "/g", id, nil); !errors.Is(err, zk.ErrInvalidPath) {
				t.Errorf("group member id %q: %v", id, err)
			}
		}
		var nilErrs []error
		addNil := func(_ any, err error) { nilErrs = append(nilErrs, err) }
		addNil(NewDistributedBarrier(nil, "/b"))
		addNil(NewDistributedDoubleBarrier(nil, "/b", 1))
		addNil(NewDistributedDoubleBarrier(c, "/b", 0))
		addNil(NewDistributedQueue(nil, "/q"))
		addNil(NewDistributedQueue(c, "/q", WithLockPath("/q/locks")))
		addNil(NewSharedCount(nil, "/n", 0))
		addNil(NewDistributedAtomicLong(nil, "/n"))
		addNil(NewDistributedAtomicLong(c, "/n", WithRetryPolicy(RetryPolicy{Tries: 0})))
		addNil(NewDistributedAtomicLong(c, "/n", WithPromotedToLock("/l", 0, RetryPolicy{Tries: 1})))
		addNil(NewGroupMember(nil, "/g", "m", nil))
		addNil(NewServiceDiscovery(nil, "/s"))
		addNil(c.CreateProtected(w.ctx, "/p", nil, zk.ModeContainer))
		addNil(c.CreateProtected(nil, "/p", nil, zk.ModeEphemeral))
		for i, err := range nilErrs {
			if !errors.Is(err, zk.ErrBadArguments) {
				t.Errorf("bad argument %d: %v", i, err)
			}
		}
		d := must[*ServiceDiscovery](t)(NewServiceDiscovery(c, "/s"))
		for i, inst := range []ServiceInstance{
			{Name: ""}, {Name: "a/b"}, {Name: "api", ID: "x/y"},
			{Name: "api", Payload: json.RawMessage("{not json")}, {Name: "api", ServiceType: "odd"},
		} {
			_, err := d.Register(w.ctx, inst)
			if !errors.Is(err, zk.ErrInvalidPath) && !errors.Is(err, zk.ErrBadArguments) {
				t.Errorf("instance %d: %v", i, err)
			}
		}
		if _, err := d.NewServiceCache("a/b"); !errors.Is(err, zk.ErrInvalidPath) {
			t.Errorf("service cache of a/b: %v", err)
		}
		sc := must[*SharedCount](t)(NewSharedCount(c, "/n", 0))
		if _, err := sc.TrySetCount(w.ctx, VersionedCount{Version: -1}, 1); !errors.Is(err, ErrNotStarted) && !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("try set before start: %v", err)
		}
		q := must[*DistributedDelayQueue](t)(NewDistributedDelayQueue(c, "/dq"))
		if err := q.Put(nil, []byte("x"), time.Now()); !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("put with a nil context: %v", err)
		}
		if got := w.nodes(); got != before {
			t.Fatalf("bad input changed the tree: %d nodes, was %d", got, before)
		}
	})
}
