package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/crashmem"
)

// TestNoForceSyncSkipsLogSyncs: with NoForceSync a peer's writes do not
// sync its log (wal's Options.NoAppendSync), and without it every group
// commit does.
func TestNoForceSyncSkipsLogSyncs(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		cfg := testConfig(vfs.NewMem(), 1)
		cfg.NoForceSync = noSync
		e := openTest(t, cfg)
		s := newSession(t, e)
		before := e.wal.Stats()
		for i := range 10 {
			mustCreate(t, s, fmt.Sprintf("/n%d", i), "")
		}
		after := e.wal.Stats()
		if syncs := after.Syncs - before.Syncs; noSync != (syncs == 0) || after.Records-before.Records < 10 {
			t.Errorf("NoForceSync %v: 10 creates made %d log records in %d fsyncs", noSync, after.Records-before.Records, syncs)
		}
		e.Close()
	}
}

// TestCrashNoForceSync crashes a standalone peer with NoForceSync while two
// writers write, keeping none, some or all of what was not synced, and
// reopens it: it recovers and serves, and each writer's subtree is a
// prefix of its writes. Acknowledged writes may be gone (the log was not
// synced).
func TestCrashNoForceSync(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*crashSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			fs := crashmem.New()
			cfg := crashConfig(fs, seed)
			cfg.NoForceSync = true
			e := openTest(t, cfg)
			writeUntil(t, e, []string{"/a", "/b"}, int64(20+rng.IntN(300)), func() {
				fs = fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: []int{0, 50, 100}[seed%3], RNG: rng})
			})
			cfg = crashConfig(fs, seed+1000)
			cfg.NoForceSync = true
			e2, err := NewEnsemble(cfg)
			if err != nil {
				t.Fatalf("recovery after a crash: %v", err)
			}
			defer e2.Close()
			if err := e2.WaitServing(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			for _, root := range []string{"/a", "/b"} {
				checkPrefix(t, e2, root, 0)
			}
		})
	}
}

// writeUntil has a writer per root create root/n000000, n000001, ... on e
// until n writes were acknowledged in all, then calls crash while they
// still write, stops them and closes e.
func writeUntil(t *testing.T, e *Ensemble, roots []string, n int64, crash func()) {
	ctx, cancel := context.WithCancel(testCtx(t))
	var mu sync.Mutex
	acked := int64(0)
	var wg sync.WaitGroup
	for _, root := range roots {
		s := newSession(t, e)
		mustCreate(t, s, root, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if _, err := s.Create(ctx, fmt.Sprintf("%s/n%06d", root, i), make([]byte, 200)); err != nil {
					return // the crash (ctx) ends the writer
				}
				mu.Lock()
				acked++
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		done := acked >= n
		mu.Unlock()
		if done {
			break
		}
		// Wait on the writers' progress without sleeping: yield to them.
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	crash()
	cancel()
	wg.Wait()
	e.Close()
}
