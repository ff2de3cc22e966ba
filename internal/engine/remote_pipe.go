package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// This file lets the client protocol pipeline the writes of one session: a
// ZooKeeper client may send many requests on its connection before reading
// a reply, and ZooKeeper runs them in order without waiting for each one.
// A Start method issues the write in the session's FIFO order and hands it
// to the peer loop at once; Pending.Wait collects its outcome. Writes
// started one after the other are proposed in that order, so a session's
// writes stay FIFO however many are outstanding.
//
// Session.write is the same two halves (startWrite then finish) run back to
// back; the halves live here so that the in-process path stays untouched.

// Pending is a write issued in its session's order whose outcome is not
// collected yet. Wait must be called exactly once for every Pending, in the
// order they were started (a Pending never waited for holds back every later
// call of its session), from one goroutine at a time.
type Pending struct {
	s    *Session
	op   string // for the error: create, set, delete, setACL, multi
	path string
	r    *request // nil when the write failed before it was submitted
	t    uint64   // its ticket in the session's order, 0 without one
	err  error    // the failure before submission
	// began is when it was started (observer.now), for the write latency
	// metrics; timed is false without metrics.
	began int64
	timed bool
	// req is where r points, and txn the txn of a set, a delete or a
	// create without options (StartCreate): a write's Pending,
	// request and txn take one allocation.
	req request
	txn znode.Txn
	// sentMode is a create's mode as its request named it (StartCreateAs).
	sentMode CreateMode
	// refused is the txn of a write its checks refused (err), for the
	// audit log (auditRefused, when Wait answers it).
	refused *znode.Txn
	// up is the CreateSession submitted before the write, which upgrades
	// a local session; pre is the result of a local session's write
	// refused before it was submitted, with ticket t (localsess.go).
	up  *request
	pre *znode.Result
}

// PendingResult is the outcome of a pipelined write: the created path and
// Stat of a create (Stat of a set and setACL), the per-op results of a
// multi.
type PendingResult struct {
	Path  string
	Stat  Stat
	Multi []OpResult
	// Zxid is the zxid that ordered the write (applied or failed), 0 when
	// it never reached the log: the client protocol sends the watch events
	// of zxids up to it before the write's reply.
	Zxid int64
}

// TreeZxid returns the zxid of the tree's current state. Called from
// RemoteWatcher.Watch (under the apply lock) it is the state the read saw.
func (r Remote) TreeZxid() int64 {
	z, _ := r.e.tree.Applied()
	return z
}

// StartCreate issues a create of a node of mode with acl and, for the TTL
// modes, ttl (see Session.Create; a pipelined create takes no options, so
// no WithParents). The txn takes acl as it is, without a copy: the client
// port's create, whose ACL it has just decoded, must not change it
// afterwards. A nil or empty acl is refused as an empty ACL, not replaced
// by the default.
func (s RemoteSession) StartCreate(ctx context.Context, path string, data []byte, mode CreateMode, acl []ACL, ttl time.Duration) *Pending {
	return s.StartCreateAs(ctx, path, data, mode, mode, acl, ttl)
}

// StartCreateAs is StartCreate of a request whose flags named sent, where
// its op made the node mode (the client port's create with the container
// flag makes a persistent node, its createContainer a container whatever
// the flags): the audit log names sent as the znode_type, as ZooKeeper
// takes it from the flags (AuditHelper.getCreateMode).
func (s RemoteSession) StartCreateAs(ctx context.Context, path string, data []byte, mode, sent CreateMode, acl []ACL, ttl time.Duration) *Pending {
	p := &Pending{s: s.Session, op: "create", path: path, sentMode: sent}
	p.txn = znode.Txn{Type: znode.TxnCreate, Path: path, Data: data, Mode: mode, ACL: acl, TTL: ttl.Milliseconds()}
	p.err = s.checkPortCreate(&p.txn)
	return s.start(ctx, p, &p.txn)
}

// StartSet issues a setData (see Session.Set).
func (s RemoteSession) StartSet(ctx context.Context, path string, data []byte, version int32) *Pending {
	p := &Pending{s: s.Session, op: "set", path: path}
	p.txn = znode.Txn{Type: znode.TxnSetData, Path: path, Data: data, Version: version}
	p.err = s.checkWrite("set", &p.txn)
	return s.start(ctx, p, &p.txn)
}

