package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// seedSegments returns the files of a small real log, one append per size.
func seedSegments(t testing.TB, segSize int64, sizes ...int) [][]byte {
	fs := vfs.NewMem()
	o := Options{FS: fs, Dir: "/l", SegmentSize: segSize}
	l := mustOpen(t, o)
	for i, size := range sizes {
		if err := l.Append([]Entry{{Zxid: int64(i+1) << 3, Data: bytes.Repeat([]byte{byte(i + 1)}, size)}}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	var out [][]byte
	for _, p := range segFiles(t, fs, o.Dir) {
		out = append(out, fileBytes(t, fs, p))
	}
	return out
}

// checkScan checks the invariants of scanning hostile bytes b.
func checkScan(t *testing.T, b []byte, last bool) (*segment, scanResult, error) {
	seg := &segment{}
	if len(b) >= 24 {
		seg.seq = binary.LittleEndian.Uint64(b[16:])
	}
	res, err := scanSegment(bytes.NewReader(b), int64(len(b)), seg, last)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not wrapping ErrCorrupt: %v", err)
		}
		return seg, res, err
	}
	if res.tornHeader {
		return seg, res, nil
	}
	prev, end := seg.base, int64(segHeaderSize)
	for i, z := range seg.zxids {
		if z <= prev || seg.ends[i] <= end || seg.ends[i] > int64(len(b)) {
			t.Fatalf("record %d: zxid %#x after %#x, end %d after %d", i, z, prev, seg.ends[i], end)
		}
		prev, end = z, seg.ends[i]
	}
	if res.validEnd != end || (!res.torn && !allZero(b[end:])) {
		t.Fatalf("valid end %d, last record end %d, torn %v", res.validEnd, end, res.torn)
	}
	// Reading the records back with their data agrees with the index, and
	// allocates no more than the input holds.
	r := newRecordReader(bytes.NewReader(b), end, seg.seq, segHeaderSize, true)
	total := 0
	for i := range seg.zxids {
		rec, err := r.next()
		if err != nil || rec.zxid != seg.zxids[i] || rec.end != seg.ends[i] {
			t.Fatalf("re-read record %d: %v", i, err)
		}
		total += len(rec.data)
	}
	if total > len(b) {
		t.Fatalf("%d bytes of records from %d bytes", total, len(b))
	}
	return seg, res, nil
}

func FuzzRecordReader(f *testing.F) {
	for _, b := range seedSegments(f, 6000, 0, 10, 5000, 100, 9000, 3, 4070, 1) {
		f.Add(b, true)
		f.Add(b, false)
		f.Add(b[:len(b)-5], true)
	}
	f.Add([]byte{}, true)
	f.Add(make([]byte, 5000), true)
	f.Fuzz(func(t *testing.T, b []byte, last bool) {
		seg, res, err := checkScan(t, b, last)
		if err == nil && !last {
			// What the strict scan accepts, the lenient one accepts alike.
			seg2, res2, err2 := checkScan(t, b, true)
			if err2 != nil || res2 != res || !slices.Equal(seg.zxids, seg2.zxids) {
				t.Fatalf("lenient scan differs: %v", err2)
			}
		}
	})
}

// FuzzAppendRoundTrip frames entries derived from the input: they scan back
// identical; a cut anywhere yields exactly the records complete before it;
// any single bit flip is corruption.
func FuzzAppendRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 0, 17}, uint64(1), uint32(0), uint16(1))
	f.Add(bytes.Repeat([]byte{255}, 40), uint64(9), uint32(100), uint16(500))
	f.Fuzz(func(t *testing.T, spec []byte, seq uint64, cut uint32, flip uint16) {
		if len(spec) > 64 {
			spec = spec[:64]
		}
		buf := segHeader{seq: seq, base: 7}.appendTo(nil)
		var ents []Entry
		var ends []int64
		for i, s := range spec {
			size := int(s) * int(s) / 4 // up to ~16 KiB
			d := bytes.Repeat([]byte{s | 1}, size)
			z := int64(8 + i*3)
			wm := int64(0)
			if i > 2 {
				wm = ends[i/2]
			}
			buf = appendRecord(buf, 0, seqCRC(seq), z, wm, d)
			ents = append(ents, Entry{Zxid: z, Data: d})
			ends = append(ends, int64(len(buf)))
		}
		seg, res, err := checkScan(t, buf, false)
		if err != nil || res.torn || !slices.Equal(seg.ends, ends) {
			t.Fatalf("round trip: %v, torn %v", err, res.torn)
		}
		// A cut: exactly the complete records.
		c := int(cut) % (len(buf) + 1)
		seg, res, err = checkScan(t, buf[:c], true)
		if err != nil {
			t.Fatalf("cut at %d: %v", c, err)
		}
		n, _ := slices.BinarySearch(ends, int64(c)+1)
		if c >= segHeaderSize && len(seg.zxids) != n || c < segHeaderSize && !res.tornHeader {
			t.Fatalf("cut at %d: %d records, want %d", c, len(seg.zxids), n)
		}
		// A flipped bit: always corruption, in the last segment too.
		fb := slices.Clone(buf)
		pos := int(flip) * 8 % (len(fb) * 8)
		fb[pos/8] ^= 1 << (pos % 8)
		for _, last := range []bool{false, true} {
			if _, _, err := checkScan(t, fb, last); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("bit %d flipped (last %v): %v", pos, last, err)
			}
		}
	})
}

