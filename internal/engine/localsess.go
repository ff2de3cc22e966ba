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
	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/znode"
)

// Local sessions (Config.LocalSessions), as ZooKeeper's localSessionsEnabled:
// a session of one peer, which the ensemble never hears of unless it creates
// an ephemeral node. The package documentation states the contract.
//
// The read-only mode's sessions (readonly_session.go) are local too, but
// join the ensemble as soon as the peer serves again; these stay local as
// long as they live, unless upgraded.

// ErrEphemeralOnLocalSession is ZooKeeper's EPHEMERALONLOCALSESSION (-120):
// a local session may not create an ephemeral node (Config.LocalSessions
// without LocalSessionsUpgrading).
var ErrEphemeralOnLocalSession = zkerr.ErrEphemeralOnLocalSession

// localSessions is the Ensemble's table of its local sessions. The peer loop
// makes its tracker when it starts serving and drops it (and the table)
// when it stops; client goroutines add, find and remove sessions. Lock
// order: mu before sessMu.
type localSessions struct {
	mu      sync.Mutex
	tracker *session.Tracker // nil while the peer does not serve
	m       map[int64]*Session
	count   atomic.Int64 // len(m), for mntr
	tickAt  time.Time    // when the tracker last ticked (dump)
}

// sessionLocal is a session's part of it.
type sessionLocal struct {
	on atomic.Bool // a local session, not (yet) of the ensemble
	// upgrading: its CreateSession was submitted (under submitMu), so the
	// writes behind it need none. The peer loop reads it too: until the
	// ensemble holds the session or closed it, that CreateSession may
	// still commit (localsess_unsure.go).
	upgrading atomic.Bool
	// unsure: its peer found it missing from the tree while its
	// CreateSession may still commit, and closes it through the leader;
	// its calls fail with ErrNotServing until that close commits.
	unsure atomic.Bool
}

// localSessionsOn reports whether sessions opened here are local.
func (e *Ensemble) localSessionsOn() bool {
	return e.cfg.LocalSessions && !e.cfg.standalone()
}

// peerSessionsOn reports whether a peer may hold sessions of its own that
// the ensemble does not know: local sessions, or those a peer in read-only
// mode opens (readonly_session.go). Both join with a CreateSession of an id
// their peer made, which a leader that closed that id refuses (closeLocal).
func (e *Ensemble) peerSessionsOn() bool {
	return e.localSessionsOn() || e.cfg.ReadOnlyMode
}

// LocalSessions returns the number of local sessions this peer holds
// (mntr's zk_local_sessions).
func (r Remote) LocalSessions() int64 { return r.e.lsess.count.Load() }

// newLocal opens a local session once the peer serves: nothing is
// proposed, the session is this peer's, and its timeout counts here.
func (e *Ensemble) newLocal(ctx context.Context, o sessionOpts) (*Session, error) {
	for {
		if err := e.WaitServing(ctx); err != nil {
			return nil, err
		}
		id, pw, err := e.ids.next()
		if err != nil {
			return nil, err
		}
		s := newSessionHandle(e, id, pw, e.negotiateTimeout(o.timeout), o)
		s.lc.on.Store(true)
		ticks := session.TimeoutTicks(int32(s.timeout.Milliseconds()), int32(e.cfg.TickTime.Milliseconds()))
		if e.lsess.add(s, ticks) {
			e.cfg.Logger.Debug("zk: local session opened", "id", fmt.Sprintf("%#x", id))
			return s, nil
		}
		// The peer stopped serving meanwhile: wait for it again.
	}
}

// add puts s in the table; false if the peer does not serve.
func (l *localSessions) add(s *Session, ticks int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tracker == nil || l.tracker.Add(s.id, ticks) != nil {
		return false
	}
	l.m[s.id] = s
	l.count.Store(int64(len(l.m)))
	return true
}

// holds reports whether s is in the table.
func (l *localSessions) holds(s *Session) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[s.id] == s
}

// has reports whether the table holds a session id, attached or not.
func (l *localSessions) has(id int64) bool { return l.find(id) != nil }

// find returns the session with id in the table, attached or not.
func (l *localSessions) find(id int64) *Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[id]
}

