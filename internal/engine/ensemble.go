package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/znode"
)

// Ensemble is this process's peer of a ZooKeeper ensemble (or a standalone
// ensemble of one). Its methods are safe for concurrent use.
type Ensemble struct {
	cfg     Config
	wal     *wal.Log
	tree    *znode.Tree
	live    liveTree // the tree as the transaction being applied left it
	watches *watch.Manager
	strict  strictWatches       // gapless watches, ended if the tree jumps
	journal journal             // recent changes, for resuming watches
	trans   transport.Transport // nil standalone
	ownsTr  bool                // the Ensemble made trans and closes it

	// applyMu orders applying (write lock: tree apply + watch trigger)
	// against reads (read lock: tree read + watch registration), so no
	// change slips between a read and its watch and no read sees data whose
	// events are not queued yet.
	applyMu sync.RWMutex
	applied appliedMark

	reqC   chan *request // client requests
	ctlC   chan *request // ticks and barriers
	inLoop atomic.Int64  // client requests queued or in flight
	// period counts the peer's serving periods and the gaps between them
	// (the loop adds one as it starts and as it stops serving): a client
	// request runs only in the period it was handed over in (stale).
	period atomic.Uint64
	// away are the sessions this peer, as leader, knows another peer
	// owns (owner.go).
	away   awaySessions
	stopC  chan struct{}
	doneC  chan struct{}
	closed atomic.Bool
	wg     sync.WaitGroup

	status   atomic.Pointer[Status]
	serving  atomic.Bool
	failErr  atomic.Pointer[error]
	statusMu sync.Mutex
	changed  chan struct{} // closed and replaced at every status change
	// stoppedAt is when the peer last stopped serving (or started), read
	// under statusMu: the client port holds a connect for a while after
	// (AwaitServing).
	stoppedAt time.Time

	sessMu   sync.Mutex
	sessions map[int64]*Session // attached to this peer
	slots    sessionSlots       // MaxSessions and MaxClientCnxns (slots.go)
	ids      *sessionIDs

	peer *peer // owned by the loop goroutine after start

	members atomic.Pointer[ClusterConfig] // the configuration applied here (reconfig.go)

	remote remoteState // the client protocol's state (remote.go)
	obs    observer    // status details and metrics (status.go, metrics.go)
	// digests keeps recent tree digests (digestlog.go).
	digests digestLog
	ro      roState       // read-only mode (readonly.go)
	lsess   localSessions // Config.LocalSessions (localsess.go)
	// audit writes the audit log (audit.go); nil when it is off.
	audit *auditor
}

// NewEnsemble opens (or creates) this peer's storage, recovers its state and
// starts it. With no Servers it is a standalone ensemble of one; otherwise it
// joins the ensemble the Servers describe. It returns once the peer runs;
// NewSession waits until it serves. With Config.AuditEnabled it logs
// serverStart, a success or a failure.
func NewEnsemble(cfg Config) (*Ensemble, error) {
	e, err := newEnsemble(cfg)
	if err != nil {
		if a := newAuditor(cfg); a != nil {
			a.started(err)
		}
		return nil, err
	}
	if e.audit != nil {
		e.audit.started(nil)
	}
	return e, nil
}

// newEnsemble is NewEnsemble but for the audit log.
func newEnsemble(cfg Config) (*Ensemble, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.logRisks()
	e := &Ensemble{
		cfg:       cfg,
		watches:   newWatchManager(cfg),
		reqC:      make(chan *request, 1024),
		ctlC:      make(chan *request),
		stopC:     make(chan struct{}),
		doneC:     make(chan struct{}),
		sessions:  map[int64]*Session{},
		changed:   make(chan struct{}),
		stoppedAt: time.Now(),
		audit:     newAuditor(cfg),
	}
	e.journal.limit = journalBytes
	if n := cfg.TestHooks.JournalBytes(); n > 0 {
		e.journal.limit = n
	}
	if err := e.openStorage(); err != nil {
		return nil, err
	}
	cfg.TestHooks.AttachView(inspector{e})
	if err := e.loadMembers(); err != nil {
		e.closeStorage()
		return nil, err
	}
	if err := e.openTransport(); err != nil {
		e.closeStorage()
		return nil, err
	}
	p, err := newPeer(e)
	if err != nil {
		e.closeTransport()
		e.closeStorage()
		return nil, err
	}
	e.peer = p
	if err := e.obs.init(e); err != nil {
		e.closeTransport()
		e.closeStorage()
		return nil, err
	}
	p.observeStart()
	e.setStatus(p.status())
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(e.doneC)
		p.run()
	}()
	return e, nil
}

