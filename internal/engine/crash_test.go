package engine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/crashmem"
	"github.com/embedzk/zk/internal/hooks"
)

var crashSeeds = flag.Int("zk.crashseeds", 12, "seeds for TestCrashKeepsAcknowledgedWrites")

// TestCrashKeepsAcknowledgedWrites crashes a standalone ensemble (a crash
// clone of the strict in-memory FS: unsynced bytes lost, or some of them
// kept) after a random number of acknowledged writes, while two writers keep
// writing and snapshots and log rolls happen underneath; then it reopens the
// clone. Every acknowledged write must be there, and each writer's subtree
// must be a prefix of what it wrote: nothing beyond the log.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*crashSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { crashOnce(t, seed) })
	}
}

func crashConfig(fs vfs.FS, seed uint64) Config {
	cfg := testConfig(fs, seed)
	cfg.SnapCount = 40
	cfg.TestHooks = &hooks.Hooks{SegmentSize: 8 << 10}
	return cfg
}

func crashOnce(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	fs := crashmem.New()
	e := openTest(t, crashConfig(fs, seed))
	writers := []string{"/a", "/b"}
	var floor []int64
	var clone *crashmem.FS
	writeUntil(t, e, writers, int64(20+rng.IntN(300)), func(acked []int64) {
		floor = acked
		clone = fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: []int{0, 50, 100}[rng.IntN(3)], RNG: rng})
	})

	e2, err := NewEnsemble(crashConfig(clone, seed+1000))
	if err != nil {
		t.Fatalf("recovery after a crash: %v", err)
	}
	defer e2.Close()
	if err := e2.WaitServing(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	st := e2.Status()
	if st.Applied > st.LastZxid {
		t.Fatalf("the tree (%#x) is beyond the log (%#x)", st.Applied, st.LastZxid)
	}
	for w, root := range writers {
		checkPrefix(t, e2, root, floor[w])
	}
}

// writeUntil has a writer per root create root/n000000, n000001, ... on e
// until n writes were acknowledged in all, then calls crash, with how many
// each writer had acknowledged, while they still write; then it stops them
// and closes e.
func writeUntil(t *testing.T, e *Ensemble, roots []string, n int64, crash func(acked []int64)) {
	ctx, cancel := context.WithCancel(testCtx(t))
	acked := make([]atomic.Int64, len(roots))
	var wg sync.WaitGroup
	for w, root := range roots {
		s := newSession(t, e)
		mustCreate(t, s, root, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(0); ; i++ {
				if _, err := s.Create(ctx, fmt.Sprintf("%s/n%06d", root, i), make([]byte, 200)); err != nil {
					return // the crash (ctx) ends the writer
				}
				acked[w].Store(i + 1)
			}
		}()
	}
	sum := func() (n int64) {
		for i := range acked {
			n += acked[i].Load()
		}
		return n
	}
	for sum() < n {
		// Wait on the writers' progress without sleeping: yield to them.
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	floor := make([]int64, len(acked))
	for i := range acked {
		floor[i] = acked[i].Load()
	}
	crash(floor)
	cancel()
	wg.Wait()
	e.Close()
}

// checkPrefix checks root holds n000000..n(k-1) for some k >= floor and
// nothing else.
func checkPrefix(t *testing.T, e *Ensemble, root string, floor int64) {
	t.Helper()
	e.applyMu.RLock()
	names, _, err := e.tree.Children(root)
	e.applyMu.RUnlock()
	if errors.Is(err, ErrNoNode) && floor == 0 {
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", root, err)
	}
	for i, name := range names {
		if want := fmt.Sprintf("n%06d", i); name != want {
			t.Fatalf("%s: child %d is %s, want %s: not a prefix of the writes", root, i, name, want)
		}
	}
	if int64(len(names)) < floor {
		t.Fatalf("%s: %d writes survived, %d were acknowledged", root, len(names), floor)
	}
}
