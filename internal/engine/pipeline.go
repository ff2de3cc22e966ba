package engine

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// write sends a client's write on its way: prepared and proposed here when
// this peer leads, forwarded to the leader otherwise.
func (p *peer) write(r *request) {
	if !p.zst.Serving {
		r.fail(zkerr.ErrNotServing)
		return
	}
	id := p.track(r)
	p.mark(hooks.TraceTake, r.txn.Session, id, 0)
	if p.leading() {
		res, proposed := p.prepare(p.cfg.ID, id, r.txn, r.ids, r.super)
		if !proposed {
			delete(p.inflight, id)
			r.answer(reply{res: res, zxid: p.lastProposed})
		} else {
			r.sent = true
		}
		return
	}
	b, err := encodeForward(id, p.zst.Epoch, r.super, r.ids, r.txn)
	if err == nil && len(b) > maxProposalBytes {
		// The request itself passed the session's check: the
		// session's identities make the message too large.
		delete(p.inflight, id)
		r.fail(fmt.Errorf("zk: forwarding: %w: %d bytes with the session's %d identities", zkerr.ErrRequestTooLarge, len(b), len(r.ids)))
		return
	}
	if err == nil {
		err = p.node.SendApp(0, b)
	}
	if err != nil {
		delete(p.inflight, id)
		r.fail(fmt.Errorf("%w: forwarding to the leader: %v", zkerr.ErrNotServing, err))
		return
	}
	p.mark(hooks.TraceForward, r.txn.Session, id, 0)
	r.sent = true
}

// leading reports whether this peer is the established leader and has its
// pipeline ready.
func (p *peer) leading() bool { return p.pending != nil }

// prepare checks txn against the committed tree plus every txn proposed but
// not yet applied, resolves it (time, sequence suffix) and proposes it. A
// txn that fails is proposed too, as a no-op carrying its failure, so that
// the failure is ordered by a quorum like any write: a leader deposed
// without knowing it never answers from a stale state (housekeeping
// failures, which nobody waits for, are just dropped). A request over the
// size limits (this leader's own) fails at once, before anything is
// prepared: its failure depends on no state. prepare returns false, with
// the result to answer at once, only if nothing was proposed.
func (p *peer) prepare(origin int64, reqID uint64, txn *znode.Txn, ids []znode.Identity, super bool) (znode.Result, bool) {
	limits := reqID != 0 && !p.cfg.TestHooks.Breaks(hooks.ResetOnRefusal)
	if limits {
		if err := checkTxnLimits(txn, p.cfg.JuteMaxBuffer); err != nil {
			p.e.obs.tooLarge()
			return znode.Result{Err: err}, false
		}
	}
	res, digest := p.check(origin, txn, ids, super, limits)
	if errors.Is(res.Err, zkerr.ErrRequestTooLarge) {
		p.e.obs.tooLarge()
		return res, false
	}
	en := entry.Entry{Digest: digest, Origin: origin, ReqID: reqID, Txn: txn}
	if res.Err != nil {
		if reqID == 0 {
			return res, false
		}
		fail, err := encodeApp(&appMsg{Kind: appReply, Result: toWire(res)})
		if err != nil {
			return znode.Result{Err: fmt.Errorf("%w: %v", zkerr.ErrMarshalling, err)}, false
		}
		// The entry keeps the failed txn (for the log's readers) but is
		// applied as a no-op.
		en.Failure = fail
		_, en.Digest = p.pending.Stage(p.node.NextZxid(), noopFor(txn), nil)
	}
	if err := p.propose(en); err != nil {
		if errors.Is(err, zab.ErrTooLarge) {
			return znode.Result{Err: fmt.Errorf("%w: %v", zkerr.ErrRequestTooLarge, err)}, false
		}
		return znode.Result{Err: fmt.Errorf("%w: %v", zkerr.ErrNotServing, err)}, false
	}
	if res.Err == nil {
		p.trackSessionTxn(txn)
	}
	return res, true
}

// noopFor is the no-op applied in place of a failed txn.
func noopFor(txn *znode.Txn) *znode.Txn {
	return &znode.Txn{Type: znode.TxnNoop, Session: txn.Session, Time: txn.Time}
}

