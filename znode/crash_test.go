package znode

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/google/go-cmp/cmp"
)

// crashRecorder takes a crash image of a crashable MemFS (only what was
// synced survives) before every write operation while it is armed.
type crashRecorder struct {
	mem *vfs.MemFS
	mu  sync.Mutex
	on  bool
	all []*vfs.MemFS
}

func (c *crashRecorder) MaybeError(op errorfs.Op) error {
	if op.Kind.ReadOrWrite() != errorfs.OpIsWrite {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.all = append(c.all, c.mem.CrashClone(vfs.CrashCloneCfg{}))
	}
	return nil
}

func (c *crashRecorder) String() string { return "crashRecorder" }

func (c *crashRecorder) arm(on bool) {
	c.mu.Lock()
	c.on = on
	c.mu.Unlock()
}

func (c *crashRecorder) images() []*vfs.MemFS {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*vfs.MemFS(nil), c.all...)
}

func newCrashFS() (*crashRecorder, vfs.FS) {
	mem := vfs.NewCrashableMem()
	rec := &crashRecorder{mem: mem}
	return rec, errorfs.Wrap(mem, rec)
}

// reopen opens a crash image and returns its state.
func reopen(t *testing.T, fs vfs.FS) treeState {
	t.Helper()
	tr, err := Open(testOptions(fs))
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer tr.Close()
	return stateOf(t, tr)
}

var stateCmp = cmp.AllowUnexported(treeState{})

// TestRestoreIsCrashAtomic crashes before every write Restore makes: each
// crash image must open as exactly the old tree or exactly the new one.
func TestRestoreIsCrashAtomic(t *testing.T) {
	src := openModelTree(t)
	populate(t, src, 61, 80)
	snap := snapshotBytes(t, src)
	newState := stateOf(t, src)

	rec, fs := newCrashFS()
	tr, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	populate(t, tr, 62, 40)
	if _, err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	oldState := stateOf(t, tr)
	rec.arm(true)
	if _, err := tr.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	rec.arm(false)
	_ = tr.Close()
	images := rec.images()
	if len(images) < 10 {
		t.Fatalf("only %d crash points", len(images))
	}
	sawOld, sawNew := false, false
	for i, img := range images {
		got := reopen(t, img)
		switch {
		case cmp.Equal(got, oldState, stateCmp):
			sawOld = true
			if sawNew {
				t.Fatalf("crash point %d: old tree after the new one was durable", i)
			}
		case cmp.Equal(got, newState, stateCmp):
			sawNew = true
		default:
			t.Fatalf("crash point %d of %d: neither the old nor the new tree (zxid %d)", i, len(images), got.zxid)
		}
	}
	if !sawOld || !sawNew {
		t.Fatalf("crash points saw old %v new %v", sawOld, sawNew)
	}
	// After the Restore returned, only the new tree remains.
	if got := reopen(t, rec.mem.CrashClone(vfs.CrashCloneCfg{})); !cmp.Equal(got, newState, stateCmp) {
		t.Fatal("Restore returned before the new tree was durable")
	}
}

// TestCreateIsCrashSafe crashes before every write of a fresh Open: every
// image opens as a fresh tree.
func TestCreateIsCrashSafe(t *testing.T) {
	rec, fs := newCrashFS()
	rec.arm(true)
	tr, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	rec.arm(false)
	fresh := stateOf(t, tr)
	_ = tr.Close()
	for i, img := range rec.images() {
		if got := reopen(t, img); !cmp.Equal(got, fresh, stateCmp) {
			t.Fatalf("crash point %d: %+v", i, got)
		}
	}
}

