package wal

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults applied by Open to zero-valued Options fields.
const (
	DefaultSegmentSize     = 64 << 20
	DefaultPreAllocSize    = 1 << 20
	DefaultSnapRetainCount = 3
	// MinSnapRetainCount is the smallest SnapRetainCount accepted, as in
	// ZooKeeper's autopurge.snapRetainCount.
	MinSnapRetainCount = 3
)

// Options configures a Log. Open copies it; the caller may reuse it.
type Options struct {
	// FS is the file system every file goes through. Required.
	FS vfs.FS
	// Dir holds the log segments and the state file (ZooKeeper's
	// dataLogDir). Required; created if missing.
	Dir string
	// SnapDir holds the snapshot files (ZooKeeper's dataDir). It may equal
	// Dir; empty means Dir. Created if missing.
	SnapDir string
	// SegmentSize: a segment is rolled over once it holds at least this many
	// bytes (a segment always takes at least one record). 0 means
	// DefaultSegmentSize.
	SegmentSize int64
	// PreAllocSize is how far ahead of its records a segment is filled with
	// zeros (ZooKeeper's preAllocSize): when a group commit passes the
	// zero-filled end, the file grows by this many bytes of zeros (not past
	// SegmentSize) in the same fsync. The fsyncs of the groups that follow
	// then overwrite zeros instead of growing the file, which spares the
	// file system a metadata update each time (1.1-1.5x more fsyncs/s on
	// ext4 here). 0 means DefaultPreAllocSize; negative turns it off.
	PreAllocSize int64
	// NoAppendSync makes Append return once its records are written to
	// the segment file, without the fsync that makes them durable: an
	// operating-system crash or a power loss (not the process's own crash,
	// whose writes the kernel keeps) may then lose entries Append
	// acknowledged, as ZooKeeper's zookeeper.forceSync=no skips the force
	// of its transaction log at each commit. Only the group commits' fsync,
	// the one forceSync governs in ZooKeeper, is skipped; every other one
	// stays: the directory sync of a new segment, the state file (as
	// ZooKeeper still syncs its epoch files), snapshots, TruncateAfter and
	// Reset. The records written so do not vouch for
	// anything being synced (their watermark is 0), so recovery takes any
	// zeroed block they left for a torn tail and keeps the log up to it.
	// Beyond ZooKeeper, a segment is synced before the next one is created
	// (whichever run wrote it) and by Close, so that only the last segment
	// can end badly, the rule recovery checks (doc.go): one fsync per
	// SegmentSize of log and one at Close. (Without the option, that makes
	// one fsync more per Open: the first rollover syncs the segment a
	// previous run left, which may have used it.)
	NoAppendSync bool
	// SnapRetainCount is how many of the newest snapshot files Commit keeps.
	// 0 means DefaultSnapRetainCount; below MinSnapRetainCount is an error.
	SnapRetainCount int
	// Logger receives recovery and failure events. Optional.
	Logger *slog.Logger
}

// withDefaults validates o and fills its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.FS == nil {
		return o, errors.New("wal: Options.FS is required")
	}
	if o.Dir == "" {
		return o, errors.New("wal: Options.Dir is required")
	}
	if o.SnapDir == "" {
		o.SnapDir = o.Dir
	}
	switch {
	case o.SegmentSize == 0:
		o.SegmentSize = DefaultSegmentSize
	case o.SegmentSize < 0:
		return o, fmt.Errorf("wal: Options.SegmentSize %d is negative", o.SegmentSize)
	}
	if o.PreAllocSize == 0 {
		o.PreAllocSize = DefaultPreAllocSize
	}
	switch {
	case o.SnapRetainCount == 0:
		o.SnapRetainCount = DefaultSnapRetainCount
	case o.SnapRetainCount < MinSnapRetainCount:
		return o, fmt.Errorf("wal: Options.SnapRetainCount %d is below the minimum %d",
			o.SnapRetainCount, MinSnapRetainCount)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
