package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// Read-only mode: the peer side. The package documentation states the
// contract; readonly_session.go is the session side.

// ErrNotReadOnly is ZooKeeper's NOTREADONLY (-119): a peer in read-only mode
// refuses a write or a Sync.
var ErrNotReadOnly = zkerr.ErrNotReadOnly

// roGrace is the least time a peer looks for a leader before it serves
// read-only: ZooKeeper's max(2s, tickTime) grace period.
const roGrace = 2 * time.Second

// roState is the Ensemble's part of read-only mode, read by client
// goroutines.
type roState struct {
	// mu orders the mode's transitions against local sessions joining it:
	// a transition sets active and moves the sessions' states under mu,
	// and a local session takes its first state under mu.
	mu     sync.Mutex
	active atomic.Bool
	// locals are the sessions made in read-only mode that are not part of
	// the ensemble yet (guarded by mu).
	locals map[int64]*Session
}

// roPeer is the peer loop's part of read-only mode.
type roPeer struct {
	since     int64          // the last tick the peer served or had a role
	upgrading map[int64]bool // local sessions whose CreateSession is in flight
}

// roGraceTicks is the grace period in ticks of the peer's clock.
func roGraceTicks(cfg Config) int64 {
	tick := cfg.TickTime / TicksPerTickTime
	return int64((max(roGrace, cfg.TickTime) + tick - 1) / tick)
}

// roTick runs at every tick: a peer that has been looking for a leader for
// the grace period enters read-only mode; a serving one makes its local
// sessions part of the ensemble.
func (p *peer) roTick() {
	if !p.cfg.ReadOnlyMode || p.cfg.standalone() {
		return
	}
	if p.failed() || p.zst.Serving || p.node.Status().Role != zab.RoleLooking {
		p.ro.since = p.ticks
		p.roGuard()
		p.roUpgrade()
		return
	}
	if !p.e.ro.active.Load() && p.ticks-p.ro.since >= roGraceTicks(p.cfg) {
		p.roEnter()
	}
}

// roGuard ends read-only mode as soon as the core leaves LOOKING (or the
// peer failed), before the Ready being handled changes anything: the sync
// with a new leader may install a snapshot, and read-only reads must only
// ever see the tree as the peer had it when it lost its quorum, or newer.
// ZooKeeper likewise shuts its read-only server down when the election ends.
func (p *peer) roGuard() {
	if !p.e.ro.active.Load() {
		return
	}
	ends := p.failed() || p.node.Status().Role != zab.RoleLooking
	if p.cfg.TestHooks.Breaks(hooks.ReadOnlyThroughSync) {
		ends = p.failed() || p.node.Status().Serving // a deliberately broken build, for tests
	}
	if ends {
		p.roLeave()
	}
}

func (p *peer) roEnter() {
	p.e.ro.mu.Lock()
	p.e.ro.active.Store(true)
	for _, s := range p.e.attachedSessions() {
		if s.ro.allow {
			s.setState(StateConnectedReadOnly)
		}
	}
	p.e.ro.mu.Unlock()
	applied, _ := p.e.tree.Applied()
	p.cfg.Logger.Info("zk: read-only mode: no quorum, serving reads to read-only sessions", "applied", fmt.Sprintf("%#x", applied))
	p.roStatus()
}

func (p *peer) roLeave() {
	p.e.ro.mu.Lock()
	p.e.ro.active.Store(false)
	for _, s := range p.e.attachedSessions() {
		if s.State() == StateConnectedReadOnly {
			s.setState(StateDisconnected)
		}
	}
	p.e.ro.mu.Unlock()
	p.cfg.Logger.Info("zk: read-only mode ends", "role", p.node.Status().Role)
	p.roStatus()
}

// roStatus publishes the status after a change of mode.
func (p *peer) roStatus() {
	st := p.status()
	p.e.setStatus(st)
	if f := p.cfg.Listener.StatusChanged; f != nil {
		f(st)
	}
}

// roLocal reports whether id is a local session (made in read-only mode
// and not part of the ensemble yet): startServing leaves those to
// roUpgrade instead of finding them expired.
func (p *peer) roLocal(id int64) bool {
	s := p.e.localSession(id)
	return s != nil && s.ro.local.Load()
}

