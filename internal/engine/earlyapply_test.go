package engine

import (
	"context"
	"sync"
	"testing"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/zab/transport"
)

// TestFollowerAppliesBeforeNextFsync: a follower that handles a COMMIT and
// the next PROPOSAL in one loop turn applies the committed entry before it
// appends (and fsyncs) the proposed one, so the commit's callers and
// watchers do not wait for the next fsync. (It used to apply only after
// the whole Persist of the turn: at the append of /c, /b was not applied.)
func TestFollowerAppliesBeforeNextFsync(t *testing.T) {
	var mu sync.Mutex
	views := map[int64]hooks.View{}
	armed := int64(0)            // the follower whose next append is checked
	appliedAtAppend := int64(-1) // its applied zxid at that append
	queued := make(chan int64, 16)
	c := newClusterWith(t, 3, 0, 7, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.TestHooks = &hooks.Hooks{
			Stepped: true,
			Attach: func(v hooks.View) {
				mu.Lock()
				views[cfg.ID] = v
				mu.Unlock()
			},
			Func: func(peer int64, point string) error {
				switch point {
				case hooks.Queued:
					select {
					case queued <- peer:
					default:
					}
				case hooks.BeforeAppend:
					mu.Lock()
					if peer == armed && appliedAtAppend < 0 {
						appliedAtAppend, _ = views[peer].Applied()
					}
					mu.Unlock()
				}
				return nil
			},
		}
	})
	c.waitFor("a serving leader", 200, c.allServing)
	l := c.leader()
	f := c.others(l)[0]
	s := c.session(l)
	if err := c.create(s, "/a"); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	barrier := func(id int64) {
		t.Helper()
		if err := c.ens[id].Barrier(ctx); err != nil {
			t.Fatal(err)
		}
	}
	drain := func() {
		for len(queued) > 0 {
			<-queued
		}
	}
	// /b: proposed, logged and acked by both followers, committed by the
	// leader; its COMMIT is not delivered yet.
	drain()
	doneB := async(ctx, func(ctx context.Context) error { _, err := s.Create(ctx, "/b", nil); return err })
	<-queued
	barrier(l)
	c.net.DeliverAll()
	for _, id := range c.others(l) {
		barrier(id)
	}
	c.net.DeliverAll()
	barrier(l)
	if err := <-doneB; err != nil {
		t.Fatal(err)
	}
	_, st, err := s.Exists(ctx, "/b")
	if err != nil {
		t.Fatal(err)
	}
	// /c: proposed behind /b's COMMIT on the same link.
	drain()
	doneC := async(ctx, func(ctx context.Context) error { _, err := s.Create(ctx, "/c", nil); return err })
	<-queued
	barrier(l)
	c.net.DeliverAll() // the follower has COMMIT /b, then PROPOSAL /c queued
	mu.Lock()
	armed = f
	mu.Unlock()
	barrier(f) // one turn: both
	mu.Lock()
	got := appliedAtAppend
	mu.Unlock()
	if got < st.Czxid {
		t.Fatalf("follower %d: applied %#x when it appended /c, want /b's %#x applied first", f, got, st.Czxid)
	}
	c.settle()
	if err := <-doneC; err != nil {
		t.Fatal(err)
	}
	c.sameTrees()
}

// TestDurableFirst: only what was appended before the Ready is applied
// ahead of its Persist, and only around a Persist made of appends.
func TestDurableFirst(t *testing.T) {
	ents := func(zs ...int64) []zab.Entry {
		var out []zab.Entry
		for _, z := range zs {
			out = append(out, zab.Entry{Zxid: z})
		}
		return out
	}
	appendOp := zab.PersistOp{Kind: zab.PersistAppend, Entries: ents(5, 6)}
	for _, tc := range []struct {
		name  string
		ops   []zab.PersistOp
		early int
	}{
		{"no persist", nil, 0},
		{"appends", []zab.PersistOp{appendOp}, 2},
		{"a state first", []zab.PersistOp{{Kind: zab.PersistState}, appendOp}, 0},
		{"a truncation after", []zab.PersistOp{appendOp, {Kind: zab.PersistTruncate, Zxid: 5}}, 0},
		{"an empty append", []zab.PersistOp{{Kind: zab.PersistAppend}}, 0},
	} {
		early, late := durableFirst(ents(3, 4, 5, 6), tc.ops)
		if len(early) != tc.early || len(early)+len(late) != 4 {
			t.Errorf("%s: %d early, %d late, want %d early of 4", tc.name, len(early), len(late), tc.early)
		}
	}
}
