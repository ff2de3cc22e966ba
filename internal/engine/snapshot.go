package engine

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// snapshotter writes a snapshot of the tree every SnapCount txns (a random
// count in [SnapCount/2, SnapCount], so peers do not all snapshot at once,
// as in ZooKeeper) and purges old snapshots and log segments every
// PurgeInterval. The work runs on one background goroutine at a time, owned
// by the peer loop.
type snapshotter struct {
	p         *peer
	rng       *rand.Rand
	count     int // txns applied since the last snapshot
	threshold int
	running   bool
	lastPurge time.Time
	doneC     chan error
}

func (s *snapshotter) init(p *peer, rng *rand.Rand) {
	s.p, s.rng = p, rng
	s.doneC = make(chan error, 1)
	s.lastPurge = time.Now()
	s.rearm()
}

func (s *snapshotter) rearm() {
	n := s.p.cfg.SnapCount
	s.count = 0
	s.threshold = n/2 + s.rng.IntN(n/2+1)
}

// applied counts applied txns and starts a snapshot when it is time.
func (s *snapshotter) applied(n int) {
	s.count += n
	purgeDue := s.p.cfg.PurgeInterval > 0 && time.Since(s.lastPurge) >= s.p.cfg.PurgeInterval
	if s.running || (s.count < s.threshold && !purgeDue) {
		return
	}
	snapDue := s.count >= s.threshold
	if snapDue {
		s.rearm()
	}
	if purgeDue {
		s.lastPurge = time.Now()
	}
	s.start(snapDue, purgeDue)
}

// start launches the background work. A snapshot is a checkpoint of the
// tree's store (checkpoint), taken on the background goroutine: its zxid is
// whatever the tree holds once flushed there, at least the applied one now.
func (s *snapshotter) start(snap, purge bool) {
	e := s.p.e
	work := func() error {
		var err error
		if snap {
			err = s.checkpoint()
		}
		if purge && err == nil {
			err = s.purge()
		}
		if err != nil {
			// A failed flush, link, fsync or rename: the peer stops at once
			// (fail-stop), as after any other disk error.
			e.fail(fmt.Errorf("zk: snapshot or log purge: %w", err))
		}
		return err
	}
	if s.p.cfg.TestHooks.IsStepped() {
		_ = work() // a simulation decides when everything happens
		return
	}
	s.running = true
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		s.doneC <- work()
	}()
}

// snapHandle is a consistent view of the tree being written out.
type snapHandle interface {
	Zxid() int64
	WriteTo(w io.Writer) (int64, error)
	Close() error
}

// checkpoint writes a snapshot as a checkpoint of the tree's store: its
// tables and blob files are hard links to the tree's own, so it costs a
// flush and a few links instead of reading and writing the whole tree
// (BenchmarkCheckpoint100k against BenchmarkWriteSnapshot100k). It is read
// back as a snapshot stream by openSnapshot.
func (s *snapshotter) checkpoint() error {
	e := s.p.e
	start := time.Now()
	d, err := e.wal.CreateSnapshotDir()
	if err != nil {
		return err
	}
	zxid, size, err := e.tree.Checkpoint(d.Path())
	if err != nil {
		return errors.Join(err, d.Abort())
	}
	if err := s.p.hook(hooks.BeforeSnapshot); err != nil {
		e.fail(err)
		return errors.Join(err, d.Abort())
	}
	if err := d.Commit(zxid); err != nil {
		return err
	}
	e.obs.snapshotWritten(size, time.Since(start))
	e.remote.lastSnap.Store(&snapStamp{zxid: zxid, at: time.Now()})
	s.p.cfg.Logger.Info("zk: snapshot written", "zxid", hexZxid(zxid), "bytes", size, "took", time.Since(start))
	return nil
}

// purge deletes log segments no longer needed: below both the tree's
// durable state and the oldest snapshot kept.
func (s *snapshotter) purge() error {
	e := s.p.e
	durable, err := e.tree.Flush()
	if err != nil {
		return err
	}
	upTo := durable
	if snaps := e.wal.Snapshots(); len(snaps) > 0 {
		upTo = min(upTo, snaps[len(snaps)-1])
	} else {
		return nil // keep the whole log until a snapshot exists
	}
	n, err := e.wal.Purge(upTo)
	if n > 0 {
		s.p.cfg.Logger.Info("zk: purged the log", "segments", n, "below_zxid", hexZxid(upTo))
	}
	return err
}

