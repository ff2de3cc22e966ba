package wal

import (
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// Sentinel errors. Every error the package returns wraps one of them (or is
// an I/O error of the underlying vfs.FS, passed through with context).
var (
	// ErrCorrupt reports damage in data the log had made durable: a checksum
	// mismatch, an impossible header, a zeroed block inside synced records,
	// a missing segment in the middle of the log. Open refuses to start.
	ErrCorrupt = errors.New("wal: corrupt data")
	// ErrFailed reports that a write, fsync, create, rename, remove or
	// directory sync failed earlier: the Log is fail-stopped and every later
	// call returns the first failure, wrapping ErrFailed and its cause.
	ErrFailed = errors.New("wal: fail-stopped after an I/O error")
	// ErrClosed reports a call on a closed Log. It is zkerr.ErrClosed, so
	// errors.Is matches the root package's ErrClosed too.
	ErrClosed = zkerr.ErrClosed
	// ErrOutOfOrder reports an appended zxid that is not greater than the
	// last one; nothing of that call is written.
	ErrOutOfOrder = errors.New("wal: zxid out of order")
	// ErrNotFound reports a snapshot that does not exist, a truncation point
	// that is not in the log, or a read from before the start of the log.
	ErrNotFound = errors.New("wal: not found")
	// ErrTooLarge reports an entry whose data exceeds MaxEntrySize; nothing of
	// that call is written.
	ErrTooLarge = errors.New("wal: entry too large")
)

// corruptf returns an error wrapping ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// fail records the first I/O failure and fail-stops the Log. It returns the
// recorded failure, which every later call returns as well.
func (l *Log) fail(op string, err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == nil {
		l.failed = fmt.Errorf("%w: %s: %w", ErrFailed, op, err)
		l.logger.Error("wal: fail-stop", "op", op, "err", err)
	}
	return l.failed
}

// usableLocked returns the error a call must fail with, if any: the recorded
// failure first, then ErrClosed. l.mu must be held.
func (l *Log) usableLocked() error {
	if l.failed != nil {
		return l.failed
	}
	if l.closed {
		return ErrClosed
	}
	return nil
}

func (l *Log) usable() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.usableLocked()
}
