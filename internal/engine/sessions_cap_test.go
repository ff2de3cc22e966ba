package engine

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/hooks"
)

// TestMaxClientCnxnsConcurrent opens many sessions at once on a peer that
// takes 5: exactly 5 are attached, the others fail with ErrConnectionLoss.
// Attaches that fail after taking a slot (an unknown session id) give it
// back, and a session that ends frees its slot.
func TestMaxClientCnxnsConcurrent(t *testing.T) {
	const limit, callers = 5, 40
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.MaxClientCnxns = limit
	// A stepped loop handles requests only inside a Barrier: every caller
	// is past the capacity check before any session commits.
	cfg.TestHooks = &hooks.Hooks{Stepped: true}
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	// stepUntil runs the stepped loop until f returns.
	stepUntil := func(f func()) {
		done := make(chan struct{})
		go func() { f(); close(done) }()
		for {
			if err := e.Barrier(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}
	stepUntil(func() {
		for i := int64(1); i <= 10; i++ {
			if _, err := e.Reattach(ctx, i, []byte("nope")); !errors.Is(err, ErrSessionExpired) {
				t.Errorf("reattach of an unknown session: %v", err)
			}
		}
	})
	var (
		mu       sync.Mutex
		sessions []*Session
		refused  atomic.Int64
		wg       sync.WaitGroup
	)
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.NewSession(ctx)
			if err != nil {
				refused.Add(1)
				if !errors.Is(err, ErrConnectionLoss) {
					t.Errorf("NewSession over the limit: %v, want ErrConnectionLoss", err)
				}
				return
			}
			mu.Lock()
			sessions = append(sessions, s)
			mu.Unlock()
		}()
	}
	for int64(e.Status().Requests)+refused.Load() < callers {
		runtime.Gosched() // until every caller is queued or refused
	}
	stepUntil(wg.Wait)
	if n := len(sessions); n != limit {
		t.Fatalf("%d concurrent NewSession calls opened %d sessions, want MaxClientCnxns=%d", callers, n, limit)
	}
	if n := e.Status().Sessions; n != limit {
		t.Fatalf("status: %d sessions attached, want %d", n, limit)
	}
	if _, err := e.NewSession(ctx); !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("NewSession at the limit: %v", err)
	}
	stepUntil(func() {
		if err := sessions[0].Close(ctx); err != nil {
			t.Error(err)
		}
		if _, err := e.NewSession(ctx); err != nil {
			t.Errorf("NewSession after a session closed: %v", err)
		}
	})
}
