package engine

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/crashmem"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/znode"
)

// TestCrashReplayIsBounded writes well past the tree's flush interval and
// crashes (a clone of the strict in-memory FS keeps only what was synced):
// at the restart the log replays at most two flush intervals of txns, not
// everything since the tree's last Pebble flush, and loses nothing.
func TestCrashReplayIsBounded(t *testing.T) {
	const writers, perWriter = 16, 700 // 11,200 txns, beyond 2*DefaultFlushEntries
	mem := crashmem.New()
	e := openTest(t, testConfig(mem, 1))
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		s := newSession(t, e)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if _, err := s.Create(testCtx(t), fmt.Sprintf("/w%02d-%04d", w, i), nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	last := e.Status().LastZxid
	clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	e.Close()

	cfg := testConfig(clone, 2)
	var view hooks.View
	var from int64
	cfg.TestHooks = &hooks.Hooks{Attach: func(v hooks.View) { view = v; from, _ = v.Applied() }}
	e2 := openTest(t, cfg)
	defer e2.Close()
	if st := e2.Status(); st.Applied < last {
		t.Fatalf("restarted at %#x, the acknowledged writes went up to %#x", st.Applied, last)
	}
	replayed := 0
	for after := from; after < last; {
		ents, err := view.LogEntries(after, 1<<20)
		if err != nil || len(ents) == 0 {
			t.Fatalf("reading the log after %#x: %v", after, err)
		}
		for _, en := range ents {
			if en.Zxid <= last {
				replayed++
			}
			after = en.Zxid
		}
	}
	bound := 2*znode.DefaultFlushEntries + 1
	t.Logf("%d txns written, %d replayed after the crash (bound %d)", writers*perWriter, replayed, bound)
	if replayed > bound {
		t.Fatalf("the restart replayed %d log entries, want at most %d (two flush intervals)", replayed, bound)
	}
}
