package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// readAhead is how much the record reader fetches per ReadAt.
const readAhead = 64 << 10

// record is one decoded record and where it lies in its segment.
type record struct {
	zxid  int64
	wm    int64 // durable watermark written with it
	start int64 // offset of its first chunk
	end   int64 // offset just after its last chunk
	data  []byte
}

// tornError reports a record that stops short: the file ends inside it, or
// a zero-filled block begins at hole (hole < 0 when the file just ends).
// Whether that is a torn write or damage depends on where it is.
type tornError struct {
	at   int64 // offset of the incomplete record (or of the hole)
	hole int64
}

func (e *tornError) Error() string {
	if e.hole >= 0 {
		return fmt.Sprintf("wal: zero-filled block at offset %d, record at %d incomplete", e.hole, e.at)
	}
	return fmt.Sprintf("wal: file ends inside the record at offset %d", e.at)
}

// recordReader decodes records from a segment's bytes in [pos, size). It
// trusts nothing it reads: every length is checked against the block and the
// file before use, and record data grows only as chunks arrive, so memory is
// bounded by the input size (and by MaxEntrySize).
type recordReader struct {
	src    io.ReaderAt
	size   int64
	seed   uint32
	pos    int64
	keep   bool // copy record data out
	win    []byte
	winOff int64
	buf    []byte
	plen   int64 // payload bytes of the record being assembled
}

func newRecordReader(src io.ReaderAt, size int64, seq uint64, pos int64, keep bool) *recordReader {
	return &recordReader{src: src, size: size, seed: seqCRC(seq), pos: pos, keep: keep}
}

// bytes returns the n bytes at off (off+n <= size). The slice is valid until
// the next call.
func (r *recordReader) bytes(off int64, n int) ([]byte, error) {
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)], nil
	}
	want := int64(max(n, readAhead))
	want = min(want, r.size-off)
	if int64(cap(r.buf)) < want {
		r.buf = make([]byte, want)
	}
	b := r.buf[:want]
	r.win = nil
	if err := readAtFull(r.src, b, off); err != nil {
		return nil, err
	}
	r.win, r.winOff = b, off
	return b[:n], nil
}

// next returns the next record. At a clean end it returns io.EOF; at an
// incomplete record a *tornError; for anything that written data can never
// look like, an error wrapping ErrCorrupt.
func (r *recordReader) next() (record, error) {
	var rec record
	partial := false
	for {
		if r.pos == r.size {
			if partial {
				return rec, &tornError{at: rec.start, hole: -1}
			}
			return rec, io.EOF
		}
		left := blockSize - r.pos%blockSize
		if !partial && left < firstChunkMin {
			n := min(left, r.size-r.pos)
			b, err := r.bytes(r.pos, int(n))
			if err != nil {
				return rec, err
			}
			if !allZero(b) {
				return rec, corruptf("offset %d: non-zero block padding", r.pos)
			}
			r.pos += n
			continue
		}
		done, err := r.chunk(&rec, &partial, left)
		if err != nil || done {
			return rec, err
		}
	}
}

// chunkHeader validates the chunk header at r.pos and returns its payload
// length and type. at is where the record being read starts.
func (r *recordReader) chunkHeader(at, left int64) (int64, byte, error) {
	if r.size-r.pos < chunkHeaderSize {
		return 0, 0, &tornError{at: at, hole: -1}
	}
	h, err := r.bytes(r.pos, chunkHeaderSize)
	if err != nil {
		return 0, 0, err
	}
	if allZero(h) {
		rest, err := r.bytes(r.pos, int(min(left, r.size-r.pos)))
		if err != nil {
			return 0, 0, err
		}
		if !allZero(rest) {
			return 0, 0, corruptf("offset %d: zero chunk header before non-zero bytes", r.pos)
		}
		return 0, 0, &tornError{at: at, hole: r.pos}
	}
	ln := int64(binary.LittleEndian.Uint16(h[4:]))
	typ := h[6]
	if crc8(h[4:7]) != h[7] {
		return 0, 0, corruptf("offset %d: chunk header check mismatch", r.pos)
	}
	if typ < chunkFull || typ > chunkLast || ln == 0 || ln > left-chunkHeaderSize {
		return 0, 0, corruptf("offset %d: invalid chunk (type %d, length %d)", r.pos, typ, ln)
	}
	if r.size-r.pos-chunkHeaderSize < ln {
		return 0, 0, &tornError{at: at, hole: -1}
	}
	return ln, typ, nil
}