// check runs txn against the pipeline's view; on success its effects are
// staged in the overlay (propose keeps them once the log took the entry)
// and digest is the tree digest after it. With limits, a txn whose "auth"
// ACL entries would expand beyond the size limit fails before anything is
// expanded or staged.
func (p *peer) check(origin int64, txn *znode.Txn, ids []znode.Identity, super, limits bool) (znode.Result, uint64) {
	txn.Time = p.now().UnixMilli()
	if err := p.checkSession(origin, txn); err != nil {
		return p.localRefusal(txn, err), 0
	}
	if limits {
		if err := checkSize("request with its auth ACLs expanded", expandedRequestSize(txn, ids), p.cfg.JuteMaxBuffer); err != nil {
			return znode.Result{Err: err}, 0
		}
	}
	fixupACLs(txn, ids)
	return p.pending.Stage(p.node.NextZxid(), txn, p.authorizer(ids, super))
}

// propose appends en to the log through the core, at the zxid the pipeline
// prepared it for, and keeps en's staged effects in the pipeline's view
// once the log took it. If the core refuses it, only en's own staged
// effects are dropped: the view of every txn proposed before stays as it
// was, so the next txn is prepared against the right state.
func (p *peer) propose(en entry.Entry) error {
	zxid := p.node.NextZxid()
	data, err := entry.Encode(en)
	if err == nil {
		var got int64
		got, err = p.node.Propose(data)
		if err == nil && got != zxid {
			err = fmt.Errorf("proposed as %#x, prepared as %#x", got, zxid)
			p.e.fail(fmt.Errorf("zk: pipeline out of step with the log: %w", err))
		}
	}
	if err != nil {
		p.pending.Discard()
		if p.cfg.TestHooks.Breaks(hooks.ResetOnRefusal) {
			p.pending.Reset() // issue 9's defect, for the test of the recovery
		}
		return err
	}
	kept := p.pending.Keep()
	p.mark(hooks.TraceProposed, en.Txn.Session, en.ReqID, zxid)
	p.e.obs.proposed(zxid)
	p.e.obs.props.Note(len(data))
	p.lastProposed = zxid
	p.proposed[zxid] = proposal{en: en, kept: kept}
	return nil
}

// proposal is a leader's own proposal until it is applied: its entry, and
// the effects its pipeline staged and kept for it.
type proposal struct {
	en   entry.Entry
	kept *znode.Kept
}

// fixupACLs expands the "auth" entries of the ACL of a create or setACL
// (of every create of a multi) into the session's digest identities and
// drops duplicates: the first half of ZooKeeper's fixupACL. It never fails:
// the validation, the second half, runs in znode when the op is reached, so
// that a multi fails at the op where ZooKeeper fails, with its error and
// per-op results.
func fixupACLs(txn *znode.Txn, ids []znode.Identity) {
	switch txn.Type {
	case znode.TxnCreate, znode.TxnSetACL:
		txn.ACL = znode.ExpandACL(txn.ACL, ids)
	case znode.TxnMulti:
		for i := range txn.Ops {
			if txn.Ops[i].Type == znode.TxnCreate {
				txn.Ops[i].ACL = znode.ExpandACL(txn.Ops[i].ACL, ids)
			}
		}
	}
}

// checkSession refuses a request from a session the leader does not track
// (expired, closing, unknown), or that another peer than origin owns
// (ErrSessionMoved, owner.go), as ZooKeeper's checkSession.
func (p *peer) checkSession(origin int64, txn *znode.Txn) error {
	switch {
	case txn.Type == znode.TxnCreateSession && p.owners.closedLocal(txn.Session):
		return fmt.Errorf("%w: session %#x was closed", zkerr.ErrSessionExpired, txn.Session)
	case txn.Type == znode.TxnCreateSession:
		p.owners.set(txn.Session, origin)
		return nil
	case txn.Type == znode.TxnCloseSession:
		return nil // from any peer, as ZooKeeper checks no owner there
	case txn.Session == 0:
		return nil // the leader's own housekeeping (container reaping)
	case !p.tracker.Touch(txn.Session):
		if p.localWriter(txn) {
			return nil // a local session's: no owner to check
		}
		return zkerr.ErrSessionExpired
	case p.cfg.TestHooks.Breaks(hooks.NoSessionOwners):
		return nil // a deliberately wrong build, for the simulation's test
	}
	return p.owners.check(txn.Session, origin)
}

