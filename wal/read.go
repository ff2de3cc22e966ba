package wal

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
)

// segView is a reader's consistent view of the records of one segment.
type segView struct {
	seq   uint64
	path  string
	from  int     // first record to read
	zxids []int64 // durable records when the view was taken
	ends  []int64
}

// ReadFrom calls fn for each durable entry with Zxid > after, in order, until
// fn returns an error (returned as is) or the entries end. It is safe
// concurrently with Append and sees the entries durable when it started. If
// entries after `after` are no longer all in the log (after < Base()) it
// returns ErrNotFound. Entry.Data is a fresh copy that fn may keep.
func (l *Log) ReadFrom(after int64, fn func(Entry) error) error {
	views, err := l.views(after)
	if err != nil {
		return err
	}
	for _, v := range views {
		if err := l.readView(v, fn); err != nil {
			return err
		}
	}
	return nil
}

// errStop ends a ReadFrom early inside Entries.
var errStop = errors.New("stop")

// Entries returns the entries with Zxid > after, as many as fit in maxBytes
// of data, but at least one if there is any. The slices are fresh copies.
func (l *Log) Entries(after int64, maxBytes int) ([]Entry, error) {
	var out []Entry
	total := 0
	err := l.ReadFrom(after, func(e Entry) error {
		if len(out) > 0 && total+len(e.Data) > maxBytes {
			return errStop
		}
		out = append(out, e)
		total += len(e.Data)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return out, nil
}

// views captures what a reader reads: the durable records after `after`.
func (l *Log) views(after int64) ([]segView, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return nil, err
	}
	if base := l.baseLocked(); after < base {
		return nil, fmt.Errorf("%w: entries after %#x: the log starts after %#x", ErrNotFound, after, base)
	}
	var views []segView
	for _, s := range l.segs {
		from := s.after(after)
		if from == len(s.zxids) {
			continue
		}
		views = append(views, segView{
			seq: s.seq, path: s.path, from: from,
			zxids: s.zxids[:len(s.zxids):len(s.zxids)],
			ends:  s.ends[:len(s.ends):len(s.ends)],
		})
	}
	return views, nil
}

// readView reads the records of one view from its file.
func (l *Log) readView(v segView, fn func(Entry) error) error {
	f, err := l.fs.Open(v.path)
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w: segment %s was removed during the read", ErrNotFound, v.path)
	}
	if err != nil {
		return fmt.Errorf("wal: opening %s: %w", v.path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: %s: %w", v.path, err)
	}
	end := v.ends[len(v.ends)-1]
	if st.Size() < end {
		return fmt.Errorf("%w: segment %s was truncated during the read", ErrNotFound, v.path)
	}
	start := int64(segHeaderSize)
	if v.from > 0 {
		start = v.ends[v.from-1]
	}
	r := newRecordReader(f, end, v.seq, start, true)
	for i := v.from; i < len(v.zxids); i++ {
		rec, err := r.next()
		if err == nil && (rec.zxid != v.zxids[i] || rec.end != v.ends[i]) {
			err = corruptf("offset %d: zxid %#x, want %#x", rec.start, rec.zxid, v.zxids[i])
		}
		if err != nil {
			if _, ok := isTorn(err); ok || errors.Is(err, io.EOF) {
				err = corruptf("%v", err)
			}
			return fmt.Errorf("wal: reading %s: %w", v.path, err)
		}
		if err := fn(Entry{Zxid: rec.zxid, Data: rec.data}); err != nil {
			return err
		}
	}
	return nil
}
