package wal

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/embedzk/zk/internal/dirsync"
)

// layout is a closed log of two segments built for byte-level damage: the
// first holds one group commit, the last several, so that its records carry
// different durable watermarks.
type layout struct {
	fs    *vfs.MemFS
	o     Options
	ents  []Entry    // every entry, in order
	segs  []*segment // the index after a reopen
	paths []string
	bytes [][]byte // each segment file
	first int      // number of entries in the first segment
	// groupStart is, in the last segment, the offset where each group
	// commit began.
	groupStart []int64
}

func buildLayout(t testing.TB) *layout {
	// A short PreAllocSize: each segment ends with a little zero-filled space,
	// which the byte-level loops below also go through.
	return buildLayoutWith(t, 2*blockSize)
}

func buildLayoutWith(t testing.TB, prealloc int64) *layout {
	t.Helper()
	fs := vfs.NewMem()
	o := Options{FS: fs, Dir: "/log", SegmentSize: 1 << 20, PreAllocSize: prealloc}
	rng := rand.New(rand.NewPCG(42, 42))
	mk := func(z int64, size int) Entry {
		d := make([]byte, size)
		for i := range d {
			d[i] = byte(rng.Uint32() | 1) // no zero runs: damage must not hide in them
		}
		return Entry{Zxid: z, Data: d}
	}
	lay := &layout{fs: fs, o: o}
	z := int64(1) << 32
	appendGroup := func(l *Log, sizes ...int) {
		var g []Entry
		for _, s := range sizes {
			z++
			g = append(g, mk(z, s))
		}
		lay.ents = append(lay.ents, cloneEntries(g)...)
		if err := l.Append(g); err != nil {
			t.Fatal(err)
		}
	}
	l := mustOpen(t, o)
	appendGroup(l, 3000, 6000, 100, 5)
	lay.first = len(lay.ents)
	l.Close()
	l = mustOpen(t, o) // the next appends go to a new segment
	for _, g := range [][]int{{0, 5, 100}, {4000, 30, 9000}, {1, 2000, 16}, {50, 4070, 3}} {
		lay.groupStart = append(lay.groupStart, l.active.sizeOrZero())
		appendGroup(l, g...)
	}
	l.Close()
	l = mustOpen(t, o)
	lay.segs = slices.Clone(l.segs)
	l.Close()
	for _, s := range lay.segs {
		lay.paths = append(lay.paths, s.path)
		lay.bytes = append(lay.bytes, fileBytes(t, fs, s.path))
	}
	if len(lay.segs) != 2 {
		t.Fatalf("%d segments", len(lay.segs))
	}
	return lay
}

func (a *activeSeg) sizeOrZero() int64 {
	if a == nil {
		return 0
	}
	return a.size
}

// image returns a copy of the log with segment i replaced by b (nil: removed).
func (lay *layout) image(t testing.TB, i int, b []byte) Options {
	fs := copyFS(t, lay.fs, []string{lay.o.Dir}, func(p string, old []byte) []byte {
		if p == lay.paths[i] {
			return b
		}
		return old
	})
	o := lay.o
	o.FS = fs
	return o
}

// chunkStart is where the first chunk of a record that follows off lies.
func chunkStart(off int64) int64 {
	if left := blockSize - off%blockSize; left < firstChunkMin {
		return off + left
	}
	return off
}

// openResult opens an image and returns its entries.
func openResult(o Options) ([]Entry, error) {
	l, err := Open(o)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return collect(l, l.Base())
}

// TestCutLastSegment cuts the last segment at every byte of its header and
// of its last records (and at a sample elsewhere): the log is exactly the
// records complete before the cut, and it goes on from there.
func TestCutLastSegment(t *testing.T) {
	lay := buildLayout(t)
	last := lay.segs[1]
	b := lay.bytes[1]
	from := last.recordStart(len(last.ends) - 4)
	for c := int64(0); c <= int64(len(b)); c++ {
		if c > segHeaderSize+8 && c < from && c%61 != 0 {
			continue
		}
		want := lay.ents[:lay.first]
		if c >= segHeaderSize {
			n, _ := slices.BinarySearch(last.ends, c+1)
			want = lay.ents[:lay.first+n]
		}
		o := lay.image(t, 1, b[:c])
		got, err := openResult(o)
		if err != nil {
			t.Fatalf("cut at %d: %v", c, err)
		}
		if d := diffEntries(got, want); d != "" {
			t.Fatalf("cut at %d: %s", c, d)
		}
		if c%7 == 0 || c == int64(len(b)) {
			checkGoesOn(t, o, want)
		}
	}
}

