package engine

import (
	"fmt"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/zab"
)

// flush executes every Ready the core has: send, persist (each op durable),
// send what had to wait for the disk, apply, then tell the core. Entries
// to apply that were durable before this Ready (appended by an earlier
// one) are applied before its Persist: a follower that got a COMMIT with
// the next PROPOSAL applies the committed entry, and answers and wakes
// its watchers, without waiting for the fsync of the next one.
func (p *peer) flush() {
	defer p.noteFailure()
	for !p.failed() && p.node.HasReady() {
		rd := p.node.Ready()
		p.roGuard() // before anything of this Ready changes the tree
		p.send(rd.Send)
		if p.cfg.TestHooks.Breaks(hooks.AckBeforePersist) {
			p.send(rd.SendAfterPersist) // a deliberately broken build, for tests
			rd.SendAfterPersist = nil
		}
		early, late := durableFirst(rd.Apply, rd.Persist)
		if err := p.apply(early); err != nil || p.failed() {
			p.failStop(err)
			return
		}
		err := p.persist(rd.Persist)
		if err == nil && len(rd.SendAfterPersist) > 0 {
			err = p.hook(hooks.BeforeAck)
		}
		if err != nil {
			p.failStop(err)
			return
		}
		p.send(rd.SendAfterPersist)
		err = p.apply(late)
		if err != nil || p.failed() {
			// Applying failed, or the snapshot it started did (stepped
			// mode writes it inline): nothing of this Ready goes out.
			p.failStop(err)
			return
		}
		p.reportSyncs(rd.Syncs)
		sent := p.startSnapshots(rd.SendSnapshot, nil)
		sent = p.snapAcked(rd.SnapAcks, sent)
		p.synced(rd.Synced)
		for _, m := range rd.App {
			p.handleApp(m)
		}
		if rd.Status != nil {
			p.statusChanged(*rd.Status)
		}
		p.node.Advance()
		for _, s := range sent {
			p.node.SnapshotSent(s.peer, s.zxid)
		}
	}
}

// durableFirst splits the entries a Ready applies into those durable before
// its Persist (zxids below the first it appends) and the rest. Only a
// Persist made of appends is split around: a truncation, epochs or a
// snapshot keep everything after them.
func durableFirst(apply []zab.Entry, ops []zab.PersistOp) (early, late []zab.Entry) {
	first := int64(-1)
	for _, op := range ops {
		if op.Kind != zab.PersistAppend {
			return nil, apply
		}
		if first < 0 && len(op.Entries) > 0 {
			first = op.Entries[0].Zxid
		}
	}
	if first < 0 {
		return nil, apply // nothing appended: nothing to wait for
	}
	i := 0
	for i < len(apply) && apply[i].Zxid < first {
		i++
	}
	return apply[:i], apply[i:]
}

// failStop stops the peer for good after err (nil: it failed already,
// elsewhere): it serves nothing more and its snapshot streams to learners
// end.
func (p *peer) failStop(err error) {
	if err != nil {
		p.e.fail(err)
	}
	p.stopServing()
	p.dropAllSnapshots()
}

// send hands messages to the transport. A peer that is not connected misses
// them; the core knows (the transport reports the link down) and recovers.
// A peer that failed sends nothing more, from the step it failed in: a
// failure may come from a background snapshot, or from a persistence call
// on any path, and every message goes out through here.
func (p *peer) send(envs []zab.Envelope) {
	if p.failed() {
		return
	}
	var last *zab.Message // envelopes may share a message: encode it once
	var b []byte
	for _, env := range envs {
		if env.To == p.cfg.ID || p.e.trans == nil {
			continue
		}
		if env.Msg != last {
			var err error
			if b, err = zab.EncodeMessage(env.Msg); err != nil {
				p.cfg.Logger.Error("zk: encoding a peer message", "to", env.To, "err", err)
				last = nil
				continue
			}
			last = env.Msg
		}
		_ = p.e.trans.Send(env.To, b) // the transport only reads b
		p.markMsg("send-", env.Msg)
	}
}

// maxKeptBatch bounds the entries persist's scratch (peer.walBatch) keeps
// room for between calls.
const maxKeptBatch = 1024

// persist performs the core's durable operations in order. Consecutive
// appends go to the log in one call: one fsync for all of them.
func (p *peer) persist(ops []zab.PersistOp) error {
	if p.cfg.TestHooks.Breaks(hooks.EpochBeforeTxns) {
		ops = statesFirst(ops) // a deliberately broken build, for tests
	}
	batch := p.walBatch[:0] // the log keeps no reference to it once Append returns
	defer func() {
		clear(batch) // after a failure: no hold on the entries' data
		if cap(batch) <= maxKeptBatch {
			p.walBatch = batch[:0]
		}
	}()
	flushBatch := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.hook(hooks.BeforeAppend); err != nil {
			return err
		}
		last := batch[len(batch)-1].Zxid
		p.mark(hooks.TraceFsyncStart, 0, 0, last)
		start := time.Now()
		err := p.e.wal.Append(batch)
		p.e.obs.fsynced(time.Since(start), len(batch), !p.cfg.NoForceSync)
		p.mark(hooks.TraceFsyncDone, 0, 0, last)
		clear(batch) // no hold on the entries' data
		batch = batch[:0]
		if err == nil {
			err = p.hook(hooks.AfterAppend)
		}
		return err
	}
	for _, op := range ops {
		if op.Kind == zab.PersistAppend {
			for _, ent := range op.Entries {
				batch = append(batch, wal.Entry{Zxid: ent.Zxid, Data: ent.Data})
			}
			continue
		}
		if err := flushBatch(); err != nil {
			return err
		}
		var err error
		switch op.Kind {
		case zab.PersistTruncate:
			if p.cfg.TestHooks.Breaks(hooks.SkipTruncate) {
				continue // a deliberately broken build, for tests
			}
			err = p.e.wal.TruncateAfter(op.Zxid)
		case zab.PersistState:
			err = p.persistState(op.State)
		case zab.PersistSnapshot:
			err = p.snapshotChunk(op)
		default:
			err = fmt.Errorf("unknown persist op %d", op.Kind)
		}
		if err != nil {
			return fmt.Errorf("zk: persisting: %w", err)
		}
	}
	if err := flushBatch(); err != nil {
		return fmt.Errorf("zk: appending to the log: %w", err)
	}
	return nil
}