// finished is called by the loop when the background work ends (a failure
// has failed the peer already).
func (s *snapshotter) finished() { s.running = false }

// stop waits for the background work (the peer is shutting down).
func (s *snapshotter) stop() {
	if s.running {
		<-s.doneC
		s.running = false
	}
}

// snapshotChunk takes one chunk of a snapshot from the leader; the last one
// makes it durable, restarts the log after it and replaces the tree.
func (p *peer) snapshotChunk(op zab.PersistOp) error {
	if op.Offset == 0 && p.snapIn != nil {
		// The leader started over (an earlier sync was abandoned midway).
		p.snapIn.Abort()
		p.snapIn = nil
	}
	if p.snapIn == nil {
		w, err := p.e.wal.CreateSnapshot(op.Zxid)
		if err != nil {
			return err
		}
		p.snapIn = w
	}
	if _, err := p.snapIn.Write(op.Snapshot); err != nil {
		return err
	}
	if !op.Last {
		return nil
	}
	p.snap.stop() // its checkpoint or purge reads the tree Restore replaces
	w := p.snapIn
	p.snapIn = nil
	if err := w.Commit(); err != nil {
		return err
	}
	if err := p.hook(hooks.BeforeSnapInstall); err != nil {
		return err
	}
	if err := p.e.wal.Reset(op.Zxid); err != nil {
		return err
	}
	if err := p.hook(hooks.AfterSnapInstall); err != nil {
		return err
	}
	p.e.applyMu.Lock()
	before := p.e.applied.load()
	err := p.e.restoreSnapshot(op.Zxid)
	if err == nil {
		p.e.applied.zxid.Store(op.Zxid)
		p.snapshotMembers()
		p.refireWatches(before)
	}
	p.e.applyMu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: installing the leader's snapshot %#x: %v", zkerr.ErrSystem, op.Zxid, err)
	}
	p.e.applied.advance(op.Zxid)
	p.cfg.Logger.Info("zk: installed the leader's snapshot", "zxid", hexZxid(op.Zxid))
	return nil
}

// openSnapshot streams the retained snapshot at zxid: a snapshot file (a
// leader's, installed by snapshotChunk) or a checkpoint of the tree
// (checkpoint), which a goroutine owned by the reader streams until Close.
// Retention may delete the checkpoint meanwhile, and Pebble opens its files
// only as it reads them, so the stream reads a private link copy of it, in
// a temporary snapshot directory that is never committed (Close deletes it,
// and the log's Open deletes what a crash leaves).
func (e *Ensemble) openSnapshot(zxid int64) (io.ReadCloser, error) {
	dir, ok := e.wal.SnapshotDir(zxid)
	if !ok {
		return e.wal.OpenSnapshot(zxid)
	}
	tmp, err := e.wal.CreateSnapshotDir()
	if err != nil {
		return nil, err
	}
	if err := znode.LinkCheckpoint(e.cfg.FS, dir, tmp.Path()); err != nil {
		return nil, errors.Join(err, tmp.Abort())
	}
	c, err := znode.OpenCheckpoint(e.cfg.FS, tmp.Path())
	if err != nil {
		return nil, errors.Join(err, tmp.Abort())
	}
	pr, pw := io.Pipe()
	r := &checkpointReader{PipeReader: pr, c: c, tmp: tmp, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_, err := c.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	return r, nil
}

// checkpointReader is a checkpoint's snapshot stream.
type checkpointReader struct {
	*io.PipeReader
	c    *znode.Snapshot
	tmp  *wal.SnapshotDir
	done chan struct{}
}

// Close stops the stream, waits for its goroutine, closes the checkpoint
// and deletes the link copy.
func (r *checkpointReader) Close() error {
	r.PipeReader.CloseWithError(io.ErrClosedPipe)
	<-r.done
	return errors.Join(r.c.Close(), r.tmp.Abort())
}
