package recipes

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

// TestAcquireWithEndedContext: a Mutex's or a SemaphoreMutex's Acquire
// with a context that already ended fails with its cause and calls
// nothing, every time, even when nothing else waits for the lock. (Its
// select had two ready cases, the free slot and ctx.Done, and Go picks one
// at random: about half of the calls went on to a create bound to fail and
// a sweep of it, two writes; internal/recipesim seed 7 did not replay once
// the first leader's configuration txn shifted its schedule onto such a
// call.)
func TestAcquireWithEndedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		_, cc, c := w.countedClient()
		defer c.Close(w.ctx)
		m := must[*Mutex](t)(NewMutex(c, "/ended"))
		sm := must[*SemaphoreMutex](t)(NewSemaphoreMutex(c, "/ended-sm"))
		ctx, cancel := context.WithCancelCause(w.ctx)
		cause := errors.New("the caller gave up")
		cancel(cause)
		synctest.Wait()
		for _, l := range []Locker{m, sm} {
			before := cc.calls.Load()
			for i := 0; i < 64; i++ {
				if lease, err := l.Acquire(ctx); !errors.Is(err, cause) {
					t.Fatalf("%T call %d: Acquire with an ended context: %v, %v", l, i, lease, err)
				}
			}
			synctest.Wait()
			if n := cc.calls.Load() - before; n != 0 {
				t.Fatalf("%T: 64 Acquire calls with an ended context made %d calls to the session", l, n)
			}
		}
	})
}
