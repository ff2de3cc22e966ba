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
	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/znode"
)

// Session is a ZooKeeper session attached to this peer: the handle every
// data operation goes through. Its ephemeral nodes live as long as it does;
// its requests complete in the order they were issued (FIFO), and it reads its
// own writes. Methods are safe for concurrent use; calls made concurrently
// are ordered as they entered the session.
type Session struct {
	e        *Ensemble
	id       int64
	password []byte
	timeout  time.Duration

	seq      session.Sequencer
	submitMu sync.Mutex // makes ticket order = submission order

	mu    sync.Mutex
	ids   []znode.Identity
	super bool

	slotAddr string // the address its slot counts under (slots.go); guarded by Ensemble.sessMu

	state   atomic.Uint32 // SessionState
	closing atomic.Bool   // Close was called: the CloseSession is ours
	stateMu sync.Mutex    // serializes state changes and the states channels
	// states is States' channel, made with the session; more holds the
	// channels WatchStates made. Both guarded by stateMu.
	states chan SessionState
	more   []chan SessionState

	ro sessionRO    // read-only mode (readonly_session.go)
	lc sessionLocal // a local session (localsess.go)

	// A client port session (remote) is kept alive only by what its client
	// sends (heard, which RemoteSession.Heard sets and each touch round
	// clears), as ZooKeeper's server touches a session on each packet of its
	// client: a client silent for its session timeout loses its session
	// then, however long its connection stays open. An in-process session
	// is kept alive while it is attached.
	remote atomic.Bool
	heard  atomic.Bool
}

// SessionOption configures NewSession.
type SessionOption func(*sessionOpts)

type sessionOpts struct {
	timeout     time.Duration
	clientAddr  string // the normalized ip identity, or ""
	connCounted bool   // a client port session: MaxClientCnxns counted its connection
	readOnly    bool   // WithReadOnly
	err         error  // a bad option, reported by NewSession and Reattach
}

// sessionOptions applies opts and reports the first bad one.
func sessionOptions(opts []SessionOption) (sessionOpts, error) {
	var o sessionOpts
	for _, opt := range opts {
		opt(&o)
	}
	return o, o.err
}

// WithSessionTimeout requests a session timeout; the ensemble negotiates it
// into [MinSessionTimeout, MaxSessionTimeout]. Default: MaxSessionTimeout/2.
func WithSessionTimeout(d time.Duration) SessionOption {
	return func(o *sessionOpts) { o.timeout = d }
}

// WithClientAddr declares the address the session's client really connects
// from. It becomes the session's only "ip" identity, the one ACLs of the ip
// scheme match, and the address Config.MaxClientCnxns counts the session
// under, as ZooKeeper takes both from the connection's remote address:
// a host that serves remote clients (a proxy, a wire protocol server) passes
// each client's address here when it opens or reattaches the session. addr
// is an IP address, or ip:port (the port is ignored); an IPv4-mapped IPv6
// address counts as IPv4, and the identity is written as ZooKeeper's is
// (Java's form: 0:0:0:0:0:0:0:1 for ::1, no zone). Anything else makes NewSession and Reattach fail
// with ErrBadArguments. A session opened without it has no ip identity, and
// nothing a client sends later (AddAuth("ip", ...)) gives or changes one.
func WithClientAddr(addr string) SessionOption {
	return func(o *sessionOpts) {
		ip, err := clientIP(addr)
		if err != nil && o.err == nil {
			o.err = err
		}
		o.clientAddr = ip
	}
}

func newSessionHandle(e *Ensemble, id int64, password []byte, timeout time.Duration, o sessionOpts) *Session {
	s := &Session{e: e, id: id, password: password, timeout: timeout, states: make(chan SessionState, 8)}
	if o.clientAddr != "" {
		s.ids = append(s.ids, znode.Identity{Scheme: "ip", ID: o.clientAddr})
	}
	s.state.Store(uint32(StateConnected))
	s.ro.allow = o.readOnly
	s.remote.Store(o.connCounted)
	s.heard.Store(true)
	return s
}

// ID returns the session id (this peer's id in the high byte).
func (s *Session) ID() int64 { return s.id }

