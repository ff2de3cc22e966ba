package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/crashmem"
)

// TestNoForceSyncSkipsLogSyncs: with NoForceSync a peer's writes do not
// sync its log (wal's Options.NoAppendSync) and time no fsync, and
// without it every group commit does.
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
		// As ZooKeeper's fsynctime, which times only the fsyncs it makes.
		if p99 := e.Status().FsyncP99; noSync != (p99 == 0) {
			t.Errorf("NoForceSync %v: fsync p99 %v", noSync, p99)
		}
		e.Close()
	}
}

// TestCrashNoForceSync crashes a standalone peer with NoForceSync while two
// writers write, keeping none, some or all of what was not synced, and
// reopens it: it recovers and serves, and each writer's subtree is a
// prefix of its writes. Acknowledged writes may be gone (the log was not
// synced), and the tree, which flushes apart from the log, may be ahead of
// what the log kept.
func TestCrashNoForceSync(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*crashSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			fs := crashmem.New()
			cfg := crashConfig(fs, seed)
			cfg.NoForceSync = true
			e := openTest(t, cfg)
			writeUntil(t, e, []string{"/a", "/b"}, int64(20+rng.IntN(300)), func([]int64) {
				if seed%2 == 0 {
					e.tree.Flush() // as the tree flushes on its own, apart from the log
				}
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

// TestNoForceSyncTreeAhead: an operating-system crash that loses the log's
// unsynced tail after the tree flushed leaves the tree ahead of the log. A
// peer with NoForceSync starts its log over after the tree's zxid and goes
// on (a restart after more writes included); one without it refuses to
// start, since that never happens when every group commit is synced.
func TestNoForceSyncTreeAhead(t *testing.T) {
	t.Run("later segment", func(t *testing.T) { treeAhead(t, 8<<10) })
	// In the first segment, never synced: the log is left empty.
	t.Run("first segment", func(t *testing.T) { treeAhead(t, 0) })
}

// treeAhead: a tree flushed past what an operating-system crash left of
// the log, with log segments of segBytes (0: the default size).
func treeAhead(t *testing.T, segBytes int64) {
	fs := crashmem.New()
	cfg := crashConfig(fs, 1)
	cfg.TestHooks.SegmentSize = segBytes
	cfg.NoForceSync = true
	e := openTest(t, cfg)
	s := newSession(t, e)
	mustCreate(t, s, "/t", "")
	for i := range 100 {
		mustCreate(t, s, fmt.Sprintf("/t/n%06d", i), strings.Repeat("x", 100))
	}
	flushed, err := e.tree.Flush()
	if err != nil {
		t.Fatal(err)
	}
	fs = fs.CrashClone(vfs.CrashCloneCfg{}) // nothing unsynced kept
	e.Close()
	cfg = crashConfig(fs, 2)
	cfg.TestHooks.SegmentSize = segBytes
	if _, err := NewEnsemble(cfg); err == nil {
		t.Fatal("without NoForceSync, a tree ahead of the log: started, want an error")
	}
	cfg.NoForceSync = true
	for round := range 2 {
		e = openTest(t, cfg)
		if st := e.Status(); st.Applied < flushed || st.LastZxid != st.Applied {
			t.Fatalf("round %d: the tree flushed at %#x; reopened with applied %#x, log last %#x", round, flushed, st.Applied, st.LastZxid)
		}
		checkPrefix(t, e, "/t", 100)
		s = newSession(t, e) // one more write, then a clean restart
		e.Close()
	}
}
