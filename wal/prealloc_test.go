package wal

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestPreallocatedSpace: a segment grows by PreAllocSize bytes of zeros
// when its records pass the zero-filled end, so most group commits
// overwrite zeros instead of growing the file; every segment, the last one
// included, ends with that space; and a reopen takes it as the segment's
// end, with nothing to cut.
func TestPreallocatedSpace(t *testing.T) {
	fs := vfs.NewMem()
	const step = 16 << 10
	o := Options{FS: fs, Dir: "/log", SegmentSize: 64 << 10, PreAllocSize: step}
	l := mustOpen(t, o)
	var want []Entry
	z := int64(5) << 32
	grew, groups := 0, 0
	var lastSize int64
	for range 200 {
		z++
		e := Entry{Zxid: z, Data: []byte(strings.Repeat("x", 700))}
		want = append(want, Entry{Zxid: z, Data: slices.Clone(e.Data)})
		if err := l.Append([]Entry{e}); err != nil {
			t.Fatal(err)
		}
		a := l.active
		size := fileSize(t, fs, a.seg.path)
		// Zeros follow the records, but not past SegmentSize.
		ok := size > a.size && size <= o.SegmentSize
		if a.size >= o.SegmentSize {
			ok = size == a.size
		}
		if !ok {
			t.Fatalf("after zxid %#x: file size %d, records end at %d", z, size, a.size)
		}
		if size != lastSize {
			grew++
		}
		lastSize = size
		groups++
	}
	st := l.Stats()
	if st.ZeroFilled < step || st.Segments < 2 {
		t.Fatalf("stats %+v", st)
	}
	// 200 records of ~720 bytes in 64 KiB segments grown 16 KiB at a time.
	if grew > groups/10 {
		t.Fatalf("the file grew at %d of %d group commits", grew, groups)
	}
	l.Close()

	events := &countHandler{}
	o.Logger = slog.New(events)
	l = mustOpen(t, o)
	got, err := collect(l, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffEntries(got, want); d != "" {
		t.Fatal(d)
	}
	for _, s := range l.segs {
		size := fileSize(t, fs, s.path)
		if !s.prealloc || size < s.end() || s.end() < o.SegmentSize && size == s.end() {
			t.Fatalf("segment %s: prealloc %v, size %d, records end at %d", s.path, s.prealloc, fileSize(t, fs, s.path), s.end())
		}
	}
	for _, m := range events.msgs {
		if strings.Contains(m, "torn") {
			t.Fatalf("a clean reopen logged %q", m)
		}
	}
	l.Close()
	checkGoesOn(t, o, want)
}

// TestPreallocatedSpaceDamage: the zero-filled space of a segment that is
// not the last must hold only zeros, the records before it must all be
// there (the next segment's base says which is the last), and a segment
// written without preallocation may not end with zeros at all.
func TestPreallocatedSpaceDamage(t *testing.T) {
	lay := buildLayout(t)
	first := lay.segs[0]
	b := lay.bytes[0]
	if int64(len(b)) <= first.end() {
		t.Fatalf("the first segment has no zero-filled space (%d bytes, records end at %d)", len(b), first.end())
	}
	cases := map[string]func([]byte) []byte{
		"a byte after the records": func(b []byte) []byte { b[first.end()] = 1; return b },
		"the file's last byte":     func(b []byte) []byte { b[len(b)-1] = 1; return b },
		"the last record zeroed": func(b []byte) []byte {
			clear(b[chunkStart(first.recordStart(len(first.ends)-1)):])
			return b
		},
		"the last two records zeroed": func(b []byte) []byte {
			clear(b[chunkStart(first.recordStart(len(first.ends)-2)):])
			return b
		},
	}
	for name, damage := range cases {
		if _, err := openResult(lay.image(t, 0, damage(slices.Clone(b)))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := openResult(lay.image(t, 0, slices.Clone(b))); err != nil {
		t.Fatalf("undamaged: %v", err)
	}

	plain := buildLayoutWith(t, -1)
	pb := plain.bytes[0]
	if plain.segs[0].prealloc || int64(len(pb)) != plain.segs[0].end() {
		t.Fatalf("without preallocation: flag %v, %d bytes, records end at %d", plain.segs[0].prealloc, len(pb), plain.segs[0].end())
	}
	padded := append(slices.Clone(pb), make([]byte, 2*blockSize)...)
	if _, err := openResult(plain.image(t, 0, padded)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("zeros after a segment written without preallocation: got %v, want ErrCorrupt", err)
	}
}

func fileSize(t testing.TB, fs vfs.FS, path string) int64 {
	t.Helper()
	st, err := fs.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestTornWriteIntoZeros: a write torn at any byte of the last group
// commit, in a preallocated segment, leaves what landed followed by the
// zeros that were there (not the end of the file): the log is the records
// complete before the tear, and it goes on from there. Damage to the last
// record that a tear cannot leave is still ErrCorrupt.
func TestTornWriteIntoZeros(t *testing.T) {
	lay := buildLayout(t)
	last := lay.segs[1]
	b := lay.bytes[1]
	lastGroup := lay.groupStart[len(lay.groupStart)-1]
	from := last.recordStart(len(last.ends) - 2)
	tested := 0
	for c := lastGroup; c < last.end(); c++ {
		if c < from && c%61 != 0 {
			continue
		}
		img := slices.Clone(b)
		clear(img[c:])
		n, _ := slices.BinarySearch(last.ends, c+1)
		want := lay.ents[:lay.first+n]
		o := lay.image(t, 1, img)
		got, err := openResult(o)
		if err != nil {
			t.Fatalf("torn at %d: %v", c, err)
		}
		if d := diffEntries(got, want); d != "" {
			t.Fatalf("torn at %d: %s", c, d)
		}
		if c%13 == 0 {
			checkGoesOn(t, o, want)
		}
		tested++
	}
	// The last record is one chunk of 3 bytes, none of them zero: damage
	// inside it is not a tear, whatever follows.
	h := chunkStart(last.recordStart(len(last.ends) - 1))
	for off := h; off < last.end(); off++ {
		img := slices.Clone(b)
		img[off] ^= 0x10
		if _, err := openResult(lay.image(t, 1, img)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("a bit flipped at %d: got %v, want ErrCorrupt", off, err)
		}
	}
	t.Logf("%d tears", tested)
}

// TestLogWithoutPreallocationGoesOn: a log written before preallocation
// (segments without the flag, ending at their last record) opens as it is
// under the default options, and the segments added after it are
// preallocated.
func TestLogWithoutPreallocationGoesOn(t *testing.T) {
	plain := buildLayoutWith(t, -1)
	o := plain.o
	o.PreAllocSize = 0 // the default
	checkGoesOn(t, o, plain.ents)
	l := mustOpen(t, o)
	defer l.Close()
	var flags []bool
	for _, s := range l.segs {
		flags = append(flags, s.prealloc)
	}
	if !slices.Equal(flags, []bool{false, false, true}) {
		t.Fatalf("segments flagged as preallocated: %v, want [false false true]", flags)
	}
}