// chunk decodes the chunk at r.pos into rec; done reports a complete record.
func (r *recordReader) chunk(rec *record, partial *bool, left int64) (done bool, err error) {
	at := r.pos
	if *partial {
		at = rec.start
	}
	ln, typ, err := r.chunkHeader(at, left)
	if err != nil {
		return false, err
	}
	c, err := r.bytes(r.pos, int(chunkHeaderSize+ln))
	if err != nil {
		return false, err
	}
	payload := c[chunkHeaderSize:]
	if got, want := binary.LittleEndian.Uint32(c), chunkCRC(r.seed, c[4:7], payload); got != want {
		return false, corruptf("offset %d: chunk checksum %#x, want %#x", r.pos, got, want)
	}
	fills := ln == left-chunkHeaderSize
	switch typ {
	case chunkFull, chunkFirst:
		if *partial {
			return false, corruptf("offset %d: record starts inside the record at %d", r.pos, rec.start)
		}
		if ln < recordHeaderSize || (typ == chunkFirst && !fills) {
			return false, corruptf("offset %d: malformed first chunk", r.pos)
		}
		*rec = record{
			zxid:  int64(binary.LittleEndian.Uint64(payload[0:])),
			wm:    int64(binary.LittleEndian.Uint64(payload[8:])),
			start: r.pos,
		}
		if r.keep {
			rec.data = append(make([]byte, 0, ln-recordHeaderSize), payload[recordHeaderSize:]...)
		}
		r.plen = ln
		*partial = true
	default:
		if !*partial {
			return false, corruptf("offset %d: continuation chunk without a first chunk", r.pos)
		}
		if typ == chunkMiddle && !fills {
			return false, corruptf("offset %d: short middle chunk", r.pos)
		}
		r.plen += ln
		if r.plen > recordHeaderSize+MaxEntrySize {
			return false, corruptf("offset %d: record at %d exceeds the maximum size", r.pos, rec.start)
		}
		if r.keep {
			rec.data = append(rec.data, payload...)
		}
	}
	r.pos += chunkHeaderSize + ln
	if typ == chunkFull || typ == chunkLast {
		rec.end = r.pos
		*partial = false
		return true, nil
	}
	return false, nil
}

// maxWatermark returns the largest watermark carried by any intact first
// chunk in the blocks at or after from. Recovery uses it to tell a zero-filled
// block of a torn write (every later record's watermark is at or before it)
// from a zeroed block inside data that had been synced.
func maxWatermark(src io.ReaderAt, size int64, seq uint64, from int64) (int64, error) {
	r := newRecordReader(src, size, seq, 0, false)
	var best int64
	for b := (from + blockSize - 1) / blockSize * blockSize; b < size; b += blockSize {
		end := min(b+blockSize, size)
		for pos := b; end-pos >= chunkHeaderSize; {
			h, err := r.bytes(pos, chunkHeaderSize)
			if err != nil {
				return 0, err
			}
			ln := int64(binary.LittleEndian.Uint16(h[4:]))
			typ := h[6]
			if crc8(h[4:7]) != h[7] || typ < chunkFull || typ > chunkLast || ln == 0 || pos+chunkHeaderSize+ln > end {
				break
			}
			c, err := r.bytes(pos, int(chunkHeaderSize+ln))
			if err != nil {
				return 0, err
			}
			if binary.LittleEndian.Uint32(c) != chunkCRC(r.seed, c[4:7], c[chunkHeaderSize:]) {
				break
			}
			if (typ == chunkFull || typ == chunkFirst) && ln >= recordHeaderSize {
				best = max(best, int64(binary.LittleEndian.Uint64(c[chunkHeaderSize+8:])))
			}
			pos += chunkHeaderSize + ln
			if blockSize-pos%blockSize < firstChunkMin {
				break
			}
		}
	}
	return best, nil
}

func isTorn(err error) (*tornError, bool) {
	var t *tornError
	ok := errors.As(err, &t)
	return t, ok
}
