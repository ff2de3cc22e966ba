package engine

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// reqKind is what a request asks of the peer loop.
type reqKind uint8

const (
	// reqWrite proposes a txn (create, delete, set, setACL, multi, create
	// and close session) through the leader.
	reqWrite reqKind = iota + 1
	// reqSync runs a quorum round through the leader; the reply's zxid is
	// the committed zxid the next read must wait for.
	reqSync
	// reqTick advances the manual clock by one tick.
	reqTick
	// reqBarrier handles every transport event already queued for this
	// peer, and everything they cause locally, before it is answered.
	reqBarrier
	// reqReconfig changes the membership through the leader (reconfig.go).
	reqReconfig
	// reqInspect runs its inspect function on the loop (dump.go).
	reqInspect
	// reqRevalidate makes this peer the owner of a session it re-attaches
	// (owner.go); the reply's zxid is the leader's last proposed one.
	reqRevalidate
)

// stale reports whether r was handed to the loop in another period of
// serving (or not serving) than the peer's now.
func (r *request) stale(e *Ensemble) bool {
	return r.period != 0 && r.period-1 != e.period.Load()
}

// request is one call handed from a client goroutine to the peer loop. The
// loop owns it from then on and answers exactly once on done.
type request struct {
	kind  reqKind
	txn   *znode.Txn
	ids   []znode.Identity // the calling session's identities, for ACL checks
	super bool             // the calling session authenticated as the super user
	// sentACL is a setACL's ACL as its session sent it, for the audit log
	// (keepSentACL); nil with the audit log off.
	sentACL []znode.ACL
	// sentMode is a create's mode as its request's flags name it, the
	// audit log's znode_type (keepSentACL): the node's mode but for the
	// client port's creates whose op decides it (RemoteSession.StartCreateAs).
	sentMode znode.CreateMode
	// reconfig is a reqReconfig's change.
	reconfig *ReconfigRequest
	// sessionID is a reqRevalidate's session.
	sessionID int64
	// period is Ensemble.period + 1 when the request was handed to the
	// loop (0: a request the loop made itself).
	period uint64
	// inspect is a reqInspect's function; it reads the loop's state and
	// changes nothing.
	inspect func(*peer)
	// done (capacity 1: the loop never blocks on it) signals rep, the
	// reply: a channel of a pointer-free type takes one allocation, a
	// channel of replies two.
	done chan struct{}
	rep  reply
	// then, if set, takes the reply instead of done: a request the loop
	// made for itself (readonly.go), answered on the loop.
	then func(reply)
	// answered is set once rep is in, after done's signal; waker, if
	// set (Pending.Notify), is then told, on the loop.
	answered atomic.Bool
	waker    atomic.Pointer[Waker]

	// Set by the loop.
	id   uint64 // key in the loop's inflight map
	sent bool   // left this peer's control (proposed or forwarded)

	// inLoop counts the ensemble's requests queued or in flight; answer
	// decrements it.
	inLoop *atomic.Int64
}

// session is the id of the session whose write r is, or 0 (a reconfig
// carries no txn).
func (r *request) session() int64 {
	if r.txn == nil {
		return 0
	}
	return r.txn.Session
}

// reply is the loop's answer to a request.
type reply struct {
	res znode.Result
	// err is a failure of the request as a whole (not serving, outcome
	// unknown); res.Err holds ZooKeeper's error for the operation.
	err error
	// zxid: the caller returns only once this peer has applied zxid, so that
	// the session reads its own writes (and the state that made a write
	// fail) afterwards.
	zxid int64
}

func newRequest(kind reqKind, txn *znode.Txn) *request {
	r := &request{}
	r.init(kind, txn)
	return r
}

// init makes r, in place, a new request of kind for txn.
func (r *request) init(kind reqKind, txn *znode.Txn) {
	*r = request{kind: kind, txn: txn, done: make(chan struct{}, 1)}
}

// answer delivers r's reply; a request is answered once.
func (r *request) answer(rep reply) {
	if r.then != nil {
		r.then(rep)
		return
	}
	if r.inLoop != nil {
		r.inLoop.Add(-1) // before the reply: a caller that got it sees the count without it
	}
	r.rep = rep // before the signal: the waiter reads it after
	select {
	case r.done <- struct{}{}:
	default:
		panic("zk: request answered twice")
	}
	r.answered.Store(true)
	if w := r.waker.Load(); w != nil {
		(*w).Wake()
	}
}

// fail answers r with err, or with ErrOutcomeUnknown if r already left this
// peer and may still commit.
func (r *request) fail(err error) {
	if r.sent {
		err = fmt.Errorf("%w (%v)", zkerr.ErrOutcomeUnknown, err)
	}
	r.answer(reply{err: err})
}

// wait waits for the reply. If ctx ends first, the outcome of a write is
// unknown: it may still commit.
func (r *request) wait(ctx context.Context) (reply, error) {
	select {
	case <-r.done:
		return r.rep, nil
	case <-ctx.Done():
		if r.kind == reqWrite {
			return reply{}, fmt.Errorf("%w: %w", zkerr.ErrOutcomeUnknown, ctx.Err())
		}
		return reply{}, ctx.Err()
	}
}
