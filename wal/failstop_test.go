package wal

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// failer injects an error into the k-th mutating file-system operation
// after it is armed, and then counts the fsyncs anyone still attempts.
type failer struct {
	mu         sync.Mutex
	armed      bool
	k, count   int
	injected   bool
	op         errorfs.Op
	syncsAfter int
}

func (f *failer) String() string { return "failer" }

func (f *failer) MaybeError(op errorfs.Op) error {
	if op.Kind.ReadOrWrite() != errorfs.OpIsWrite {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.injected {
		if op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData {
			f.syncsAfter++
		}
		return nil
	}
	if !f.armed {
		return nil
	}
	f.count++
	if f.count == f.k {
		f.injected, f.op = true, op
		return errorfs.ErrInjected
	}
	return nil
}

// TestFailStop fails, in turn, every mutating file-system operation of each
// kind of Log operation (write, fsync, create, rename, remove, directory
// sync): the failing call returns ErrFailed wrapping the cause, every later
// call fails the same way, no fsync is attempted again, and the files on
// disk hold the state before the operation or a state a crash during it
// could leave.
func TestFailStop(t *testing.T) {
	kinds := []string{"append", "append-roll", "truncate", "reset", "purge", "state", "snapshot"}
	injected := map[string]map[errorfs.OpKind]int{}
	for _, kind := range kinds {
		injected[kind] = map[errorfs.OpKind]int{}
		for k := 1; ; k++ {
			op, ok := failCase(t, kind, k)
			if !ok {
				break
			}
			injected[kind][op.Kind]++
			if k > 100 {
				t.Fatalf("%s: more than 100 file-system operations", kind)
			}
		}
	}
	for kind, want := range map[string][]errorfs.OpKind{
		"append":      {errorfs.OpFileWriteAt, errorfs.OpFileSync},
		"append-roll": {errorfs.OpFileWriteAt, errorfs.OpFileSync, errorfs.OpCreate},
		"truncate":    {errorfs.OpRemove, errorfs.OpFileSync, errorfs.OpCreate, errorfs.OpFileWrite, errorfs.OpRename},
		"reset":       {errorfs.OpCreate, errorfs.OpFileWriteAt, errorfs.OpFileSync, errorfs.OpRemove},
		"purge":       {errorfs.OpRemove, errorfs.OpFileSync},
		"state":       {errorfs.OpCreate, errorfs.OpFileWrite, errorfs.OpFileSync, errorfs.OpRename},
		"snapshot":    {errorfs.OpCreate, errorfs.OpFileWrite, errorfs.OpFileSync, errorfs.OpRename, errorfs.OpRemove},
	} {
		for _, k := range want {
			if injected[kind][k] == 0 {
				t.Errorf("%s: no %v failure injected (got %v)", kind, k, injected[kind])
			}
		}
	}
}

// failCase builds a log, then runs one operation of the given kind with the
// k-th file-system operation failing. It reports false once the operation
// has fewer than k file-system operations.
func failCase(t *testing.T, kind string, k int) (errorfs.Op, bool) {
	mem := vfs.NewCrashableMem()
	f := &failer{k: k}
	r := &crashRun{
		t: t, seed: 77, rng: rand.New(rand.NewPCG(77, 1)),
		c:    &crasher{mem: mem, rng: rand.New(rand.NewPCG(1, 1))},
		opts: Options{FS: errorfs.Wrap(mem, f), Dir: "/d/log", SnapDir: "/d/snap", SegmentSize: 8 << 10},
		m:    model{snaps: map[int64][]byte{}}, coverage: map[string]int{},
	}
	l := mustOpen(t, r.opts)
	setup := []func() walOp{r.appendOp, r.appendOp, r.stateOp, r.appendOp, r.snapshotOp}
	for range 4 {
		setup = append(setup, r.appendOp, r.snapshotOp)
	}
	setup = append(setup, r.appendOp) // the snapshot below is a new one
	for _, mk := range setup {
		op := mk()
		before := r.m
		if _, err := op.run(l); err != nil {
			t.Fatalf("setup %s: %v", op.name, err)
		}
		r.m = op.want(before, l)
	}
	var op walOp
	switch kind {
	case "append":
		op = r.appendSized(1, 100)
	case "append-roll":
		op = r.appendSized(6, 6000)
	case "truncate":
		op = r.truncateAt(r.m.ents[len(r.m.ents)/3].Zxid)
	case "reset":
		op = r.resetOp()
	case "purge":
		op = r.purgeAt(r.m.ents[len(r.m.ents)-2].Zxid)
	case "state":
		op = r.stateOp()
	case "snapshot":
		op = r.snapshotSized(600 << 10)
	}
	before := r.m.clone()
	f.mu.Lock()
	f.armed = true
	f.mu.Unlock()
	_, err := op.run(l)
	f.mu.Lock()
	inj, fop := f.injected, f.op
	f.mu.Unlock()
	where := fmt.Sprintf("%s, failing fs op %d (%v %s)", kind, k, fop.Kind, fop.Path)
	if !inj {
		if err != nil {
			t.Fatalf("%s: no failure injected, but %v", kind, err)
		}
		l.Close()
		return fop, false
	}
	if !errors.Is(err, ErrFailed) || !errors.Is(err, errorfs.ErrInjected) {
		t.Fatalf("%s: got %v, want ErrFailed wrapping the injected error", where, err)
	}
	checkAllFail(t, where, l, err)
	f.mu.Lock()
	if f.syncsAfter != 0 {
		t.Fatalf("%s: %d fsyncs after the failure", where, f.syncsAfter)
	}
	f.mu.Unlock()
	// What is on disk: as after a crash during the operation.
	after := op.want(before, nil)
	for _, pct := range crashPercents {
		cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(uint64(k), 3))}
		r.verify(crashPoint{fs: mem.CrashClone(cfg), percent: pct, n: k, fsop: fop}, op, before, after, false)
	}
	return fop, true
}

// checkAllFail: every later call fails with the first failure.
func checkAllFail(t *testing.T, where string, l *Log, first error) {
	t.Helper()
	same := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrFailed) || !errors.Is(err, errorfs.ErrInjected) || err.Error() != first.Error() {
			t.Fatalf("%s: later %s: got %v, want %v", where, name, err, first)
		}
	}
	same("Append", l.Append([]Entry{{Zxid: l.LastZxid() + 1}}))
	same("TruncateAfter", l.TruncateAfter(l.Base()))
	same("Reset", l.Reset(l.LastZxid()+5))
	same("SetState", l.SetState(State{AcceptedEpoch: 1000}))
	_, err := l.Purge(l.LastZxid())
	same("Purge", err)
	_, err = l.CreateSnapshot(l.LastZxid())
	same("CreateSnapshot", err)
	same("ReadFrom", l.ReadFrom(l.Base(), func(Entry) error { return nil }))
	_, err = l.Entries(l.Base(), 100)
	same("Entries", err)
	if snaps := l.Snapshots(); len(snaps) > 0 {
		_, err = l.OpenSnapshot(snaps[0])
		same("OpenSnapshot", err)
	}
	same("Close", l.Close())
}
