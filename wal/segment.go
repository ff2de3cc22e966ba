package wal

import (
	"errors"
	"io"
	"slices"
	"sort"
)

// segment is the in-memory index of one segment file: the zxid and end
// offset of every durable record. The slices only grow by append under
// Log.mu, and are replaced (never shrunk in place) when the segment is
// truncated, so a reader may keep a prefix of them without holding the lock.
type segment struct {
	segHeader
	path  string
	zxids []int64
	ends  []int64
}

// last is the zxid of the last record, or base when there is none.
func (s *segment) last() int64 {
	if n := len(s.zxids); n > 0 {
		return s.zxids[n-1]
	}
	return s.base
}

// recordStart is the offset of record i's first chunk, or of the padding
// that precedes it.
func (s *segment) recordStart(i int) int64 {
	if i == 0 {
		return segHeaderSize
	}
	return s.ends[i-1]
}

// end is the offset just after the last record.
func (s *segment) end() int64 { return s.recordStart(len(s.ends)) }

// after returns the index of the first record with zxid > z.
func (s *segment) after(z int64) int {
	return sort.Search(len(s.zxids), func(i int) bool { return s.zxids[i] > z })
}

// prefix returns a copy of the segment holding its first n records.
func (s *segment) prefix(n int) *segment {
	return &segment{
		segHeader: s.segHeader,
		path:      s.path,
		zxids:     slices.Clone(s.zxids[:n]),
		ends:      slices.Clone(s.ends[:n]),
	}
}

// scanResult is what recovery learns from one segment file.
type scanResult struct {
	tornHeader bool  // the header itself is incomplete (last segment only)
	torn       bool  // bytes after the last complete record must be cut
	validEnd   int64 // offset just after the last complete record
}

// scanSegment verifies a whole segment file and indexes its records into
// seg (whose header it fills). In the last segment an incomplete record at
// the end is a torn write and ends the log; anywhere else, and for any
// damage that a crash cannot produce, it returns an error wrapping
// ErrCorrupt. The rule is documented in doc.go.
func scanSegment(src io.ReaderAt, size int64, seg *segment, last bool) (scanResult, error) {
	var res scanResult
	torn, err := readSegHeader(src, size, seg, last)
	if err != nil || torn {
		res.tornHeader = torn
		return res, err
	}
	h := seg.segHeader
	r := newRecordReader(src, size, seg.seq, segHeaderSize, false)
	prev := h.base
	for {
		rec, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if t, ok := isTorn(err); ok {
			end, err := preallocEnd(src, size, seg, t)
			if err != nil {
				return res, err
			}
			if end {
				break
			}
			if !last {
				return res, corruptf("%v, in a segment that is not the last", t)
			}
			if err := checkHole(src, size, seg.seq, t.hole); err != nil {
				return res, err
			}
			res.torn = true
			break
		}
		if err != nil && last && seg.prealloc && errors.Is(err, ErrCorrupt) {
			torn, terr := tornIntoZeros(src, size, r.pos)
			if terr != nil {
				return res, terr
			}
			if torn {
				res.torn = true
				break
			}
		}
		if err != nil {
			return res, err
		}
		if rec.zxid <= prev {
			return res, corruptf("offset %d: zxid %#x does not follow %#x", rec.start, rec.zxid, prev)
		}
		if rec.wm != 0 && (rec.wm < segHeaderSize || rec.wm > rec.start) {
			return res, corruptf("offset %d: impossible watermark %d", rec.start, rec.wm)
		}
		seg.zxids = append(seg.zxids, rec.zxid)
		seg.ends = append(seg.ends, rec.end)
		prev = rec.zxid
	}
	res.validEnd = seg.end()
	return res, nil
}

// readSegHeader reads the header of seg (whose seq is set) into it. An
// incomplete or all-zero header is torn (reported, not an error) only in the
// last segment, and only if no later group commit vouches that it had been
// synced.
func readSegHeader(src io.ReaderAt, size int64, seg *segment, last bool) (torn bool, err error) {
	hb := make([]byte, segHeaderSize)
	if size >= segHeaderSize {
		if err := readAtFull(src, hb, 0); err != nil {
			return false, err
		}
	}
	if size < segHeaderSize || allZero(hb) {
		if !last {
			return false, corruptf("incomplete segment header (%d bytes)", size)
		}
		if err := checkHole(src, size, seg.seq, 0); err != nil {
			return false, err
		}
		return true, nil
	}
	h, err := parseSegHeader(hb)
	if err != nil {
		return false, err
	}
	if h.seq != seg.seq {
		return false, corruptf("header names segment %d", h.seq)
	}
	seg.segHeader = h
	return false, nil
}

// checkHole rejects a zero-filled block at hole that a later record
// declares synced.
func checkHole(src io.ReaderAt, size int64, seq uint64, hole int64) error {
	if hole < 0 {
		return nil
	}
	wm, err := maxWatermark(src, size, seq, hole)
	if err != nil {
		return err
	}
	if wm > hole {
		return corruptf("zero-filled block at offset %d inside data synced up to %d", hole, wm)
	}
	return nil
}
