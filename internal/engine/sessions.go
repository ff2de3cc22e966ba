package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/znode"
)

// sessionIDs hands out session ids and passwords to client goroutines.
type sessionIDs struct {
	mu   sync.Mutex
	gen  *session.IDGen
	rand io.Reader
}

func (g *sessionIDs) next() (int64, []byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pw, err := session.NewPassword(g.rand)
	if err != nil {
		return 0, nil, fmt.Errorf("zk: making a session password: %w", err)
	}
	return g.gen.Next(), pw, nil
}

func newSessionIDs(cfg Config, nowMs int64) *sessionIDs {
	return &sessionIDs{gen: session.NewIDGen(cfg.ID, nowMs), rand: randReader(cfg)}
}

// NewSession opens a session attached to this peer. It waits (within ctx)
// until the peer serves, then commits the session through the leader. If
// the peer closes once the session is committed, the handle it returns has
// ended (StateClosed), as every handle attached to the peer has.
func (e *Ensemble) NewSession(ctx context.Context, opts ...SessionOption) (*Session, error) {
	o, err := sessionOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.timeout == 0 {
		o.timeout = e.cfg.MaxSessionTimeout / 2
	}
	addr, err := e.reserveSlot(o)
	if err != nil {
		return nil, err
	}
	s, err := e.newSession(ctx, o)
	if err != nil {
		e.releaseSlot(addr)
		return nil, err
	}
	e.attachReserved(s, addr)
	s.roSettle()
	s.localSettle()
	return s, nil
}

// negotiateTimeout brings a requested session timeout into
// [MinSessionTimeout, MaxSessionTimeout].
func (e *Ensemble) negotiateTimeout(d time.Duration) time.Duration {
	return time.Duration(session.NegotiateTimeout(int32(d.Milliseconds()),
		int32(e.cfg.MinSessionTimeout.Milliseconds()), int32(e.cfg.MaxSessionTimeout.Milliseconds()))) * time.Millisecond
}

// newSession commits a new session; the caller holds a slot for it.
func (e *Ensemble) newSession(ctx context.Context, o sessionOpts) (*Session, error) {
	if s, done, err := e.roNewSession(ctx, o); done { // waits until the peer serves
		return s, err
	}
	if e.localSessionsOn() {
		return e.newLocal(ctx, o)
	}
	id, pw, err := e.ids.next()
	if err != nil {
		return nil, err
	}
	s := newSessionHandle(e, id, pw, e.negotiateTimeout(o.timeout), o)
	txn := &znode.Txn{Type: znode.TxnCreateSession, Timeout: int32(s.timeout.Milliseconds()), Password: pw}
	res, err := s.write(ctx, txn)
	if err == nil {
		err = res.Err // refused before it was proposed (no quorum, say)
	}
	if err != nil {
		return nil, fmt.Errorf("zk: creating a session: %w", err)
	}
	return s, nil
}

// Reattach attaches an existing session (made on this or another peer) to
// this peer by id and password, as a ZooKeeper client reconnecting
// elsewhere. An unknown id or a wrong password fails with ErrSessionExpired,
// as in ZooKeeper; a wrong password for a session this peer's tree holds
// fails at once, even while the peer is not serving. Before it returns,
// this peer has applied everything the ensemble had committed (a Sync
// round), so a session never goes back in time by moving to a peer that
// lags.
// It also makes this peer the session's owner at the leader: a write of
// the session still on its way from the peer it was attached to before
// then fails with ErrSessionMoved and changes nothing (ZooKeeper's
// SESSIONMOVED), so no write is applied after one the client sent later.
func (e *Ensemble) Reattach(ctx context.Context, id int64, password []byte, opts ...SessionOption) (*Session, error) {
	o, err := sessionOptions(opts)
	if err != nil {
		return nil, err
	}
	addr, err := e.reserveSlot(o)
	if err != nil {
		return nil, err
	}
	s, err := e.reattach(ctx, id, password, o)
	if err != nil {
		e.releaseSlot(addr)
		return nil, err
	}
	_ = e.cfg.TestHooks.At(e.cfg.ID, hooks.BeforeAttach)
	if old := e.attachReserved(s, addr); old != nil {
		if o.connCounted {
			// A client port reconnect: ZooKeeper keeps authentication
			// per connection, so the new one has only its own address
			// until its client sends its credentials again.
			old.resetIdentities(o.clientAddr)
		}
		// The last to attach it says what keeps it alive: its client's
		// packets (the client port) or being attached (in process).
		old.remote.Store(o.connCounted)
		old.heard.Store(true)
		return old, nil // attached here already: one handle per session
	}
	if s.localSettle(); s.State() == StateExpired {
		// A local session the peer's table lost (it stopped serving, or
		// the session's time ran out) between the check and the attach.
		return nil, fmt.Errorf("zk: reattaching session %#x: %w", id, zkerr.ErrSessionExpired)
	}
	return s, nil
}