// Password returns the session password; with the id it re-attaches the
// session (Ensemble.Reattach), possibly on another peer.
func (s *Session) Password() []byte { return append([]byte(nil), s.password...) }

// Timeout returns the negotiated session timeout.
func (s *Session) Timeout() time.Duration { return s.timeout }

// State returns the session's current state.
func (s *Session) State() SessionState { return SessionState(s.state.Load()) }

// States returns the channel of the session's state changes, made with
// the session (every call returns it). The library never blocks on it: a
// consumer that falls behind misses intermediate states but always gets
// the latest one; after StateExpired or StateClosed the channel is closed.
// It has one consumer; WatchStates gives others theirs.
func (s *Session) States() <-chan SessionState { return s.states }

// WatchStates returns a new channel of the session's state changes from
// the call on, as States' channel (the latest state is never missed, and
// the channel is closed after StateExpired or StateClosed; after the
// session ended, it holds its last state and is closed), so that several
// consumers (a recipes.Client and a cache, say) each follow the session,
// and stop, which takes the channel back: the session sends no more on
// it (it is not closed). Call stop when done with the channel; until then
// or the session's end the session keeps it.
func (s *Session) WatchStates() (states <-chan SessionState, stop func()) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	ch := make(chan SessionState, 8)
	if st := s.State(); st == StateExpired || st == StateClosed {
		ch <- st
		close(ch)
		return ch, func() {}
	}
	s.more = append(s.more, ch)
	return ch, func() {
		s.stateMu.Lock()
		defer s.stateMu.Unlock()
		s.more = slices.DeleteFunc(s.more, func(c chan SessionState) bool { return c == ch })
	}
}

// setState moves the session to st (a no-op once it ended) and notifies.
func (s *Session) setState(st SessionState) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	old := SessionState(s.state.Load())
	if old == st || old == StateExpired || old == StateClosed {
		return
	}
	s.state.Store(uint32(st))
	notify(s.states, st)
	for _, ch := range s.more {
		notify(ch, st)
	}
	if st == StateExpired || st == StateClosed {
		close(s.states)
		for _, ch := range s.more {
			close(ch)
		}
		s.more = nil
	}
}

