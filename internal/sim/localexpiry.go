package sim

import (
	"slices"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/session"
	"github.com/embedzk/zk/znode"
)

// Local sessions that expire by their own timeout. An in-process session
// is kept alive as long as it is attached, so in a world with local
// sessions a client now and then detaches its handle instead of calling
// again (engine.RemoteSession.Detach: a client whose connection went and
// which stays away), and comes back after a while drawn from the session's
// timeout, before or after its time is up, with a Reattach on any serving
// peer. Checked, for a session that never asked for an ephemeral (so never
// upgraded), while its peer's incarnation runs and never stops serving:
//
//   - its peer expires it once its timeout is up (its handle goes to
//     StateExpired), neither before (unless the ensemble closed it:
//     ExpireSession) nor long after, counted in the peer's own ticks (a
//     session tick is ten of them, TicksPerTickTime);
//
// and for every detached session whose handle the world saw expired:
//
//   - no txn of it commits afterwards (a CreateSession, an ephemeral, any
//     write: nothing of an expired local session comes back), and no
//     Reattach of it that began afterwards succeeds.

// lsDetach is a local session whose client went away.
type lsDetach struct {
	id        int64
	sess      *zk.Session
	peer      *simPeer
	inc, lost int   // the peer's incarnation and lost count at the detach
	at        int64 // the peer's ticks at the detach
	ticks     int64 // its timeout in session ticks
	timed     bool  // never asked for an ephemeral: its expiry is its peer's
	done      bool  // nothing more to watch
	expiredAt int64 // event time the world saw its handle expired (-1: not)
}

// lsDetach lets an idle client of a world with local sessions detach its
// local session now and then; it reports whether it did.
func (c *client) lsDetach() bool {
	w := c.w
	if !w.ls.on || c.readOnly() || w.ls.opened[c.sid] == nil || c.sess.State() != zk.StateConnected || w.rng.IntN(40) != 0 {
		return false
	}
	engine.RemoteSession{Session: c.sess}.Detach()
	t := int64(session.TimeoutTicks(int32(c.timeout.Milliseconds()), int32(TickTime.Milliseconds())))
	w.ls.detached = append(w.ls.detached, &lsDetach{id: c.sid, sess: c.sess, peer: c.peer, inc: c.inc,
		lost: w.ls.lost[c.peer.id], at: c.peer.ticked, ticks: t, timed: !w.ls.ephem[c.sid], expiredAt: -1})
	w.trace.line(w.now, "c%d detaches session %#x (timeout %d session ticks)", c.id, c.sid, t)
	// A detached session is told nothing (its client is away): the
	// session's watches (of every handle it had: a Reattach on its own
	// peer returns the same one) are no longer checked.
	c.watches = slices.DeleteFunc(c.watches, func(r *watchRec) bool { return r.op.sid == c.sid })
	c.sess = nil
	c.nextTry = w.now + int64(w.rng.IntN(int(2*t*engine.TicksPerTickTime+20)))
	return true
}

// lsDetachLaunch notes, as op starts, an ephemeral create of a session (it
// may upgrade it) and a Reattach of a detached session on its peer (it
// keeps the session alive).
func (w *World) lsDetachLaunch(op *opRecord) {
	if op.ephemeral() {
		w.ls.ephem[op.sid] = true
	}
	if op.kind != opReattach {
		return
	}
	for _, d := range w.ls.detached {
		if d.id == op.sid && d.peer == op.peer && d.inc == op.inc {
			d.done = true
		}
	}
}

// lsPoll runs after every tick: it watches the detached sessions expire.
func (w *World) lsPoll() {
	for _, d := range w.ls.detached {
		p := d.peer
		if d.done {
			continue
		}
		if p.inc != d.inc || p.ens == nil || w.ls.lost[p.id] != d.lost {
			d.done = true // its peer lost its local sessions
			continue
		}
		el := p.ticked - d.at
		st := d.sess.State()
		switch {
		case st == zk.StateExpired || st == zk.StateClosed:
			d.done, d.expiredAt = true, w.ts
			w.stats.Local.TimedOut++
			w.lsSawExpired(d.sess)
			if d.timed && el < (d.ticks-1)*engine.TicksPerTickTime && !w.lsClosed(d.id) {
				w.failf("local session %#x of peer %d expired %d ticks after its client left, before its timeout (%d session ticks)", d.id, p.id, el, d.ticks)
			}
		case d.timed && el > (d.ticks+3)*engine.TicksPerTickTime && p.ens.Status().Serving:
			d.done = true
			w.failf("local session %#x of peer %d is %v %d ticks after its client left, past its timeout (%d session ticks)", d.id, p.id, st, el, d.ticks)
		}
	}
}

// lsClosed reports whether a CloseSession of id has committed.
func (w *World) lsClosed(id int64) bool {
	for _, t := range w.ref.chain {
		if !t.failed && t.en.Txn.Session == id && t.en.Txn.Type == znode.TxnCloseSession {
			return true
		}
	}
	return false
}

// lsExpiryChecks: nothing of a detached session the world saw expired
// commits afterwards, and no Reattach of it begun afterwards succeeds.
func (w *World) lsExpiryChecks() {
	seen := map[int64]int64{}
	for _, d := range w.ls.detached {
		if d.expiredAt >= 0 {
			seen[d.id] = d.expiredAt
		}
	}
	if len(seen) == 0 {
		return
	}
	for _, t := range w.ref.chain {
		if at, ok := seen[t.en.Txn.Session]; ok && !t.failed && t.first > at && t.en.Txn.Type != znode.TxnCloseSession {
			w.failf("local session %#x: %v committed as %#x after its handle expired", t.en.Txn.Session, t.en.Txn.Type, t.zxid)
		}
	}
	for _, op := range w.history {
		if at, ok := seen[op.sid]; ok && op.kind == opReattach && op.out == outOK && op.call > at {
			w.failf("%v: reattached local session %#x after its handle expired", op, op.sid)
		}
	}
}
