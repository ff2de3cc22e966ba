package wal

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/dirsync"
)

// call is one Append waiting for its group commit.
type call struct {
	entries []Entry
	done    chan struct{} // closed when err is set
	err     error
}

// zeroChunk bounds one write of zeros, and so the buffer each Log keeps
// for them: a preallocation step of 1 MiB is 16 writes, once per MiB of log.
const zeroChunk = 64 << 10

// activeSeg is the newest segment, open for appending. Its records written
// by the current flush are pending until every fsync of the flush succeeded.
type activeSeg struct {
	seg       *segment
	f         vfs.File
	seed      uint32
	size      int64 // bytes written, and synced unless Options.NoAppendSync
	zeroEnd   int64 // the file holds zeros from size up to here (synced once size is)
	fresh     bool  // not yet in Log.segs
	pendZxids []int64
	pendEnds  []int64
}

func (a *activeSeg) records() int { return len(a.seg.zxids) + len(a.pendZxids) }

// lockWrite takes the writer token, failing if the Log is unusable.
func (l *Log) lockWrite() error {
	l.token <- struct{}{}
	if err := l.usable(); err != nil {
		<-l.token
		return err
	}
	return nil
}

func (l *Log) unlockWrite() { <-l.token }

// Append writes entries after the current last one and returns once they are
// durable. Concurrent calls are ordered by arrival and share fsyncs: while
// one group is being written and synced, later calls queue, and the next
// write and fsync covers all of them. Each call is all or nothing: if its
// first zxid is not above the log's last one (or its zxids do not increase,
// or an entry is larger than MaxEntrySize) it fails and nothing of it is
// written. Any I/O failure fail-stops the Log (ErrFailed).
func (l *Log) Append(entries []Entry) error {
	c, err := l.enqueue(entries)
	if c == nil {
		return err
	}
	return l.wait(c)
}