// trackSessionTxn keeps the tracker in step with proposed session txns, so
// that requests pipelined behind them see the session born or gone.
func (p *peer) trackSessionTxn(txn *znode.Txn) {
	switch txn.Type {
	case znode.TxnCreateSession:
		if err := p.tracker.Add(txn.Session, p.timeoutTicks(txn.Timeout)); err != nil {
			p.cfg.Logger.Debug("zk: session already tracked", "id", txn.Session)
		}
	case znode.TxnCloseSession:
		if _, tracked := p.tracker.Deadline(txn.Session); !tracked && p.e.peerSessionsOn() {
			p.owners.closeLocal(txn.Session)
		}
		p.tracker.Remove(txn.Session)
		p.owners.forget(txn.Session)
	}
}

// timeoutTicks converts a session timeout (ms) to session ticks, rounding up.
func (p *peer) timeoutTicks(ms int32) int {
	tick := p.cfg.TickTime.Milliseconds()
	return int((int64(ms) + tick - 1) / tick)
}

// lastAuth is the last ACL check authorizer made, and the identities it
// checks against (its own copy).
type lastAuth struct {
	ids   []znode.Identity
	check func([]znode.ACL, znode.Perm) error
}

// authorizer returns the ACL check the pipeline runs for a request of a
// session with ids: nil (none) for the super user, or with Config.SkipACL.
// A request with the same identities as the last one (nearly every
// request: sessions have the same few) gets the same check, which saves a
// closure per request.
func (p *peer) authorizer(ids []znode.Identity, super bool) func([]znode.ACL, znode.Perm) error {
	if p.cfg.SkipACL || super || hasSuper(ids, p.cfg.SuperDigest) {
		return nil
	}
	if p.auth.check != nil && slices.Equal(p.auth.ids, ids) {
		return p.auth.check
	}
	own := slices.Clone(ids)
	check := func(acl []znode.ACL, perm znode.Perm) error {
		if znode.CheckACL(acl, perm, own) {
			return nil
		}
		return zkerr.ErrNoAuth
	}
	p.auth = lastAuth{ids: own, check: check}
	return check
}

func hasSuper(ids []znode.Identity, superDigest string) bool {
	if superDigest == "" {
		return false
	}
	for _, id := range ids {
		if id.Scheme == "digest" && id.ID == superDigest {
			return true
		}
	}
	return false
}

// becomeLeader sets up the pipeline once this peer is the established
// leader and has applied its whole history.
func (p *peer) becomeLeader() error {
	p.pending = p.e.tree.NewPending()
	p.tracker, p.trackerTickAt = session.NewTracker(), time.Now()
	p.owners = newOwners(p.cfg.ID, &p.e.away) // owners restart unknown on a new leader, as in ZooKeeper
	sessions, err := p.e.tree.Sessions()
	if err != nil {
		return fmt.Errorf("zk: loading sessions: %w", err)
	}
	for _, s := range sessions {
		// Timeouts restart on the new leader, as in ZooKeeper.
		if err := p.tracker.Add(s.ID, p.timeoutTicks(s.Timeout)); err != nil {
			return err
		}
	}
	p.lastProposed = p.node.Status().LastZxid
	p.initConfig()
	return nil
}

