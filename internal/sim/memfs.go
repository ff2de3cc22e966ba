package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// MemFS is a deterministic in-memory vfs.FS that knows what is durable: a
// file's content as of its last Sync, a directory's entries as of its last
// Sync. CrashClone builds what a crash would leave, with a seeded RNG and a
// fixed iteration order, so the same seed gives the same disk (Pebble's
// crashable MemFS iterates a map there, which makes partial clones
// irreproducible). Every operation first goes through the hook, which can
// fail it (an I/O error, a full disk, a torn write), stall it (a slow
// disk) or make a sync lie.
//
// MemFS is safe for concurrent use. The hook runs without MemFS's lock held,
// on the goroutine that called the operation.
type MemFS struct {
	mu    sync.Mutex
	root  *mnode
	locks map[string]bool
	hook  func(FSOp) *FSFault
	muts  int64 // mutating operations performed
}

// mnode is a file or a directory.
type mnode struct {
	dir    bool
	kids   map[string]*mnode // directory: current entries
	synced map[string]*mnode // directory: durable entries
	data   []byte            // file: current content
	sdata  []byte            // file: durable content
	dirty  int               // file: lowest offset below len(sdata) written since the last Sync, or -1
}

func newDir() *mnode {
	return &mnode{dir: true, kids: map[string]*mnode{}, synced: map[string]*mnode{}}
}

// NewMemFS returns an empty file system holding only "/".
func NewMemFS() *MemFS { return &MemFS{root: newDir(), locks: map[string]bool{}} }

var _ vfs.FS = (*MemFS)(nil)

// FSOpKind names a file-system operation.
type FSOpKind uint8

// The operations the hook sees.
const (
	OpCreate FSOpKind = iota + 1
	OpLink
	OpOpen
	OpOpenDir
	OpRemove
	OpRename
	OpMkdir
	OpLock
	OpList
	OpStat
	OpWrite
	OpRead
	OpSync    // fsync of a file
	OpSyncDir // fsync of a directory
)

var fsOpNames = [...]string{"?", "create", "link", "open", "opendir", "remove", "rename", "mkdir", "lock",
	"list", "stat", "write", "read", "sync", "syncdir"}

func (k FSOpKind) String() string {
	if int(k) < len(fsOpNames) {
		return fsOpNames[k]
	}
	return fmt.Sprintf("FSOpKind(%d)", uint8(k))
}

// Mutating reports whether the operation changes the file system.
func (k FSOpKind) Mutating() bool {
	switch k {
	case OpCreate, OpLink, OpRemove, OpRename, OpMkdir, OpLock, OpWrite, OpSync, OpSyncDir:
		return true
	}
	return false
}

// FSOp describes one operation for the hook.
type FSOp struct {
	Kind FSOpKind
	Path string
	To   string // rename and link: the new name
	Size int    // write and read: the byte count
}

func (o FSOp) String() string {
	if o.To != "" {
		return fmt.Sprintf("%v %s -> %s", o.Kind, o.Path, o.To)
	}
	return fmt.Sprintf("%v %s", o.Kind, o.Path)
}

// FSFault is what the hook makes an operation do instead of succeeding.
type FSFault struct {
	Err error
	// Partial, for a write: how many bytes are written before Err (a torn
	// write, or a disk that fills up midway).
	Partial int
	// Lie, for a sync: report success and make nothing durable (a lying
	// disk, for the tests that show a check catches it).
	Lie bool
}

// SetHook installs fn, called before every operation (nil removes it).
func (fs *MemFS) SetHook(fn func(FSOp) *FSFault) {
	fs.mu.Lock()
	fs.hook = fn
	fs.mu.Unlock()
}

// Mutations returns how many mutating operations were performed.
func (fs *MemFS) Mutations() int64 {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.muts
}