func (e *Ensemble) openStorage() error {
	c := e.cfg
	l, err := wal.Open(wal.Options{
		FS: c.FS, Dir: c.DataLogDir, SnapDir: c.DataDir + "/snapshots",
		SnapRetainCount: c.walSnapRetain(), Logger: c.Logger, SegmentSize: c.TestHooks.SegmentBytes(),
		PreAllocSize: c.PreAllocSize, NoAppendSync: c.NoForceSync,
	})
	if err != nil {
		return fmt.Errorf("zk: opening the log in %s: %w", c.DataLogDir, err)
	}
	t, err := znode.Open(c.treeOptions())
	if err != nil {
		l.Close()
		return fmt.Errorf("zk: opening the tree in %s: %w", c.DataDir, err)
	}
	e.wal, e.tree = l, t
	e.live.tree = t
	if err := e.recover(); err != nil {
		e.closeStorage()
		return err
	}
	zxid, _ := t.Applied()
	e.applied.advance(zxid)
	return nil
}

// recover brings the tree to a state from which the log can be replayed:
// the tree's own durable state if the log continues it, else the newest
// snapshot the log continues.
func (e *Ensemble) recover() error {
	applied, _ := e.tree.Applied()
	if last := e.wal.LastZxid(); e.cfg.NoForceSync && applied > last {
		// (Before logContinues, which takes a log left empty from its
		// start, as its first segment's unsynced records all lost, for
		// one that continues any tree.)
		return e.restartLog(applied, last)
	}
	if e.logContinues(applied) {
		return nil
	}
	for _, zxid := range e.wal.Snapshots() {
		if zxid <= applied || !e.logContinues(zxid) {
			continue
		}
		err := e.restoreSnapshot(zxid)
		if err == nil {
			return nil
		}
		e.cfg.Logger.Warn("zk: snapshot unusable, trying an older one", "zxid", zxid, "err", err)
	}
	return fmt.Errorf("zk: cannot recover: the tree is at zxid %#x but the log holds (%#x, %#x] and no snapshot bridges the gap",
		applied, e.wal.Base(), e.wal.LastZxid())
}

// restartLog makes the log start after the tree's zxid when, with
// NoForceSync, an operating-system crash left the tree ahead of the log:
// the log lost the tail it had not synced, and the tree, flushed apart
// from it, holds committed transactions up to applied. The peer goes on
// from its tree, as a peer that installed a snapshot at that zxid (a
// leader sends a follower behind it a snapshot), and as ZooKeeper goes on
// from a snapshot ahead of its log.
func (e *Ensemble) restartLog(applied, last int64) error {
	e.cfg.Logger.Warn("zk: NoForceSync: the log lost transactions the tree holds (an operating-system crash?); "+
		"the log starts over after the tree's zxid", "tree", hexZxid(applied), "log_last", hexZxid(last))
	if err := e.wal.Reset(applied); err != nil {
		return fmt.Errorf("zk: restarting the log after zxid %#x: %w", applied, err)
	}
	return nil
}

// logContinues reports whether replaying the log after zxid is possible:
// every entry after zxid is still in the log.
func (e *Ensemble) logContinues(zxid int64) bool {
	last := e.wal.LastZxid()
	switch {
	case zxid > last && last != 0:
		return false // the tree is ahead of the log: never expected
	case zxid == e.wal.Base():
		return true
	case e.wal.FirstZxid() == 0:
		return zxid >= e.wal.Base()
	}
	return e.wal.Contains(zxid)
}

