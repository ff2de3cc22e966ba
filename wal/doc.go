// Package wal is zk's transaction log and snapshot-file store. It is the
// source of truth for durability: a proposal is acknowledged only after
// Append returned, and Append returns only after its records were fsynced
// (unless Options.NoAppendSync).
//
// A record is a zxid (int64, strictly increasing across the whole log, not
// contiguous: zxid = epoch<<32 | counter) plus opaque bytes; wal knows
// nothing of what they mean. All file access goes through Pebble's vfs.FS.
//
// # Files
//
// Dir holds the segments log.<seq> (16 hex digits), the state file "state"
// (accepted and current epoch) and a LOCK file. SnapDir holds the snapshots
// snapshot.<zxid> (and snapshot directories snapshot.<zxid>.tree, below).
// Files ending in ".tmp" are unfinished writes: Open deletes
// them. A segment starts with a header (magic, format version, flags,
// sequence number, and the base zxid it starts after), followed by records
// framed in chunks that never cross a 4 KiB block, each with a CRC-32C (see
// format.go). A record carries its zxid and the segment's durable watermark
// at the time it was written: how many bytes of the segment had been synced
// before its group commit began.
//
// A segment written with PreAllocSize > 0 (flagged so in its header) is
// filled with zeros ahead of its records, as ZooKeeper pads its log files:
// when a group commit passes the zero-filled end, the same write and fsync
// add PreAllocSize bytes of zeros (never past SegmentSize). Later group
// commits overwrite zeros, so their fsyncs need not update the file's size.
// Such a segment ends, on disk, with zeros from a record boundary to the
// end of the file; readers know each segment's end from its index, never
// from the file's size. Segments written without the flag (by PreAllocSize
// < 0, or before preallocation existed) are read as before; a build that
// predates the flag refuses a flagged segment (an unknown header flag is
// ErrCorrupt) rather than misread it.
//
// # Concurrency
//
// All methods are safe for concurrent use. Append calls are ordered by
// arrival (their zxids are checked against each other in that order) and
// share fsyncs: the caller that finds no write in progress writes and syncs
// every queued call at once, while later callers queue behind it. Reads
// (ReadFrom, Entries, Contains, ...) never wait for a write: they see the
// entries durable when they start. TruncateAfter, Reset and Close first write
// the appends queued before them. A SnapshotWriter is used by one goroutine;
// several may exist at once.
//
// # Ownership
//
// Append takes ownership of each Entry.Data (it copies the bytes before it
// returns and never changes them, but the caller must not change them while
// Append runs). Entries returned by ReadFrom and Entries are fresh copies the
// caller owns.
//
// # Durability
//
// When Append, TruncateAfter, Reset, SetState or SnapshotWriter.Commit
// return nil, their effect survives any crash. Directory entries of new files
// are synced before data in them is acknowledged. A crash in the middle
// leaves:
//   - Append: every earlier acknowledged entry, plus a prefix of the
//     unacknowledged ones; never anything that was not appended.
//   - TruncateAfter(z): a prefix of the old log holding every entry <= z.
//   - Reset(b): the old log, or the empty log with Base() == b.
//   - Purge: a suffix of the log made of whole segments.
//   - SetState: the old or the new state.
//   - Commit: the snapshot is there complete or not at all; retention may
//     have deleted some of the older ones.
//
// With Options.NoAppendSync (ZooKeeper's forceSync=no) Append returns
// before its records are synced: they survive a crash of the process, and
// an operating-system crash leaves a prefix of the log that may lack
// entries Append acknowledged. Those records carry a watermark of 0, so
// the rule below takes whatever the crash zeroed in them for a torn tail.
// The newest segment is synced before another is created and by Close.
//
// # Torn tail versus corruption
//
// The crash model is the one of vfs.NewCrashableMem: after a crash, bytes
// written since the last fsync of a file are, by 4 KiB block, either what
// was written or zeros; the file may be shorter than what was written; new
// or removed directory entries not yet synced may or may not be there.
// Nothing else happens by itself: a block never holds bytes that were not
// written to it. From that, recovery applies this rule:
//
//   - Only the last segment may end badly. Its log ends at the last complete
//     record if what follows is (a) the end of the file inside a chunk or a
//     record, or (b) a zero-filled block: an all-zero chunk header followed
//     by zeros to the end of its block. Both are what a crash leaves of an
//     unacknowledged group commit, and Open cuts them off (rewriting the
//     segment's valid prefix through a temporary file and a rename).
//   - Any segment flagged as preallocated may end with zeros that begin
//     between two records and go on to the end of the file: that is its
//     zero-filled space, not a tear, and Open leaves it as it is. Whether
//     records are missing before it is for the next segment's base zxid to
//     tell (it must be this segment's last), and in the last segment for the
//     watermarks, as below.
//   - In such a segment a write torn inside a chunk is followed by the
//     zeros that were there, not by the end of the file. So in the last
//     segment a chunk that fails its checks ends the log as a torn write
//     (and is cut off) when zeros run from inside it to the end of the
//     file: its last byte (its header's, if the header is what fails) and
//     everything after it are zero. A chunk damaged after it was written
//     whole fails this unless its data ended with zeros; that case is not
//     told from a tear, as a zeroed block in the last group commit is not.
//   - Everything else is ErrCorrupt and Open refuses to start: a chunk whose
//     checksum, header check byte, type or length is wrong — anywhere,
//     including the last record of the last segment, since a crash cannot
//     turn a written byte into another non-zero value —, non-zero padding,
//     chunks out of sequence, zxids not increasing, a segment that does not
//     start where the previous one ended, and any incomplete record or
//     zeroed block (other than its zero-filled space) in a segment that is
//     not the last (segments before the last are fully synced before the
//     next one is created).
//   - A zeroed block inside synced data of the last segment is detected when
//     any intact record after it carries a durable watermark beyond it (it
//     was written by a later group commit, which proves the zeroed bytes had
//     been synced). A zeroed block in the last group commit before the crash
//     has no such witness and is indistinguishable from a torn write; it is
//     treated as one. Chunk checksums cover the segment's sequence number,
//     so a block from another segment is never taken for this one's.
//   - Because every chunk header carries a check byte over its length and
//     type, a damaged length that points past the end of the file is seen as
//     damage, not as a file cut short.
//
// # Errors and fail-stop
//
// Damage in synced data is ErrCorrupt. Any error of a write, fsync, create,
// rename, remove or directory sync fail-stops the Log: the failing call and
// every later call that returns an error return the first failure, wrapping
// ErrFailed and its cause. An fsync is never retried and nothing whose fsync
// failed is ever reported durable. Reads of files (open, read) that fail
// return the I/O error without fail-stopping. ErrOutOfOrder, ErrTooLarge and
// ErrNotFound reject one call and change nothing. After Close, calls return
// ErrClosed (which is zkerr.ErrClosed).
//
// # Snapshots
//
// CreateSnapshot returns a writer for an opaque byte stream of the tree at a
// zxid; Commit appends a trailer (length and CRC-32C), fsyncs, renames the
// temporary file to snapshot.<zxid>, syncs the directory, then keeps only
// the SnapRetainCount newest snapshots (never deleting the one just
// committed). OpenSnapshot checks the header and trailer at once and the
// checksum when the content has been read entirely.
//
// A snapshot may also be a directory whose content is the caller's (a
// checkpoint of the tree's store): CreateSnapshotDir names a temporary
// directory for the caller to fill and make durable, and Commit renames it
// to snapshot.<zxid>.tree and syncs SnapDir. Snapshots lists both kinds,
// retention counts and deletes both, SnapshotDir tells a directory from a
// file, and Open deletes unfinished directories as it deletes temporary
// files. A file committed at a directory's zxid replaces it; a directory
// committed at an existing snapshot's zxid is discarded.
//
// SnapCount and PurgeInterval are the caller's policy: it decides when to
// write a snapshot and when to call Purge (with a zxid covered by a
// retained snapshot and by the state machine's durable state).
package wal