// StartDelete issues a delete (see Session.Delete).
func (s RemoteSession) StartDelete(ctx context.Context, path string, version int32) *Pending {
	p := &Pending{s: s.Session, op: "delete", path: path}
	p.txn = znode.Txn{Type: znode.TxnDelete, Path: path, Version: version}
	p.err = s.checkWrite("delete", &p.txn)
	return s.start(ctx, p, &p.txn)
}

// StartSetACL issues a setACL (see Session.SetACL).
func (s RemoteSession) StartSetACL(ctx context.Context, path string, acl []ACL, aversion int32) *Pending {
	txn := &znode.Txn{Type: znode.TxnSetACL, Path: path, ACL: append([]ACL(nil), acl...), Version: aversion}
	p := &Pending{s: s.Session, op: "setACL", path: path, err: s.checkWrite("setACL", txn)}
	return s.start(ctx, p, txn)
}

// checkWrite runs the checks Session.Set, Delete and SetACL run before
// their write (what names the call): the request's size against
// Config.JuteMaxBuffer, then the path.
func (s *Session) checkWrite(what string, txn *znode.Txn) error {
	if err := s.checkRequest(what, txn); err != nil {
		return err
	}
	return s.checkPath(txn.Path, false)
}

// checkMulti runs the checks Session.Multi runs on the whole multi before
// its ops' own: the whole request's size.
func (s *Session) checkMulti(txn *znode.Txn) error { return s.checkRequest("multi", txn) }

// StartMulti issues a multi of at least one op (see Session.Multi; run
// CheckOps first to learn which op a refusal belongs to).
func (s RemoteSession) StartMulti(ctx context.Context, ops ...Op) *Pending {
	p := &Pending{s: s.Session, op: "multi"}
	txn := &znode.Txn{Type: znode.TxnMulti, Ops: make([]znode.Txn, len(ops))}
	for i, op := range ops {
		txn.Ops[i] = op.txn
	}
	p.err = s.checkMulti(txn)
	for i, op := range ops {
		if p.err != nil {
			break
		}
		if err := s.checkOp(op); err != nil {
			p.err = fmt.Errorf("op %d: %w", i, err)
		}
	}
	if p.err == nil && len(ops) == 0 {
		p.err = fmt.Errorf("%w: an empty multi", zkerr.ErrBadArguments)
	}
	return s.start(ctx, p, txn)
}

// start submits txn unless p already failed.
func (s RemoteSession) start(ctx context.Context, p *Pending, txn *znode.Txn) *Pending {
	if s.e.obs.measuring() {
		p.began, p.timed = s.e.obs.now(), true
	}
	if p.err != nil {
		p.refused = txn
		return p
	}
	p.t, p.up, p.pre, p.err = s.startWrite(ctx, txn, &p.req, s.noWait, p.sentMode)
	if p.err == nil && p.pre == nil {
		p.r = &p.req
	}
	return p
}

// startWrite makes r the request of txn, issues its ticket and hands it
// to the peer loop, as the first half of Session.write; sentMode is a
// create's mode as its request named it (keepSentACL).
// With noWait it fails with ErrWouldBlock rather than wait for the
// session's submit lock or the loop's queue.
func (s *Session) startWrite(ctx context.Context, txn *znode.Txn, r *request, noWait bool, sentMode CreateMode) (t uint64, up *request, refused *znode.Result, err error) {
	if err := s.callable(ctx); err != nil {
		return 0, nil, nil, err
	}
	if err := s.roWritable(ctx); err != nil {
		return 0, nil, nil, err
	}
	txn.Session = s.id
	r.init(reqWrite, txn)
	r.ids, r.super = s.identities()
	r.keepSentACL(s.e.audit, sentMode)
	if !noWait {
		s.submitMu.Lock()
	} else if !s.submitMu.TryLock() {
		return 0, nil, nil, ErrWouldBlock
	}
	t = s.seq.Issue()
	up, refused, err = s.submitLocked(ctx, r, noWait)
	s.submitMu.Unlock()
	if err != nil {
		s.seq.Done(t)
		return 0, nil, nil, err
	}
	return t, up, refused, nil
}

