package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
)

// Read-only mode: the session side (readonly.go is the peer side).

// sessionRO is a session's part of read-only mode.
type sessionRO struct {
	allow bool        // WithReadOnly: a peer in read-only mode may serve it
	local atomic.Bool // made by a peer in read-only mode, not part of the ensemble yet
	// seen is the newest zxid the session has seen: the tree its reads
	// read, its writes, a wire client's lastZxidSeen. No read returns an
	// older state.
	seen atomic.Int64
}

// see raises seen to z.
func (r *sessionRO) see(z int64) {
	for {
		old := r.seen.Load()
		if z <= old || r.seen.CompareAndSwap(old, z) {
			return
		}
	}
}

// WithReadOnly lets a peer in read-only mode (Config.ReadOnlyMode) serve the
// session, as ZooKeeper's canBeReadOnly: while its peer is cut off from a
// quorum the session is in StateConnectedReadOnly, its reads go through
// and its writes (and Sync) fail with ErrNotReadOnly. NewSession with it on
// a peer in read-only mode returns at once with a session of that peer
// alone, which joins the ensemble, with the same id and password, when the
// quorum is back (then StateConnected).
func WithReadOnly() SessionOption {
	return func(o *sessionOpts) { o.readOnly = true }
}

// servedReadOnly reports whether the peer serves s read-only now.
func (s *Session) servedReadOnly() bool {
	e := s.e
	return s.ro.allow && e.ro.active.Load() && e.failErr.Load() == nil && !e.closed.Load()
}

// roUsable adjusts usable's verdict err: a session the peer serves
// read-only may call (what it may do, roWritable says); a local session
// may not once the peer left read-only mode, until it joined the ensemble.
func (s *Session) roUsable(err error) error {
	switch {
	case err != nil && errors.Is(err, zkerr.ErrNotServing) && s.servedReadOnly():
		return nil
	case err == nil && s.ro.local.Load():
		return fmt.Errorf("%w: the read-only session %#x has not joined the ensemble yet", zkerr.ErrNotServing, s.id)
	}
	return err
}

// roWritable refuses a write or a Sync of a session the peer serves
// read-only, with ErrNotReadOnly, as ZooKeeper's ReadOnlyRequestProcessor;
// a ctx that ended first gets its own error (nothing was sent).
func (s *Session) roWritable(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if s.servedReadOnly() && !s.e.cfg.TestHooks.Breaks(hooks.ReadOnlyQueuesWrites) {
		return fmt.Errorf("%w: peer %d is in read-only mode", zkerr.ErrNotReadOnly, s.e.cfg.ID)
	}
	return nil
}

// roRead runs fn, a read; the caller holds the apply lock's read side, so
// the tree stays at the zxid read here and read-only mode cannot end (it
// ends before the tree changes: peer.roGuard). A session that allows
// read-only service reads only while its peer serves normally or
// read-only; and no session reads a tree older than it has seen (the
// peer's tree can go back only when a leader's snapshot replaces it).
func (s *Session) roRead(fn func() error) error {
	z, _ := s.e.tree.Applied()
	if s.ro.allow && !s.e.serving.Load() && !s.servedReadOnly() {
		return zkerr.ErrNotServing
	}
	if seen := s.ro.seen.Load(); z < seen {
		return fmt.Errorf("%w: this peer's tree is at %#x, the session has seen %#x", zkerr.ErrNotServing, z, seen)
	}
	err := fn()
	s.ro.see(z)
	return err
}

// roNewSession waits until the peer serves (done is false: the caller
// makes an ordinary session) or, if the session allows it, serves
// read-only: then done is true and s a local session (or err why not).
func (e *Ensemble) roNewSession(ctx context.Context, o sessionOpts) (s *Session, done bool, err error) {
	for {
		ro, err := e.waitServingOrRO(ctx, o.readOnly)
		if err != nil {
			return nil, true, err
		}
		if !ro {
			return nil, false, nil
		}
		s, ok, err := e.newLocalSession(o)
		if err != nil || ok {
			return s, true, err
		}
	}
}

