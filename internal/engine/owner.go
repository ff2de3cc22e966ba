package engine

import (
	"context"
	"fmt"
	"sync"

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
//
// A request of any kind from one of the leader's own connections whose
// session another peer owns fails with ErrSessionMoved too, reads and
// pings included, as every request on a ZooKeeper leader passes its
// PrepRequestProcessor's checkSession: the leader marks such sessions
// (awaySessions) and the client port checks the mark (RemoteSession.Moved).
// A follower serves its reads without asking, as ZooKeeper's do.
type owners struct {
	of     map[int64]int64
	self   int64
	away   *awaySessions
	closed map[int64]bool // local sessions this leader closed (localsess.go)
}

// newOwners starts the owner table of a new leader, self, which knows no
// owner yet (ZooKeeper's are not replicated either).
func newOwners(self int64, away *awaySessions) *owners {
	away.clear()
	return &owners{of: map[int64]int64{}, self: self, away: away, closed: map[int64]bool{}}
}

// set makes peer the owner of session id.
func (o *owners) set(id, peer int64) {
	if o != nil {
		o.of[id] = peer
		o.away.mark(id, peer != o.self)
	}
}

// check passes a write of session id from peer, which becomes the owner
// of a session that has none, and refuses it with ErrSessionMoved when
// another peer owns the session.
func (o *owners) check(id, peer int64) error {
	if o == nil {
		return nil
	}
	owner, ok := o.of[id]
	switch {
	case !ok:
		o.set(id, peer)
	case owner != peer:
		return fmt.Errorf("%w: session %#x is attached to peer %d, not %d", zkerr.ErrSessionMoved, id, owner, peer)
	}
	return nil
}

// forget drops the owner of a session that ended.
func (o *owners) forget(id int64) {
	if o != nil {
		delete(o.of, id)
		o.away.mark(id, false)
	}
}

// drop ends the table when its leader stops serving.
func (o *owners) drop() {
	if o != nil {
		o.away.clear()
	}
}

// awaySessions are the sessions the leader knows another peer owns, for
// the requests of this peer's own connections: every client port request
// reads it (without a lock: a sync.Map), the leader's loop writes it.
type awaySessions struct{ ids sync.Map } // session id -> struct{}

func (a *awaySessions) mark(id int64, away bool) {
	if away {
		a.ids.Store(id, struct{}{})
	} else {
		a.ids.Delete(id)
	}
}

func (a *awaySessions) has(id int64) bool {
	_, ok := a.ids.Load(id)
	return ok
}

func (a *awaySessions) clear() { a.ids.Clear() }

// Moved reports whether this peer leads and knows the session attached to
// another peer since (re-attached there): every request of the session
// from here then fails with ErrSessionMoved, as on a ZooKeeper leader, and
// the client port closes the connection unanswered. CloseSession is taken
// still. On a follower it is always false.
func (s RemoteSession) Moved() bool { return s.Session != nil && s.e.away.has(s.id) }

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