func (e *Ensemble) restoreSnapshot(zxid int64) error {
	r, err := e.openSnapshot(zxid)
	if err != nil {
		return err
	}
	defer r.Close()
	got, err := e.tree.Restore(r)
	if err != nil {
		return err
	}
	if got != zxid {
		return fmt.Errorf("zk: snapshot file %#x holds zxid %#x", zxid, got)
	}
	return nil
}

// closeStorage closes the tree and the log. A peer that failed closes its
// tree without flushing it (its disk may take no flush, and the log holds
// what the tree would lose); otherwise a flush that fails is returned.
func (e *Ensemble) closeStorage() error {
	var errs []error
	if e.tree != nil {
		// Wait for readers in flight; later ones see the ensemble closed.
		e.applyMu.Lock()
		if e.failErr.Load() != nil {
			errs = append(errs, e.tree.CloseNoFlush())
		} else if err := e.tree.Close(); err != nil {
			errs = append(errs, fmt.Errorf("zk: closing the tree: %w", err))
		}
		e.applyMu.Unlock()
	}
	if e.wal != nil {
		errs = append(errs, e.wal.Close())
	}
	return errors.Join(errs...)
}

// Close stops the peer: every goroutine it started is gone when it returns.
// Sessions attached to it fail with ErrClosed from then on; their state in
// the ensemble is untouched (they may be re-attached elsewhere, or expire).
// Close returns the failure that stopped a failed peer, and an error of
// its storage (a flush the disk refused): what the tree could not flush is
// replayed from the log at the next start. Close always returns; a second
// Close returns nil. With Config.AuditEnabled the first Close logs
// serverStop (invoked) before it stops anything.
func (e *Ensemble) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	if e.audit != nil {
		e.audit.server("serverStop", auditInvoked) // before anything stops, as ZooKeeper's shutdown hook
	}
	close(e.stopC)
	e.wg.Wait()
	e.closeTransport()
	e.obs.close()
	e.applied.stop(zkerr.ErrClosed)
	e.closeSessions()
	last := e.wal.LastZxid()
	err := e.closeStorage()
	if p := e.failErr.Load(); p != nil {
		err = errors.Join(fmt.Errorf("zk: the peer had failed: %w", *p), err)
	}
	st := e.Status()
	st.Mode, st.Serving, st.LastZxid = ModeClosed, false, last
	e.setStatus(st)
	return err
}

func (e *Ensemble) closeSessions() {
	e.sessMu.Lock()
	sessions := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
		e.forgetLocked(s)
	}
	e.sessMu.Unlock()
	for _, s := range sessions {
		s.end(StateClosed)
		e.watches.DropSession(s.id, zkerr.ErrClosed)
	}
}

// Status returns what the peer is doing now.
func (e *Ensemble) Status() Status {
	st := *e.status.Load()
	st.Applied = e.applied.load()
	if !e.closed.Load() {
		st.LastZxid = e.wal.LastZxid() // the core reports it only with a change of role
	}
	e.sessMu.Lock()
	st.Sessions = len(e.sessions)
	e.sessMu.Unlock()
	if p := e.failErr.Load(); p != nil {
		st.Err = *p
		if st.Mode != ModeClosed {
			st.Mode, st.Serving = ModeFailed, false
		}
	}
	st.Requests = int(e.inLoop.Load())
	e.fillStatus(&st)
	return st
}

func (e *Ensemble) setStatus(st Status) {
	e.statusMu.Lock()
	e.status.Store(&st)
	serving := st.Serving && e.failErr.Load() == nil
	if e.serving.Swap(serving) && !serving {
		e.stoppedAt = time.Now()
	}
	close(e.changed)
	e.changed = make(chan struct{})
	e.statusMu.Unlock()
}

// statusChanged returns a channel closed at the next status change.
func (e *Ensemble) statusChanged() <-chan struct{} {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	return e.changed
}

// errIfDown returns the error a call gets when the peer cannot serve it.
func (e *Ensemble) errIfDown() error {
	switch {
	case e.closed.Load():
		return zkerr.ErrClosed
	case e.failErr.Load() != nil:
		return fmt.Errorf("%w: peer failed: %v", zkerr.ErrNotServing, *e.failErr.Load())
	case !e.serving.Load():
		if e.removed() {
			st := e.status.Load()
			return fmt.Errorf("%w: removed from the ensemble by configuration %x", zkerr.ErrNotServing, st.ConfigVersion)
		}
		return zkerr.ErrNotServing
	}
	return nil
}

