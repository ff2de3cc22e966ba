package recipes

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
)

func ensemble(t *testing.T) *zk.Ensemble {
	t.Helper()
	e, err := zk.NewEnsemble(zk.Config{DataDir: "/zk", FS: vfs.NewMem(), TickTime: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func session(t *testing.T, e *zk.Ensemble) *zk.Session {
	t.Helper()
	s, err := e.NewSession(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMutexExcludes runs contenders on several sessions: never two inside.
func TestMutexExcludes(t *testing.T) {
	e := ensemble(t)
	ctx := ctxFor(t)
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		s := session(t, e)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := NewMutex(s, "/locks/a")
			for j := 0; j < 10; j++ {
				if err := m.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > max.Load() {
					max.Store(n)
				}
				inside.Add(-1)
				if err := m.Unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if max.Load() != 1 {
		t.Fatalf("%d holders at once", max.Load())
	}
}

func TestMutexReentrantAndRelease(t *testing.T) {
	e := ensemble(t)
	ctx := ctxFor(t)
	a, b := session(t, e), session(t, e)
	ma, mb := NewMutex(a, "/l"), NewMutex(b, "/l")
	if err := ma.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ma.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- mb.Lock(ctx) }()
	if err := ma.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		t.Fatalf("b got the lock while a still held it once: %v", err)
	default:
	}
	// The holder's session dies: the lock passes on.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if err := mb.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mb.Unlock(ctx); !errors.Is(err, ErrNotLocked) {
		t.Fatalf("unlock of an unlocked mutex: %v", err)
	}
}

func TestMutexCancelWithdraws(t *testing.T) {
	e := ensemble(t)
	ctx := ctxFor(t)
	a, b := session(t, e), session(t, e)
	ma := NewMutex(a, "/c")
	if err := ma.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- NewMutex(b, "/c").Lock(cctx) }()
	// Wait until b's node is there, then cancel.
	for {
		kids, _, err := a.Children(ctx, "/c")
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) == 2 {
			break
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled lock: %v", err)
	}
	kids, _, _ := a.Children(ctx, "/c")
	if len(kids) != 1 {
		t.Fatalf("a cancelled attempt left its node: %v", kids)
	}
}