// forget removes s from the table.
func (l *localSessions) forget(s *Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m[s.id] == s {
		delete(l.m, s.id)
		l.tracker.Remove(s.id)
		l.count.Store(int64(len(l.m)))
	}
}

// localSettle runs once a session is attached: a local session the table
// lost before it was attached (the peer stopped serving meanwhile) has
// expired, as every local session does then.
func (s *Session) localSettle() {
	if s.lc.on.Load() && !s.e.lsess.holds(s) {
		s.e.endLocal(s, StateExpired)
	}
}

// endLocal ends a local session: detached, its watches dropped, its handle
// in st. Nothing of it is in the ensemble.
func (e *Ensemble) endLocal(s *Session, st SessionState) {
	e.lsess.forget(s)
	e.sessMu.Lock()
	if e.sessions[s.id] == s {
		e.forgetLocked(s)
	}
	e.sessMu.Unlock()
	reason := zkerr.ErrSessionExpired
	if st == StateClosed {
		reason = zkerr.ErrClosed
	}
	e.watches.DropSession(s.id, reason)
	s.end(st)
	if f := e.cfg.Listener.SessionExpired; f != nil && st == StateExpired {
		f(s.id)
	}
}

// reattachLocal reattaches a local session of this peer, as ZooKeeper's
// server revalidates a session its local tracker holds: ok is false if id
// is not one. A wrong password fails with ErrSessionExpired.
func (e *Ensemble) reattachLocal(id int64, password []byte, o sessionOpts) (s *Session, ok bool, err error) {
	l := &e.lsess
	l.mu.Lock()
	defer l.mu.Unlock()
	s = l.m[id]
	switch {
	case s == nil:
		return nil, false, nil
	case !session.CheckPassword(s.password, password) || !l.tracker.Touch(id):
		return nil, true, fmt.Errorf("zk: reattaching session %#x: %w", id, zkerr.ErrSessionExpired)
	}
	if o.connCounted {
		s.resetIdentities(o.clientAddr) // a new connection, as in Reattach
	}
	s.remote.Store(o.connCounted)
	s.heard.Store(true)
	return s, true, nil
}

// isLocalSession reports whether id is a local session in the table.
func (p *peer) isLocalSession(id int64) bool {
	s := p.e.localSession(id)
	return s != nil && p.e.lsess.holds(s)
}

// localStart makes the local session tracker as the peer starts serving;
// localStop drops it, with every local session: those attached expire at
// startServing (the tree does not hold them; one whose upgrade left is
// closed through the leader, localsess_unsure.go), the others here.
func (p *peer) localStart() {
	l := &p.e.lsess
	l.mu.Lock()
	l.tracker, l.m, l.tickAt = session.NewTracker(), map[int64]*Session{}, time.Now()
	l.mu.Unlock()
}

func (p *peer) localStop() {
	l := &p.e.lsess
	l.mu.Lock()
	dropped := l.m
	l.tracker, l.m = nil, nil
	l.count.Store(0)
	l.mu.Unlock()
	for _, s := range dropped {
		if p.e.localSession(s.id) != s {
			p.e.endLocal(s, StateExpired)
		}
	}
}

// localTick keeps alive the local sessions attached here (those of the
// client port while their clients are heard) and expires those whose time
// is up, here and only here: nothing is proposed.
func (p *peer) localTick() {
	l := &p.e.lsess
	l.mu.Lock()
	if l.tracker == nil {
		l.mu.Unlock()
		return
	}
	for id, s := range l.m {
		if p.e.localSession(id) == s && (!s.remote.Load() || s.heard.Swap(false)) {
			l.tracker.Touch(id)
		}
	}
	var expired []*Session
	l.tickAt = time.Now()
	for _, id := range l.tracker.Tick() {
		expired = append(expired, l.m[id])
	}
	l.mu.Unlock()
	for _, s := range expired {
		if s != nil {
			p.cfg.Logger.Info("zk: local session expired", "id", fmt.Sprintf("%#x", s.id))
			p.e.endLocal(s, StateExpired)
		}
	}
}

