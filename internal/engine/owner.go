package engine

import (
	"context"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// Session owners: ZooKeeper's SESSIONMOVED. The leader remembers, for each
// session, the peer its client is attached to (the owner). A write whose
// session is owned by another peer fails with ErrSessionMoved and changes
// nothing. A client that lost its connection to peer A and re-attached its
// session on peer B so never has a write it sent through A (still queued
// there, or on its way to the leader) applied after the writes it sends
// through B: the re-attach makes B the owner before it returns
// (Ensemble.Reattach, through revalidate), and every write of A's that
// reaches the leader afterwards is refused. A write of A's that got there
// first is ordered before B's. A client port connection whose write is
// refused so is closed, as ZooKeeper's server closes it.
//
// The leader sets the owner when it prepares a session's CreateSession
// (the peer that asked for it) and when a peer re-attaches the session;
// a session without an owner (every session, on a new leader: ZooKeeper's
// owners are not replicated either) gets the peer of its next write. A
// CloseSession is taken from any peer, as in ZooKeeper. Moving a session
// between two connections of one peer changes no owner: the peer closes
// the old connection itself (the client port's claim).
//
// Owners are not replicated, so a request must not outlive its leader,
// or it could reach a new leader that knows no owner yet after writes the
// client sent later had committed under the old one. ZooKeeper's servers
// drop such requests with the client connections they close when their
// leader changes. Here a follower stamps what it sends its leader with the
// leader's epoch, and a leader runs only what carries its own (forwarded);
// and a request the peer loop takes in another period of serving than the
// one it was handed over in (a stalled loop) fails with ErrNotServing
// (request.stale).
type owners map[int64]int64

// set makes peer the owner of session id.
func (o owners) set(id, peer int64) {
	if o != nil {
		o[id] = peer
	}
}

// check passes a write of session id from peer, which becomes the owner
// of a session that has none, and refuses it with ErrSessionMoved when
// another peer owns the session.
func (o owners) check(id, peer int64) error {
	if o == nil {
		return nil
	}
	owner, ok := o[id]
	switch {
	case !ok:
		o[id] = peer
	case owner != peer:
		return fmt.Errorf("%w: session %#x is attached to peer %d, not %d", zkerr.ErrSessionMoved, id, owner, peer)
	}
	return nil
}

// forget drops the owner of a session that ended.
func (o owners) forget(id int64) { delete(o, id) }

// revalidateSession makes this peer the owner of session id at the leader,
// before a re-attach returns; the returned zxid is the leader's last
// proposed one at that moment.
func (e *Ensemble) revalidateSession(ctx context.Context, id int64) error {
	r := newRequest(reqRevalidate, nil)
	r.sessionID = id
	return e.roundTrip(ctx, r)
}

// revalidate runs a reqRevalidate on the loop: the leader takes it at
// once, a follower asks its leader (appRevalidate) and is answered by an
// appReply.
func (p *peer) revalidate(r *request) {
	if !p.zst.Serving {
		r.fail(zkerr.ErrNotServing)
		return
	}
	if p.leading() {
		r.answer(reply{res: p.revalidateHere(p.cfg.ID, r.sessionID), zxid: p.lastProposed})
		return
	}
	p.askLeader(r, &appMsg{Kind: appRevalidate, ReqID: p.track(r), Sessions: []int64{r.sessionID}})
}

// revalidated answers a follower's appRevalidate.
func (p *peer) revalidated(from int64, msg *appMsg) {
	res := znode.Result{Err: zkerr.ErrNotServing}
	switch {
	case !p.leading() || msg.Epoch != p.zst.Epoch:
	case len(msg.Sessions) != 1:
		res.Err = fmt.Errorf("%w: a revalidation of %d sessions", zkerr.ErrBadArguments, len(msg.Sessions))
	default:
		res = p.revalidateHere(from, msg.Sessions[0])
	}
	p.replyForwarded(from, msg.ReqID, res, "a revalidation")
}

// revalidateHere makes peer the owner of session id, which must be live.
func (p *peer) revalidateHere(peer, id int64) znode.Result {
	if !p.tracker.Touch(id) {
		return znode.Result{Err: zkerr.ErrSessionExpired}
	}
	p.owners.set(id, peer)
	return znode.Result{}
}
