package znode

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"runtime"

	"github.com/cockroachdb/pebble/v2"
)

// Snapshot stream format, version 1:
//
//	magic "ZKSNAP" + uint16 version (1)
//	node records, in node-key order (so each parent comes before its
//	children), root first:
//	    'N' uvarint len(path) path uvarint len(value) value
//	session records, in key order:
//	    'S' int64 id uvarint len(value) value
//	end record:
//	    'E' int64 zxid, uint64 digest, int64 node count, int64 session count
//	uint32 CRC-32C of every byte before it
//
// Integers are big-endian; values are the node and session value encodings
// of value.go. The index keys (ephemerals, containers/TTL) are derived and
// not streamed.
const (
	snapMagic   = "ZKSNAP"
	snapVersion = 1
	recNode     = 'N'
	recSession  = 'S'
	recEnd      = 'E'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapWriter writes through a buffer while keeping the running checksum.
type snapWriter struct {
	bw  *bufio.Writer
	crc hash.Hash32
	err error
	tmp []byte
}

func (w *snapWriter) write(b []byte) {
	if w.err != nil {
		return
	}
	w.crc.Write(b)
	_, w.err = w.bw.Write(b)
}

func (w *snapWriter) byte1(c byte) {
	w.tmp = append(w.tmp[:0], c)
	w.write(w.tmp)
}

func (w *snapWriter) uvarint(v uint64) {
	w.tmp = binary.AppendUvarint(w.tmp[:0], v)
	w.write(w.tmp)
}

func (w *snapWriter) u64(v uint64) {
	w.tmp = binary.BigEndian.AppendUint64(w.tmp[:0], v)
	w.write(w.tmp)
}

// WriteSnapshot writes a self-describing, checksummed stream of the whole
// tree (nodes, session table, applied zxid and digest) as of the applied
// zxid when it starts, which it returns. Apply may continue meanwhile: the
// stream reads a Pebble snapshot.
func (t *Tree) WriteSnapshot(w io.Writer) (zxid int64, err error) {
	s, err := t.NewSnapshot()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if _, err := s.WriteTo(w); err != nil {
		return 0, err
	}
	return s.Zxid(), nil
}

// Snapshot is a consistent view of the tree at one applied zxid, taken at
// once by NewSnapshot and streamed later (possibly on another goroutine,
// while Apply continues) by WriteTo. Close releases it.
type Snapshot struct {
	snap *pebble.Snapshot
	meta meta
	db   *pebble.DB // a checkpoint's store (OpenCheckpoint), closed with the view
}

// NewSnapshot takes a consistent view of the tree as of now: its Zxid is
// the applied zxid at the call.
func (t *Tree) NewSnapshot() (*Snapshot, error) {
	snap := t.db.NewSnapshot()
	m, err := readMeta(snap)
	if err != nil {
		snap.Close()
		return nil, err
	}
	return &Snapshot{snap: snap, meta: m}, nil
}

// Zxid returns the applied zxid the snapshot holds.
func (s *Snapshot) Zxid() int64 { return s.meta.zxid }

// Close releases the view (and the checkpoint's store it reads, if any).
func (s *Snapshot) Close() error {
	err := s.snap.Close()
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}

// WriteTo writes the snapshot stream to w and returns the bytes written.
func (s *Snapshot) WriteTo(w io.Writer) (n int64, err error) {
	if s.db != nil {
		defer catchCheckpointPanic(&err)
	}
	cw := &countingWriter{w: w}
	sw := &snapWriter{bw: bufio.NewWriterSize(cw, 256<<10), crc: crc32.New(castagnoli)}
	sw.write([]byte(snapMagic))
	sw.write([]byte{0, snapVersion})
	nodes, err := writeNodeRecords(sw, s.snap)
	if err != nil {
		return cw.n, err
	}
	sessions, err := writeSessionRecords(sw, s.snap)
	if err != nil {
		return cw.n, err
	}
	if nodes != s.meta.nodes {
		return cw.n, fmt.Errorf("znode: %w: snapshot has %d nodes, meta says %d", errCorrupt, nodes, s.meta.nodes)
	}
	sw.byte1(recEnd)
	sw.u64(uint64(s.meta.zxid))
	sw.u64(s.meta.digest)
	sw.u64(uint64(nodes))
	sw.u64(uint64(sessions))
	if sw.err == nil {
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], sw.crc.Sum32())
		_, sw.err = sw.bw.Write(sum[:])
	}
	if sw.err == nil {
		sw.err = sw.bw.Flush()
	}
	if sw.err != nil {
		return cw.n, fmt.Errorf("znode: write snapshot: %w", sw.err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func writeNodeRecords(sw *snapWriter, snap *pebble.Snapshot) (int64, error) {
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{spaceNode}, UpperBound: []byte{spaceNode + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var count int64
	var path []byte
	for ok := it.First(); ok && sw.err == nil; ok = it.Next() {
		path, ok = appendNodePath(path[:0], it.Key())
		if !ok {
			return 0, fmt.Errorf("znode: %w: node key %q", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, err
		}
		sw.byte1(recNode)
		sw.uvarint(uint64(len(path)))
		sw.write(path)
		sw.uvarint(uint64(len(v)))
		sw.write(v)
		count++
		if count%yieldEvery == 0 {
			runtime.Gosched()
		}
	}
	return count, it.Error()
}

func writeSessionRecords(sw *snapWriter, snap *pebble.Snapshot) (int64, error) {
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{spaceSession}, UpperBound: []byte{spaceSession + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var count int64
	for ok := it.First(); ok && sw.err == nil; ok = it.Next() {
		id, ok := sessionIDFromKey(it.Key())
		if !ok {
			return 0, fmt.Errorf("znode: %w: session key %x", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, err
		}
		sw.byte1(recSession)
		sw.u64(uint64(id))
		sw.uvarint(uint64(len(v)))
		sw.write(v)
		count++
	}
	return count, it.Error()
}

// yieldEvery is how many node records a snapshot writes between yields of
// its goroutine: a snapshot is background work, and yielding lets the
// peer's loop and the sessions waiting for a P run first.
const yieldEvery = 256
