package wal

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestAppendReadReopen(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	rng := rand.New(rand.NewPCG(1, 2))
	var want []Entry
	for range 40 {
		batch := genEntries(rng, l.LastZxid(), 1+rng.IntN(6))
		want = append(want, cloneEntries(batch)...)
		if err := l.Append(batch); err != nil {
			t.Fatal(err)
		}
	}
	// Sizes that stress the framing: empty, one byte short of / exactly /
	// one past a chunk, multi-block, and the maximum.
	for _, size := range []int{0, 4096 - segHeaderSize - firstChunkMin, 4096 - chunkHeaderSize - recordHeaderSize, 4097, 3 * 4096, 100 << 10} {
		e := Entry{Zxid: l.LastZxid() + 1, Data: make([]byte, size)}
		for i := range e.Data {
			e.Data[i] = byte(i * 7)
		}
		want = append(want, cloneEntries([]Entry{e})...)
		if err := l.Append([]Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(l *Log) {
		t.Helper()
		if d := diffEntries(readAll(t, l), want); d != "" {
			t.Fatal(d)
		}
		if l.FirstZxid() != want[0].Zxid || l.LastZxid() != want[len(want)-1].Zxid || l.Base() != 0 {
			t.Fatalf("first %#x last %#x base %#x", l.FirstZxid(), l.LastZxid(), l.Base())
		}
		for i, e := range want {
			if !l.Contains(e.Zxid) {
				t.Fatalf("Contains(%#x) = false", e.Zxid)
			}
			if i > 0 && e.Zxid-1 != want[i-1].Zxid && l.Contains(e.Zxid-1) {
				t.Fatalf("Contains(%#x) = true", e.Zxid-1)
			}
			if i%7 != 0 && i < len(want)-8 {
				continue
			}
			got, err := collect(l, e.Zxid)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffEntries(got, want[i+1:]); d != "" {
				t.Fatalf("ReadFrom(%#x): %s", e.Zxid, d)
			}
		}
		if !l.Contains(0) || l.Contains(want[len(want)-1].Zxid+1) {
			t.Fatal("Contains of base / past the end")
		}
		if got := l.Stats().Segments; got < 10 {
			t.Fatalf("only %d segments with SegmentSize 8 KiB", got)
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, testOpts(fs))
	defer l.Close()
	check(l)
	// Appending after a reopen continues the log in a new segment.
	more := genEntries(rng, l.LastZxid(), 3)
	want = append(want, cloneEntries(more)...)
	if err := l.Append(more); err != nil {
		t.Fatal(err)
	}
	check(l)
}

func TestMaxEntrySize(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	big := make([]byte, MaxEntrySize)
	for i := range big {
		big[i] = byte(i * 13)
	}
	want := []Entry{{Zxid: 1, Data: slices.Clone(big)}, {Zxid: 2, Data: []byte("after")}}
	if err := l.Append(cloneEntries(want)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = mustOpen(t, testOpts(fs))
	defer l.Close()
	if d := diffEntries(readAll(t, l), want); d != "" {
		t.Fatal(d)
	}
}

func TestEntriesMaxBytes(t *testing.T) {
	l := mustOpen(t, testOpts(vfs.NewMem()))
	defer l.Close()
	var want []Entry
	for z := int64(1); z <= 20; z++ {
		e := Entry{Zxid: z, Data: make([]byte, 100*z)}
		want = append(want, e)
		if err := l.Append([]Entry{{Zxid: z, Data: slices.Clone(e.Data)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.Entries(0, 1000) // 100+200+300+400 = 1000
	if err != nil || len(got) != 4 || got[3].Zxid != 4 {
		t.Fatalf("Entries(0, 1000) = %v, %v", zxidsOf(got), err)
	}
	got, err = l.Entries(10, 1) // at least one
	if err != nil || len(got) != 1 || got[0].Zxid != 11 {
		t.Fatalf("Entries(10, 1) = %v, %v", zxidsOf(got), err)
	}
	got, err = l.Entries(20, 1<<20)
	if err != nil || len(got) != 0 {
		t.Fatalf("Entries(20) = %v, %v", zxidsOf(got), err)
	}
	got, err = l.Entries(0, 1<<30)
	if err != nil || diffEntries(got, want) != "" {
		t.Fatalf("Entries(0, all): %v %s", err, diffEntries(got, want))
	}
	got[0].Data[0] = 1 // fresh copies: changing them changes nothing
	again, _ := l.Entries(0, 1)
	if again[0].Data[0] != 0 {
		t.Fatal("Entries returned shared memory")
	}
}

func TestAppendRejects(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	defer l.Close()
	if err := l.Append([]Entry{{Zxid: 5}, {Zxid: 6}}); err != nil {
		t.Fatal(err)
	}
	for _, es := range [][]Entry{
		{{Zxid: 6}},
		{{Zxid: 3}},
		{{Zxid: 8}, {Zxid: 7}},
		{{Zxid: 9}, {Zxid: 9}},
	} {
		if err := l.Append(es); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("Append(%v) = %v, want ErrOutOfOrder", zxidsOf(es), err)
		}
	}
	if err := l.Append([]Entry{{Zxid: 7}, {Zxid: 8, Data: make([]byte, MaxEntrySize+1)}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized entry: %v", err)
	}
	if err := l.Append(nil); err != nil {
		t.Fatal(err)
	}
	if got := zxidsOf(readAll(t, l)); !slices.Equal(got, []int64{5, 6}) {
		t.Fatalf("log holds %v after rejected appends", got)
	}
	if st := l.Stats(); st.Appends != 1 || st.Records != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTruncateAfter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	all := genEntries(rng, 0, 60)
	if err := l.Append(cloneEntries(all)); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateAfter(all[10].Zxid + 1); !errors.Is(err, ErrNotFound) && all[11].Zxid != all[10].Zxid+1 {
		t.Fatalf("truncate at a non-entry: %v", err)
	}
	if err := l.TruncateAfter(all[59].Zxid + 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("truncate past the end: %v", err)
	}
	want := all
	for _, k := range []int{59, 45, 44, 30, 3, 0} {
		if err := l.TruncateAfter(want[k].Zxid); err != nil {
			t.Fatal(err)
		}
		want = want[:k+1]
		if d := diffEntries(readAll(t, l), want); d != "" {
			t.Fatalf("after TruncateAfter(%d): %s", k, d)
		}
	}
	if err := l.TruncateAfter(0); err != nil { // the base of a new log
		t.Fatal(err)
	}
	if l.LastZxid() != 0 || l.FirstZxid() != 0 || len(readAll(t, l)) != 0 {
		t.Fatalf("after TruncateAfter(0): last %#x first %#x", l.LastZxid(), l.FirstZxid())
	}
	more := genEntries(rng, 0, 20)
	if err := l.Append(cloneEntries(more)); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateAfter(more[12].Zxid); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = mustOpen(t, testOpts(fs))
	defer l.Close()
	if d := diffEntries(readAll(t, l), more[:13]); d != "" {
		t.Fatal(d)
	}
}

func TestResetAndPurge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	if err := l.Append(genEntries(rng, 0, 30)); err != nil {
		t.Fatal(err)
	}
	base := int64(7)<<32 | 100
	if err := l.Reset(base); err != nil {
		t.Fatal(err)
	}
	check := func(l *Log, first, last int64) {
		t.Helper()
		if l.Base() != base || l.FirstZxid() != first || l.LastZxid() != last || !l.Contains(base) {
			t.Fatalf("base %#x first %#x last %#x", l.Base(), l.FirstZxid(), l.LastZxid())
		}
		if _, err := collect(l, base-1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ReadFrom below the base: %v", err)
		}
	}
	check(l, 0, base)
	if err := l.Append([]Entry{{Zxid: base}}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("append at the base: %v", err)
	}
	l.Close()
	l = mustOpen(t, testOpts(fs))
	check(l, 0, base)
	if n := len(segFiles(t, fs, testDir)); n != 1 {
		t.Fatalf("%d segments after Reset", n)
	}
	ents := genEntries(rng, base, 80)
	if err := l.Append(cloneEntries(ents)); err != nil {
		t.Fatal(err)
	}
	check(l, ents[0].Zxid, ents[79].Zxid)
	// The reset segment holds no entry after the reopen: it may go, the
	// base stays.
	if _, err := l.Purge(base); err != nil || l.Base() != base {
		t.Fatalf("Purge(base): base %#x, %v", l.Base(), err)
	}
	segs := l.Stats().Segments
	n, err := l.Purge(ents[40].Zxid)
	if err != nil || n == 0 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	nb := l.Base()
	if nb <= base || nb > ents[40].Zxid || l.Stats().Segments != segs-n || !l.Contains(nb) {
		t.Fatalf("after purge: base %#x, %d segments", nb, l.Stats().Segments)
	}
	i := slices.IndexFunc(ents, func(e Entry) bool { return e.Zxid == nb })
	if d := diffEntries(readAll(t, l), ents[i+1:]); d != "" {
		t.Fatal(d)
	}
	if l.FirstZxid() != ents[i+1].Zxid {
		t.Fatalf("first %#x", l.FirstZxid())
	}
	if _, err := collect(l, nb-1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadFrom below the purge point: %v", err)
	}
	// Never the segment holding the last entry.
	if _, err := l.Purge(ents[79].Zxid); err != nil {
		t.Fatal(err)
	}
	if l.LastZxid() != ents[79].Zxid || l.FirstZxid() == 0 {
		t.Fatalf("purge removed the last entry")
	}
	nb = l.Base()
	l.Close()
	l = mustOpen(t, testOpts(fs))
	defer l.Close()
	if l.Base() != nb || l.LastZxid() != ents[79].Zxid {
		t.Fatalf("reopened: base %#x last %#x", l.Base(), l.LastZxid())
	}
	if err := l.TruncateAfter(nb); err != nil {
		t.Fatal(err)
	}
	if l.Base() != nb || l.LastZxid() != nb || l.FirstZxid() != 0 {
		t.Fatalf("truncated to the base: base %#x last %#x", l.Base(), l.LastZxid())
	}
}

func TestState(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	if (l.State() != State{}) {
		t.Fatal("new log has a state")
	}
	s := State{AcceptedEpoch: 9, CurrentEpoch: 8}
	if err := l.SetState(s); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = mustOpen(t, testOpts(fs))
	defer l.Close()
	if l.State() != s {
		t.Fatalf("state %+v", l.State())
	}
}

func TestOptionsAndLifecycle(t *testing.T) {
	fs := vfs.NewMem()
	for _, o := range []Options{
		{Dir: "/x"},
		{FS: fs},
		{FS: fs, Dir: "/x", SnapRetainCount: 2},
		{FS: fs, Dir: "/x", SegmentSize: -1},
	} {
		if _, err := Open(o); err == nil {
			t.Fatalf("Open(%+v) succeeded", o)
		}
	}
	l := mustOpen(t, Options{FS: fs, Dir: "/a/b/c"})
	if _, err := Open(Options{FS: fs, Dir: "/a/b/c"}); err == nil {
		t.Fatal("second Open of a locked directory succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"Append":   l.Append([]Entry{{Zxid: 1}}),
		"Truncate": l.TruncateAfter(0),
		"Reset":    l.Reset(1),
		"SetState": l.SetState(State{}),
		"ReadFrom": l.ReadFrom(0, func(Entry) error { return nil }),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("%s after Close: %v", name, err)
		}
	}
	if _, err := l.CreateSnapshot(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateSnapshot after Close: %v", err)
	}
	if _, err := l.Purge(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Purge after Close: %v", err)
	}
	l = mustOpen(t, Options{FS: fs, Dir: "/a/b/c"}) // the lock was released
	l.Close()
}
