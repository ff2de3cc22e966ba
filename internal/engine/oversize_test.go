package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// Issue 9's critical defect: while writes are in flight, one request whose
// log entry cannot be proposed (a 5 MB path; a multi of five 1 MiB creates,
// each legal alone) made the leader forget the pending view of every
// proposed-but-unapplied write; the next write was prepared against a stale
// tree, its digest disagreed, and every peer fail-stopped with "data
// inconsistency" (and replayed into the same error after a restart).

// oversizedShapes are the two requests of the issue.
var oversizedShapes = []struct {
	name string
	call func(ctx context.Context, s *Session) error
}{
	{"5MB path", func(ctx context.Context, s *Session) error {
		_, err := s.Create(ctx, "/"+strings.Repeat("p", 5<<20), nil)
		return err
	}},
	{"multi of five 1MiB creates", func(ctx context.Context, s *Session) error {
		var ops []Op
		for i := 0; i < 5; i++ {
			ops = append(ops, CreateOp("/m"+string(rune('0'+i)), make([]byte, 1<<20-64)))
		}
		_, err := s.Multi(ctx, ops...)
		return err
	}},
}

// queuedSignal is a TestHooks.Func that reports each request queued at a
// peer, so that a test can hand the peer a barrier only once the request
// is in its queue.
func queuedSignal(ch chan int64) func(peer int64, point string) error {
	return func(peer int64, point string) error {
		if point == hooks.Queued {
			ch <- peer
		}
		return nil
	}
}

// async runs fn on its own goroutine; the returned channel gets its error.
func async(ctx context.Context, fn func(ctx context.Context) error) chan error {
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	return done
}

// checkOversizedOutcome: the oversized request failed with a clear size
// error (not one that invites a retry); the writes around it succeeded.
func checkOversizedOutcome(t *testing.T, errA, errBig, errC error) {
	t.Helper()
	if errBig == nil || errors.Is(errBig, ErrNotServing) || errors.Is(errBig, ErrConnectionLoss) {
		t.Errorf("oversized request: got %v, want a size error", errBig)
	}
	if !errors.Is(errBig, ErrRequestTooLarge) || !errors.Is(errBig, ErrBadArguments) {
		t.Errorf("oversized request: got %v, want ErrRequestTooLarge (and ErrBadArguments)", errBig)
	}
	if errA != nil || errC != nil {
		t.Errorf("the writes around it: %v, %v; want both to succeed", errA, errC)
	}
}

func TestOversizedRequestAmidWritesStandalone(t *testing.T) {
	for _, shape := range oversizedShapes {
		t.Run(shape.name, func(t *testing.T) {
			queued := make(chan int64, 16)
			cfg := testConfig(vfs.NewMem(), 9)
			cfg.TestHooks = &hooks.Hooks{Stepped: true, Func: queuedSignal(queued)}
			e := openTest(t, cfg)
			defer e.Close()
			ctx := testCtx(t)
			// Three sessions, so that the three calls are in the peer's
			// queue together and prepared in one loop turn: /a is proposed
			// and not applied when the oversized request comes.
			var ss []*Session
			for i := 0; i < 3; i++ {
				c := async(ctx, func(ctx context.Context) error {
					s, err := e.NewSession(ctx)
					ss = append(ss, s)
					return err
				})
				<-queued
				if err := e.Barrier(ctx); err != nil {
					t.Fatal(err)
				}
				if err := <-c; err != nil {
					t.Fatal(err)
				}
			}
			doneA := async(ctx, func(ctx context.Context) error { _, err := ss[0].Create(ctx, "/a", []byte("a")); return err })
			<-queued
			doneBig := async(ctx, func(ctx context.Context) error { return shape.call(ctx, ss[1]) })
			select {
			case <-queued:
			case err := <-doneBig:
				doneBig <- err // refused at the session: it never reached the queue
			}
			doneC := async(ctx, func(ctx context.Context) error {
				_, err := ss[2].Create(ctx, "/a/b", []byte("b"))
				return err
			})
			<-queued
			for i := 0; i < 3; i++ {
				if err := e.Barrier(ctx); err != nil {
					t.Fatal(err)
				}
			}
			errA, errBig, errC := <-doneA, <-doneBig, <-doneC
			checkOversizedOutcome(t, errA, errBig, errC)
			if st := e.Status(); st.Err != nil || !st.Serving {
				t.Fatalf("the peer stopped: %+v", st)
			}
			if _, _, err := ss[0].Get(ctx, "/a/b"); err != nil {
				t.Fatalf("get /a/b: %v", err)
			}
		})
	}
}

func TestOversizedRequestAmidWrites3(t *testing.T) {
	for _, shape := range oversizedShapes {
		t.Run(shape.name, func(t *testing.T) {
			queued := make(chan int64, 64)
			c := newClusterWith(t, 3, 0, 9, transport.NetworkOptions{}, func(cfg *Config) {
				cfg.TestHooks = &hooks.Hooks{Func: queuedSignal(queued)}
			})
			c.waitFor("a serving ensemble", 300, c.allServing)
			l := c.leader()
			s1, s2, s3 := c.session(l), c.session(l), c.session(l)
			for len(queued) > 0 {
				<-queued
			}
			ctx := testCtx(t)
			barrier := func() {
				if err := c.ens[l].Barrier(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// Nothing is delivered until the end: /a stays proposed and
			// unapplied while the oversized request is handled.
			doneA := async(ctx, func(ctx context.Context) error { _, err := s1.Create(ctx, "/a", []byte("a")); return err })
			<-queued
			barrier()
			doneBig := async(ctx, func(ctx context.Context) error { return shape.call(ctx, s2) })
			select {
			case <-queued:
				barrier()
			case err := <-doneBig:
				doneBig <- err // refused at the session
			}
			doneC := async(ctx, func(ctx context.Context) error { _, err := s3.Create(ctx, "/a/b", []byte("b")); return err })
			<-queued
			barrier()
			var errA, errBig, errC error
			err := c.do(func(context.Context) error {
				errA, errBig, errC = <-doneA, <-doneBig, <-doneC
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			checkOversizedOutcome(t, errA, errBig, errC)
			for _, id := range c.running() {
				if st := c.ens[id].Status(); st.Err != nil {
					t.Fatalf("peer %d stopped: %v", id, st.Err)
				}
			}
			c.sameTrees()
			if !strings.Contains(dumpTree(t, c.ens[l]), "/a/b ") {
				t.Fatalf("/a/b is missing:\n%s", dumpTree(t, c.ens[l]))
			}
		})
	}
}
