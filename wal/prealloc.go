package wal

import (
	"encoding/binary"
	"io"
)

// Recovery's side of preallocation (Options.PreAllocSize, doc.go): a
// segment flagged as preallocated holds zeros after its last record, and a
// write torn in it leaves the bytes that landed followed by those zeros,
// not by the end of the file.

// preallocEnd reports whether t, where the records of seg stop, is where
// its preallocated space begins: seg was written with PreAllocSize, the
// zero-filled block begins between two records, and only zeros follow to
// the end of the file. That is how every such segment ends, the last one
// included; whether records are missing before it is for the next
// segment's base (or, in the last segment, for the watermarks) to tell.
func preallocEnd(src io.ReaderAt, size int64, seg *segment, t *tornError) (bool, error) {
	if !seg.prealloc || t.hole < 0 || t.at != t.hole {
		return false, nil
	}
	buf := make([]byte, min(readAhead, size-t.hole))
	for off := t.hole; off < size; off += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), size-off)]
		if err := readAtFull(src, b, off); err != nil {
			return false, err
		}
		if !allZero(b) {
			return false, nil
		}
	}
	return true, nil
}

// tornIntoZeros reports whether the damaged chunk at p, in the last
// segment of a preallocated log, is what a write torn inside it leaves: the
// bytes written stop somewhere inside the chunk, and the zeros that were
// there before run from there to the end of the file. So the chunk's last
// byte is zero (or, when its header is what is damaged, the header's last
// byte), and so is everything after it. Damage to a chunk that was written
// whole is still told apart unless its data happened to end with zeros,
// like a zeroed block in the last group commit (doc.go).
func tornIntoZeros(src io.ReaderAt, size, p int64) (bool, error) {
	z, err := zeroRunStart(src, size, p)
	if err != nil || z <= p {
		return false, err
	}
	end := p + chunkHeaderSize
	if size-p >= chunkHeaderSize {
		var h [chunkHeaderSize]byte
		if err := readAtFull(src, h[:], p); err != nil {
			return false, err
		}
		ln := int64(binary.LittleEndian.Uint16(h[4:]))
		typ := h[6]
		left := blockSize - p%blockSize
		if crc8(h[4:7]) == h[7] && typ >= chunkFull && typ <= chunkLast && ln > 0 && ln <= left-chunkHeaderSize {
			end += ln
		}
	}
	return z < end, nil
}

// zeroRunStart returns the smallest z >= from such that the bytes from z to
// size are all zero.
func zeroRunStart(src io.ReaderAt, size, from int64) (int64, error) {
	buf := make([]byte, min(readAhead, max(size-from, 0)))
	for hi := size; hi > from; {
		lo := max(from, hi-int64(len(buf)))
		b := buf[:hi-lo]
		if err := readAtFull(src, b, lo); err != nil {
			return 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != 0 {
				return lo + int64(i) + 1, nil
			}
		}
		hi = lo
	}
	return from, nil
}
