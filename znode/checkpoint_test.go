package znode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/google/go-cmp/cmp"
)

func checkpointBytes(t testing.TB, fs vfs.FS, dir string) (int64, []byte) {
	t.Helper()
	c, err := OpenCheckpoint(fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return c.Zxid(), buf.Bytes()
}

// A checkpoint streams exactly the snapshot of the tree it was taken from,
// on disk (hard links) and in memory, and keeps doing so while the tree
// moves on and compacts the files it shares.
func TestCheckpointStreamsTheTree(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   vfs.FS
		dir  string
	}{
		{"mem", vfs.NewMem(), "/data"},
		{"disk", vfs.Default, t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(tc.fs)
			o.Dir = filepath.Join(tc.dir, "tree")
			tr, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			populate(t, tr, 1, 3000)
			want := snapshotBytes(t, tr)
			applied, _ := tr.Applied()
			dir := filepath.Join(tc.dir, "ckpt")
			zxid, size, err := tr.Checkpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			if zxid != applied || size <= 0 {
				t.Fatalf("checkpoint: zxid %#x size %d, want zxid %#x and a size", zxid, size, applied)
			}
			populate(t, tr, 2, 3000)
			if err := tr.db.Compact(t.Context(), []byte{0}, []byte{0xff}, true); err != nil {
				t.Fatal(err)
			}
			got, b := checkpointBytes(t, tc.fs, dir)
			if got != applied || !bytes.Equal(b, want) {
				t.Fatalf("checkpoint at %#x streams %d bytes at %#x, want the tree's %d bytes", applied, len(b), got, len(want))
			}
			if _, _, err := tr.Checkpoint(dir); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("checkpoint into an existing directory: %v, want ErrExist", err)
			}
		})
	}
}

