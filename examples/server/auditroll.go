package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// The audit log rolls over as ZooKeeper 3.8's conf/logback.xml has its
// RFAAUDIT appender roll zookeeper_audit.log: a SizeBasedTriggeringPolicy
// of MaxFileSize 10MB (logback's MB: 1024*1024 bytes) and a
// FixedWindowRollingPolicy of indexes 1 to 10. Before a line is written to
// a file that has reached the size, the oldest rolled file (.10) is
// deleted, .9 becomes .10, ... .1 becomes .2, the file becomes .1, and the
// line starts a new, empty file. A line is never split between files.
const (
	auditRollSize = 10 * 1024 * 1024
	auditRollKeep = 10
)

// rollingFile is an io.Writer that appends to path and rolls it over once
// it holds max bytes or more, keeping keep rolled files (path.1, the
// newest, to path.keep). Its caller serializes the calls.
type rollingFile struct {
	path string
	max  int64
	keep int
	f    *os.File // nil when (re)opening it failed: the next Write tries again
	size int64
	// closed: Close was called; Write fails rather than reopen the file.
	closed bool
}

// openRolling opens path for appending, rolling at max bytes with keep
// rolled files.
func openRolling(path string, max int64, keep int) (*rollingFile, error) {
	w := &rollingFile{path: path, max: max, keep: keep}
	if err := w.open(os.O_APPEND); err != nil {
		return nil, err
	}
	return w, nil
}

// open opens the file with flag (O_APPEND to go on with it, O_TRUNC to
// start it anew) and learns its size.
func (w *rollingFile) open(flag int) error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|flag, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write appends p, rolling the file over first if it is full. A failed
// rollover is returned, and p is still appended to the file as it is (as
// logback goes on writing to the file it could not roll).
func (w *rollingFile) Write(p []byte) (int, error) {
	if w.closed {
		return 0, os.ErrClosed
	}
	var rollErr error
	if w.f != nil && w.size >= w.max {
		rollErr = w.roll()
	}
	if w.f == nil {
		if err := w.open(os.O_APPEND); err != nil {
			return 0, errors.Join(rollErr, err)
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, errors.Join(rollErr, err)
}

// roll closes the file, shifts the rolled files up by one (dropping the
// oldest), renames the file to path.1 and opens a new one. If a step
// fails, the file is opened again as it is, to be appended to.
func (w *rollingFile) roll() error {
	err := w.f.Close()
	w.f = nil
	if err == nil {
		err = w.shift()
	}
	if err != nil {
		return errors.Join(fmt.Errorf("rolling %s over: %w", w.path, err), w.open(os.O_APPEND))
	}
	return w.open(os.O_TRUNC)
}

// shift renames path.i to path.i+1 from the oldest down, the oldest
// deleted, and path to path.1.
func (w *rollingFile) shift() error {
	name := func(i int) string { return w.path + "." + strconv.Itoa(i) }
	if err := os.Remove(name(w.keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for i := w.keep - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Rename(w.path, name(1))
}

// Close closes the file.
func (w *rollingFile) Close() error {
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
