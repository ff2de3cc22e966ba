package engine

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab"
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

// start launches the background work: the snapshot is taken here, in the
// loop, so its zxid is exactly the applied one.
func (s *snapshotter) start(snap, purge bool) {
	e := s.p.e
	var sn snapHandle
	if snap {
		var err error
		if sn, err = e.tree.NewSnapshot(); err != nil {
			s.p.cfg.Logger.Warn("zk: taking a snapshot", "err", err)
			snap = false
		}
	}
	work := func() error {
		var err error
		if snap {
			err = s.write(sn)
		}
		if purge && err == nil {
			err = s.purge()
		}
		if err != nil {
			// A failed write, fsync or rename of the log's files: the peer
			// stops at once (fail-stop), as after any other disk error.
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

func (s *snapshotter) write(sn snapHandle) error {
	defer sn.Close()
	start := time.Now()
	w, err := s.p.e.wal.CreateSnapshot(sn.Zxid())
	if err != nil {
		return err
	}
	size, err := sn.WriteTo(w)
	if err != nil {
		w.Abort()
		return err
	}
	if err := s.p.hook(hooks.BeforeSnapshot); err != nil {
		s.p.e.fail(err)
		w.Abort()
		return err
	}
	if err := w.Commit(); err != nil {
		return err
	}
	s.p.e.obs.snapshotWritten(size, time.Since(start))
	s.p.cfg.Logger.Info("zk: snapshot written", "zxid", hexZxid(sn.Zxid()), "bytes", size, "took", time.Since(start))
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