// TestFlushIsDurable crashes at every write while txns are applied and
// flushed: every image holds a consistent tree at some zxid at or above
// the last completed Flush.
func TestFlushIsDurable(t *testing.T) {
	rec, fs := newCrashFS()
	tr, err := Open(testOptions(fs))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	states := map[int64]treeState{0: stateOf(t, tr)}
	var durable []int64 // durable zxid when each image was taken
	g := populateGen(62)
	p := tr.NewPending()
	zxid := int64(0)
	for i := 0; i < 120; i++ {
		txn := g.txn()
		g.m.apply(zxid+1, &txn)
		if r, _ := p.Prepare(zxid+1, &txn, nil); r.Err != nil {
			continue
		}
		zxid++
		if _, _, err := tr.Apply(zxid, &txn); err != nil {
			t.Fatal(err)
		}
		p.Applied(zxid)
		states[zxid] = stateOf(t, tr)
		if i%10 == 9 {
			d := tr.Durable()
			rec.arm(true)
			if _, err := tr.Flush(); err != nil {
				t.Fatal(err)
			}
			rec.arm(false)
			for range len(rec.images()) - len(durable) {
				durable = append(durable, d)
			}
			// Right after Flush returns, everything applied is durable.
			rec.mu.Lock()
			rec.all = append(rec.all, rec.mem.CrashClone(vfs.CrashCloneCfg{}))
			rec.mu.Unlock()
			durable = append(durable, zxid)
			if tr.Durable() != zxid {
				t.Fatalf("Durable %d after Flush, want %d", tr.Durable(), zxid)
			}
		}
	}
	for i, img := range rec.images() {
		got := reopen(t, img)
		want, ok := states[got.zxid]
		if !ok || !cmp.Equal(got, want, stateCmp) {
			t.Fatalf("image %d: inconsistent tree at zxid %d", i, got.zxid)
		}
		if got.zxid < durable[i] {
			t.Fatalf("image %d: zxid %d below the durable %d", i, got.zxid, durable[i])
		}
	}
}

func populateGen(seed uint64) *gen {
	g := &gen{now: 1000, m: newModel(modelMaxData)}
	g.rng = newRand(seed)
	return g
}

// TestRestoreSurvivesInjectedErrors fails each write of a Restore in turn:
// the Restore fails, the old tree stays readable and intact, and the
// directory reopens as the old tree or (if only the cleanup failed) the
// new one.
func TestRestoreSurvivesInjectedErrors(t *testing.T) {
	src := openModelTree(t)
	populate(t, src, 71, 60)
	snap := snapshotBytes(t, src)
	newState := stateOf(t, src)
	for k := int32(0); ; k++ {
		mem := vfs.NewMem()
		inj := &armedIndex{index: k}
		fs := errorfs.Wrap(mem, inj)
		tr, err := Open(testOptions(fs))
		if err != nil {
			t.Fatal(err)
		}
		populate(t, tr, 72, 30)
		if _, err := tr.Flush(); err != nil {
			t.Fatal(err)
		}
		oldState := stateOf(t, tr)
		inj.armed.Store(true)
		_, err = tr.Restore(bytes.NewReader(snap))
		inj.armed.Store(false)
		if !inj.fired.Load() {
			if err != nil {
				t.Fatal(err)
			}
			_ = tr.Close()
			if k < 6 {
				t.Fatalf("only %d failure points", k)
			}
			t.Logf("failed each of %d write points", k)
			break // every write point has been failed once
		}
		if err == nil {
			// The failure hit the cleanup of the old directory only.
			if got := stateOf(t, tr); !cmp.Equal(got, newState, stateCmp) {
				t.Fatalf("write %d: Restore succeeded with the wrong tree", k)
			}
		} else if !errors.Is(err, ErrFailed) {
			if got := stateOf(t, tr); !cmp.Equal(got, oldState, stateCmp) {
				t.Fatalf("write %d: failed Restore changed the tree: %v", k, err)
			}
		}
		_ = tr.Close()
		got := reopen(t, mem)
		if !cmp.Equal(got, oldState, stateCmp) && !cmp.Equal(got, newState, stateCmp) {
			t.Fatalf("write %d: reopened as neither tree", k)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// armedIndex fails the index-th write operation made while it is armed.
type armedIndex struct {
	index int32
	count atomic.Int32
	armed atomic.Bool
	fired atomic.Bool
}

func (a *armedIndex) MaybeError(op errorfs.Op) error {
	if !a.armed.Load() || op.Kind.ReadOrWrite() != errorfs.OpIsWrite {
		return nil
	}
	// Pebble stops the process (panics) on most failed writes and syncs of
	// its own files, by design; the crash tests cover what that leaves.
	// Fail znode's own operations: CURRENT, the tree directory, and the
	// creation and removal of Pebble directories.
	if strings.Contains(op.Path, "/"+dbPrefix) && op.Kind != errorfs.OpRemoveAll && op.Kind != errorfs.OpMkdirAll {
		return nil
	}
	if a.count.Add(1)-1 == a.index {
		a.fired.Store(true)
		return errorfs.ErrInjected
	}
	return nil
}

func (a *armedIndex) String() string { return "armedIndex" }
