package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// TestResumeOnFollower: on a follower of three peers, through a leader
// change, a watch resumed from every zxid delivers what the follower's live
// watches delivered; the other follower replays the same stream from its
// own log.
func TestResumeOnFollower(t *testing.T) {
	c := newClusterWith(t, 3, 0, 21, transport.NetworkOptions{}, func(cfg *Config) { cfg.SnapCount = 30 })
	c.waitFor("a leader", 100, c.allServing)
	ld := c.leader()
	fs := c.others(ld)
	f, f2 := fs[0], fs[1]
	watcher := c.session(f)
	if err := c.create(watcher, "/r"); err != nil {
		t.Fatal(err)
	}
	var start int64
	if err := c.do(func(ctx context.Context) (err error) { start, err = watcher.Zxid(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	recData, _, pers := liveWatches(t, watcher)
	turn := 0
	open := func() *Session {
		turn++
		return c.session(fs[turn%2]) // writers on the followers survive the leader's stop
	}
	load := newResumeLoad(t, 21, c.do, open)
	for i := 0; i < 120; i++ {
		load.step()
	}
	c.stop(ld)
	c.waitFor("a new leader", 400, func() bool { l := c.leader(); return l != 0 && c.allServing() })
	for i := 0; i < 80; i++ {
		load.step()
	}
	var end int64
	if err := c.do(func(ctx context.Context) (err error) { end, err = watcher.Zxid(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	live, livePers := drain(recData), drain(pers)
	if len(live) < 50 || live[len(live)-1].Zxid>>32 == start>>32 {
		t.Fatalf("%d events, the last at %#x: the run did not write across the leader change", len(live), live[len(live)-1].Zxid)
	}
	n := 0
	readers := []*Session{c.session(f), c.session(f2)}
	for i, z := range zxidsOf(live, start) {
		for _, r := range readers {
			n += resumeAll(t, r, direct(t), "/r", true, live, z, z, 1, WithEventData())
			if i%3 == 0 {
				n += resumeAll(t, r, direct(t), "/r", false, livePers, z, z, 1, WithEventData())
			}
		}
	}
	t.Logf("%d resumes on the followers, events up to %#x", n, end)
}

// zxidsOf returns start and the zxid of every event in evs, once each, and
// one just before each (a zxid that may belong to no change of the path).
func zxidsOf(evs []Event, start int64) []int64 {
	out := []int64{start}
	for _, ev := range evs {
		if z := ev.Zxid; z != out[len(out)-1] {
			out = append(out, z-1, z)
		}
	}
	return out
}

// TestStrictWatchEndsOnSnapshotInstall: a follower that fell behind the
// leader's purged log gets a snapshot; its strict watches end with
// ErrCompacted instead of skipping what they missed, and resuming there
// from before the snapshot fails with ErrCompacted: reading again is the
// way.
func TestStrictWatchEndsOnSnapshotInstall(t *testing.T) {
	var installs atomic.Int32
	c := newClusterWith(t, 3, 0, 23, transport.NetworkOptions{}, func(cfg *Config) {
		cfg.SnapCount = 20
		cfg.PurgeInterval = time.Nanosecond
		cfg.TestHooks = &hooks.Hooks{SegmentSize: 2 << 10, Func: func(_ int64, point string) error {
			if point == hooks.AfterSnapInstall {
				installs.Add(1)
			}
			return nil
		}}
	})
	c.waitFor("a leader", 100, c.allServing)
	ld := c.leader()
	f := c.others(ld)[0]
	watcher := c.session(f)
	if err := c.create(watcher, "/r"); err != nil {
		t.Fatal(err)
	}
	var w *Watch
	if err := c.do(func(ctx context.Context) (err error) {
		w, err = watcher.AddWatch(ctx, "/r", true, WithEventData())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c.net.Isolate(f)
	s := c.session(ld)
	for i := 0; i < 200; i++ {
		if err := c.create(s, "/r/n"+string(rune('a'+i%26))+string(rune('a'+i/26))); err != nil {
			t.Fatal(err)
		}
	}
	c.net.Heal()
	c.waitFor("the follower to sync", 600, func() bool {
		st := c.ens[f].Status()
		return st.Serving && st.Applied == c.ens[ld].Status().Applied
	})
	if installs.Load() == 0 {
		t.Fatal("the follower synced without a snapshot")
	}
	var last Event
	for {
		ev, ok := w.TryNext()
		if !ok {
			break
		}
		last = ev
	}
	if last.Type != EventNotWatching || !errors.Is(last.Err, ErrCompacted) {
		t.Fatalf("the strict watch's last event is %+v, want NotWatching with ErrCompacted", last)
	}
	if _, err := w.Next(testCtx(t)); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Next after the end: %v, want ErrCompacted", err)
	}
	r := c.session(f)
	err := c.do(func(ctx context.Context) error {
		_, err := r.AddWatch(ctx, "/r", true, FromZxid(1))
		return err
	})
	if !errors.Is(err, ErrCompacted) {
		t.Fatalf("resuming on the follower from before its snapshot: %v, want ErrCompacted", err)
	}
}
