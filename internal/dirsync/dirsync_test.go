package dirsync

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestSync: a file created in a directory survives a crash only after the
// directory is synced; a missing directory is an error.
func TestSync(t *testing.T) {
	fs := vfs.NewCrashableMem()
	if err := fs.MkdirAll("d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Sync(fs, ""); err != nil { // the root, so that d survives
		t.Fatal(err)
	}
	for _, synced := range []bool{true, false} { // the directory sync covers the files made before it
		name := fs.PathJoin("d", map[bool]string{false: "unsynced", true: "synced"}[synced])
		f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if synced {
			if err := Sync(fs, "d"); err != nil {
				t.Fatal(err)
			}
		}
	}
	after := fs.CrashClone(vfs.CrashCloneCfg{})
	if _, err := after.Stat("d/synced"); err != nil {
		t.Errorf("a file whose directory was synced is gone after a crash: %v", err)
	}
	if _, err := after.Stat("d/unsynced"); err == nil {
		t.Errorf("the crash kept a file whose directory was not synced: the test shows nothing")
	}
	if err := Sync(fs, "missing"); err == nil {
		t.Error("Sync of a missing directory: no error")
	}
}
