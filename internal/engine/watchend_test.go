package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/watch"
)

// oneWatch is a RemoteWatcher that leaves every watch it is asked for.
type oneWatch struct{}

func (oneWatch) Watch(_ string, _ watch.Kind, add func(watch.Sink) (watch.ID, error)) error {
	_, err := add(watch.NewChanSink(1))
	return err
}

// TestWatchSetWhileSessionEnds ends a session at the worst moment for a
// call that sets a watch: after the call found the session usable, before
// it took the apply lock, so the session's CloseSession is applied (its
// watches dropped, its handle detached) just before the registration.
// Before the fix the call succeeded and left a watch that nothing would
// ever trigger or end (the apply loop delivers only to attached sessions,
// and the session's watches had been dropped already): a cache resuming on
// that watch waited forever with no error, as TestCacheFaults once saw.
// Every such call must fail with ErrSessionExpired instead, leaving no
// registration (a wire session's read left one in the watch tables for
// good).
func TestWatchSetWhileSessionEnds(t *testing.T) {
	cases := []struct {
		name string
		set  func(ctx context.Context, s *Session, from int64) error
		log  bool // resume from the log, not the journal
	}{
		{name: "AddWatch", set: func(ctx context.Context, s *Session, _ int64) error {
			_, err := s.AddWatch(ctx, "/w", false)
			return err
		}},
		{name: "AddWatch recursive with data", set: func(ctx context.Context, s *Session, _ int64) error {
			_, err := s.AddWatch(ctx, "/w", true, WithEventData())
			return err
		}},
		{name: "AddWatch FromZxid, journal", set: func(ctx context.Context, s *Session, from int64) error {
			_, err := s.AddWatch(ctx, "/w", false, FromZxid(from), WithEventData())
			return err
		}},
		{name: "AddWatch FromZxid, log", log: true, set: func(ctx context.Context, s *Session, from int64) error {
			_, err := s.AddWatch(ctx, "/w", false, FromZxid(from), WithEventData())
			return err
		}},
		{name: "GetW", set: func(ctx context.Context, s *Session, _ int64) error {
			_, _, _, err := s.GetW(ctx, "/w")
			return err
		}},
		{name: "ExistsW", set: func(ctx context.Context, s *Session, _ int64) error {
			_, _, _, err := s.ExistsW(ctx, "/w")
			return err
		}},
		{name: "ChildrenW", set: func(ctx context.Context, s *Session, _ int64) error {
			_, _, _, err := s.ChildrenW(ctx, "/w")
			return err
		}},
		{name: "GetRemote", set: func(ctx context.Context, s *Session, _ int64) error {
			_, _, err := RemoteSession{Session: s}.GetRemote(ctx, "/w", oneWatch{})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e *Ensemble
			var victim atomic.Int64 // the session to end at the hook, once
			expired := make(chan error, 1)
			cfg := testConfig(vfs.NewMem(), 7)
			cfg.TestHooks = &hooks.Hooks{Func: func(_ int64, point string) error {
				if point != hooks.BeforeReadLock {
					return nil
				}
				if id := victim.Swap(0); id != 0 {
					expired <- e.ExpireSession(testCtx(t), id)
				}
				return nil
			}}
			e = openTest(t, cfg)
			t.Cleanup(func() { e.Close() })
			ctx := testCtx(t)
			a, b := newSession(t, e), newSession(t, e)
			// A strict watch of b's starts the journal; writes follow.
			if _, err := b.AddWatch(ctx, "/", true, WithEventData()); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, b, "/w", "0")
			from, err := b.Zxid(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{"1", "2"} {
				if _, err := b.Set(ctx, "/w", []byte(d), -1); err != nil {
					t.Fatal(err)
				}
			}
			e.journal.mu.Lock()
			e.journal.skip = tc.log
			e.journal.mu.Unlock()

			victim.Store(a.ID())
			err = tc.set(ctx, a, from)
			if xerr := <-expired; xerr != nil {
				t.Fatalf("expiring the session at the hook: %v", xerr)
			}
			if !errors.Is(err, ErrSessionExpired) {
				t.Fatalf("the call on a session that expired while it ran returned %v, want ErrSessionExpired", err)
			}
			if n := len(e.watches.SessionWatches(a.ID())); n != 0 {
				t.Fatalf("the expired session holds %d watches", n)
			}
			// b's watch shows the tree still changes and is watched.
			if _, err := b.Set(ctx, "/w", []byte("3"), -1); err != nil {
				t.Fatal(err)
			}
		})
	}
}