// createsEphemeral reports whether txn creates an ephemeral node: a create
// with an ephemeral mode, or a multi with one, the requests ZooKeeper's
// checkUpgradeSession looks for (a container or TTL create is not one).
func createsEphemeral(txn *znode.Txn) bool {
	switch txn.Type {
	case znode.TxnCreate:
		return txn.Mode == znode.ModeEphemeral || txn.Mode == znode.ModeEphemeralSequential
	case znode.TxnMulti:
		return ephemeralOp(txn) >= 0
	}
	return false
}

// ephemeralOp returns the index of a multi's first ephemeral create, or -1.
func ephemeralOp(txn *znode.Txn) int {
	for i := range txn.Ops {
		if createsEphemeral(&txn.Ops[i]) {
			return i
		}
	}
	return -1
}

// localUpgrade says what a local session's write needs: nothing, or (an
// ephemeral create, with Config.LocalSessionsUpgrading) the CreateSession
// that makes the session one of the ensemble, to be submitted right before
// it, as ZooKeeper's checkUpgradeSession, or (without) a refusal,
// EPHEMERALONLOCALSESSION. A multi is refused here only on the leader: a
// follower's goes to the leader, which fails it at its ephemeral create
// with SESSIONEXPIRED (localRefusal), as ZooKeeper's does (its follower
// keeps EPHEMERALONLOCALSESSION only for a lone create). The caller holds
// submitMu: one write at a time upgrades a session.
func (s *Session) localUpgrade(txn *znode.Txn) (up *request, refused *znode.Result) {
	switch {
	case !s.lc.on.Load() || s.lc.upgrading.Load() || !createsEphemeral(txn):
		return nil, nil
	case s.e.cfg.TestHooks.Breaks(hooks.UpgradeWithoutSession):
		return nil, nil
	case s.e.cfg.LocalSessionsUpgrading:
		create := &znode.Txn{Type: znode.TxnCreateSession, Session: s.id,
			Timeout: int32(s.timeout.Milliseconds()), Password: s.password}
		return newRequest(reqWrite, create), nil
	case txn.Type != znode.TxnMulti:
		return nil, &znode.Result{Err: zkerr.ErrEphemeralOnLocalSession}
	case s.e.Status().Mode == ModeLeading:
		res := failedAt(txn, ephemeralOp(txn), zkerr.ErrEphemeralOnLocalSession)
		return nil, &res
	}
	return nil, nil
}

// failedAt is the result of a multi that fails at op at with err: the
// per-op results of any failed multi.
func failedAt(txn *znode.Txn, at int, err error) znode.Result {
	res := znode.Result{Err: err, Multi: make([]znode.Result, len(txn.Ops))}
	for i := at + 1; i < len(txn.Ops); i++ {
		res.Multi[i].Err = zkerr.ErrRuntimeInconsistency
	}
	res.Multi[at].Err = err
	return res
}

// submitLocked hands r to the peer loop (trying only, with noWait), behind
// the CreateSession that upgrades a local session if r needs one (up); a
// local session's write that may not be made is refused instead (nothing
// is submitted). The caller holds submitMu and has issued r's ticket.
func (s *Session) submitLocked(ctx context.Context, r *request, noWait bool) (up *request, refused *znode.Result, err error) {
	submit := func(r *request) error {
		if noWait {
			return s.e.trySubmit(r)
		}
		return s.e.submit(ctx, r)
	}
	up, refused = s.localUpgrade(r.txn)
	if refused != nil {
		return nil, refused, nil
	}
	if up != nil {
		// Set before it is handed over: the peer loop must know it may
		// commit (as ZooKeeper's makeUpgradeRequest, once).
		s.lc.upgrading.Store(true)
		if err := submit(up); err != nil {
			s.lc.upgrading.Store(false) // not queued: nothing left
			return nil, nil, err
		}
	}
	return up, nil, submit(r)
}

