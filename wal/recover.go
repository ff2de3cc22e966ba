package wal

import (
	"fmt"
	"slices"
	"strings"

	"github.com/embedzk/zk/internal/dirsync"
)

// recover rebuilds the in-memory state from the files; see Open.
func (l *Log) recover() error {
	names, err := l.fs.List(l.opts.Dir)
	if err != nil {
		return fmt.Errorf("wal: listing %s: %w", l.opts.Dir, err)
	}
	if err := l.removeTemps(l.opts.Dir, names); err != nil {
		return err
	}
	var seqs []uint64
	for _, name := range names {
		if seq, ok := parseHexName(name, segPrefix); ok {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	if err := l.recoverSegments(seqs); err != nil {
		return err
	}
	if n := len(l.segs); n > 0 {
		// A run with Options.NoAppendSync may have left it unsynced.
		l.unsynced = l.segs[n-1].path
	}
	st, err := loadState(l.fs, l.fs.PathJoin(l.opts.Dir, stateName))
	if err != nil {
		return err
	}
	l.state = st
	return l.loadSnapshots()
}

// removeTemps deletes the temporary files in dir left by an interrupted
// write, and makes their removal durable.
func (l *Log) removeTemps(dir string, names []string) error {
	removed := false
	for _, name := range names {
		if !strings.HasSuffix(name, tmpSuffix) {
			continue
		}
		path := l.fs.PathJoin(dir, name)
		l.logger.Info("wal: removing temporary file", "path", path)
		remove := l.fs.Remove
		if strings.HasSuffix(name, snapDirSuffix+tmpSuffix) {
			remove = l.fs.RemoveAll // an unfinished snapshot directory
		}
		if err := remove(path); err != nil {
			return fmt.Errorf("%w: removing %s: %w", ErrFailed, path, err)
		}
		removed = true
	}
	if removed {
		if err := dirsync.Sync(l.fs, dir); err != nil {
			return fmt.Errorf("%w: syncing %s: %w", ErrFailed, dir, err)
		}
	}
	return nil
}

// removeSegments deletes the given segment files, then syncs the directory.
func (l *Log) removeSegments(seqs []uint64, why string) error {
	for _, seq := range seqs {
		path := l.segPath(seq)
		l.logger.Info("wal: removing segment", "path", path, "reason", why)
		if err := l.fs.Remove(path); err != nil {
			return fmt.Errorf("%w: removing %s: %w", ErrFailed, path, err)
		}
	}
	if len(seqs) > 0 {
		if err := dirsync.Sync(l.fs, l.opts.Dir); err != nil {
			return fmt.Errorf("%w: syncing %s: %w", ErrFailed, l.opts.Dir, err)
		}
	}
	return nil
}

// recoverSegments scans the segments in sequence order, newest reset first.
func (l *Log) recoverSegments(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	l.nextSeq = seqs[len(seqs)-1] + 1
	live, err := l.liveSegments(seqs)
	if err != nil {
		return err
	}
	for i, seq := range live {
		seg := &segment{path: l.segPath(seq)}
		seg.seq = seq
		res, err := l.scanFile(seg, i == len(live)-1)
		if err != nil {
			return fmt.Errorf("wal: segment %s: %w", seg.path, err)
		}
		if res.tornHeader {
			// Only the newest segment can be caught before its header was
			// synced; liveSegments already removed such a one.
			return fmt.Errorf("wal: segment %s: %w", seg.path, corruptf("incomplete header"))
		}
		if i > 0 {
			prev := l.segs[i-1]
			if seg.reset || seg.base != prev.last() {
				return fmt.Errorf("wal: segment %s: %w", seg.path,
					corruptf("starts after zxid %#x but the previous segment ends at %#x", seg.base, prev.last()))
			}
		}
		if res.torn {
			if err := l.cutTail(seg, res.validEnd); err != nil {
				return err
			}
		}
		l.segs = append(l.segs, seg)
	}
	return nil
}

// liveSegments drops the newest segment if its header never became durable,
// and the segments older than the newest reset segment (a Reset interrupted
// before it deleted them). It returns the sequence numbers that remain.
func (l *Log) liveSegments(seqs []uint64) ([]uint64, error) {
	newest := seqs[len(seqs)-1]
	seg := &segment{path: l.segPath(newest)}
	seg.seq = newest
	res, err := l.scanHeader(seg)
	if err != nil {
		return nil, fmt.Errorf("wal: segment %s: %w", seg.path, err)
	}
	if res.tornHeader {
		if err := l.removeSegments(seqs[len(seqs)-1:], "incomplete header"); err != nil {
			return nil, err
		}
		seqs = seqs[:len(seqs)-1]
	}
	for i := len(seqs) - 1; i > 0; i-- {
		seg := &segment{path: l.segPath(seqs[i])}
		seg.seq = seqs[i]
		if _, err := l.scanHeader(seg); err != nil {
			return nil, fmt.Errorf("wal: segment %s: %w", seg.path, err)
		}
		if seg.reset {
			if err := l.removeSegments(seqs[:i], "older than a reset"); err != nil {
				return nil, err
			}
			return seqs[i:], nil
		}
	}
	return seqs, nil
}

// scanHeader reads only the header of seg, tolerating an incomplete one as
// in the last segment.
func (l *Log) scanHeader(seg *segment) (scanResult, error) {
	f, err := l.fs.Open(seg.path)
	if err != nil {
		return scanResult{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return scanResult{}, err
	}
	torn, err := readSegHeader(f, st.Size(), seg, true)
	return scanResult{tornHeader: torn}, err
}

// scanFile verifies and indexes a whole segment file.
func (l *Log) scanFile(seg *segment, last bool) (scanResult, error) {
	f, err := l.fs.Open(seg.path)
	if err != nil {
		return scanResult{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return scanResult{}, err
	}
	return scanSegment(f, st.Size(), seg, last)
}

// cutTail replaces seg's file by its first validEnd bytes, atomically.
func (l *Log) cutTail(seg *segment, validEnd int64) error {
	l.logger.Warn("wal: cutting off a torn tail", "segment", seg.path, "at", validEnd, "last", fmt.Sprintf("%#x", seg.last()))
	tmp := seg.path + tmpSuffix
	if op, err := copyPrefix(l.fs, seg.path, tmp, validEnd); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFailed, op, err)
	}
	if err := l.fs.Rename(tmp, seg.path); err != nil {
		return fmt.Errorf("%w: rename %s: %w", ErrFailed, tmp, err)
	}
	if err := dirsync.Sync(l.fs, l.opts.Dir); err != nil {
		return fmt.Errorf("%w: syncing %s: %w", ErrFailed, l.opts.Dir, err)
	}
	return nil
}