// WouldBlock reports whether a NoWait start failed because it would have
// waited: nothing was issued, and the write may be started again.
func (p *Pending) WouldBlock() bool { return p.r == nil && errors.Is(p.err, ErrWouldBlock) }

// Ready reports whether the peer loop answered the write (Wait then blocks
// at most for this peer to apply it).
func (p *Pending) Ready() bool { return p.r == nil || len(p.r.done) > 0 }

// Waker is told that a pipelined write's reply is in (Pending.Notify).
// Wake runs on the peer loop: it must return at once, and call nothing of
// the engine.
type Waker interface{ Wake() }

// Notify asks the peer loop to call w.Wake once the write's reply is in,
// so that a caller that must never wait (the client port's ring) learns
// when to look again. It reports false when there is nothing to wait for:
// the reply is already in, or the write never left (w may still be told,
// once). w is told at most once. The caller keeps *w (a pointer it owns,
// so that a write's hot path allocates nothing for it).
func (p *Pending) Notify(w *Waker) bool {
	if p.r == nil {
		return false
	}
	p.r.waker.Store(w)
	return !p.r.answered.Load()
}

// Done reports whether Wait would return without waiting: the reply is in,
// this peer applied the write, and every call issued before it in the
// session returned.
func (p *Pending) Done() bool {
	r := p.r
	switch {
	case p.pre != nil:
		return p.s.seq.Through()+1 >= p.t
	case r == nil:
		return true
	case !r.answered.Load():
		return false
	case r.rep.err == nil && p.s.e.applied.load() < r.rep.zxid:
		return false
	}
	return p.s.seq.Through()+1 >= p.t
}

// Wait returns the write's outcome once this peer applied it and every
// call issued before it in the session returned: the second half of
// Session.write. Its errors are those of the matching Session method.
func (p *Pending) Wait(ctx context.Context) (PendingResult, error) {
	if p.timed {
		// As Session.write: every write a session made, whatever its outcome.
		defer p.s.e.obs.requestDone(p.began, true)
	}
	var res znode.Result
	var zxid int64
	var err error
	switch {
	case p.pre != nil:
		res, err = *p.pre, p.s.seq.Wait(ctx, p.t) // answered in the session's order
		p.s.seq.Done(p.t)
		p.pre = nil
	case p.r == nil:
		if p.refused != nil {
			p.s.auditRefused(p.refused, p.sentMode, p.err) // in the session's order, as Wait is called
		}
		return PendingResult{}, p.wrap(p.err)
	default:
		res, zxid, err = p.s.finish(ctx, p.r, p.t)
		p.s.upgraded(ctx, p.up)
		p.r, p.up = nil, nil
	}
	if err == nil && p.op != "multi" {
		err = res.Err
	}
	out := PendingResult{Path: res.Path, Stat: res.Stat, Zxid: zxid}
	if p.op == "multi" && err == nil {
		out.Multi = make([]OpResult, len(res.Multi))
		for i, r := range res.Multi {
			out.Multi[i] = OpResult{Path: r.Path, Stat: r.Stat, Err: r.Err}
		}
		err = res.Err
	}
	return out, p.wrap(err)
}

// wrap gives err the form the matching Session method gives it.
func (p *Pending) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case p.op == "multi":
		return fmt.Errorf("zk: multi: %w", err)
	}
	return opError(p.op, p.path, err)
}

// finish waits for r's reply, for this peer to apply it and for the
// session's earlier calls, then releases ticket t. It returns the reply's
// zxid too.
func (s *Session) finish(ctx context.Context, r *request, t uint64) (znode.Result, int64, error) {
	defer s.seq.Done(t)
	rep, err := r.wait(ctx)
	if err != nil {
		return znode.Result{}, 0, err
	}
	var werr error
	if rep.err == nil {
		werr = s.e.applied.wait(ctx, rep.zxid)
	}
	if werr == nil {
		werr = s.seq.Wait(ctx, t)
	}
	switch {
	case werr != nil && rep.err == nil && ctx.Err() != nil:
		return znode.Result{}, 0, fmt.Errorf("%w: %w", zkerr.ErrOutcomeUnknown, werr)
	case werr != nil && rep.err == nil:
		return znode.Result{}, 0, werr
	case rep.err != nil:
		return znode.Result{}, 0, rep.err
	}
	return rep.res, rep.zxid, nil
}