// enqueue validates entries and queues them; a nil call means nothing to do.
func (l *Log) enqueue(entries []Entry) (*call, error) {
	for i, e := range entries {
		if len(e.Data) > MaxEntrySize {
			return nil, fmt.Errorf("%w: zxid %#x has %d bytes, at most %d", ErrTooLarge, e.Zxid, len(e.Data), MaxEntrySize)
		}
		if i > 0 && e.Zxid <= entries[i-1].Zxid {
			return nil, fmt.Errorf("%w: zxid %#x after %#x in one call", ErrOutOfOrder, e.Zxid, entries[i-1].Zxid)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, nil
	}
	c := &call{entries: entries, done: make(chan struct{})}
	l.queue = append(l.queue, c)
	return c, nil
}

// wait returns when c is done, becoming the writer if nobody is.
func (l *Log) wait(c *call) error {
	for {
		select {
		case <-c.done:
			return c.err
		case l.token <- struct{}{}:
			select {
			case <-c.done:
			default:
				l.flushQueue()
			}
			<-l.token
		}
	}
}

// flushQueue writes every queued call as one group. The token must be held.
func (l *Log) flushQueue() {
	l.mu.Lock()
	calls := l.queue
	l.queue = nil
	failed := l.usableLocked()
	last := l.lastLocked()
	l.mu.Unlock()
	if len(calls) == 0 {
		return
	}
	var ok []*call
	var ents []Entry
	for _, c := range calls {
		switch {
		case failed != nil:
			c.err = failed
		case c.entries[0].Zxid <= last:
			c.err = fmt.Errorf("%w: zxid %#x is not after the last zxid %#x", ErrOutOfOrder, c.entries[0].Zxid, last)
		default:
			ok = append(ok, c)
			ents = append(ents, c.entries...)
			last = c.entries[len(c.entries)-1].Zxid
		}
	}
	if len(ents) > 0 {
		err := l.writeEntries(ents)
		for _, c := range ok {
			c.err = err
		}
		if err == nil {
			l.mu.Lock()
			l.stats.Appends += int64(len(ok))
			l.mu.Unlock()
		}
	}
	for _, c := range calls {
		close(c.done)
	}
}

// writeEntries appends ents to the segments, rolling over as needed, syncs
// everything they touched, and only then publishes them to readers.
func (l *Log) writeEntries(ents []Entry) error {
	var touched []*activeSeg
	for len(ents) > 0 {
		a := l.active
		if a == nil || (a.records() > 0 && a.size >= l.opts.SegmentSize) {
			if err := l.syncUnsynced(); err != nil {
				return err
			}
			l.closeActive()
			var err error
			if a, err = l.createSegment(segHeader{base: l.lastWritten(touched)}); err != nil {
				return err
			}
		}
		if len(touched) == 0 || touched[len(touched)-1] != a {
			touched = append(touched, a)
		}
		n, err := l.fill(a, ents)
		if err != nil {
			return err
		}
		ents = ents[n:]
	}
	if err := l.syncNewEntries(); err != nil {
		return err
	}
	l.publish(touched)
	return nil
}

// syncNewEntries syncs the log directory if a segment was created since it
// was last synced. It runs before any data in a new segment is acknowledged
// and before a further segment is created: a segment never exists on disk
// without the one before it.
func (l *Log) syncNewEntries() error {
	if !l.dirDirty {
		return nil
	}
	if err := dirsync.Sync(l.fs, l.opts.Dir); err != nil {
		return l.fail("sync dir "+l.opts.Dir, err)
	}
	l.dirDirty = false
	return nil
}

// syncUnsynced syncs the segment that may hold records not yet synced
// (written with Options.NoAppendSync, or the newest one a previous run
// left), so that it is durable before another segment is created: only
// the last segment may end badly (doc.go). The token must be held.
func (l *Log) syncUnsynced() error {
	path := l.unsynced
	if path == "" {
		return nil
	}
	var err error
	if a := l.active; a != nil && a.seg.path == path {
		err = a.f.Sync()
	} else {
		err = syncFile(l.fs, path)
	}
	if err != nil {
		return l.fail("sync "+path, err)
	}
	l.unsynced = ""
	l.mu.Lock()
	l.stats.Syncs++
	l.mu.Unlock()
	return nil
}

// lastWritten is the last zxid written so far, including by this flush.
func (l *Log) lastWritten(touched []*activeSeg) int64 {
	if n := len(touched); n > 0 {
		a := touched[n-1]
		if k := len(a.pendZxids); k > 0 {
			return a.pendZxids[k-1]
		}
		return a.seg.last()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLocked()
}

// createSegment creates the next segment file; its header is written with
// its first records (or by the caller). The token must be held.
func (l *Log) createSegment(h segHeader) (*activeSeg, error) {
	if err := l.syncNewEntries(); err != nil {
		return nil, err
	}
	h.seq = l.nextSeq
	h.prealloc = l.opts.PreAllocSize > 0
	l.nextSeq++
	seg := &segment{segHeader: h, path: l.segPath(h.seq)}
	f, err := l.fs.Create(seg.path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, l.fail("create "+seg.path, err)
	}
	a := &activeSeg{seg: seg, f: f, seed: seqCRC(h.seq), fresh: true}
	l.active = a
	l.dirDirty = true
	return a, nil
}

// fill writes as many of ents as belong in segment a and syncs it (unless
// Options.NoAppendSync). It returns how many it wrote.
func (l *Log) fill(a *activeSeg, ents []Entry) (int, error) {
	buf := l.enc[:0]
	if a.size == 0 {
		buf = a.seg.segHeader.appendTo(buf)
	}
	wm := a.size // what the records vouch was synced before them
	if l.opts.NoAppendSync {
		wm = 0 // nothing: see Options.NoAppendSync
	}
	n := 0
	for n < len(ents) {
		off := a.size + int64(len(buf))
		if a.records() > 0 && off >= l.opts.SegmentSize {
			break
		}
		buf = appendRecord(buf, a.size, a.seed, ents[n].Zxid, wm, ents[n].Data)
		a.pendZxids = append(a.pendZxids, ents[n].Zxid)
		a.pendEnds = append(a.pendEnds, a.size+int64(len(buf)))
		n++
	}
	written := int64(len(buf))
	_, err := a.f.WriteAt(buf, a.size)
	l.enc = buf[:0] // the FS may scribble on buf: it is only ever refilled
	if err != nil {
		return 0, l.fail("write "+a.seg.path, err)
	}
	zeroed, err := l.zeroAhead(a, a.size+written)
	if err != nil {
		return 0, err
	}
	synced := !l.opts.NoAppendSync
	if synced {
		if err := a.f.Sync(); err != nil {
			return 0, l.fail("sync "+a.seg.path, err)
		}
	} else {
		l.unsynced = a.seg.path
	}
	a.size += written
	l.mu.Lock()
	if synced {
		l.stats.Syncs++
	}
	l.stats.BytesWritten += written
	l.stats.ZeroFilled += zeroed
	l.mu.Unlock()
	return n, nil
}

// zeroAhead fills the next PreAllocSize bytes after end with zeros when the
// records written up to end passed the zero-filled part of segment a (not
// past SegmentSize, where the segment rolls over). The caller's fsync makes
// them durable with the records. It returns how many bytes it wrote.
func (l *Log) zeroAhead(a *activeSeg, end int64) (int64, error) {
	step := l.opts.PreAllocSize
	if step <= 0 || end <= a.zeroEnd {
		return 0, nil
	}
	to := min(end+step, max(l.opts.SegmentSize, end))
	for off := end; off < to; {
		n := min(to-off, zeroChunk)
		if int64(len(l.zeros)) < n {
			l.zeros = make([]byte, n)
		}
		z := l.zeros[:n]
		clear(z) // the FS may scribble on what it is given
		if _, err := a.f.WriteAt(z, off); err != nil {
			return 0, l.fail("write "+a.seg.path, err)
		}
		off += n
	}
	a.zeroEnd = to
	return to - end, nil
}

// publish makes the records of a finished flush visible to readers.
func (l *Log) publish(touched []*activeSeg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range touched {
		a.seg.zxids = append(a.seg.zxids, a.pendZxids...)
		a.seg.ends = append(a.seg.ends, a.pendEnds...)
		l.stats.Records += int64(len(a.pendZxids))
		a.pendZxids, a.pendEnds = a.pendZxids[:0], a.pendEnds[:0]
		if a.fresh {
			l.segs = append(l.segs, a.seg)
			a.fresh = false
		}
	}
}