// notify puts st on ch without blocking: when it is full, the oldest state
// is dropped.
func notify(ch chan SessionState, st SessionState) {
	for {
		select {
		case ch <- st:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// end moves the session to a terminal state.
func (s *Session) end(st SessionState) { s.setState(st) }

// callable refuses a call before it starts: a nil or ended ctx first (so
// that its error does not depend on the peer's state), then the session's
// and the peer's state. Every call on a session starts with it.
func (s *Session) callable(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	return s.usable()
}

// usable returns the error calls get in the session's current state.
func (s *Session) usable() error {
	switch s.State() {
	case StateExpired:
		return zkerr.ErrSessionExpired
	case StateClosed:
		return zkerr.ErrClosed
	}
	if s.lc.unsure.Load() {
		return fmt.Errorf("%w: session %#x is being closed: its upgrade's outcome is unknown", zkerr.ErrNotServing, s.id)
	}
	return s.roUsable(s.e.errIfDown())
}

// identities returns the session's authenticated identities.
func (s *Session) identities() ([]znode.Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids, s.super
}

// resetIdentities leaves the session only the ip identity of addr (none
// when it is ""), as a new connection to a ZooKeeper server starts.
func (s *Session) resetIdentities(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids, s.super = nil, false
	if addr != "" {
		s.ids = []znode.Identity{{Scheme: "ip", ID: addr}}
	}
}

// Identities returns the session's authenticated identities, as
// ZooKeeper's whoAmI (zkCli's whoami) lists them: the ip identity the host
// declared with WithClientAddr ({"ip", "10.0.0.7"}), each digest identity
// AddAuth added ({"digest", "alice:<base64 sha1>"}; ZooKeeper's whoAmI
// shows only the user, before the colon), the SASL user a client port
// client authenticated as ({"sasl", "bob"}), the subject of a verified
// client certificate ({"x509", "CN=bob,O=example"}) and, right after the
// identity that matched Config.SuperDigest, Config.SASLSuperUser or
// Config.X509SuperUser, {"super", ""}. They come in the order
// the session gained them (a ZooKeeper server lists them in a hash set's
// order). The slice is the caller's. It is what the client port answers
// to whoAmI.
func (s *Session) Identities() []Identity {
	ids, super := s.identities()
	out := make([]Identity, 0, len(ids)+1)
	for _, id := range ids {
		out = append(out, id)
		if super && (id.Scheme == znode.SchemeDigest && id.ID == s.e.cfg.SuperDigest ||
			id.Scheme == znode.SchemeSASL && id.ID == s.e.cfg.SASLSuperUser ||
			id.Scheme == znode.SchemeX509 && id.ID == s.e.cfg.X509SuperUser) {
			out = append(out, Identity{Scheme: "super"})
		}
	}
	return out
}

// allowed reports whether the session may do perm on a node with acl
// (always, with Config.SkipACL).
func (s *Session) allowed(acl []znode.ACL, perm znode.Perm) bool {
	if s.e.cfg.SkipACL {
		return true
	}
	ids, super := s.identities()
	return super || znode.CheckACL(acl, perm, ids)
}

// AddAuth adds an identity to the session, as ZooKeeper's addauth:
//   - "digest": auth is any credential, usually "user:password", even
//     empty (non-nil); the identity is "user:" + base64(sha1(auth)) (the
//     hash is Config.DigestAlg's), user being what precedes the first
//     colon (all of auth if it has none), exactly as ZooKeeper's
//     DigestAuthenticationProvider computes it, so existing ZooKeeper
//     digest ACLs and super digests work. A digest equal to
//     Config.SuperDigest makes the session the super user. A nil auth is
//     a null credential, which ZooKeeper refuses (AUTHFAILED, the
//     connection closed): it fails with ErrAuthFailed, as every digest
//     credential does with Config.NoDigestAuth.
//   - "ip": accepted and ignored. The ip identity is where the client really
//     connects from, declared by the host with WithClientAddr; a session
//     cannot claim an address (ZooKeeper's IPAuthenticationProvider also
//     ignores what the client sends).
//
// Any other scheme fails with ErrAuthFailed and changes nothing.
func (s *Session) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if !s.limitsOff() {
		if err := checkSize("addAuth", authRequestSize(scheme, auth), s.e.cfg.JuteMaxBuffer); err != nil {
			return err
		}
	}
	id, add, err := s.e.cfg.identityFor(scheme, auth)
	if err != nil {
		return err
	}
	if !add {
		return s.usable()
	}
	sd := s.e.cfg.SuperDigest
	return s.addIdentity(ctx, id, sd != "" && id.ID == sd)
}

// checkCtx refuses a nil ctx with ErrBadArguments, and one that already
// ended with its error. Every call that can block takes a ctx, and a nil
// one would panic where the call first waits on it (with the session's
// submission lock held, hanging the session for good); every public method
// taking a ctx checks it before anything else. A ctx that ended before the
// call sends nothing: the call fails with ctx.Err() and its outcome is
// known (nothing happened), where a ctx ending during a write makes it
// unknown.
func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("%w: nil context.Context", zkerr.ErrBadArguments)
	}
	return ctx.Err()
}

// ordered runs fn in the session's FIFO order: after every call issued
// before it has completed, and before any issued after it.
func (s *Session) ordered(ctx context.Context, fn func() error) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	s.submitMu.Lock()
	t := s.seq.Issue()
	s.submitMu.Unlock()
	defer s.seq.Done(t)
	if err := s.seq.Wait(ctx, t); err != nil {
		return err
	}
	return fn()
}

// read runs fn, a read of the tree, in FIFO order and under the apply lock
// (so a watch it registers misses no change), once the peer serves.
func (s *Session) read(ctx context.Context, fn func() error) error {
	if s.e.obs.measuring() {
		defer s.e.obs.requestDone(s.e.obs.now(), false)
	}
	if err := s.callable(ctx); err != nil {
		return err
	}
	return s.ordered(ctx, func() error {
		if err := s.usable(); err != nil {
			return err
		}
		_ = s.e.cfg.TestHooks.At(s.e.cfg.ID, hooks.BeforeReadLock)
		s.e.applyMu.RLock()
		defer s.e.applyMu.RUnlock()
		if s.e.closed.Load() {
			return zkerr.ErrClosed // the tree may be closing
		}
		return s.roRead(fn)
	})
}

