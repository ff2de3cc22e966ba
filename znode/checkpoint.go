package znode

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// checkpointCache is the block cache of a checkpoint opened to be read: it
// is read once, front to back.
const checkpointCache = 8 << 20

// Checkpoint writes a copy of the tree's store to dir, which must not
// exist, and returns the applied zxid the copy holds and its size in bytes.
// The copy holds at least everything applied before the call (the tree is
// flushed first) and is durable on return. Its tables and blob files are
// hard links to the tree's own where the file system allows (a copy
// otherwise), so a checkpoint costs almost no CPU or I/O while it is made;
// its disk space grows as compactions replace the files it shares.
//
// Checkpoint may run concurrently with Apply and reads, not with Restore or
// Close. OpenCheckpoint reads a checkpoint back as a snapshot stream.
func (t *Tree) Checkpoint(dir string) (zxid, size int64, err error) {
	if _, err := t.Flush(); err != nil {
		return 0, 0, err
	}
	if err := checkpointDB(t.db, dir); err != nil {
		return 0, 0, fmt.Errorf("znode: checkpoint %s: %w", dir, err)
	}
	// The zxid is read back from the copy: applies running beside this call
	// may have been flushed into it after Flush returned.
	c, err := OpenCheckpoint(t.opts.FS, dir)
	if err != nil {
		return 0, 0, err
	}
	zxid = c.Zxid()
	if err := c.Close(); err != nil {
		return 0, 0, err
	}
	size, err = dirSize(t.opts.FS, dir)
	if err != nil {
		return 0, 0, fmt.Errorf("znode: checkpoint %s: %w", dir, err)
	}
	return zxid, size, nil
}

// checkpointDB runs Pebble's Checkpoint. Pebble treats a failed directory
// sync as unrecoverable and panics; it holds none of the DB's locks then
// (the checkpoint writes only its own directory), so the panic becomes an
// error here, which the caller treats as any failed fsync: the peer stops.
func checkpointDB(db *pebble.DB, dir string) (err error) {
	defer catchCheckpointPanic(&err)
	return db.Checkpoint(dir)
}

// OpenCheckpoint opens, read-only, a checkpoint that Checkpoint wrote in
// dir on fs. The Snapshot it returns streams the checkpoint's tree in the
// snapshot format (WriteTo), which Restore reads; its Close releases the
// checkpoint's store.
//
// It takes no directory lock (and writes no LOCK file there): a checkpoint
// is opened by its maker once, or read from a reader's private copy, never
// by two stores at once.
func OpenCheckpoint(fs vfs.FS, dir string) (*Snapshot, error) {
	cache := pebble.NewCache(checkpointCache)
	defer cache.Unref() // the DB holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{
		FS:               lockFree{fs},
		Cache:            cache,
		ReadOnly:         true,
		ErrorIfNotExists: true,
		Logger:           pebbleLogger{slog.New(slog.DiscardHandler)},
		// A missing or damaged file of a checkpoint is the read's error
		// (the caller may fall back to an older snapshot), never Pebble's
		// fatal corruption report.
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}},
	})
	if err != nil {
		return nil, fmt.Errorf("znode: open checkpoint %s: %w", dir, err)
	}
	snap := db.NewSnapshot()
	m, err := readMeta(snap)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("znode: checkpoint %s: %w", dir, err), snap.Close(), db.Close())
	}
	return &Snapshot{snap: snap, meta: m, db: db}, nil
}

// lockFree is fs without file locks: Lock succeeds at once, locking
// nothing.
type lockFree struct{ vfs.FS }

func (lockFree) Lock(string) (io.Closer, error) { return nopCloser{}, nil }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// catchCheckpointPanic turns a Pebble panic while a checkpoint is made or
// read into the call's error. Pebble panics on a failed directory sync
// (making one) and when it reports a blob file of a read-only store as
// missing or damaged (reading one); neither leaves the live tree
// half-changed: the checkpoint writes only its own directory, and a
// reader's store is private to it (OpenCheckpoint).
func catchCheckpointPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("znode: checkpoint: pebble panicked: %v", r)
	}
}

// LinkCheckpoint makes dst (which must not exist) a copy of the checkpoint
// in src, hard-linking its files (copying where links fail). A reader that
// opens the copy no longer depends on src, which may then be deleted: Pebble
// opens a checkpoint's files lazily, as it reads them.
func LinkCheckpoint(fs vfs.FS, src, dst string) error {
	names, err := fs.List(src)
	if err != nil {
		return fmt.Errorf("znode: link checkpoint %s: %w", src, err)
	}
	if err := fs.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("znode: link checkpoint %s: %w", src, err)
	}
	for _, name := range names {
		if err := vfs.LinkOrCopy(fs, fs.PathJoin(src, name), fs.PathJoin(dst, name)); err != nil {
			return fmt.Errorf("znode: link checkpoint %s: %w", src, err)
		}
	}
	return nil
}

// dirSize returns the total size of the files in dir.
func dirSize(fs vfs.FS, dir string) (int64, error) {
	names, err := fs.List(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, name := range names {
		st, err := fs.Stat(fs.PathJoin(dir, name))
		if err != nil {
			return 0, err
		}
		if !st.IsDir() {
			n += st.Size()
		}
	}
	return n, nil
}
