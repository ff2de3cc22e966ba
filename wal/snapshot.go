package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	iofs "io/fs"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/dirsync"
)

// A snapshot file: header | content | trailer.
//
//	header  := magic "ZKSNAPSH" | version u32 | zero u32 | zxid i64 |
//	           crc32c(bytes 0..23) u32 | zero u32
//	trailer := length u64 | crc32c(content) u32 | zero u32 | magic "ZKSNAPND"
const (
	snapMagic       = "ZKSNAPSH"
	snapEndMagic    = "ZKSNAPND"
	snapHeaderSize  = 32
	snapTrailerSize = 24
	snapBufSize     = 256 << 10
)

func snapHeader(zxid int64) []byte {
	b := make([]byte, snapHeaderSize, snapBufSize)
	copy(b, snapMagic)
	binary.LittleEndian.PutUint32(b[8:], formatVersion)
	binary.LittleEndian.PutUint64(b[16:], uint64(zxid))
	binary.LittleEndian.PutUint32(b[24:], crc32.Checksum(b[:24], crcTable))
	return b
}

// parseSnapHeader returns the zxid a snapshot header declares.
func parseSnapHeader(b []byte) (int64, error) {
	if len(b) < snapHeaderSize {
		return 0, corruptf("snapshot header: %d bytes, want %d", len(b), snapHeaderSize)
	}
	if got, want := binary.LittleEndian.Uint32(b[24:]), crc32.Checksum(b[:24], crcTable); got != want {
		return 0, corruptf("snapshot header: checksum %#x, want %#x", got, want)
	}
	if string(b[:8]) != snapMagic {
		return 0, corruptf("snapshot header: bad magic %q", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return 0, corruptf("snapshot header: unsupported format version %d", v)
	}
	if binary.LittleEndian.Uint32(b[12:]) != 0 || binary.LittleEndian.Uint32(b[28:]) != 0 {
		return 0, corruptf("snapshot header: non-zero reserved bytes")
	}
	return int64(binary.LittleEndian.Uint64(b[16:])), nil
}

func appendSnapTrailer(b []byte, length int64, sum uint32) []byte {
	var t [snapTrailerSize]byte
	binary.LittleEndian.PutUint64(t[0:], uint64(length))
	binary.LittleEndian.PutUint32(t[8:], sum)
	copy(t[16:], snapEndMagic)
	return append(b, t[:]...)
}

// parseSnapTrailer checks a trailer against the file size and returns the
// content checksum it declares.
func parseSnapTrailer(b []byte, fileSize int64) (uint32, error) {
	if len(b) < snapTrailerSize {
		return 0, corruptf("snapshot trailer: %d bytes, want %d", len(b), snapTrailerSize)
	}
	if string(b[16:24]) != snapEndMagic {
		return 0, corruptf("snapshot trailer: bad magic %q (incomplete file?)", b[16:24])
	}
	if binary.LittleEndian.Uint32(b[12:]) != 0 {
		return 0, corruptf("snapshot trailer: non-zero reserved bytes")
	}
	want := fileSize - snapHeaderSize - snapTrailerSize
	if got := binary.LittleEndian.Uint64(b[0:]); got != uint64(want) {
		return 0, corruptf("snapshot trailer: content length %d, file holds %d", got, want)
	}
	return binary.LittleEndian.Uint32(b[8:]), nil
}

// SnapshotWriter writes one snapshot file. It is used by one goroutine.
type SnapshotWriter struct {
	l     *Log
	zxid  int64
	tmp   string
	final string
	f     vfs.File
	buf   []byte
	n     int64
	sum   uint32
	err   error // sticky
	done  bool
}

// nextTemp numbers a new temporary snapshot, if the log is usable.
func (l *Log) nextTemp() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return 0, err
	}
	l.tmpSeq++
	return l.tmpSeq, nil
}

// CreateSnapshot starts a snapshot of the state at zxid, in a temporary
// file that only Commit makes visible.
func (l *Log) CreateSnapshot(zxid int64) (*SnapshotWriter, error) {
	if zxid < 0 {
		return nil, fmt.Errorf("wal: snapshot zxid %d is negative", zxid)
	}
	seq, err := l.nextTemp()
	if err != nil {
		return nil, err
	}
	final := l.fs.PathJoin(l.opts.SnapDir, snapshotName(zxid))
	tmp := fmt.Sprintf("%s.%d%s", final, seq, tmpSuffix)
	f, err := l.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, l.fail("create "+tmp, err)
	}
	return &SnapshotWriter{l: l, zxid: zxid, tmp: tmp, final: final, f: f, buf: snapHeader(zxid)}, nil
}

