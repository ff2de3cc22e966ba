package wal

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/dirsync"
)

// snapDirSuffix names a snapshot kept as a directory:
// snapshot.<zxid>.tree.
const snapDirSuffix = ".tree"

func snapshotDirName(zxid int64) string { return snapshotName(zxid) + snapDirSuffix }

// SnapshotDir is a snapshot kept as a directory whose content the caller
// writes (a checkpoint of the tree's own store, say) and reads back; the
// log only names, commits, retains and deletes it. It is used by one
// goroutine.
type SnapshotDir struct {
	l    *Log
	tmp  string
	done bool
}

// CreateSnapshotDir starts a snapshot kept as a directory. The caller
// creates Path (it does not exist yet), fills it and makes its content
// durable, then calls Commit with the zxid of the state it holds, or Abort.
func (l *Log) CreateSnapshotDir() (*SnapshotDir, error) {
	seq, err := l.nextTemp()
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%sdir.%d%s%s", snapPrefix, seq, snapDirSuffix, tmpSuffix)
	return &SnapshotDir{l: l, tmp: l.fs.PathJoin(l.opts.SnapDir, name)}, nil
}

// Path returns the temporary directory the caller fills.
func (d *SnapshotDir) Path() string { return d.tmp }

// Commit makes the directory the snapshot at zxid: it renames it to
// snapshot.<zxid>.tree, syncs SnapDir, then keeps only the SnapRetainCount
// newest snapshots (as SnapshotWriter.Commit). If a snapshot at zxid exists
// already, the directory is deleted instead. On an error the temporary
// directory is left for Open to delete.
func (d *SnapshotDir) Commit(zxid int64) error {
	if d.done {
		return errors.New("wal: snapshot directory already committed or aborted")
	}
	d.done = true
	l := d.l
	if zxid < 0 {
		return fmt.Errorf("wal: snapshot zxid %d is negative", zxid)
	}
	if err := l.usable(); err != nil {
		return err
	}
	l.mu.Lock()
	exists := slices.Contains(l.snaps, zxid)
	l.mu.Unlock()
	if exists {
		d.done = false
		return d.Abort()
	}
	final := l.fs.PathJoin(l.opts.SnapDir, snapshotDirName(zxid))
	if err := l.fs.Rename(d.tmp, final); err != nil {
		return l.fail("rename "+d.tmp, err)
	}
	if err := dirsync.Sync(l.fs, l.opts.SnapDir); err != nil {
		return l.fail("sync dir "+l.opts.SnapDir, err)
	}
	l.mu.Lock()
	l.snaps = append(l.snaps, zxid)
	slices.SortFunc(l.snaps, cmpDesc)
	l.snapDirs[zxid] = true
	l.mu.Unlock()
	return l.retain(zxid)
}

// Abort deletes the temporary directory.
func (d *SnapshotDir) Abort() error {
	if d.done {
		return nil
	}
	d.done = true
	if err := d.l.fs.RemoveAll(d.tmp); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("wal: removing %s: %w", d.tmp, err)
	}
	return nil
}

// SnapshotDir returns the directory of the committed snapshot at zxid if it
// is kept as one (CreateSnapshotDir); ok is false for a snapshot file
// (OpenSnapshot) or no snapshot at all.
func (l *Log) SnapshotDir(zxid int64) (path string, ok bool) {
	l.mu.Lock()
	ok = l.snapDirs[zxid]
	l.mu.Unlock()
	if !ok {
		return "", false
	}
	return l.fs.PathJoin(l.opts.SnapDir, snapshotDirName(zxid)), true
}

// snapshotPath returns the path of the committed snapshot at zxid, file or
// directory, and whether it is a directory.
func (l *Log) snapshotPath(zxid int64) (string, bool) {
	if p, ok := l.SnapshotDir(zxid); ok {
		return p, true
	}
	return l.fs.PathJoin(l.opts.SnapDir, snapshotName(zxid)), false
}

// SnapshotTime returns when the committed snapshot at zxid was written
// (its file's or directory's modification time).
func (l *Log) SnapshotTime(zxid int64) (time.Time, error) {
	p, _ := l.snapshotPath(zxid)
	fi, err := l.fs.Stat(p)
	if err != nil {
		return time.Time{}, fmt.Errorf("wal: snapshot %#x: %w", zxid, err)
	}
	return fi.ModTime(), nil
}

// parseSnapshotName recognizes a committed snapshot's name: a file
// snapshot.<zxid> or a directory snapshot.<zxid>.tree.
func parseSnapshotName(name string) (zxid int64, dir, ok bool) {
	base, dir := strings.CutSuffix(name, snapDirSuffix)
	z, ok := parseHexName(base, snapPrefix)
	if !ok || int64(z) < 0 {
		return 0, false, false
	}
	return int64(z), dir, true
}