// removed reports whether this peer restarted after a committed reconfig
// removed it (it serves nothing; one removed while it runs keeps serving).
func (e *Ensemble) removed() bool {
	st := e.status.Load()
	return st != nil && st.Removed
}

// submit hands a client request to the peer loop.
func (e *Ensemble) submit(ctx context.Context, r *request) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	return e.hand(ctx, r)
}

// trySubmit hands r to the peer loop if its queue has room, without
// waiting (ErrWouldBlock).
func (e *Ensemble) trySubmit(r *request) error { return e.hand(nil, r) }

// hand puts r in the peer loop's queue: waiting for room until ctx ends,
// or not at all with a nil ctx (ErrWouldBlock).
func (e *Ensemble) hand(ctx context.Context, r *request) error {
	if e.closed.Load() {
		return zkerr.ErrClosed
	}
	r.inLoop = &e.inLoop
	r.period = e.period.Load() + 1
	e.inLoop.Add(1)
	var err error
	if ctx == nil {
		select {
		case e.reqC <- r:
		default:
			err = ErrWouldBlock
		}
	} else {
		select {
		case e.reqC <- r:
		case <-e.stopC:
			err = zkerr.ErrClosed
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		e.inLoop.Add(-1)
		return err
	}
	e.cfg.TestHooks.At(e.cfg.ID, hooks.Queued)
	return nil
}

// control hands a tick or barrier to the peer loop and waits for it.
func (e *Ensemble) control(ctx context.Context, kind reqKind) error {
	return e.runControl(ctx, newRequest(kind, nil))
}

// runControl hands r to the peer loop's control channel and waits for it.
func (e *Ensemble) runControl(ctx context.Context, r *request) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if e.closed.Load() {
		return zkerr.ErrClosed
	}
	select {
	case e.ctlC <- r:
	case <-e.stopC:
		return zkerr.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-e.doneC:
		return zkerr.ErrClosed
	}
}

// WaitServing waits until the peer serves (it is part of a working quorum),
// ticking a ManualClock ensemble as it waits.
func (e *Ensemble) WaitServing(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	for {
		changed := e.statusChanged()
		if e.serving.Load() {
			return nil
		}
		if err := e.errIfDown(); !errors.Is(err, zkerr.ErrNotServing) || e.failErr.Load() != nil || e.removed() {
			return err // a removed peer never serves again
		}
		if e.cfg.ManualClock {
			if err := e.Tick(ctx); err != nil {
				return err
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-e.stopC:
			return zkerr.ErrClosed
		}
	}
}

// Tick advances a ManualClock ensemble by one tick (a tenth of TickTime) and
// returns once the peer has handled it and everything it caused locally.
// It is an error on an ensemble with a real clock.
func (e *Ensemble) Tick(ctx context.Context) error {
	if !e.cfg.ManualClock {
		return fmt.Errorf("%w: Tick needs Config.ManualClock", zkerr.ErrAPI)
	}
	return e.control(ctx, reqTick)
}

// Barrier returns once the peer has handled every transport event already
// queued for it, and everything they caused locally (persisting, applying,
// answering, sending). With a manually driven in-memory network it lets a
// test (or a simulation) run an ensemble step by step, deterministically.
func (e *Ensemble) Barrier(ctx context.Context) error {
	return e.control(ctx, reqBarrier)
}

// fail stops the peer for good after an unrecoverable error (a failed
// fsync, a divergence): it serves nothing more, and says why.
func (e *Ensemble) fail(err error) {
	if !e.failErr.CompareAndSwap(nil, &err) {
		return
	}
	e.cfg.Logger.Error("zk: peer failed; it stops serving", "err", err)
	e.obs.failed()
	e.applied.stop(fmt.Errorf("%w: peer failed: %v", zkerr.ErrNotServing, err))
	e.setStatus(e.Status()) // mode failed, not serving, the error
	if f := e.cfg.Listener.Failed; f != nil {
		f(err)
	}
}
