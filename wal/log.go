package wal

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Entry is one record of the log: a zxid and opaque bytes.
type Entry struct {
	Zxid int64
	Data []byte // owned by the Log after Append; entries returned by reads are fresh copies
}

// State is the small durable protocol state kept next to the log.
type State struct {
	AcceptedEpoch int64
	CurrentEpoch  int64
}

// Stats are counters since Open.
type Stats struct {
	Appends      int64 // successful Append calls
	Records      int64 // records written by them
	Syncs        int64 // fsyncs of segment files
	BytesWritten int64 // bytes of records and headers written to segment files
	ZeroFilled   int64 // bytes of zeros written ahead of the records (PreAllocSize)
	Segments     int   // segment files the log holds now
}

// Log is the transaction log and snapshot store of one peer. All methods are
// safe for concurrent use; see doc.go for the contract.
type Log struct {
	opts   Options
	fs     vfs.FS
	logger *slog.Logger
	lock   io.Closer

	// token (capacity 1) is held by whoever changes files of the log: the
	// group-commit writer, TruncateAfter, Reset, Purge, SetState, Close.
	token chan struct{}
	// Guarded by token.
	active   *activeSeg // the newest segment, open for appending; nil if none
	nextSeq  uint64
	dirDirty bool // a segment was created since Dir was last synced
	// unsynced is the path of the newest segment while it may hold
	// records not synced yet (syncUnsynced), else "".
	unsynced string
	enc      []byte
	zeros    []byte // what zeroAhead writes

	snapMu sync.Mutex // serializes snapshot retention

	mu    sync.Mutex // guards the fields below; never held across I/O
	queue []*call
	segs  []*segment
	state State
	snaps []int64 // committed snapshot zxids, newest first
	// snapDirs holds the zxids in snaps kept as directories (SnapshotDir).
	snapDirs map[int64]bool
	failed   error
	closed   bool
	stats    Stats
	tmpSeq   uint64
}

// Open opens (creating if needed) the log in opts.Dir and the snapshot
// store in opts.SnapDir, and recovers: temporary files are deleted, a reset
// left half done is finished, a torn tail of the last segment is cut off,
// and every other record is verified. Damage in synced data fails with
// ErrCorrupt.
func Open(opts Options) (*Log, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Log{opts: o, fs: o.FS, logger: o.Logger, token: make(chan struct{}, 1), nextSeq: 1, snapDirs: map[int64]bool{}}
	for _, dir := range []string{o.Dir, o.SnapDir} {
		if err := ensureDir(o.FS, dir); err != nil {
			return nil, fmt.Errorf("%w: creating %s: %w", ErrFailed, dir, err)
		}
	}
	lock, err := o.FS.Lock(o.FS.PathJoin(o.Dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("wal: locking %s: %w", o.Dir, err)
	}
	l.lock = lock
	if err := l.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	return l, nil
}

// Close flushes appends already queued, syncs the records written with
// Options.NoAppendSync, closes the files and releases the directory lock.
// Later calls fail with ErrClosed. If the Log had fail-stopped, Close
// still releases everything and returns the failure.
func (l *Log) Close() error {
	l.token <- struct{}{}
	defer func() { <-l.token }()
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	l.flushQueue()
	if l.opts.NoAppendSync && l.usable() == nil {
		l.syncUnsynced() // a failure fail-stops the Log, returned below
	}
	l.mu.Lock()
	l.closed = true
	failed := l.failed
	l.mu.Unlock()
	l.closeActive()
	if err := l.lock.Close(); err != nil && failed == nil {
		return fmt.Errorf("wal: releasing the lock: %w", err)
	}
	return failed
}

// LastZxid is the zxid of the last durable entry, Base() when the log holds
// no entry, and 0 for a log that never had one.
func (l *Log) LastZxid() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLocked()
}

func (l *Log) lastLocked() int64 {
	if n := len(l.segs); n > 0 {
		return l.segs[n-1].last()
	}
	return 0
}

// FirstZxid is the zxid of the first entry still in the log; 0 when empty.
func (l *Log) FirstZxid() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.segs {
		if len(s.zxids) > 0 {
			return s.zxids[0]
		}
	}
	return 0
}

// Base is the zxid the log starts after: every entry with a greater zxid up
// to LastZxid is in the log. It is 0 for a new log, the base of the last
// Reset, and moves up to the last removed zxid when Purge removes segments.
func (l *Log) Base() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.baseLocked()
}

func (l *Log) baseLocked() int64 {
	if len(l.segs) > 0 {
		return l.segs[0].base
	}
	return 0
}

// Contains reports whether zxid is an entry of the log or equals Base().
func (l *Log) Contains(zxid int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.containsLocked(zxid)
}

func (l *Log) containsLocked(zxid int64) bool {
	if zxid == l.baseLocked() {
		return true
	}
	i, ok := l.findLocked(zxid)
	if !ok {
		return false
	}
	s := l.segs[i]
	j := s.after(zxid - 1)
	return j < len(s.zxids) && s.zxids[j] == zxid
}

// findLocked returns the index of the segment whose range (base, last]
// holds zxid.
func (l *Log) findLocked(zxid int64) (int, bool) {
	i, _ := slices.BinarySearchFunc(l.segs, zxid, func(s *segment, z int64) int {
		switch {
		case s.last() < z:
			return -1
		case s.base >= z:
			return 1
		}
		return 0
	})
	return i, i < len(l.segs) && l.segs[i].base < zxid && zxid <= l.segs[i].last()
}

// State returns the durable protocol state.
func (l *Log) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stats
	st.Segments = len(l.segs)
	return st
}

// segPath is the path of segment seq.
func (l *Log) segPath(seq uint64) string {
	return l.fs.PathJoin(l.opts.Dir, segmentName(seq))
}
