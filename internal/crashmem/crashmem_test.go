package crashmem

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestCloneBesideNestedCalls crash-clones the file system while other
// goroutines link, lock and reuse files in it, the three calls that
// read-lock Pebble's clone lock twice. On a bare MemFS this stops within a
// few hundred clones; here every clone must return. A stop is reported
// after a minute rather than left to the test binary's timeout.
func TestCloneBesideNestedCalls(t *testing.T) {
	fs := New()
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fs, "/d/src")
	stop := make(chan struct{})
	errs := make(chan error, 3)
	for _, work := range []func(i int) error{
		func(i int) error { return linkOnce(fs, i) },
		func(i int) error { return lockOnce(fs, i) },
		func(i int) error { return reuseOnce(fs, i) },
	} {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if err := work(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	cloned := make(chan *FS)
	go func() {
		var last *FS
		for range 2000 {
			last = fs.CrashClone(vfs.CrashCloneCfg{})
		}
		cloned <- last
	}()
	select {
	case last := <-cloned:
		if _, err := last.Stat("/d/src"); err != nil {
			t.Errorf("the last clone lost a synced file: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("CrashClone did not return: the file system stopped")
	}
	close(stop)
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func writeFile(t *testing.T, fs vfs.FS, name string) {
	t.Helper()
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{fs.PathDir(name), "/"} {
		d, err := fs.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
}

func linkOnce(fs *FS, i int) error {
	name := fmt.Sprintf("/d/link%d", i)
	if err := fs.Link("/d/src", name); err != nil {
		return err
	}
	return fs.Remove(name)
}

func lockOnce(fs *FS, _ int) error {
	l, err := fs.Lock("/d/lock")
	if err != nil {
		return err
	}
	return l.Close()
}

func reuseOnce(fs *FS, i int) error {
	from, to := fmt.Sprintf("/d/r%d", i), fmt.Sprintf("/d/r%d", i+1)
	if i == 0 {
		f, err := fs.Create(from, vfs.WriteCategoryUnspecified)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	f, err := fs.ReuseForWrite(from, to, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	return f.Close()
}