// before runs the hook for op; a nil result means go ahead.
func (fs *MemFS) before(op FSOp) *FSFault {
	fs.mu.Lock()
	hook := fs.hook
	fs.mu.Unlock()
	if hook != nil {
		if f := hook(op); f != nil {
			return f
		}
	}
	if op.Kind.Mutating() {
		fs.mu.Lock()
		fs.muts++
		fs.mu.Unlock()
	}
	return nil
}

func notExist(op, name string) error {
	return &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
}

// split cleans name and returns its parent directory and base name.
func split(name string) (dir, base string) {
	name = path.Clean("/" + name)
	return path.Dir(name), path.Base(name)
}

// lookup returns the node at name, or nil; fs.mu is held.
func (fs *MemFS) lookup(name string) *mnode {
	name = path.Clean("/" + name)
	n := fs.root
	if name == "/" {
		return n
	}
	for _, part := range strings.Split(name[1:], "/") {
		if n == nil || !n.dir {
			return nil
		}
		n = n.kids[part]
	}
	return n
}

// parent returns the directory holding name and name's base; fs.mu is held.
func (fs *MemFS) parent(op, name string) (*mnode, string, error) {
	d, b := split(name)
	p := fs.lookup(d)
	if p == nil || !p.dir {
		return nil, "", notExist(op, name)
	}
	return p, b, nil
}

