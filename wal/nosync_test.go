package wal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// syncCounter is an errorfs injector that never injects: it counts the
// fsyncs of each path (a directory's included).
type syncCounter struct {
	mu    sync.Mutex
	syncs map[string]int
}

func (c *syncCounter) String() string { return "syncCounter" }

func (c *syncCounter) MaybeError(op errorfs.Op) error {
	if op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo {
		c.mu.Lock()
		c.syncs[op.Path]++
		c.mu.Unlock()
	}
	return nil
}

// take returns the counts since the last take, by kind of file: "segment"
// (each segment file apart, by name), "log dir", "state", "snapshot",
// "snap dir".
func (c *syncCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for path, n := range c.syncs {
		name := path[strings.LastIndexByte(path, '/')+1:]
		switch {
		case path == testDir:
			out["log dir"] += n
		case path == "/data/snap":
			out["snap dir"] += n
		case strings.HasPrefix(name, segPrefix):
			out[name] += n
			out["segment"] += n
		case strings.HasPrefix(name, stateName):
			out["state"] += n
		default:
			out["snapshot"] += n
		}
	}
	c.syncs = map[string]int{}
	return out
}

// TestNoAppendSync counts the fsyncs of each file with and without
// Options.NoAppendSync: without it every group commit syncs its segment;
// with it none does, a segment is synced once before the next one is
// created and the last one by Close, and the state file, snapshots and
// directories are synced exactly as without it.
func TestNoAppendSync(t *testing.T) {
	got := map[bool]map[string]int{}
	for _, noSync := range []bool{false, true} {
		c := &syncCounter{syncs: map[string]int{}}
		o := testOpts(errorfs.Wrap(vfs.NewMem(), c))
		o.NoAppendSync = noSync
		l := mustOpen(t, o)
		c.take()
		const first = 20 // single-entry group commits, all in the first segment
		for z := int64(1); z <= first; z++ {
			if err := l.Append([]Entry{{Zxid: z, Data: bytes.Repeat([]byte{byte(z)}, 100)}}); err != nil {
				t.Fatal(err)
			}
		}
		appends := c.take()
		wantSeg := map[bool]int{false: first, true: 0}[noSync]
		if appends["segment"] != wantSeg {
			t.Errorf("NoAppendSync %v: %d appends synced segments %d times, want %d (%v)", noSync, first, appends["segment"], wantSeg, appends)
		}
		// Four large entries (the first one ends the first segment; each
		// other one takes a segment of its own), the state file, a snapshot.
		z := int64(first)
		for range 4 {
			z++
			if err := l.Append([]Entry{{Zxid: z, Data: make([]byte, o.SegmentSize)}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.SetState(State{AcceptedEpoch: 1, CurrentEpoch: 1}); err != nil {
			t.Fatal(err)
		}
		writeSnapshot(t, l, z, []byte("tree"))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		got[noSync] = c.take()
		segs := segFiles(t, o.FS, testDir)
		if len(segs) != 4 {
			t.Fatalf("NoAppendSync %v: %d segments, want 4", noSync, len(segs))
		}
		if noSync {
			for _, path := range segs {
				name := path[strings.LastIndexByte(path, '/')+1:]
				if n := got[noSync][name]; n != 1 {
					t.Errorf("NoAppendSync: segment %s synced %d times, want once (before the next one, or by Close)", name, n)
				}
			}
		}
		l = mustOpen(t, o)
		if ents := readAll(t, l); len(ents) != int(z) {
			t.Errorf("NoAppendSync %v: reopened with %d entries, want %d", noSync, len(ents), z)
		}
		l.Close()
	}
	for _, kind := range []string{"log dir", "state", "snapshot", "snap dir"} {
		if got[false][kind] == 0 || got[true][kind] != got[false][kind] {
			t.Errorf("%s synced %d times with NoAppendSync, %d without: want the same, not 0", kind, got[true][kind], got[false][kind])
		}
	}
	if got[false]["segment"] != 4 {
		t.Errorf("without NoAppendSync, 4 appends synced segments %d times, want 4", got[false]["segment"])
	}
}

// writeSnapshot commits a snapshot of content at zxid.
func writeSnapshot(t *testing.T, l *Log, zxid int64, content []byte) {
	t.Helper()
	w, err := l.CreateSnapshot(zxid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestNoAppendSyncCrash: an operating-system crash of a log written with
// NoAppendSync, whatever it kept of the unsynced writes, leaves a log that
// opens (no ErrCorrupt: its records vouch for nothing synced) and holds a
// prefix of the entries, every one of the segments before the last
// included.
func TestNoAppendSyncCrash(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for _, pct := range crashPercents {
		for round := range 20 {
			t.Run(fmt.Sprintf("kept=%d%%/%d", pct, round), func(t *testing.T) {
				mem := vfs.NewCrashableMem()
				o := testOpts(mem)
				// Segments of many blocks, so that a crash leaves holes
				// before records that survive in the last one.
				o.SegmentSize = 48 << 10
				o.NoAppendSync = true
				l := mustOpen(t, o)
				want := genEntries(rng, 0, 100+rng.IntN(100))
				for i := 0; i < len(want); {
					n := 1 + rng.IntN(3)
					if err := l.Append(cloneEntries(want[i:min(i+n, len(want))])); err != nil {
						t.Fatal(err)
					}
					i += n
				}
				sealed := int64(0) // the entries before the last segment's
				l.mu.Lock()
				if n := len(l.segs); n > 1 {
					sealed = l.segs[n-1].base
				}
				l.mu.Unlock()
				cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: pct}
				if pct > 0 {
					cfg.RNG = rand.New(rand.NewPCG(uint64(round), uint64(pct)))
				}
				after := mem.CrashClone(cfg)
				l.Close()
				o.FS = after
				l2, err := Open(o)
				if err != nil {
					t.Fatalf("Open after the crash: %v", err)
				}
				defer l2.Close()
				got := readAll(t, l2)
				if len(got) > len(want) {
					t.Fatalf("%d entries after the crash, %d appended", len(got), len(want))
				}
				if d := diffEntries(got, want[:len(got)]); d != "" {
					t.Fatalf("not a prefix: %s", d)
				}
				if l2.LastZxid() < sealed {
					t.Errorf("the crash lost entries of a sealed segment: last %#x, sealed up to %#x", l2.LastZxid(), sealed)
				}
			})
		}
	}
}
