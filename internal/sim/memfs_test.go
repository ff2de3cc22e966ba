package sim

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/wal"
)

func writeFile(t *testing.T, fs vfs.FS, name string, data []byte, sync bool) {
	t.Helper()
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func syncDirOf(t *testing.T, fs vfs.FS, dir string) {
	t.Helper()
	d, err := fs.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func readAll(t *testing.T, fs vfs.FS, name string) ([]byte, bool) {
	t.Helper()
	f, err := fs.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

func TestMemFSCrashKeepsWhatIsSynced(t *testing.T) {
	fs := NewMemFS()
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	syncDirOf(t, fs, "/")
	writeFile(t, fs, "/d/synced", []byte("durable"), true)
	syncDirOf(t, fs, "/d")
	writeFile(t, fs, "/d/unsynced", []byte("lost"), false)
	writeFile(t, fs, "/d/nodirsync", []byte("data synced, entry not"), true)

	strict := fs.CrashClone(0, nil)
	if b, ok := readAll(t, strict, "/d/synced"); !ok || string(b) != "durable" {
		t.Errorf("synced file after a crash: %q %v", b, ok)
	}
	for _, name := range []string{"/d/unsynced", "/d/nodirsync"} {
		if _, ok := readAll(t, strict, name); ok {
			t.Errorf("%s survived a crash without its directory entry synced", name)
		}
	}
	all := fs.CrashClone(100, nil)
	if b, ok := readAll(t, all, "/d/unsynced"); !ok || string(b) != "lost" {
		t.Errorf("keeping everything unsynced: %q %v", b, ok)
	}
}

func TestMemFSCrashRenameAndAppend(t *testing.T) {
	fs := NewMemFS()
	writeFile(t, fs, "/state", []byte("old"), true)
	syncDirOf(t, fs, "/")
	writeFile(t, fs, "/state.tmp", []byte("new"), true)
	if err := fs.Rename("/state.tmp", "/state"); err != nil {
		t.Fatal(err)
	}
	if b, _ := readAll(t, fs.CrashClone(0, nil), "/state"); string(b) != "old" {
		t.Errorf("a rename not made durable survived: %q", b)
	}
	syncDirOf(t, fs, "/")
	if b, _ := readAll(t, fs.CrashClone(0, nil), "/state"); string(b) != "new" {
		t.Errorf("a durable rename was lost: %q", b)
	}
	// Appended bytes past the synced length are lost unless kept.
	f, err := fs.OpenReadWrite("/state", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("er"), 3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := readAll(t, fs.CrashClone(0, nil), "/state"); string(b) != "new" {
		t.Errorf("unsynced append survived a strict crash: %q", b)
	}
	if b, _ := readAll(t, fs.CrashClone(100, nil), "/state"); string(b) != "newer" {
		t.Errorf("keeping everything: %q", b)
	}
}

func TestMemFSPartialCrashIsDeterministic(t *testing.T) {
	fs := NewMemFS()
	for i := 0; i < 20; i++ {
		writeFile(t, fs, "/f"+string(rune('a'+i)), make([]byte, 3*blockSize+i), i%3 == 0)
	}
	list := func(c *MemFS) []string {
		names, _ := c.List("/")
		var out []string
		for _, n := range names {
			b, _ := readAll(t, c, "/"+n)
			out = append(out, n+":"+string(rune(len(b))))
		}
		return out
	}
	a := list(fs.CrashClone(50, rand.New(rand.NewPCG(1, 2))))
	b := list(fs.CrashClone(50, rand.New(rand.NewPCG(1, 2))))
	if !slices.Equal(a, b) {
		t.Fatalf("two partial crashes with the same seed differ:\n%v\n%v", a, b)
	}
	if len(a) == 0 || len(a) == 20 {
		t.Fatalf("a 50%% crash kept %d of 20 unsynced entries", len(a))
	}
}

func TestMemFSHookFaults(t *testing.T) {
	fs := NewMemFS()
	fs.SetHook(func(op FSOp) *FSFault {
		switch op.Kind {
		case OpWrite:
			return &FSFault{Err: syscall.ENOSPC, Partial: 2}
		case OpSync:
			return &FSFault{Lie: true}
		}
		return nil
	})
	f, err := fs.Create("/x", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Write([]byte("hello")); n != 2 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a full disk: wrote %d, %v", n, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("a lying sync failed: %v", err)
	}
	f.Close()
	fs.SetHook(nil)
	syncDirOf(t, fs, "/")
	if b, _ := readAll(t, fs, "/x"); string(b) != "he" {
		t.Errorf("torn write: %q", b)
	}
	if b, ok := readAll(t, fs.CrashClone(0, nil), "/x"); !ok || len(b) != 0 {
		t.Errorf("a lying sync made data durable: %q", b)
	}
	if fs.Mutations() == 0 {
		t.Error("no mutation counted")
	}
}

// TestMemFSHostsTheLog opens zk's log on MemFS, appends, crashes, recovers.
func TestMemFSHostsTheLog(t *testing.T) {
	fs := NewMemFS()
	l, err := wal.Open(wal.Options{FS: fs, Dir: "/log"})
	if err != nil {
		t.Fatal(err)
	}
	for z := int64(1); z <= 50; z++ {
		if err := l.Append([]wal.Entry{{Zxid: z, Data: []byte("entry")}}); err != nil {
			t.Fatal(err)
		}
	}
	crashed := fs.CrashClone(0, nil)
	l.Close()
	l2, err := wal.Open(wal.Options{FS: crashed, Dir: "/log"})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.LastZxid() != 50 {
		t.Fatalf("recovered up to %d, appended 50", l2.LastZxid())
	}
}
