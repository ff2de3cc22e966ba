package engine

import (
	"fmt"
	"maps"
	"slices"

	"github.com/embedzk/zk/znode"
)

// A local session whose upgrade left and whose outcome it did not learn
// (Session.upgraded: the leader was lost) is no longer local, and its
// peer, serving again, may not find it in its tree: the CreateSession may
// never have been proposed, or it may still be in the leader's pipeline,
// when the peer synced again with the same leader in the same epoch (the
// forwards of that epoch stay valid, owner.go), and commit afterwards,
// with the ephemeral create behind it. Expiring the handle here, as
// startServing does for any other session the tree does not hold, would
// tell its client SESSIONEXPIRED while the ensemble may still bring the
// session and its ephemerals back (simulation seed 70320).
//
// So the peer closes it through the leader instead, without blocking its
// loop: it proposes a CloseSession (tried again at later session ticks
// until it commits) and the handle expires when that close applies here,
// as after ExpireSession. Whichever order the leader takes the two in,
// nothing of the session stays: a CreateSession before the close is
// undone by it, with its ephemerals; one after it is refused, since the
// leader remembers the closes of sessions it did not track (closeLocal)
// for its whole leadership, and a forward of an older epoch is never run.
// Until the close commits the session's calls fail with ErrNotServing:
// its client has not been told anything yet.

// unsureClose is one such session's close, kept by the peer loop.
type unsureClose struct {
	s        *Session
	inFlight bool
}

// expireMissing ends the session attached with id, which the tree does
// not hold as the peer starts serving: expired here, or closed through the
// leader if a CreateSession of it (its upgrade) may still commit.
func (p *peer) expireMissing(id int64) {
	s := p.e.localSession(id)
	if s == nil || !s.lc.upgrading.Load() {
		p.endSession(id, StateExpired)
		return
	}
	s.lc.unsure.Store(true)
	if p.unsure == nil {
		p.unsure = map[int64]*unsureClose{}
	}
	if p.unsure[s.id] == nil {
		p.cfg.Logger.Info("zk: closing through the leader a session whose upgrade may still commit", "id", fmt.Sprintf("%#x", s.id))
		p.unsure[s.id] = &unsureClose{s: s}
	}
}

// unsureTick proposes the CloseSession of each such session that has none
// in flight, in the order of their ids; the peer serves.
func (p *peer) unsureTick() {
	if !p.zst.Serving || p.failed() {
		return
	}
	for _, id := range slices.Sorted(maps.Keys(p.unsure)) {
		u := p.unsure[id]
		if u.inFlight {
			continue
		}
		u.inFlight = true
		r := newRequest(reqWrite, &znode.Txn{Type: znode.TxnCloseSession, Session: id})
		r.then = func(rep reply) { p.unsureClosed(u, rep) }
		p.write(r)
	}
}

// unsureClosed takes the outcome of such a close: committed, it ended the
// handle as it applied here (sessionEffects), which is made sure of, as
// this peer may have detached it meanwhile; otherwise it is tried again.
func (p *peer) unsureClosed(u *unsureClose, rep reply) {
	u.inFlight = false
	err := rep.err
	if err == nil {
		err = rep.res.Err
	}
	if err != nil {
		p.cfg.Logger.Debug("zk: closing an unsure session, trying again", "id", fmt.Sprintf("%#x", u.s.id), "err", err)
		return
	}
	delete(p.unsure, u.s.id)
	if p.e.localSession(u.s.id) == u.s {
		p.endSession(u.s.id, StateExpired)
	} else {
		u.s.end(StateExpired)
	}
}
