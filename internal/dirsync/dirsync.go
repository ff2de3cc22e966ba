package dirsync

import "github.com/cockroachdb/pebble/v2/vfs"

// Sync syncs dir on fs, so that its entries (a file just created, renamed
// or removed) are durable, and closes it; the first error is returned.
func Sync(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