// newLocalSession makes a session of this peer alone, in read-only mode:
// nothing is proposed (there is no leader); it starts in
// StateConnectedReadOnly, and roUpgrade commits it when the peer serves
// again. ok is false if the mode ended meanwhile.
func (e *Ensemble) newLocalSession(o sessionOpts) (s *Session, ok bool, err error) {
	id, pw, err := e.ids.next()
	if err != nil {
		return nil, false, err
	}
	s = newSessionHandle(e, id, pw, e.negotiateTimeout(o.timeout), o)
	s.ro.local.Store(true)
	e.ro.mu.Lock()
	defer e.ro.mu.Unlock()
	if !e.ro.active.Load() {
		return nil, false, nil
	}
	s.state.Store(uint32(StateConnectedReadOnly))
	if e.ro.locals == nil {
		e.ro.locals = map[int64]*Session{}
	}
	e.ro.locals[id] = s
	e.cfg.Logger.Debug("zk: read-only session opened", "id", fmt.Sprintf("%#x", id))
	return s, true, nil
}

// roSettle runs once a session is attached: a local session attached
// after read-only mode ended was missed by the transition.
func (s *Session) roSettle() {
	if !s.ro.local.Load() {
		return
	}
	s.e.ro.mu.Lock()
	if !s.e.ro.active.Load() && s.State() == StateConnectedReadOnly {
		s.setState(StateDisconnected)
	}
	s.e.ro.mu.Unlock()
}

// errJoined: a local session that Close found local joined the ensemble
// while Close waited its turn; it closes as a session of the ensemble.
var errJoined = errors.New("zk: the local session joined the ensemble")

// roClose closes a local session (made read-only, or with
// Config.LocalSessions): nothing of it is in the ensemble, so it ends
// here, in the session's order, as ZooKeeper closes a local session without
// a transaction. (If its CreateSession was in flight and commits, that
// session expires after its timeout: nobody holds it.)
func (s *Session) roClose(ctx context.Context) error {
	return s.ordered(ctx, func() error {
		if !s.ro.local.Load() && !s.lc.on.Load() {
			return errJoined // upgraded by a write before this close
		}
		s.e.roForget(s)
		s.e.endLocal(s, StateClosed)
		return nil
	})
}

// ReadOnly reports whether the peer is in read-only mode.
func (r Remote) ReadOnly() bool { return r.e.ro.active.Load() }

// Serving reports whether the peer serves: it is part of a working quorum
// (not in read-only mode, not electing, not syncing, not removed).
func (r Remote) Serving() bool { return r.e.serving.Load() }

// RefusesClients reports whether the peer refuses clients on its client
// ports because it leads with Config.NoLeaderServes, as ZooKeeper's leader
// with leaderServes=no (a standalone peer never does).
func (r Remote) RefusesClients() bool {
	return r.e.cfg.NoLeaderServes && r.e.status.Load().Mode == ModeLeading
}

// AwaitServing reports whether the peer serves or is in read-only mode,
// waiting for that until hold has passed since it last stopped serving (or
// started) if it does not yet: a client that connects during an election
// is answered when the election ends rather than refused. A peer that has
// not served for longer than hold, a removed peer, a failed and a closed
// one answer false at once.
func (r Remote) AwaitServing(ctx context.Context, hold time.Duration) bool {
	e := r.e
	for {
		e.statusMu.Lock()
		changed, until := e.changed, e.stoppedAt.Add(hold)
		e.statusMu.Unlock()
		switch {
		case e.serving.Load() || e.ro.active.Load():
			return true
		case e.closed.Load() || e.failErr.Load() != nil || e.removed():
			return false
		}
		wait := time.Until(until)
		if wait <= 0 {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
			t.Stop()
		case <-t.C:
			return e.serving.Load() || e.ro.active.Load()
		case <-ctx.Done():
			t.Stop()
			return false
		case <-e.stopC:
			t.Stop()
			return false
		}
	}
}

// NoteSeen records that the session's client has seen zxid (a connect's
// lastZxidSeen): the session never reads an older tree.
func (s RemoteSession) NoteSeen(zxid int64) { s.ro.see(zxid) }
