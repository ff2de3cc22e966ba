package wal

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/dirsync"
)

// ensureDir creates dir and its missing parents, syncing each parent so the
// new entries are durable.
func ensureDir(fs vfs.FS, dir string) error {
	if _, err := fs.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	parent := fs.PathDir(dir)
	if parent != dir && parent != "" {
		if err := ensureDir(fs, parent); err != nil {
			return err
		}
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return dirsync.Sync(fs, parent)
}

// writeFileAtomic writes data to name through a temporary file: write, sync,
// rename, sync the directory. After a crash name holds the old or the new
// content, never a mix. It returns the failed step's description with the
// error.
func writeFileAtomic(fs vfs.FS, dir, name string, data []byte) (string, error) {
	path := fs.PathJoin(dir, name)
	tmp := path + tmpSuffix
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return "create " + tmp, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "write " + tmp, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "sync " + tmp, err
	}
	if err := f.Close(); err != nil {
		return "close " + tmp, err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return "rename " + tmp, err
	}
	if err := dirsync.Sync(fs, dir); err != nil {
		return "sync dir " + dir, err
	}
	return "", nil
}

// syncFile syncs the file at path, opened for it.
func syncFile(fs vfs.FS, path string) error {
	f, err := fs.OpenReadWrite(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFile reads a whole small file, refusing files over limit bytes.
func readFile(fs vfs.FS, path string, limit int64) ([]byte, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, corruptf("%s: %d bytes, at most %d expected", path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if err := readAtFull(f, b, 0); err != nil {
		return nil, err
	}
	return b, nil
}

// copyPrefix copies the first n bytes of src into a new file dst and syncs it.
func copyPrefix(fs vfs.FS, src, dst string, n int64) (string, error) {
	in, err := fs.Open(src)
	if err != nil {
		return "open " + src, err
	}
	defer in.Close()
	out, err := fs.Create(dst, vfs.WriteCategoryUnspecified)
	if err != nil {
		return "create " + dst, err
	}
	buf := make([]byte, min(n, 1<<20))
	for off := int64(0); off < n; {
		k := min(int64(len(buf)), n-off)
		if err := readAtFull(in, buf[:k], off); err != nil {
			out.Close()
			return "read " + src, err
		}
		if _, err := out.Write(buf[:k]); err != nil {
			out.Close()
			return "write " + dst, err
		}
		off += k
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "sync " + dst, err
	}
	if err := out.Close(); err != nil {
		return "close " + dst, err
	}
	return "", nil
}

// readAtFull reads len(b) bytes at off; a short read is an error.
func readAtFull(src io.ReaderAt, b []byte, off int64) error {
	n, err := src.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("wal: reading %d bytes at offset %d: %w", len(b), off, err)
}
