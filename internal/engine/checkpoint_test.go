package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/hooks"
)

// TestRecoverFromCheckpoint: the periodic snapshots are checkpoints of the
// tree's store. With the log purged behind them and the tree's directory
// lost, a restart restores the newest checkpoint and replays the log after
// it: the tree comes back whole.
func TestRecoverFromCheckpoint(t *testing.T) {
	fs := vfs.NewMem()
	cfg := testConfig(fs, 1)
	cfg.SnapCount, cfg.PurgeInterval = 40, time.Nanosecond
	cfg.TestHooks = &hooks.Hooks{SegmentSize: 2 << 10}
	e := openTest(t, cfg)
	s := newSession(t, e)
	start := time.Now()
	purged := func() bool {
		snaps := e.wal.Snapshots()
		if len(snaps) < 2 || e.wal.Base() == 0 {
			return false
		}
		_, dir := e.wal.SnapshotDir(snaps[0])
		return dir
	}
	// Snapshots and purges run beside the writes: on a loaded machine the
	// writes may outrun them, so they go on for a while.
	for i := 0; i < 300 || !purged() && time.Since(start) < 30*time.Second; i++ {
		mustCreate(t, s, fmt.Sprintf("/n%d", i), fmt.Sprint(i))
	}
	if !purged() {
		t.Fatalf("no purged log behind a checkpoint: snapshots %v, log base %#x", e.wal.Snapshots(), e.wal.Base())
	}
	newest := e.wal.Snapshots()[0]
	mustCreate(t, s, "/after-the-checkpoint", "x")
	before := dumpTree(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fs.RemoveAll("/zk/tree"); err != nil {
		t.Fatal(err)
	}

	cfg.Rand = newSeeded(2)
	e = openTest(t, cfg)
	defer e.Close()
	if after := dumpTree(t, e); after != before {
		t.Fatalf("tree restored from checkpoint %#x differs:\n%s\nvs\n%s", newest, after, before)
	}
}