// upgraded waits for the CreateSession that upgrades s (its reply comes
// before the reply of the write behind it): once it committed, s is a
// session of the ensemble, touched through the leader from now on. If the
// leader refused it, the write behind it failed there as any ephemeral
// create of an unknown session, and s stays local. If its outcome is
// unknown (ctx ended first, or the leader was lost), s is no longer local
// either, as ZooKeeper's
// upgradeSession takes a session out of its server's local tracker before
// the CreateSession leaves (its Close then proposes a CloseSession, which
// ends it whether the CreateSession committed or not).
func (s *Session) upgraded(ctx context.Context, up *request) {
	if up == nil {
		return
	}
	rep, err := up.wait(ctx)
	if err == nil && rep.err == nil && rep.res.Err != nil {
		return // the leader refused it: the session stays local
	}
	s.e.joinLocal(s) // committed (localJoined did it as it applied here), or unknown
}

// localJoined runs as a CreateSession of id commits here: the local session
// of this peer with that id, which it upgrades, is one of the ensemble from
// now on, whether or not its writer still waits for the reply.
func (e *Ensemble) localJoined(id int64) {
	l := &e.lsess
	l.mu.Lock()
	s := l.m[id]
	l.mu.Unlock()
	if s == nil {
		s = e.localSession(id) // the table dropped it (stopServing)
	}
	if s != nil {
		e.joinLocal(s)
	}
}

// joinLocal makes s, if local, a session of the ensemble: out of the
// table, touched through the leader from now on.
func (e *Ensemble) joinLocal(s *Session) {
	if s.lc.on.Load() {
		e.lsess.forget(s)
		s.lc.on.Store(false)
		e.cfg.Logger.Debug("zk: local session upgraded", "id", fmt.Sprintf("%#x", s.id))
	}
}

// localRefusal is the leader's answer to a write whose session it does not
// know (err, from checkSession): with local sessions, a multi of a local
// session fails at its ephemeral create, its other ops answered as in any
// failed multi, as ZooKeeper's PrepRequestProcessor fails that op
// (checkGlobalSession).
func (p *peer) localRefusal(txn *znode.Txn, err error) znode.Result {
	if txn.Type == znode.TxnMulti && errors.Is(err, zkerr.ErrSessionExpired) && p.e.localSessionsOn() {
		if at := ephemeralOp(txn); at >= 0 {
			return failedAt(txn, at, err)
		}
	}
	return znode.Result{Err: err}
}

// localWriter reports whether the leader takes a write of session id that
// its tracker does not hold: with local sessions, one of this peer's local
// sessions or a session of another peer (a local session there), as
// ZooKeeper's LeaderSessionTracker.checkSession; never an ephemeral create,
// which needs a session of the ensemble (checkGlobalSession).
func (p *peer) localWriter(txn *znode.Txn) bool {
	if !p.e.localSessionsOn() || createsEphemeral(txn) {
		return false
	}
	if session.PeerOf(txn.Session) != p.cfg.ID {
		return true
	}
	return p.e.lsess.has(txn.Session) // attached here or not, as ZooKeeper's local tracker
}

// closeLocal notes, on the leader, a CloseSession of a session it does not
// track: a local session, or one opened in read-only mode (ExpireSession
// of it, from any peer). Session ids are never reused, so a CreateSession
// of it later is the upgrade (or the join) of a session the ensemble
// already closed, on its way from its peer before the close applied
// there: closedLocal refuses it (SESSIONEXPIRED, and the ephemeral create
// behind it fails too), lest the ensemble bring back a session whose
// handle has expired, with its ephemerals. The memory goes with the
// leader; the package documentation says why a new leader needs none.
func (o *owners) closeLocal(id int64) {
	if o != nil {
		o.closed[id] = true
	}
}

// closedLocal reports whether closeLocal noted id.
func (o *owners) closedLocal(id int64) bool { return o != nil && o.closed[id] }

// setLocalSessionZooKey applies zoo.cfg's localSessionsEnabled and
// localSessionsUpgradingEnabled, which ZooKeeper parses as its other
// booleans (true or false, any case).
func (c *Config) setLocalSessionZooKey(key, value string) (known bool, err error) {
	switch key {
	case "localSessionsEnabled":
		c.LocalSessions, err = zooBool(value)
	case "localSessionsUpgradingEnabled":
		c.LocalSessionsUpgrading, err = zooBool(value)
	default:
		return false, nil
	}
	return true, err
}