// statesFirst moves the epoch updates of ops before everything else: the
// wrong order of hooks.EpochBeforeTxns.
func statesFirst(ops []zab.PersistOp) []zab.PersistOp {
	var states, rest []zab.PersistOp
	for _, op := range ops {
		if op.Kind == zab.PersistState {
			states = append(states, op)
		} else {
			rest = append(rest, op)
		}
	}
	return append(states, rest...)
}

func (p *peer) persistState(st zab.State) error {
	if err := p.hook(hooks.BeforeEpoch); err != nil {
		return err
	}
	if err := p.e.wal.SetState(wal.State{AcceptedEpoch: st.AcceptedEpoch, CurrentEpoch: st.CurrentEpoch}); err != nil {
		return err
	}
	return p.hook(hooks.AfterEpoch)
}

// hook calls the test hook at point; an error crashes the peer there.
func (p *peer) hook(point string) error {
	return p.cfg.TestHooks.At(p.cfg.ID, point)
}

// synced answers the Sync requests the core finished.
func (p *peer) synced(results []zab.SyncResult) {
	for _, s := range results {
		r := p.inflight[s.ID]
		if r == nil {
			continue
		}
		delete(p.inflight, s.ID)
		if s.Err != nil {
			r.fail(fmt.Errorf("%w: %v", zkerr.ErrNotServing, s.Err))
			continue
		}
		r.answer(reply{zxid: s.Zxid})
	}
}

// noteFailure tells the listener, once, that the peer failed: the status
// is already failed (Ensemble.fail), but a failure may happen off the loop
// (a background snapshot), and listeners run on the loop.
func (p *peer) noteFailure() {
	if p.failReported || !p.failed() {
		return
	}
	p.failReported = true
	if f := p.cfg.Listener.StatusChanged; f != nil {
		f(p.e.Status())
	}
}

// statusChanged reacts to a change of role, leader, epoch or serving.
func (p *peer) statusChanged(z zab.Status) {
	was := p.zst
	p.zst = z
	p.noteRemoved(was.RemovedBy, z.RemovedBy)
	p.observeStatus(was, z)
	p.publishDetail()
	switch {
	case z.Serving && z.Role == zab.RoleLeading && !(was.Serving && was.Role == zab.RoleLeading && was.Epoch == z.Epoch):
		if err := p.becomeLeader(); err != nil {
			p.failStop(err)
		}
	case !z.Serving && was.Serving:
		p.stopServing()
	}
	if z.Serving && !was.Serving && !p.failed() {
		p.startServing()
	}
	st := p.status()
	p.e.setStatus(st)
	if f := p.cfg.Listener.StatusChanged; f != nil {
		f(st)
	}
}

// startServing: the peer is part of a working quorum again; sessions that
// the ensemble still knows reconnect, the others have expired meanwhile.
func (p *peer) startServing() {
	p.e.period.Add(1)
	p.localStart()
	for _, id := range p.e.localSessionIDs() {
		_, ok, err := p.e.tree.Session(id)
		switch {
		case p.roLocal(id): // made read-only: roUpgrade makes it global
		case p.isLocalSession(id): // opened since localStart, as a local session
		case err != nil:
			p.cfg.Logger.Warn("zk: reading a session", "id", id, "err", err)
		case !ok && p.cfg.TestHooks.Breaks(hooks.LocalSessionsSurvive):
			if s := p.e.localSession(id); s != nil { // a deliberately wrong build, for the simulation's test
				s.setState(StateConnected)
			}
		case p.unsure[id] != nil: // its close through the leader is on its way
		case !ok:
			p.expireMissing(id)
		default:
			if s := p.e.localSession(id); s != nil { // else detached meanwhile (its connection dropped)
				s.lc.on.Store(false) // a local session whose upgrade committed unanswered
				s.setState(StateConnected)
			}
		}
	}
	p.unsureTick()
	p.roUpgrade()
}

// stopServing: the peer lost its quorum (or failed). Requests in flight may
// or may not commit; their callers learn the outcome is unknown.
func (p *peer) stopServing() {
	p.e.period.Add(1)
	p.pending = nil
	p.tracker = nil
	p.owners.drop()
	p.owners = nil
	clear(p.proposed)
	for id, r := range p.inflight {
		delete(p.inflight, id)
		r.fail(zkerr.ErrNotServing)
	}
	p.e.setSessionsState(StateDisconnected)
	p.localStop()
}