// roUpgrade makes every local session part of the ensemble once the peer
// serves: it proposes the session's CreateSession, with the id and password
// the session already has, so the handle goes on as it is and moves to
// StateConnected once the session is committed. One proposal per session
// at a time; a failed one is tried again at a later tick. A client port
// session (remote) made read-only never joins: it expires here, as
// ZooKeeper's read-only server takes its sessions with it when it stops
// (its Java and C clients then ask a read-write server for a new
// session; a client that renews the old id finds it expired).
func (p *peer) roUpgrade() {
	if !p.zst.Serving || p.failed() {
		return
	}
	for _, s := range p.e.roLocals() {
		if s.remote.Load() {
			p.roDrop(s)
			continue
		}
		if p.ro.upgrading[s.id] {
			continue
		}
		if p.ro.upgrading == nil {
			p.ro.upgrading = map[int64]bool{}
		}
		p.ro.upgrading[s.id] = true
		txn := &znode.Txn{Type: znode.TxnCreateSession, Session: s.id,
			Timeout: int32(s.timeout.Milliseconds()), Password: s.password}
		r := newRequest(reqWrite, txn)
		r.then = func(rep reply) { p.roUpgraded(s, rep) }
		p.write(r)
	}
}

// roUpgraded handles the outcome of a local session's CreateSession.
func (p *peer) roUpgraded(s *Session, rep reply) {
	delete(p.ro.upgrading, s.id)
	err := rep.err
	if err == nil {
		err = rep.res.Err
	}
	switch {
	case err == nil:
		p.e.roForget(s)
		s.ro.local.Store(false)
		if p.zst.Serving && p.e.localSession(s.id) == s {
			s.setState(StateConnected)
		}
		p.cfg.Logger.Debug("zk: a read-only session joined the ensemble", "id", fmt.Sprintf("%#x", s.id))
	case errors.Is(err, zkerr.ErrNotServing), errors.Is(err, zkerr.ErrOutcomeUnknown), errors.Is(err, zkerr.ErrClosed):
		// Tried again once the peer serves (CreateSession of a session
		// that exists already changes nothing).
	default:
		p.cfg.Logger.Warn("zk: a read-only session cannot join the ensemble", "id", fmt.Sprintf("%#x", s.id), "err", err)
		p.roDrop(s)
	}
}

// roDrop expires s, a session made read-only that will not join.
func (p *peer) roDrop(s *Session) {
	p.e.roForget(s)
	if p.e.localSession(s.id) == s {
		p.endSession(s.id, StateExpired)
	} else {
		s.end(StateExpired)
	}
}

// attachedSessions returns the sessions attached to this peer, by id.
func (e *Ensemble) attachedSessions() []*Session {
	e.sessMu.Lock()
	out := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		out = append(out, s)
	}
	e.sessMu.Unlock()
	slices.SortFunc(out, func(a, b *Session) int { return cmpID(a.id, b.id) })
	return out
}

func cmpID(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// roLocals returns the local sessions still attached here, by id, and
// forgets those that are not (closed, expired, detached).
func (e *Ensemble) roLocals() []*Session {
	e.ro.mu.Lock()
	defer e.ro.mu.Unlock()
	var out []*Session
	for id, s := range e.ro.locals {
		if e.localSession(id) != s || !s.ro.local.Load() {
			delete(e.ro.locals, id)
			continue
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Session) int { return cmpID(a.id, b.id) })
	return out
}

// roForget drops s from the local sessions.
func (e *Ensemble) roForget(s *Session) {
	e.ro.mu.Lock()
	if e.ro.locals[s.id] == s {
		delete(e.ro.locals, s.id)
	}
	e.ro.mu.Unlock()
}

// waitServingOrRO waits until the peer serves or, if allowRO, serves
// read-only, and reports which (ro). It ticks a ManualClock ensemble as
// WaitServing does.
func (e *Ensemble) waitServingOrRO(ctx context.Context, allowRO bool) (ro bool, err error) {
	if !allowRO || !e.cfg.ReadOnlyMode {
		return false, e.WaitServing(ctx)
	}
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	for {
		changed := e.statusChanged()
		switch {
		case e.serving.Load():
			return false, nil
		case e.ro.active.Load():
			return true, nil
		}
		if err := e.errIfDown(); !errors.Is(err, zkerr.ErrNotServing) || e.failErr.Load() != nil {
			return false, err
		}
		if e.cfg.ManualClock {
			if err := e.Tick(ctx); err != nil {
				return false, err
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false, ctx.Err()
		case <-e.stopC:
			return false, zkerr.ErrClosed
		}
	}
}

// setReadOnlyZooKey applies zoo.cfg's readonlymode.enabled key (a Java
// system property in ZooKeeper, a zoo.cfg key here).
func (c *Config) setReadOnlyZooKey(key, value string) (known bool, err error) {
	if key != "readonlymode.enabled" {
		return false, nil
	}
	c.ReadOnlyMode, err = zooBool(value)
	return true, err
}
