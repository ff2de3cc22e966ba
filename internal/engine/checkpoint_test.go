package engine

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/znode"
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

// TestCheckpointReadWhileDeleted: retention may delete a checkpoint while a
// replay streams it (Pebble opens a checkpoint's files only as it reads
// them); the stream reads a link copy and ends whole.
func TestCheckpointReadWhileDeleted(t *testing.T) {
	fs := vfs.NewMem()
	cfg := testConfig(fs, 3)
	// A checkpoint of at least 1000 nodes of 2000 bytes, many times what
	// the stream's writer buffers (256 KiB) before the pipe holds it up,
	// and small memtables: many flushes, so many tables and blob files,
	// which Pebble opens one by one as the stream reaches them.
	cfg.SnapCount = 2000
	cfg.TreeMemTableSize = 256 << 10
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	start := time.Now()
	var zxid int64
	for i := 0; zxid == 0 && time.Since(start) < 30*time.Second; i++ {
		mustCreate(t, s, fmt.Sprintf("/n%d", i), strings.Repeat("x", 2000))
		for _, z := range e.wal.Snapshots() {
			if _, ok := e.wal.SnapshotDir(z); ok {
				zxid = z
			}
		}
	}
	dir, ok := e.wal.SnapshotDir(zxid)
	if !ok {
		t.Fatalf("no checkpoint among the snapshots %v", e.wal.Snapshots())
	}
	r, err := e.openSnapshot(zxid)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 64)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	if err := fs.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	scratch, err := znode.Open(znode.Options{FS: vfs.NewMem(), Dir: "/scratch"})
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Close()
	got, err := scratch.Restore(io.MultiReader(bytes.NewReader(head), r))
	if err != nil || got != zxid {
		t.Fatalf("restoring checkpoint %#x deleted while read: zxid %#x, %v", zxid, got, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
