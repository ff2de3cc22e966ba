package crashmem

import (
	"io"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// FS is a crashable in-memory file system. Its methods are the MemFS's;
// Link, Lock, ReuseForWrite and CrashClone are guarded as the package
// comment says.
type FS struct {
	*vfs.MemFS
	// nested is read-held by the calls that read-lock the MemFS's clone
	// lock twice, and write-held by CrashClone.
	nested *sync.RWMutex
}

// New returns an empty crashable file system.
func New() *FS { return wrap(vfs.NewCrashableMem()) }

func wrap(m *vfs.MemFS) *FS { return &FS{MemFS: m, nested: new(sync.RWMutex)} }

// CrashClone returns what a crash at this moment would leave on the disk,
// as MemFS.CrashClone, once no nested call is under way.
func (fs *FS) CrashClone(cfg vfs.CrashCloneCfg) *FS {
	fs.nested.Lock()
	defer fs.nested.Unlock()
	return wrap(fs.MemFS.CrashClone(cfg))
}

// Link implements vfs.FS.
func (fs *FS) Link(oldname, newname string) error {
	fs.nested.RLock()
	defer fs.nested.RUnlock()
	return fs.MemFS.Link(oldname, newname)
}

// Lock implements vfs.FS.
func (fs *FS) Lock(name string) (io.Closer, error) {
	fs.nested.RLock()
	defer fs.nested.RUnlock()
	return fs.MemFS.Lock(name)
}

// ReuseForWrite implements vfs.FS.
func (fs *FS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	fs.nested.RLock()
	defer fs.nested.RUnlock()
	return fs.MemFS.ReuseForWrite(oldname, newname, category)
}