// write proposes txn for this session and waits for its outcome, in FIFO
// order. On return this peer has applied the write (or the state that made
// it fail), so the session's next read sees it.
func (s *Session) write(ctx context.Context, txn *znode.Txn) (znode.Result, error) {
	if s.e.obs.measuring() {
		defer s.e.obs.requestDone(s.e.obs.now(), true)
	}
	if err := s.callable(ctx); err != nil {
		return znode.Result{}, err
	}
	if err := s.roWritable(ctx); err != nil {
		return znode.Result{}, err
	}
	txn.Session = s.id
	r := newRequest(reqWrite, txn)
	r.ids, r.super = s.identities()
	r.keepSentACL(s.e.audit, txn.Mode)
	t, up, refused, err := s.submitWrite(ctx, r)
	defer s.seq.Done(t)
	switch {
	case err != nil:
		return znode.Result{}, err
	case refused != nil: // answered in the session's order, as any reply
		if err := s.seq.Wait(ctx, t); err != nil {
			return znode.Result{}, err
		}
		return *refused, nil
	}
	rep, err := r.wait(ctx)
	s.upgraded(ctx, up)
	if err != nil {
		return znode.Result{}, err
	}
	// The reply is in: the write's outcome is decided. It is returned once
	// this peer shows it (applied) and in the session's order; if ctx ends
	// first, the caller cannot learn the outcome from this call.
	var werr error
	if rep.err == nil {
		werr = s.e.applied.wait(ctx, rep.zxid)
	}
	if werr == nil {
		werr = s.seq.Wait(ctx, t)
	}
	switch {
	case werr != nil && rep.err == nil && ctx.Err() != nil:
		return znode.Result{}, fmt.Errorf("%w: %w", zkerr.ErrOutcomeUnknown, werr)
	case werr != nil && rep.err == nil:
		return znode.Result{}, werr
	case rep.err != nil:
		return znode.Result{}, rep.err
	}
	s.ro.see(rep.zxid)
	s.e.cfg.TestHooks.Note(hooks.Mark{Peer: s.e.cfg.ID, Point: hooks.TraceReturned, Session: s.id, Zxid: rep.zxid})
	return rep.res, nil
}

// submitWrite takes a ticket for r and hands it to the peer loop
// (submitLocked).
func (s *Session) submitWrite(ctx context.Context, r *request) (t uint64, up *request, refused *znode.Result, err error) {
	s.submitMu.Lock()
	defer s.submitMu.Unlock()
	t = s.seq.Issue()
	s.e.cfg.TestHooks.Note(hooks.Mark{Peer: s.e.cfg.ID, Point: hooks.TraceSubmit, Session: s.id})
	up, refused, err = s.submitLocked(ctx, r, false)
	return t, up, refused, err
}

// Close closes the session: its ephemeral nodes are deleted and its watches
// removed, at once. Calls after Close fail with ErrClosed.
func (s *Session) Close(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	switch s.State() {
	case StateClosed:
		return nil
	case StateExpired:
		return zkerr.ErrSessionExpired
	}
	if s.ro.local.Load() || s.lc.on.Load() {
		if err := s.roClose(ctx); !errors.Is(err, errJoined) {
			return err
		}
	}
	s.closing.Store(true)
	res, err := s.write(ctx, &znode.Txn{Type: znode.TxnCloseSession})
	if err == nil {
		err = res.Err // refused before it was proposed (no quorum, say)
	}
	if err != nil {
		s.closing.Store(false)
		return fmt.Errorf("zk: closing session %#x: %w", s.id, err)
	}
	// The apply of CloseSession ended the session; make sure even if this
	// peer had detached it meanwhile.
	s.end(StateClosed)
	return nil
}