// A checkpoint taken while txns are applied holds exactly the state after
// one of them: restored, it equals a tree that applied the txns up to its
// zxid.
func TestCheckpointDuringApply(t *testing.T) {
	mem := vfs.NewMem()
	tr, err := Open(testOptions(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var (
		wg   sync.WaitGroup
		txs  []prepared
		done = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		txs = populate(t, tr, 3, 4000)
	}()
	var dirs []string
	for i := 0; i < 40; i++ {
		select {
		case <-done:
			i = 40
		default:
		}
		dir := fmt.Sprintf("/ckpt/%d", i)
		if _, _, err := tr.Checkpoint(dir); err != nil {
			t.Error(err)
		}
		dirs = append(dirs, dir)
	}
	wg.Wait()
	midway := 0
	for _, dir := range dirs {
		zxid, b := checkpointBytes(t, mem, dir)
		if zxid > 0 && zxid < txs[len(txs)-1].zxid {
			midway++
		}
		ref := openTest(t)
		for _, p := range txs {
			if p.zxid > zxid {
				break
			}
			if _, _, err := ref.Apply(p.zxid, &p.txn); err != nil {
				t.Fatal(err)
			}
		}
		if want := snapshotBytes(t, ref); !bytes.Equal(b, want) {
			t.Fatalf("checkpoint %s at %#x differs from the txns applied up to it", dir, zxid)
		}
		re := openTest(t)
		if _, err := re.Restore(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(stateOf(t, ref), stateOf(t, re), cmp.AllowUnexported(treeState{})); diff != "" {
			t.Fatalf("restored checkpoint %s: %s", dir, diff)
		}
	}
	if midway == 0 {
		t.Fatalf("none of %d checkpoints was taken while txns were applied", len(dirs))
	}
}

// ckptFailer fails the k-th mutating file-system operation under /ckpt.
type ckptFailer struct {
	mu       sync.Mutex
	k, count int
	kinds    map[errorfs.OpKind]int
	last     errorfs.Op
}

func (f *ckptFailer) String() string { return "ckptFailer" }

func (f *ckptFailer) MaybeError(op errorfs.Op) error {
	if op.Kind.ReadOrWrite() != errorfs.OpIsWrite || !strings.HasPrefix(op.Path, "/ckpt") && op.Kind != errorfs.OpLink {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	if f.count != f.k {
		return nil
	}
	f.kinds[op.Kind]++
	f.last = op
	return errorfs.ErrInjected
}

// TestCheckpointDiskFaults fails, in turn, each write, sync, link, rename or
// removal a checkpoint makes: Checkpoint returns the error (Pebble panics
// on a failed directory sync; that too becomes an error), and the tree
// goes on applying and flushing.
func TestCheckpointDiskFaults(t *testing.T) {
	f := &ckptFailer{kinds: map[errorfs.OpKind]int{}}
	tr, err := Open(testOptions(errorfs.Wrap(vfs.NewMem(), f)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	populate(t, tr, 4, 500)
	for k := 1; ; k++ {
		if k > 200 {
			t.Fatal("a checkpoint makes more than 200 file-system operations")
		}
		f.mu.Lock()
		f.k, f.count = k, 0
		f.mu.Unlock()
		_, _, err := tr.Checkpoint(fmt.Sprintf("/ckpt/%d", k))
		f.mu.Lock()
		ops := f.count
		f.mu.Unlock()
		if ops < k {
			if err != nil {
				t.Fatalf("checkpoint with no fault injected: %v", err)
			}
			break
		}
		switch {
		case err == nil:
			// A failed link is copied instead: the checkpoint must then
			// be whole.
			checkpointBytes(t, tr.opts.FS, fmt.Sprintf("/ckpt/%d", k))
			if f.last.Kind != errorfs.OpLink {
				t.Errorf("op %d (%+v) failed unnoticed", k, f.last)
			}
		case !strings.Contains(err.Error(), errorfs.ErrInjected.Error()):
			t.Fatalf("checkpoint with op %d failing: %v, want the injected error", k, err)
		}
		populate(t, tr, uint64(100+k), 5)
		if _, err := tr.Flush(); err != nil {
			t.Fatalf("flush after a failed checkpoint: %v", err)
		}
	}
	for _, kind := range []errorfs.OpKind{errorfs.OpLink, errorfs.OpFileSync, errorfs.OpCreate} {
		if f.kinds[kind] == 0 {
			t.Errorf("no %v failure injected (got %v)", kind, f.kinds)
		}
	}
}

// lockWatch fails the test when a file lock is taken under dir.
type lockWatch struct {
	vfs.FS
	t   *testing.T
	dir string
}

func (w lockWatch) Lock(name string) (io.Closer, error) {
	if strings.HasPrefix(name, w.dir) {
		w.t.Errorf("a lock taken in the checkpoint: %s", name)
	}
	return w.FS.Lock(name)
}

// TestCheckpointTakesNoLock: making and reading a checkpoint never locks
// its directory (a checkpoint is private to its reader). The second half
// crash-clones Pebble's own crashable in-memory file system while
// checkpoints are opened: its Lock read-locks the clone lock twice, so a
// lock taken there would deadlock with the clone (see internal/crashmem).
func TestCheckpointTakesNoLock(t *testing.T) {
	mem := vfs.NewCrashableMem()
	o := testOptions(lockWatch{FS: mem, t: t, dir: "/ckpt"})
	o.Dir = "/tree"
	tr, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	populate(t, tr, 1, 200)
	if _, _, err := tr.Checkpoint("/ckpt"); err != nil {
		t.Fatal(err)
	}
	checkpointBytes(t, o.FS, "/ckpt")
	if err := tr.Close(); err != nil { // before the crashes: a deadlock must not hang the test
		t.Fatal(err)
	}

	cloned, opened := make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(cloned)
		for range 300 {
			mem.CrashClone(vfs.CrashCloneCfg{})
		}
	}()
	go func() {
		for {
			select {
			case <-cloned:
				opened <- nil
				return
			default:
			}
			c, err := OpenCheckpoint(mem, "/ckpt")
			if err != nil {
				opened <- err
				return
			}
			c.Close()
		}
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("deadlocked: crash clones and checkpoint opens still blocked after a minute")
	}
}