// handleApp handles an app message from another peer.
func (p *peer) handleApp(m zab.AppMessage) {
	if isForward(m.Data) { // the common message, decoded on the stack
		var fwd appMsg
		err := decodeForward(&fwd, m.Data[1:], p.fwdIds)
		if cap(fwd.Ids) > cap(p.fwdIds) && cap(fwd.Ids) <= maxKeptIds {
			p.fwdIds = fwd.Ids[:0]
		}
		if err != nil {
			p.cfg.Logger.Warn("zk: dropping a malformed app message", "from", m.From, "err", err)
			return
		}
		p.forwarded(m.From, &fwd)
		return
	}
	msg, err := decodeApp(m.Data)
	if err != nil {
		p.cfg.Logger.Warn("zk: dropping a malformed app message", "from", m.From, "err", err)
		return
	}
	switch msg.Kind {
	case appForward:
		p.forwarded(m.From, msg)
	case appReconfig:
		p.forwardedReconfig(m.From, msg)
	case appRevalidate:
		p.revalidated(m.From, msg)
	case appReply:
		r := p.inflight[msg.ReqID]
		if r == nil {
			return
		}
		delete(p.inflight, msg.ReqID)
		r.answer(reply{res: fromWire(msg.Result), zxid: msg.Zxid})
	case appTouch:
		if p.tracker != nil {
			for _, id := range msg.Sessions {
				p.tracker.Touch(id)
			}
		}
	}
}

// maxKeptIds bounds the memory of identities kept for the next forwarded
// write (peer.fwdIds).
const maxKeptIds = 16

// forwarded prepares a write a follower forwarded, answering it at once if
// it fails (a success is answered by the follower's own apply).
func (p *peer) forwarded(from int64, msg *appMsg) {
	p.mark(hooks.TraceForwardRecv, 0, msg.ReqID, 0)
	var res znode.Result
	proposed := false
	txn, err := znode.DecodeTxn(msg.Txn)
	switch {
	case err != nil:
		res.Err = fmt.Errorf("%w: %v", zkerr.ErrBadArguments, err)
	case !p.leading() || msg.Epoch != p.zst.Epoch:
		res.Err = zkerr.ErrNotServing // sent to another leader, or before one was elected
	default:
		res, proposed = p.prepare(from, msg.ReqID, txn, msg.Ids, msg.Super)
	}
	if proposed {
		return
	}
	p.replyForwarded(from, msg.ReqID, res, "a forwarded write")
}

// replyForwarded answers a forwarded request that was not proposed: its
// result goes back to the follower that forwarded it.
func (p *peer) replyForwarded(from int64, reqID uint64, res znode.Result, what string) {
	b, err := encodeApp(&appMsg{Kind: appReply, ReqID: reqID, Result: toWire(res), Zxid: p.lastProposed})
	if err == nil {
		err = p.node.SendApp(from, b)
	}
	if err != nil {
		p.cfg.Logger.Debug("zk: answering "+what, "to", from, "err", err)
	}
}

// sessionTick runs once per TickTime: sessions attached here are kept alive
// (those of the client port only while their clients are heard), the leader
// expires the others whose time is up and reaps containers and TTL nodes.
func (p *peer) sessionTick() {
	if !p.zst.Serving {
		return
	}
	p.localTick()
	p.unsureTick()
	local := p.e.touchedSessionIDs()
	if !p.leading() {
		if len(local) > 0 {
			b, err := encodeApp(&appMsg{Kind: appTouch, Sessions: local})
			if err == nil {
				err = p.node.SendApp(0, b)
			}
			if err != nil {
				p.cfg.Logger.Debug("zk: touching sessions", "err", err)
			}
		}
		return
	}
	for _, id := range local {
		p.tracker.Touch(id)
	}
	p.trackerTickAt = time.Now()
	expired := p.tracker.Tick()
	p.logExpiries(expired)
	for _, id := range expired {
		if err := p.hook(hooks.BeforeExpire); err != nil {
			p.e.fail(err)
			p.stopServing()
			return
		}
		p.proposeHousekeeping(&znode.Txn{Type: znode.TxnCloseSession, Session: id})
	}
	p.reap()
}

// proposeHousekeeping proposes a txn of the leader's own (no caller waits).
func (p *peer) proposeHousekeeping(txn *znode.Txn) {
	res, _ := p.prepare(p.cfg.ID, 0, txn, nil, true)
	if res.Err != nil && !errors.Is(res.Err, zkerr.ErrNoNode) && !errors.Is(res.Err, zkerr.ErrNotEmpty) {
		p.cfg.Logger.Debug("zk: housekeeping txn failed", "type", txn.Type, "path", txn.Path, "err", res.Err)
	}
}
