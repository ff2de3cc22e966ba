package sim

import (
	"context"
	"errors"
	"time"

	zk "github.com/embedzk/zk"
)

// client is one ZooKeeper client of the workload: at most one session
// handle at a time, at most one call outstanding (as a real client that
// waits for each reply), moving to another peer when its own is down.
type client struct {
	id   int
	w    *World
	op   *opRecord // the outstanding call
	last *opRecord // the call that returned last
	rng  float64

	// The session and the handle it is used through.
	sess     *zk.Session
	peer     *simPeer
	inc      int // peer's incarnation the handle belongs to
	handle   int // counts handles, for the per-handle checks
	sid      int64
	password []byte
	timeout  time.Duration

	versions map[string]int32 // last version seen per path (for CAS)
	watches  []*watchRec
	nextTry  int64
}

// alive reports whether the handle's peer incarnation still runs.
func (c *client) alive() bool {
	return c.sess != nil && c.peer.ens != nil && c.peer.inc == c.inc
}

// servingPeers returns the running peers that serve.
func (w *World) servingPeers() []*simPeer {
	var out []*simPeer
	for _, p := range w.live() {
		if p.busy != nil || p.paused {
			continue
		}
		if st := p.ens.Status(); st.Serving && st.Err == nil {
			out = append(out, p)
		}
	}
	return out
}

// step lets an idle client do its next call.
func (c *client) step() {
	w := c.w
	if c.op != nil || w.now < c.nextTry {
		return
	}
	if c.sess != nil {
		switch c.sess.State() {
		case zk.StateExpired, zk.StateClosed:
			if c.sess.State() == zk.StateExpired {
				w.lsSawExpired(c.sess)
			}
			c.dropSession()
			return
		}
	}
	if !c.alive() {
		c.connect()
		return
	}
	if c.sess.State() == zk.StateDisconnected {
		if w.rng.IntN(4) == 0 {
			c.connect() // fail over to another peer, as a ZooKeeper client does
		}
		return
	}
	if c.roAbandoned() || c.lsDetach() {
		return
	}
	op := c.pick()
	if op != nil {
		c.start(op)
	}
}

// dropSession forgets a session that ended.
func (c *client) dropSession() {
	c.sess, c.sid, c.password = nil, 0, nil
	c.nextTry = c.w.now + int64(c.w.rng.IntN(20))
}

// connect re-attaches the client's session to a serving peer, or opens a
// new one.
func (c *client) connect() {
	w := c.w
	ps := c.connectable()
	if len(ps) == 0 {
		c.nextTry = w.now + 5
		return
	}
	p := ps[w.rng.IntN(len(ps))]
	op := &opRecord{c: c, peer: p}
	switch {
	case c.sid != 0:
		op.kind, op.sid, op.password = opReattach, c.sid, c.password
	default:
		op.kind = opNewSession
		op.timeout = time.Duration(2+w.rng.IntN(19)) * TickTime
	}
	w.launch(op)
}

// start launches op on the client's handle.
func (c *client) start(op *opRecord) {
	op.c, op.peer, op.sess, op.sid = c, c.peer, c.sess, c.sid
	c.w.launch(op)
	if !op.finished() && op.kind != opNewSession && op.kind != opReattach {
		// A client gives up after a while: the outcome is then unknown.
		// One in three is impatient (a short client timeout): its
		// writes are the ones most often still on their way when it
		// has moved to another peer (checkSessionOrder).
		patience := 300
		if c.id%3 == 0 {
			patience = 40
		}
		op.cancelTick = c.w.now + 20 + int64(c.w.rng.IntN(patience))
	}
}

// returned updates the client after one of its calls returned.
func (c *client) returned(op *opRecord) {
	c.op, c.last = nil, op
	switch op.kind {
	case opNewSession, opReattach:
		if op.err != nil {
			if op.kind == opReattach && op.errName == "expired" {
				c.sid, c.password = 0, nil
			}
			c.nextTry = c.w.now + 3
			return
		}
		c.sess, c.peer, c.inc = op.newSess, op.peer, op.inc
		c.sid, c.password, c.timeout = op.newSess.ID(), op.newSess.Password(), op.newSess.Timeout()
		c.handle++
		c.w.handles = append(c.w.handles, handleRec{sess: op.newSess, peer: op.peer, inc: op.inc})
		c.w.trace.line(c.w.now, "session c%d id=%#x on %d", c.id, c.sid, c.peer.id)
		return
	case opClose:
		if op.err == nil {
			c.dropSession()
		}
	}
	switch op.errName {
	case "expired":
		c.dropSession()
	case "closed":
		c.sess = nil // the handle's peer went away; the session may live on
	case "moved":
		// The session was re-attached elsewhere (a failed fail-over's
		// re-attach did it, or the handle is stale): as a ZooKeeper
		// client whose server closed the connection, re-attach it.
		c.sess = nil
	}
	c.learn(op)
	if op.kind.write() && errors.Is(op.err, context.Canceled) && c.sess != nil && (op.call+int64(c.id))%2 == 0 {
		// A ZooKeeper client that gives up on a call drops its
		// connection and reconnects, maybe to another peer, while the
		// call may still be on its way there: the session moves, and
		// checkSessionOrder sees that the write never commits after
		// the ones sent through the next peer.
		c.sess = nil
	}
	if op.watchC != nil || op.pw != nil {
		c.watches = append(c.watches, newWatchRec(c, op))
	}
}

// learn remembers versions seen, for later compare-and-set calls.
func (c *client) learn(op *opRecord) {
	if c.versions == nil {
		c.versions = map[string]int32{}
	}
	switch {
	case op.err != nil:
	case op.kind == opDelete:
		delete(c.versions, op.path)
	case op.kind == opCreate || op.kind == opSet || op.kind == opSyncGet || op.kind == opGet || op.kind == opGetW:
		c.versions[op.path] = op.stat.Version
	}
}