func FuzzSegmentHeader(f *testing.F) {
	f.Add(segHeader{seq: 3, base: 1 << 40, reset: true}.appendTo(nil))
	f.Add(make([]byte, segHeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseSegHeader(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatal(err)
			}
			return
		}
		if got := h.appendTo(nil); !bytes.Equal(got, b[:segHeaderSize]) {
			t.Fatalf("header %+v does not round-trip", h)
		}
	})
}

func FuzzSnapshot(f *testing.F) {
	content := []byte("some snapshot content")
	good := appendSnapTrailer(append(snapHeader(42), content...), int64(len(content)), crc32.Checksum(content, crcTable))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(appendSnapTrailer(snapHeader(1), 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		var zxid int64
		if len(b) >= 24 {
			zxid = int64(binary.LittleEndian.Uint64(b[16:]))
		}
		r, err := parseSnapshot(bytes.NewReader(b), int64(len(b)), zxid)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatal(err)
			}
			return
		}
		got, err := io.ReadAll(r)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatal(err)
			}
			return
		}
		body := b[snapHeaderSize : len(b)-snapTrailerSize]
		if !bytes.Equal(got, body) || crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[len(b)-16:]) {
			t.Fatal("accepted content that does not match its trailer")
		}
	})
}

func FuzzStateFile(f *testing.F) {
	f.Add(State{AcceptedEpoch: 3, CurrentEpoch: 2}.marshal())
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatal(err)
			}
			return
		}
		if !bytes.Equal(s.marshal(), b) {
			t.Fatalf("state %+v does not round-trip", s)
		}
	})
}

// FuzzOpen opens a log whose last segment holds hostile bytes (after an
// intact first one): Open fails with ErrCorrupt or recovers a log whose
// every entry reads back, and which accepts an append and reopens.
func FuzzOpen(f *testing.F) {
	segs := seedSegments(f, 300, 0, 10, 300, 100, 3, 1, 5000, 2)
	for _, b := range segs[1:] {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := vfs.NewMem()
		o := Options{FS: fs, Dir: "/l", SegmentSize: 300}
		if err := fs.MkdirAll(o.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, content := range [][]byte{segs[0], b} {
			// The hostile bytes are the second segment of the log.
			w, _ := fs.Create(fs.PathJoin(o.Dir, segmentName(uint64(i+1))), vfs.WriteCategoryUnspecified)
			w.Write(slices.Clone(content))
			w.Close()
		}
		l, err := Open(o)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		ents, err := collect(l, l.Base())
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Append([]Entry{{Zxid: l.LastZxid() + 1, Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, err = Open(o)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		again, err := collect(l, l.Base())
		if err != nil || len(again) != len(ents)+1 || diffEntries(again[:len(ents)], ents) != "" {
			t.Fatalf("reopen: %d entries, had %d: %v", len(again), len(ents), err)
		}
		l.Close()
	})
}

// FuzzChunkSequence builds segments from chunks that all carry valid
// checksums but come in any order, length, placement, with padding, holes
// and raw bytes in between: the reader's state machine must hold its
// invariants on all of them.
func FuzzChunkSequence(f *testing.F) {
	f.Add([]byte{0, 5, 6, 200, 1, 255, 2, 9, 3, 4, 4, 0, 5, 30, 7, 3})
	f.Add([]byte{6, 100, 6, 255, 6, 30, 1, 40, 3, 8})
	f.Fuzz(func(t *testing.T, prog []byte) {
		const seq = 5
		buf := segHeader{seq: seq, base: 1}.appendTo(nil)
		seed := seqCRC(seq)
		z := int64(1)
		chunk := func(typ byte, n int) {
			left := blockSize - len(buf)%blockSize
			n = max(1, min(n, left-chunkHeaderSize))
			if left < chunkHeaderSize+1 {
				return
			}
			h := len(buf)
			buf = append(buf, 0, 0, 0, 0, byte(n), byte(n>>8), typ, 0)
			buf[h+7] = crc8(buf[h+4 : h+7])
			p := len(buf)
			var rh [recordHeaderSize]byte
			z++
			binary.LittleEndian.PutUint64(rh[:], uint64(z))
			for i := range n {
				if i < recordHeaderSize {
					buf = append(buf, rh[i])
				} else {
					buf = append(buf, byte(i))
				}
			}
			binary.LittleEndian.PutUint32(buf[h:], chunkCRC(seed, buf[h+4:h+7], buf[p:]))
		}
		for i := 0; i+1 < len(prog) && len(buf) < 64<<10; i += 2 {
			arg := int(prog[i+1])
			switch prog[i] % 8 {
			case 0:
				chunk(chunkFull, recordHeaderSize+arg)
			case 1:
				chunk(chunkFirst, recordHeaderSize+arg*16)
			case 2:
				chunk(chunkMiddle, arg*16)
			case 3:
				chunk(chunkLast, arg)
			case 4:
				buf = append(buf, make([]byte, blockSize-len(buf)%blockSize)...)
			case 5:
				buf = append(buf, make([]byte, arg*8)...)
			case 6:
				z++
				buf = appendRecord(buf, 0, seed, z, int64(len(buf)*arg/256), bytes.Repeat([]byte{1}, arg*arg/8))
			case 7:
				buf = append(buf, prog[i+1:min(len(prog), i+2+arg%16)]...)
			}
		}
		for _, last := range []bool{false, true} {
			checkScan(t, buf, last)
		}
	})
}
