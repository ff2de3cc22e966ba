package sim

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// mfile is an open file (or directory) of a MemFS.
type mfile struct {
	fs     *MemFS
	n      *mnode
	name   string
	pos    int64
	write  bool
	closed bool
}

var _ vfs.File = (*mfile)(nil)

var errClosedFile = errors.New("sim: file already closed")

func (f *mfile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return errClosedFile
	}
	f.closed = true
	return nil
}

func (f *mfile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.fs.mu.Lock()
	f.pos += int64(n)
	f.fs.mu.Unlock()
	return n, err
}

func (f *mfile) ReadAt(p []byte, off int64) (int, error) {
	if fl := f.fs.before(FSOp{Kind: OpRead, Path: f.name, Size: len(p)}); fl != nil {
		return 0, fl.Err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed || f.n.dir {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: errClosedFile}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *mfile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	pos := f.pos
	f.fs.mu.Unlock()
	n, err := f.WriteAt(p, pos)
	f.fs.mu.Lock()
	f.pos += int64(n)
	f.fs.mu.Unlock()
	return n, err
}

func (f *mfile) WriteAt(p []byte, off int64) (int, error) {
	fl := f.fs.before(FSOp{Kind: OpWrite, Path: f.name, Size: len(p)})
	if fl != nil && fl.Partial <= 0 {
		return 0, fl.Err
	}
	if fl != nil {
		p = p[:min(fl.Partial, len(p))]
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed || !f.write {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: errors.New("file not open for writing")}
	}
	if off < int64(len(f.n.sdata)) && (f.n.dirty < 0 || int(off) < f.n.dirty) {
		f.n.dirty = int(off)
	}
	end := off + int64(len(p))
	if end > int64(len(f.n.data)) {
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	copy(f.n.data[off:], p)
	if fl != nil {
		return len(p), fl.Err
	}
	return len(p), nil
}

func (f *mfile) Preallocate(int64, int64) error { return nil }

func (f *mfile) Stat() (vfs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return fileInfo{name: f.fs.PathBase(f.name), size: int64(len(f.n.data)), dir: f.n.dir}, nil
}

// Sync makes the file's content (or a directory's entries) durable.
func (f *mfile) Sync() error {
	kind := OpSync
	if f.n.dir {
		kind = OpSyncDir
	}
	fl := f.fs.before(FSOp{Kind: kind, Path: f.name})
	if fl != nil && !fl.Lie {
		return fl.Err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &os.PathError{Op: "sync", Path: f.name, Err: errClosedFile}
	}
	if fl != nil {
		return nil // it lies
	}
	if f.n.dir {
		f.n.synced = cloneEntries(f.n.kids)
	} else {
		f.n.sync()
	}
	return nil
}

// sync makes n's content durable, copying only what changed: most files
// are only appended to, and some (Pebble's MANIFEST) grow large.
func (n *mnode) sync() {
	if n.dirty >= 0 {
		copy(n.sdata[n.dirty:], n.data[n.dirty:len(n.sdata)])
		n.dirty = -1
	}
	n.sdata = append(n.sdata, n.data[len(n.sdata):]...)
}

func (f *mfile) SyncData() error { return f.Sync() }

func (f *mfile) SyncTo(int64) (bool, error) { return true, f.Sync() }

func (f *mfile) Prefetch(int64, int64) error { return nil }

func (f *mfile) Fd() uintptr { return vfs.InvalidFd }

func cloneEntries(m map[string]*mnode) map[string]*mnode {
	out := make(map[string]*mnode, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// fileInfo is a vfs.FileInfo.
type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time     { return time.Time{} }
func (i fileInfo) IsDir() bool            { return i.dir }
func (i fileInfo) Sys() any               { return nil }
func (i fileInfo) DeviceID() vfs.DeviceID { return vfs.DeviceID{} }

// blockSize is the unit in which unsynced data survives a crash.
const blockSize = 4096

// CrashClone returns the file system a crash at this moment could leave:
// everything durable, and of what is not, each 4 KiB block of a file and
// each changed directory entry with probability keepPercent/100 (a file
// grows with zeros up to a kept block past its durable end). Directories
// and files are visited in name order, so rng decides the same way for the
// same history. The clone has no hook, no locks, and is not killed.
func (fs *MemFS) CrashClone(keepPercent int, rng *rand.Rand) *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := &crashCloner{keep: keepPercent, rng: rng, done: map[*mnode]*mnode{}}
	return &MemFS{root: c.clone(fs.root), locks: map[string]bool{}}
}

// Clone returns an exact copy, unsynced state included, as it is now.
func (fs *MemFS) Clone() *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return &MemFS{root: exactClone(fs.root, map[*mnode]*mnode{}), locks: map[string]bool{}}
}

type crashCloner struct {
	keep int
	rng  *rand.Rand
	done map[*mnode]*mnode // hard links stay links
}

func (c *crashCloner) coin() bool {
	return c.keep >= 100 || (c.keep > 0 && c.rng.IntN(100) < c.keep)
}

func (c *crashCloner) clone(n *mnode) *mnode {
	if out := c.done[n]; out != nil {
		return out
	}
	if !n.dir {
		out := &mnode{data: slices.Clone(n.sdata), dirty: -1}
		for i := 0; i < len(n.data); i += blockSize {
			end := min(i+blockSize, len(n.data))
			if i < len(n.sdata) && slices.Equal(n.data[i:end], n.sdata[i:min(end, len(n.sdata))]) && end <= len(n.sdata) {
				continue // nothing unsynced in this block
			}
			if !c.coin() {
				continue
			}
			if len(out.data) < end {
				out.data = append(out.data, make([]byte, end-len(out.data))...)
			}
			copy(out.data[i:end], n.data[i:end])
		}
		out.sdata = slices.Clone(out.data)
		c.done[n] = out
		return out
	}
	out := newDir()
	c.done[n] = out
	names := make([]string, 0, len(n.kids)+len(n.synced))
	for name := range n.kids {
		names = append(names, name)
	}
	for name := range n.synced {
		if n.kids[name] == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		cur, dur := n.kids[name], n.synced[name]
		pick := dur
		if cur != dur && c.coin() {
			pick = cur
		}
		if pick != nil {
			out.kids[name] = c.clone(pick)
		}
	}
	out.synced = cloneEntries(out.kids)
	return out
}

func exactClone(n *mnode, done map[*mnode]*mnode) *mnode {
	if out := done[n]; out != nil {
		return out
	}
	if !n.dir {
		out := &mnode{data: slices.Clone(n.data), sdata: slices.Clone(n.sdata), dirty: n.dirty}
		done[n] = out
		return out
	}
	out := newDir()
	done[n] = out
	for name, k := range n.kids {
		out.kids[name] = exactClone(k, done)
	}
	for name, k := range n.synced {
		out.synced[name] = exactClone(k, done)
	}
	return out
}