// Write appends p to the snapshot's content.
func (w *SnapshotWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("wal: write to a finished snapshot")
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	w.n += int64(n)
	w.sum = crc32.Update(w.sum, crcTable, p)
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush writes the buffered bytes to the file.
func (w *SnapshotWriter) flush() error {
	if err := w.l.usable(); err != nil {
		w.err = err
		return err
	}
	_, err := w.f.Write(w.buf)
	w.buf = w.buf[:0] // the FS may scribble on the buffer: it is only refilled
	if err != nil {
		w.err = w.l.fail("write "+w.tmp, err)
	}
	return w.err
}

// Commit makes the snapshot durable under its final name (trailer, fsync,
// rename, directory sync), then deletes the snapshots beyond the
// SnapRetainCount newest (never the one just committed). On an error the
// temporary file is left for Open to delete.
func (w *SnapshotWriter) Commit() error {
	if w.done {
		return errors.New("wal: snapshot already committed or aborted")
	}
	w.done = true
	if w.err != nil {
		w.f.Close()
		return w.err
	}
	w.buf = appendSnapTrailer(w.buf, w.n, w.sum)
	if err := w.flush(); err != nil {
		w.f.Close()
		return err
	}
	l := w.l
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return l.fail("sync "+w.tmp, err)
	}
	if err := w.f.Close(); err != nil {
		return l.fail("close "+w.tmp, err)
	}
	if err := l.usable(); err != nil {
		return err
	}
	if err := l.fs.Rename(w.tmp, w.final); err != nil {
		return l.fail("rename "+w.tmp, err)
	}
	if err := dirsync.Sync(l.fs, l.opts.SnapDir); err != nil {
		return l.fail("sync dir "+l.opts.SnapDir, err)
	}
	l.mu.Lock()
	if !slices.Contains(l.snaps, w.zxid) {
		l.snaps = append(l.snaps, w.zxid)
		slices.SortFunc(l.snaps, cmpDesc)
	}
	replaced := l.snapDirs[w.zxid]
	delete(l.snapDirs, w.zxid)
	l.mu.Unlock()
	if replaced { // a directory at the same zxid: the file takes its place
		path := l.fs.PathJoin(l.opts.SnapDir, snapshotDirName(w.zxid))
		if err := l.fs.RemoveAll(path); err != nil {
			return l.fail("remove "+path, err)
		}
	}
	return l.retain(w.zxid)
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// Abort discards the snapshot and its temporary file.
func (w *SnapshotWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := w.l.fs.Remove(w.tmp); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("wal: removing %s: %w", w.tmp, err)
	}
	return nil
}

// retain deletes the snapshots (files or directories) beyond the
// SnapRetainCount newest, keeping keep.
func (l *Log) retain(keep int64) error {
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	l.mu.Lock()
	var victims []int64
	for i, z := range l.snaps {
		if i >= l.opts.SnapRetainCount && z != keep {
			victims = append(victims, z)
		}
	}
	l.mu.Unlock()
	if len(victims) == 0 {
		return nil
	}
	for _, z := range victims {
		path, dir := l.snapshotPath(z)
		remove := l.fs.Remove
		if dir {
			remove = l.fs.RemoveAll
		}
		if err := remove(path); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return l.fail("remove "+path, err)
		}
		l.mu.Lock()
		l.snaps = slices.DeleteFunc(l.snaps, func(x int64) bool { return x == z })
		delete(l.snapDirs, z)
		l.mu.Unlock()
	}
	if err := dirsync.Sync(l.fs, l.opts.SnapDir); err != nil {
		return l.fail("sync dir "+l.opts.SnapDir, err)
	}
	return nil
}

// Snapshots returns the zxids of the committed snapshots, newest first:
// files (OpenSnapshot) and directories (SnapshotDir).
func (l *Log) Snapshots() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.snaps)
}

// loadSnapshots lists the snapshot directory at Open.
func (l *Log) loadSnapshots() error {
	names, err := l.fs.List(l.opts.SnapDir)
	if err != nil {
		return fmt.Errorf("wal: listing %s: %w", l.opts.SnapDir, err)
	}
	var temps []string
	var files, dirs []int64
	for _, name := range names {
		if !strings.HasPrefix(name, snapPrefix) {
			continue
		}
		if strings.HasSuffix(name, tmpSuffix) {
			temps = append(temps, name)
			continue
		}
		z, dir, ok := parseSnapshotName(name)
		if !ok {
			continue
		}
		if !slices.Contains(l.snaps, z) {
			l.snaps = append(l.snaps, z)
		}
		if dir {
			dirs = append(dirs, z)
		} else {
			files = append(files, z)
		}
	}
	slices.SortFunc(l.snaps, cmpDesc)
	for _, z := range dirs {
		if !slices.Contains(files, z) {
			l.snapDirs[z] = true
			continue
		}
		// A crash after a file replaced this directory (SnapshotWriter.Commit)
		// and before the directory was removed: the file is the snapshot.
		path := l.fs.PathJoin(l.opts.SnapDir, snapshotDirName(z))
		l.logger.Info("wal: removing a replaced snapshot directory", "path", path)
		if err := l.fs.RemoveAll(path); err != nil {
			return fmt.Errorf("%w: removing %s: %w", ErrFailed, path, err)
		}
	}
	return l.removeTemps(l.opts.SnapDir, temps)
}

// OpenSnapshot streams the content of the snapshot at zxid. The header and
// trailer are checked at once; the content checksum when the last byte is
// read: if it does not match, the Read that reaches the end returns an error
// wrapping ErrCorrupt instead of its bytes, so even a consumer that reads
// exactly the content length (io.ReadFull) sees it. A consumer must treat any read error as "this snapshot is
// invalid" and may fall back to an older one.
func (l *Log) OpenSnapshot(zxid int64) (io.ReadCloser, error) {
	if err := l.usable(); err != nil {
		return nil, err
	}
	path, dir := l.snapshotPath(zxid)
	if dir {
		return nil, fmt.Errorf("wal: snapshot %#x is a directory (SnapshotDir)", zxid)
	}
	f, err := l.fs.Open(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no snapshot at zxid %#x", ErrNotFound, zxid)
	}
	if err != nil {
		return nil, err
	}
	r, err := newSnapReader(f, zxid)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: snapshot %s: %w", path, err)
	}
	return r, nil
}
