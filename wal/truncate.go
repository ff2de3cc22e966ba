package wal

import (
	"fmt"
	"slices"
	"sort"

	"github.com/embedzk/zk/internal/dirsync"
)

// TruncateAfter removes every entry with a zxid above zxid, durably, before
// it returns. zxid must be an entry of the log or Base() (else ErrNotFound).
// Appends queued before the call are written first. Later segments are
// deleted newest first, each deletion made durable before the next, and the
// segment holding zxid is replaced by a copy of its prefix (written to a
// temporary file, synced, renamed over it): a crash at any point leaves a
// prefix of the old log that holds at least the entries up to zxid, and
// once TruncateAfter returned the removed entries never come back.
func (l *Log) TruncateAfter(zxid int64) error {
	if err := l.lockWrite(); err != nil {
		return err
	}
	defer l.unlockWrite()
	l.flushQueue()
	l.mu.Lock()
	err := l.usableLocked()
	ok := l.containsLocked(zxid)
	base, last := l.baseLocked(), l.lastLocked()
	segs := slices.Clone(l.segs)
	l.mu.Unlock()
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%w: zxid %#x is not in the log (base %#x, last %#x)", ErrNotFound, zxid, base, last)
	case zxid == last:
		return nil
	}
	// k is the last segment that starts at or before zxid.
	k := sort.Search(len(segs), func(i int) bool { return segs[i].base > zxid }) - 1
	l.closeActive()
	// The newest segment goes or is replaced by a synced copy; a segment
	// kept as it is was synced before the next one was created.
	l.unsynced = ""
	for i := len(segs) - 1; i > k; i-- {
		if err := l.removeSegment(segs[i]); err != nil {
			return err
		}
		l.mu.Lock()
		l.segs = l.segs[:i]
		l.mu.Unlock()
	}
	s := segs[k]
	keep := s.after(zxid)
	if keep == len(s.zxids) {
		return nil
	}
	tmp := s.path + tmpSuffix
	if op, err := copyPrefix(l.fs, s.path, tmp, s.recordStart(keep)); err != nil {
		return l.fail(op, err)
	}
	if err := l.fs.Rename(tmp, s.path); err != nil {
		return l.fail("rename "+tmp, err)
	}
	if err := dirsync.Sync(l.fs, l.opts.Dir); err != nil {
		return l.fail("sync dir "+l.opts.Dir, err)
	}
	l.mu.Lock()
	l.segs[k] = s.prefix(keep)
	l.mu.Unlock()
	return nil
}

// Reset discards the whole log and makes it start after base, empty. It
// first creates a segment flagged as a reset point (synced, directory
// synced), which makes every older segment obsolete, then deletes them: a
// crash leaves the old log or the empty one with Base() == base.
func (l *Log) Reset(base int64) error {
	if base < 0 {
		return fmt.Errorf("wal: reset to negative zxid %d", base)
	}
	if err := l.lockWrite(); err != nil {
		return err
	}
	defer l.unlockWrite()
	l.flushQueue()
	if err := l.usable(); err != nil {
		return err
	}
	l.closeActive()
	l.unsynced = "" // the reset segment is synced; the older ones go
	a, err := l.createSegment(segHeader{base: base, reset: true})
	if err != nil {
		return err
	}
	if _, err := a.f.WriteAt(a.seg.segHeader.appendTo(nil), 0); err != nil {
		return l.fail("write "+a.seg.path, err)
	}
	zeroed, err := l.zeroAhead(a, segHeaderSize)
	if err != nil {
		return err
	}
	if err := a.f.Sync(); err != nil {
		return l.fail("sync "+a.seg.path, err)
	}
	if err := l.syncNewEntries(); err != nil {
		return err
	}
	a.size = segHeaderSize
	l.mu.Lock()
	old := l.segs
	l.stats.Syncs++
	l.stats.BytesWritten += segHeaderSize
	l.stats.ZeroFilled += zeroed
	l.mu.Unlock()
	for _, s := range old {
		if err := l.fs.Remove(s.path); err != nil {
			return l.fail("remove "+s.path, err)
		}
	}
	if len(old) > 0 {
		if err := dirsync.Sync(l.fs, l.opts.Dir); err != nil {
			return l.fail("sync dir "+l.opts.Dir, err)
		}
	}
	l.mu.Lock()
	l.segs = []*segment{a.seg}
	a.fresh = false
	l.mu.Unlock()
	return nil
}

// Purge deletes, oldest first, the segments whose entries are all <= upTo,
// never the one holding the last entry; each deletion is durable before the
// next, so a crash leaves a suffix of the log. Base() moves up to the last
// removed zxid. It returns the number of segments removed.
func (l *Log) Purge(upTo int64) (int, error) {
	if err := l.lockWrite(); err != nil {
		return 0, err
	}
	defer l.unlockWrite()
	l.mu.Lock()
	segs := slices.Clone(l.segs)
	l.mu.Unlock()
	lastEntry := -1
	for i, s := range segs {
		if len(s.zxids) > 0 {
			lastEntry = i
		}
	}
	n := 0
	for i := 0; i < lastEntry && segs[i].last() <= upTo; i++ {
		if err := l.removeSegment(segs[i]); err != nil {
			return n, err
		}
		l.mu.Lock()
		l.segs = l.segs[1:]
		l.mu.Unlock()
		n++
	}
	return n, nil
}

// removeSegment deletes one segment file durably.
func (l *Log) removeSegment(s *segment) error {
	if err := l.fs.Remove(s.path); err != nil {
		return l.fail("remove "+s.path, err)
	}
	if err := dirsync.Sync(l.fs, l.opts.Dir); err != nil {
		return l.fail("sync dir "+l.opts.Dir, err)
	}
	return nil
}

// closeActive closes the append handle; the next append starts a new
// segment. Everything written through it was synced (or syncUnsynced
// syncs it by its path), so a failing close loses nothing and is only
// logged.
func (l *Log) closeActive() {
	if a := l.active; a != nil {
		l.active = nil
		if err := a.f.Close(); err != nil {
			l.logger.Warn("wal: closing a synced segment", "path", a.seg.path, "err", err)
		}
	}
}
