package wal

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// writeSnapDir commits a snapshot directory at zxid holding one file.
func writeSnapDir(t testing.TB, l *Log, zxid int64) {
	t.Helper()
	d, err := l.CreateSnapshotDir()
	if err != nil {
		t.Fatal(err)
	}
	fillSnapDir(t, l.fs, d.Path(), zxid)
	if err := d.Commit(zxid); err != nil {
		t.Fatal(err)
	}
}

func fillSnapDir(t testing.TB, fs vfs.FS, dir string, zxid int64) {
	t.Helper()
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Create(fs.PathJoin(dir, "content"), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(snapContent(zxid, 100)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func dirContent(t testing.TB, l *Log, zxid int64) []byte {
	t.Helper()
	path, ok := l.SnapshotDir(zxid)
	if !ok {
		t.Fatalf("SnapshotDir(%d): not a directory snapshot (snapshots %v)", zxid, l.Snapshots())
	}
	return fileBytes(t, l.fs, l.fs.PathJoin(path, "content"))
}

// logWithTwoSnapshots opens a log on a new in-memory FS holding a snapshot
// file at zxid 10 and a snapshot directory at 20.
func logWithTwoSnapshots(t *testing.T) (vfs.FS, Options, *Log) {
	t.Helper()
	fs := vfs.NewMem()
	o := testOpts(fs)
	l := mustOpen(t, o)
	writeSnap(t, l, 10, snapContent(10, 10))
	writeSnapDir(t, l, 20)
	return fs, o, l
}

// Snapshots kept as directories are listed, retained, reopened and deleted
// with the snapshot files, newest first whatever their kind.
func TestSnapshotDirs(t *testing.T) {
	fs, o, l := logWithTwoSnapshots(t)
	writeSnap(t, l, 30, snapContent(30, 10))
	writeSnapDir(t, l, 40)
	if got := l.Snapshots(); !slices.Equal(got, []int64{40, 30, 20}) {
		t.Fatalf("Snapshots = %v, want [40 30 20] (retain 3)", got)
	}
	if _, err := readSnap(l, 40); err == nil {
		t.Fatal("OpenSnapshot of a directory snapshot succeeded")
	}
	if _, ok := l.SnapshotDir(30); ok {
		t.Fatal("SnapshotDir(30) reports the snapshot file as a directory")
	}
	if b := dirContent(t, l, 20); !bytes.Equal(b, snapContent(20, 100)) {
		t.Fatal("directory snapshot 20 lost its content")
	}
	// An unfinished directory, and one committed at an existing zxid.
	left, err := l.CreateSnapshotDir()
	if err != nil {
		t.Fatal(err)
	}
	fillSnapDir(t, fs, left.Path(), 50)
	dup, err := l.CreateSnapshotDir()
	if err != nil {
		t.Fatal(err)
	}
	fillSnapDir(t, fs, dup.Path(), 41)
	if err := dup.Commit(40); err != nil {
		t.Fatal(err)
	}
	if b := dirContent(t, l, 40); !bytes.Equal(b, snapContent(40, 100)) {
		t.Fatal("a second commit at zxid 40 replaced the first")
	}
	if _, err := fs.Stat(dup.Path()); err == nil {
		t.Fatal("the duplicate's directory is still there")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = mustOpen(t, o)
	if got := l.Snapshots(); !slices.Equal(got, []int64{40, 30, 20}) {
		t.Fatalf("reopened: Snapshots = %v, want [40 30 20]", got)
	}
	if _, err := fs.Stat(left.Path()); err == nil {
		t.Fatal("Open left the unfinished snapshot directory")
	}
	if b := dirContent(t, l, 40); !bytes.Equal(b, snapContent(40, 100)) {
		t.Fatal("reopened: directory snapshot 40 lost its content")
	}
	// A file committed at a directory's zxid takes its place; retention
	// deletes directories whole.
	writeSnap(t, l, 20, snapContent(20, 10))
	if _, ok := l.SnapshotDir(20); ok {
		t.Fatal("the file at zxid 20 did not replace the directory")
	}
	writeSnap(t, l, 60, snapContent(60, 10))
	writeSnap(t, l, 70, snapContent(70, 10))
	if got := l.Snapshots(); !slices.Equal(got, []int64{70, 60, 40}) {
		t.Fatalf("Snapshots = %v, want [70 60 40]", got)
	}
	writeSnap(t, l, 80, snapContent(80, 10))
	names, err := fs.List(o.SnapDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, dir, ok := parseSnapshotName(name); ok && dir {
			t.Fatalf("retention left the directory %s (names %v)", name, names)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotDirFailStop fails, in turn, each file-system operation of a
// snapshot directory's Commit (rename, directory sync, and the removal of
// the snapshot retention drops): Commit returns ErrFailed wrapping the
// cause, every later call fails the same way, and a reopened log lists the
// old snapshots, with the new one or without it, and no temporary
// directory.
func TestSnapshotDirFailStop(t *testing.T) {
	injected := map[errorfs.OpKind]int{}
	for k := 1; ; k++ {
		if k > 50 {
			t.Fatal("a Commit makes more than 50 file-system operations")
		}
		mem := vfs.NewMem()
		f := &failer{k: k}
		o := Options{FS: errorfs.Wrap(mem, f), Dir: "/d/log", SnapDir: "/d/snap", SnapRetainCount: 3}
		l := mustOpen(t, o)
		for _, z := range []int64{10, 20, 30} {
			writeSnapDir(t, l, z)
		}
		d, err := l.CreateSnapshotDir()
		if err != nil {
			t.Fatal(err)
		}
		fillSnapDir(t, mem, d.Path(), 40)
		f.mu.Lock()
		f.armed = true
		f.mu.Unlock()
		err = d.Commit(40)
		f.mu.Lock()
		inj, fop := f.injected, f.op
		f.mu.Unlock()
		if !inj {
			if err != nil {
				t.Fatalf("no failure injected, but %v", err)
			}
			l.Close()
			break
		}
		injected[fop.Kind]++
		where := fmt.Sprintf("failing fs op %d (%v %s)", k, fop.Kind, fop.Path)
		if !errors.Is(err, ErrFailed) || !errors.Is(err, errorfs.ErrInjected) {
			t.Fatalf("%s: got %v, want ErrFailed wrapping the injected error", where, err)
		}
		checkAllFail(t, where, l, err)
		re := mustOpen(t, Options{FS: mem, Dir: "/d/log", SnapDir: "/d/snap", SnapRetainCount: 3})
		got := re.Snapshots()
		if !slices.Equal(got, []int64{30, 20, 10}) && !slices.Equal(got, []int64{40, 30, 20}) && !slices.Equal(got, []int64{40, 30, 20, 10}) {
			t.Fatalf("%s: reopened, Snapshots = %v", where, got)
		}
		if _, err := mem.Stat(d.Path()); err == nil {
			t.Fatalf("%s: reopened, the temporary directory is still there", where)
		}
		re.Close()
	}
	for _, kind := range []errorfs.OpKind{errorfs.OpRename, errorfs.OpFileSync, errorfs.OpRemoveAll} {
		if injected[kind] == 0 {
			t.Errorf("no %v failure injected (got %v)", kind, injected)
		}
	}
}

// TestSnapshotDirReplacedByFile: a crash between a file's commit at a
// directory's zxid and the directory's removal leaves both; Open keeps the
// file and removes the directory.
func TestSnapshotDirReplacedByFile(t *testing.T) {
	fs, o, l := logWithTwoSnapshots(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The state the crash leaves: a file at 20 beside the directory.
	f, err := fs.Create(fs.PathJoin(o.SnapDir, snapshotName(20)), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(fileBytes(t, fs, fs.PathJoin(o.SnapDir, snapshotName(10)))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	l = mustOpen(t, o)
	defer l.Close()
	if got := l.Snapshots(); !slices.Equal(got, []int64{20, 10}) {
		t.Fatalf("Snapshots = %v, want [20 10]", got)
	}
	if _, ok := l.SnapshotDir(20); ok {
		t.Fatal("the directory at 20 is still the snapshot")
	}
	if _, err := fs.Stat(fs.PathJoin(o.SnapDir, snapshotDirName(20))); err == nil {
		t.Fatal("Open left the replaced directory")
	}
}