// Create implements vfs.FS.
func (fs *MemFS) Create(name string, _ vfs.DiskWriteCategory) (vfs.File, error) {
	if f := fs.before(FSOp{Kind: OpCreate, Path: name}); f != nil {
		return nil, f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p, b, err := fs.parent("create", name)
	if err != nil {
		return nil, err
	}
	if old := p.kids[b]; old != nil && old.dir {
		return nil, &os.PathError{Op: "create", Path: name, Err: errors.New("is a directory")}
	}
	n := &mnode{dirty: -1}
	p.kids[b] = n
	return &mfile{fs: fs, n: n, name: name, write: true}, nil
}

// Link implements vfs.FS.
func (fs *MemFS) Link(oldname, newname string) error {
	if f := fs.before(FSOp{Kind: OpLink, Path: oldname, To: newname}); f != nil {
		return f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookup(oldname)
	if n == nil || n.dir {
		return notExist("link", oldname)
	}
	p, b, err := fs.parent("link", newname)
	if err != nil {
		return err
	}
	if p.kids[b] != nil {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: os.ErrExist}
	}
	p.kids[b] = n
	return nil
}

func (fs *MemFS) open(name string, write, dir bool) (vfs.File, error) {
	kind := OpOpen
	if dir {
		kind = OpOpenDir
	}
	if f := fs.before(FSOp{Kind: kind, Path: name}); f != nil {
		return nil, f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookup(name)
	if n == nil || (dir && !n.dir) {
		return nil, notExist("open", name)
	}
	return &mfile{fs: fs, n: n, name: name, write: write && !n.dir}, nil
}

// Open implements vfs.FS.
func (fs *MemFS) Open(name string, _ ...vfs.OpenOption) (vfs.File, error) {
	return fs.open(name, false, false)
}

// OpenReadWrite implements vfs.FS.
func (fs *MemFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, _ ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.open(name, true, false)
	if errors.Is(err, os.ErrNotExist) {
		return fs.Create(name, c)
	}
	return f, err
}

// OpenDir implements vfs.FS.
func (fs *MemFS) OpenDir(name string) (vfs.File, error) { return fs.open(name, false, true) }

// Remove implements vfs.FS.
func (fs *MemFS) Remove(name string) error {
	if f := fs.before(FSOp{Kind: OpRemove, Path: name}); f != nil {
		return f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p, b, err := fs.parent("remove", name)
	if err != nil {
		return err
	}
	n := p.kids[b]
	switch {
	case n == nil:
		return notExist("remove", name)
	case n.dir && len(n.kids) > 0:
		return &os.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
	}
	delete(p.kids, b)
	return nil
}

// RemoveAll implements vfs.FS.
func (fs *MemFS) RemoveAll(name string) error {
	if f := fs.before(FSOp{Kind: OpRemove, Path: name}); f != nil {
		return f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p, b, err := fs.parent("remove", name)
	if err == nil {
		delete(p.kids, b)
	}
	return nil
}

// Rename implements vfs.FS.
func (fs *MemFS) Rename(oldname, newname string) error {
	if f := fs.before(FSOp{Kind: OpRename, Path: oldname, To: newname}); f != nil {
		return f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	op, ob, err := fs.parent("rename", oldname)
	if err != nil {
		return err
	}
	np, nb, err := fs.parent("rename", newname)
	if err != nil {
		return err
	}
	n := op.kids[ob]
	if n == nil {
		return notExist("rename", oldname)
	}
	delete(op.kids, ob)
	np.kids[nb] = n
	return nil
}

// ReuseForWrite implements vfs.FS: it renames, then opens for writing.
func (fs *MemFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if err := fs.Rename(oldname, newname); err != nil {
		return nil, err
	}
	return fs.OpenReadWrite(newname, c)
}

// MkdirAll implements vfs.FS.
func (fs *MemFS) MkdirAll(dir string, _ os.FileMode) error {
	if f := fs.before(FSOp{Kind: OpMkdir, Path: dir}); f != nil {
		return f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir = path.Clean("/" + dir)
	n := fs.root
	if dir == "/" {
		return nil
	}
	for _, part := range strings.Split(dir[1:], "/") {
		next := n.kids[part]
		switch {
		case next == nil:
			next = newDir()
			n.kids[part] = next
		case !next.dir:
			return &os.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		n = next
	}
	return nil
}

// Lock implements vfs.FS: the file is created (empty) if missing; a second
// Lock of the same name fails until the first is released.
func (fs *MemFS) Lock(name string) (io.Closer, error) {
	if f := fs.before(FSOp{Kind: OpLock, Path: name}); f != nil {
		return nil, f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	name = path.Clean("/" + name)
	if fs.locks[name] {
		return nil, &os.PathError{Op: "lock", Path: name, Err: errors.New("already locked")}
	}
	p, b, err := fs.parent("lock", name)
	if err != nil {
		return nil, err
	}
	if p.kids[b] == nil {
		p.kids[b] = &mnode{dirty: -1}
	}
	fs.locks[name] = true
	return lockCloser{fs: fs, name: name}, nil
}

type lockCloser struct {
	fs   *MemFS
	name string
}

func (l lockCloser) Close() error {
	l.fs.mu.Lock()
	delete(l.fs.locks, l.name)
	l.fs.mu.Unlock()
	return nil
}

// List implements vfs.FS; names are sorted.
func (fs *MemFS) List(dir string) ([]string, error) {
	if f := fs.before(FSOp{Kind: OpList, Path: dir}); f != nil {
		return nil, f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookup(dir)
	if n == nil || !n.dir {
		return nil, notExist("list", dir)
	}
	names := make([]string, 0, len(n.kids))
	for name := range n.kids {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// Stat implements vfs.FS.
func (fs *MemFS) Stat(name string) (vfs.FileInfo, error) {
	if f := fs.before(FSOp{Kind: OpStat, Path: name}); f != nil {
		return nil, f.Err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookup(name)
	if n == nil {
		return nil, notExist("stat", name)
	}
	return fileInfo{name: path.Base(path.Clean("/" + name)), size: int64(len(n.data)), dir: n.dir}, nil
}

// PathBase implements vfs.FS.
func (*MemFS) PathBase(p string) string { return path.Base(p) }

// PathJoin implements vfs.FS.
func (*MemFS) PathJoin(elem ...string) string { return path.Join(elem...) }

// PathDir implements vfs.FS.
func (*MemFS) PathDir(p string) string { return path.Dir(p) }

// GetDiskUsage implements vfs.FS (unsupported).
func (*MemFS) GetDiskUsage(string) (vfs.DiskUsage, error) { return vfs.DiskUsage{}, vfs.ErrUnsupported }

// Unwrap implements vfs.FS.
func (*MemFS) Unwrap() vfs.FS { return nil }