// checkGoesOn appends to a recovered log and reopens it.
func checkGoesOn(t testing.TB, o Options, want []Entry) {
	t.Helper()
	l := mustOpen(t, o)
	more := Entry{Zxid: l.LastZxid() + 1, Data: []byte("more")}
	if err := l.Append([]Entry{{Zxid: more.Zxid, Data: slices.Clone(more.Data)}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, err := openResult(o)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffEntries(got, append(slices.Clone(want), more)); d != "" {
		t.Fatalf("after recovery and an append: %s", d)
	}
}

// TestBitFlips flips bits inside synced records of every segment, the last
// record of the last segment included, and in segment headers and padding:
// Open must fail with ErrCorrupt.
func TestBitFlips(t *testing.T) {
	lay := buildLayout(t)
	rng := rand.New(rand.NewPCG(1, 1))
	flips := 0
	try := func(seg int, off int64, what string) {
		b := slices.Clone(lay.bytes[seg])
		b[off] ^= 1 << rng.IntN(8)
		if _, err := openResult(lay.image(t, seg, b)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("segment %d: bit flip at %d (%s): got %v, want ErrCorrupt", seg, off, what, err)
		}
		flips++
	}
	for si, s := range lay.segs {
		for off := range int64(segHeaderSize) {
			try(si, off, "header")
		}
		for i := range s.ends {
			start, end := chunkStart(s.recordStart(i)), s.ends[i]
			for off := s.recordStart(i); off < start; off++ {
				try(si, off, "padding")
			}
			rec := fmt.Sprintf("record %d", i)
			if end-start <= 64 {
				for off := start; off < end; off++ {
					try(si, off, rec)
				}
				continue
			}
			for off := start; off < start+chunkHeaderSize+recordHeaderSize; off++ {
				try(si, off, rec+" header")
			}
			for range 40 {
				try(si, start+rng.Int64N(end-start), rec)
			}
			try(si, end-1, rec+" last byte")
		}
	}
	t.Logf("%d bit flips, all reported as corruption", flips)
}

// TestLengthPastEOF: a damaged chunk length that points past the end of the
// file is damage, not a cut (the header check byte tells them apart).
func TestLengthPastEOF(t *testing.T) {
	lay := buildLayout(t)
	last := lay.segs[1]
	b := slices.Clone(lay.bytes[1][:last.end()])          // without the zero-filled space
	h := chunkStart(last.recordStart(len(last.ends) - 1)) // the last record is one chunk
	if n := int64(b[h+4]) | int64(b[h+5])<<8; h+chunkHeaderSize+n != int64(len(b)) {
		t.Fatalf("the last record is not one chunk ending the file")
	}
	b[h+5] ^= 0x02 // length += 512: past the end of the file, inside the block
	if _, err := openResult(lay.image(t, 1, b)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}

// TestZeroedBlocks zero-fills blocks. In a segment that is not the last, or
// in the last one before a later group commit (whose watermark proves the
// block had been synced), it is corruption. In the last group commit it is
// what a crash leaves: a torn write, and the log ends before it.
func TestZeroedBlocks(t *testing.T) {
	lay := buildLayout(t)
	zero := func(seg int, from, to int64) ([]Entry, error) {
		b := slices.Clone(lay.bytes[seg])
		clear(b[from:min(to, int64(len(b)))])
		return openResult(lay.image(t, seg, b))
	}
	for blk := int64(0); blk < lay.segs[0].end(); blk += blockSize {
		if _, err := zero(0, blk, blk+blockSize); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("first segment, zeroed block at %d: got %v, want ErrCorrupt", blk, err)
		}
	}
	last := lay.segs[1]
	lastGroup := lay.groupStart[len(lay.groupStart)-1]
	size := int64(len(lay.bytes[1]))
	tested := [2]int{}
	for blk := int64(0); blk < size; blk += blockSize {
		got, err := zero(1, blk, blk+blockSize)
		if blk+blockSize <= lastGroup || blk < lastGroup && blk == 0 {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("last segment, zeroed block at %d (synced up to %d): got %v, want ErrCorrupt", blk, lastGroup, err)
			}
			tested[0]++
			continue
		}
		if blk < lastGroup {
			continue // straddles the last group: either outcome is legitimate
		}
		n, _ := slices.BinarySearch(last.ends, blk+1)
		if err != nil {
			t.Fatalf("last segment, zeroed block at %d in the last group commit: %v", blk, err)
		}
		if d := diffEntries(got, lay.ents[:lay.first+n]); d != "" {
			t.Fatalf("last segment, zeroed block at %d: %s", blk, d)
		}
		tested[1]++
	}
	// The tail of the last group commit, zeroed from any record on.
	for i := last.after(0); i < len(last.ends); i++ {
		start := chunkStart(last.recordStart(i))
		if start < lastGroup {
			continue
		}
		got, err := zero(1, start, (start/blockSize+1)*blockSize)
		if err != nil {
			t.Fatalf("zeroed from record %d: %v", i, err)
		}
		if d := diffEntries(got, lay.ents[:lay.first+i]); d != "" {
			t.Fatalf("zeroed from record %d: %s", i, d)
		}
		tested[1]++
	}
	if tested[0] == 0 || tested[1] == 0 {
		t.Fatalf("cases: %v", tested)
	}
}

// TestCrashDuringRecovery crashes before every file-system operation of a
// recovery that has work to do (cut a torn tail, drop a segment whose
// header never became durable, finish a reset): every crash image recovers
// to the same log.
func TestCrashDuringRecovery(t *testing.T) {
	lay := buildLayout(t)
	last := lay.segs[1]
	cases := map[string]func() (Options, []Entry){
		"torn tail": func() (Options, []Entry) {
			c := last.ends[len(last.ends)-2] + 11 // inside the last record
			return lay.image(t, 1, lay.bytes[1][:c]), lay.ents[:len(lay.ents)-1]
		},
		"torn header": func() (Options, []Entry) {
			return lay.image(t, 1, lay.bytes[1][:segHeaderSize-3]), lay.ents[:lay.first]
		},
		"unfinished reset": func() (Options, []Entry) {
			// A reset segment was made durable; the old ones are still there.
			o := lay.image(t, 1, lay.bytes[1])
			h := segHeader{seq: last.seq + 1, base: 99 << 32, reset: true}
			f, _ := o.FS.Create(o.FS.PathJoin(o.Dir, segmentName(h.seq)), vfs.WriteCategoryUnspecified)
			f.Write(h.appendTo(nil))
			f.Close()
			return o, nil
		},
	}
	for name, mk := range cases {
		o, want := mk()
		mem := o.FS.(*vfs.MemFS)
		crashable := vfs.NewCrashableMem()
		copyInto(t, mem, crashable, o.Dir)
		c := &crasher{mem: crashable, seed: 1, rng: rand.New(rand.NewPCG(1, 1)), p: 1}
		o.FS = errorfs.Wrap(crashable, c)
		l, err := Open(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		base := l.Base()
		got, err := collect(l, base)
		l.Close()
		if err != nil || diffEntries(got, want) != "" {
			t.Fatalf("%s: %v %s", name, err, diffEntries(got, want))
		}
		if n := len(segFiles(t, crashable, o.Dir)); name == "unfinished reset" && (n != 1 || base != 99<<32) {
			t.Fatalf("%s: %d segments, base %#x", name, n, base)
		}
		pts := c.take("")
		if len(pts) < 3 {
			t.Fatalf("%s: only %d crash points", name, len(pts))
		}
		for _, pt := range pts {
			o.FS = pt.fs
			l, err := Open(o)
			if err == nil && l.Base() != base {
				err = fmt.Errorf("base %#x, want %#x", l.Base(), base)
			}
			if err == nil {
				got, err = collect(l, base)
				l.Close()
			}
			if err != nil || diffEntries(got, want) != "" {
				t.Fatalf("%s: crash before fs op %d (%v %s, %d%%): %v %s", name, pt.n, pt.fsop.Kind, pt.fsop.Path, pt.percent, err, diffEntries(got, want))
			}
		}
	}
}

// copyInto copies the files of dir from src into dst and syncs them, so
// that dst starts from a durable state.
func copyInto(t testing.TB, src, dst vfs.FS, dir string) {
	t.Helper()
	if err := ensureDir(dst, dir); err != nil {
		t.Fatal(err)
	}
	names, _ := src.List(dir)
	for _, n := range names {
		p := src.PathJoin(dir, n)
		f, err := dst.Create(p, vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(fileBytes(t, src, p))
		f.Sync()
		f.Close()
	}
	if err := dirsync.Sync(dst, dir); err != nil {
		t.Fatal(err)
	}
}