// reattach checks a session's id and password against the ensemble's
// committed state and returns a handle for it; the caller holds a slot.
func (e *Ensemble) reattach(ctx context.Context, id int64, password []byte, o sessionOpts) (*Session, error) {
	if s, ok, err := e.reattachLocal(id, password, o); ok {
		return s, err
	}
	if e.knownWrongPassword(id, password) {
		return nil, fmt.Errorf("zk: reattaching session %#x: %w", id, zkerr.ErrSessionExpired)
	}
	if err := e.WaitServing(ctx); err != nil {
		return nil, err
	}
	if err := e.syncBarrier(ctx); err != nil {
		return nil, fmt.Errorf("zk: reattaching session %#x: %w", id, err)
	}
	e.applyMu.RLock()
	if e.closed.Load() {
		e.applyMu.RUnlock()
		return nil, zkerr.ErrClosed
	}
	info, ok, err := e.tree.Session(id)
	e.applyMu.RUnlock()
	switch {
	case err != nil:
		return nil, fmt.Errorf("zk: reattaching session %#x: %w", id, err)
	case !ok || !session.CheckPassword(info.Password, password):
		return nil, fmt.Errorf("zk: reattaching session %#x: %w", id, zkerr.ErrSessionExpired)
	}
	_ = e.cfg.TestHooks.At(e.cfg.ID, hooks.BetweenRequests)
	if err := e.revalidateSession(ctx, id); err != nil {
		return nil, fmt.Errorf("zk: reattaching session %#x: %w", id, err)
	}
	return newSessionHandle(e, id, info.Password, time.Duration(info.Timeout)*time.Millisecond, o), nil
}

// knownWrongPassword reports whether this peer's tree holds session id with
// another password. A session's id is never reused and its password never
// changes, so any tree that holds it decides that at once, without the Sync
// round a right password waits for, as ZooKeeper refuses a wrong password
// as soon as it reads the connect. (The client port has closed the
// session's connection by then, as ZooKeeper does first; a quick refusal
// narrows the window in which the session's own client, reconnecting
// meanwhile, closes this connection in turn and the two go round again.)
func (e *Ensemble) knownWrongPassword(id int64, password []byte) bool {
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	if e.closed.Load() {
		return false
	}
	info, ok, err := e.tree.Session(id)
	return err == nil && ok && !session.CheckPassword(info.Password, password)
}

// ExpireSession expires a session on purpose, as Curator's KillSession does
// in tests: the ensemble closes it as if its timeout had passed, its
// ephemeral nodes go, and its handle (wherever it is attached) moves to
// StateExpired. For tests, of this repository and of host applications.
func (e *Ensemble) ExpireSession(ctx context.Context, id int64) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := e.errIfDown(); err != nil {
		return err
	}
	return e.roundTrip(ctx, newRequest(reqWrite, &znode.Txn{Type: znode.TxnCloseSession, Session: id}))
}

// syncBarrier runs a Sync round through the leader and waits until this
// peer has applied what it returned.
func (e *Ensemble) syncBarrier(ctx context.Context) error {
	return e.roundTrip(ctx, newRequest(reqSync, nil))
}

// roundTrip hands r to the peer loop, waits for its reply and then until
// this peer has applied the zxid the reply names: the request's failure,
// or the operation's, is the error.
func (e *Ensemble) roundTrip(ctx context.Context, r *request) error {
	if err := e.submit(ctx, r); err != nil {
		return err
	}
	rep, err := r.wait(ctx)
	if err == nil {
		err = rep.err
	}
	if err == nil {
		err = rep.res.Err
	}
	if err == nil {
		err = e.applied.wait(ctx, rep.zxid)
	}
	return err
}

// detach forgets s (its session ended).
func (e *Ensemble) detach(id int64) *Session {
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	s := e.sessions[id]
	if s != nil {
		e.forgetLocked(s)
	}
	return s
}

// localSession returns the session attached here with id, or nil.
func (e *Ensemble) localSession(id int64) *Session {
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	return e.sessions[id]
}

// localSessionIDs returns the ids of the sessions attached here.
func (e *Ensemble) localSessionIDs() []int64 {
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	ids := make([]int64, 0, len(e.sessions))
	for id := range e.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// touchedSessionIDs returns the ids of the sessions this peer keeps alive
// in this touch round (sessionTick): every in-process session attached
// here, and every client port session whose client sent something since
// the last round.
func (e *Ensemble) touchedSessionIDs() []int64 {
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	ids := make([]int64, 0, len(e.sessions))
	for id, s := range e.sessions {
		if s.lc.on.Load() {
			continue // kept alive here (localTick)
		}
		if !s.remote.Load() || s.heard.Swap(false) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// setSessionsState moves every attached session to st (connected or
// disconnected, as the peer starts or stops serving).
func (e *Ensemble) setSessionsState(st SessionState) {
	e.sessMu.Lock()
	sessions := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.sessMu.Unlock()
	for _, s := range sessions {
		s.setState(st)
	}
}
