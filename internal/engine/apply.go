package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

// completion is a local request answered once its entry is applied.
type completion struct {
	r   *request
	rep reply
}

// apply applies committed entries in zxid order: the only writer of the
// tree. Under the apply lock it applies each entry, checks the leader's
// digest, and queues the watch events; only then are the callers answered,
// so a session sees an event before it sees the change in any later read.
// The entries of one call are one znode.Group: one Pebble batch, committed
// before the apply lock is released (so no read sees a part of it); what
// the group applied before an error is committed too, as it was when each
// entry was committed alone.
func (p *peer) apply(ents []zab.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	var done []completion
	var err error
	p.mark(hooks.TraceApplyStart, 0, 0, lastZxid(ents))
	p.e.applyMu.Lock()
	g := p.e.tree.Group()
	p.e.live.group = g
	for _, ent := range ents {
		var c completion
		if c, err = p.applyOne(g, ent); err != nil {
			break
		}
		if c.r != nil {
			done = append(done, c)
			p.noteWrite(c)
		}
	}
	cerr := g.Commit()
	p.e.live.group = nil
	if err == nil && cerr != nil {
		err = fmt.Errorf("zk: applying up to %#x: %w", ents[len(ents)-1].Zxid, cerr)
		for _, c := range done {
			c.r.fail(err) // nothing of the group is in the tree
		}
		done = nil
		p.flushAudits(true)
	}
	p.e.applyMu.Unlock()
	if p.leading() {
		p.e.obs.committed(ents)
	}
	last, _ := p.e.tree.Applied()
	p.e.applied.advance(last)
	if p.pending != nil {
		p.pending.Applied(last)
	}
	p.mark(hooks.TraceApplyDone, 0, 0, lastZxid(ents))
	p.flushAudits(false) // before the answers, as ZooKeeper logs before it replies
	for _, c := range done {
		p.mark(hooks.TraceAnswer, c.r.session(), c.r.id, c.rep.zxid)
		c.r.answer(c.rep)
	}
	if err != nil {
		return err
	}
	p.snap.applied(len(ents))
	return nil
}

// applyOne applies one entry in g; the caller holds the apply lock. It
// returns the answer owed to a request of this peer, or a completion
// without a request (r nil) when none is.
func (p *peer) applyOne(g *znode.Group, ent zab.Entry) (completion, error) {
	if have, _ := g.Applied(); ent.Zxid <= have {
		return completion{}, nil // already in the tree (replay after a restart)
	}
	own, ok := p.proposed[ent.Zxid]
	en := own.en
	var decoded znode.Txn // en.Txn of an entry decoded here: on the stack
	if ok {
		delete(p.proposed, ent.Zxid) // this leader's own proposal: no decoding
	} else {
		data := ent.Data
		if _, payload, ok, err := zab.DecodeConfigEntry(data); ok {
			if err != nil {
				return completion{}, fmt.Errorf("zk: committed configuration entry %#x: %w", ent.Zxid, err)
			}
			data = payload // the setData of /zookeeper/config (reconfig.go)
		}
		var err error
		if en, err = entry.DecodeInto(data, &decoded); err != nil {
			return completion{}, fmt.Errorf("zk: committed entry %#x: %w", ent.Zxid, err)
		}
	}
	txn := en.Txn
	if len(en.Failure) > 0 {
		// A request that failed in the leader's pipeline: a no-op orders the
		// failure, and the answer is the recorded result.
		txn = noopFor(en.Txn)
	}
	res, changes, digest, err := p.applyTxn(g, ent.Zxid, txn, own.kept)
	if err != nil {
		return completion{}, fmt.Errorf("zk: applying %#x: %w", ent.Zxid, err)
	}
	p.e.digests.note(ent.Zxid, digest)
	if len(en.Failure) > 0 {
		// A copy: decodeApp's input escapes, and en must not, so that
		// the txn it points to stays on the stack.
		m, err := decodeApp(bytes.Clone(en.Failure))
		if err != nil {
			return completion{}, fmt.Errorf("zk: committed entry %#x: %w", ent.Zxid, err)
		}
		res = fromWire(m.Result)
	}
	if en.Digest != 0 && digest != en.Digest {
		if err := p.digestMismatch(ent.Zxid, en, digest); err != nil {
			return completion{}, err
		}
	}
	if err := p.hook(hooks.BeforeWatchTrigger); err != nil {
		return completion{}, err
	}
	if zab.IsConfigEntry(ent.Data) {
		p.configApplied(ent.Zxid, txn.Data)
	}
	p.e.watches.Trigger(changes, p.mayRead)
	p.e.journal.add(ent.Zxid, changes, &p.e.live)
	p.sessionEffects(en, res)
	p.noteClose(txn, changes)
	if en.Origin != p.cfg.ID {
		return completion{}, nil
	}
	r := p.inflight[en.ReqID]
	if r == nil {
		return completion{}, nil
	}
	delete(p.inflight, en.ReqID)
	return completion{r: r, rep: reply{res: res, zxid: ent.Zxid}}, nil
}

// applyTxn applies txn at zxid in g: from the effects the pipeline kept
// for it, if this leader proposed it (the pipeline ran it on the state the
// apply is at: ApplyKept checks it), else by running it.
func (p *peer) applyTxn(g *znode.Group, zxid int64, txn *znode.Txn, kept *znode.Kept) (znode.Result, []znode.Change, uint64, error) {
	if kept != nil {
		res, changes, digest, err := g.ApplyKept(zxid, kept)
		if !errors.Is(err, znode.ErrNotKept) {
			if err == nil {
				p.keptApplies.Add(1)
			}
			return res, changes, digest, err
		}
		p.keptMisses.Add(1)
	}
	return g.Apply(zxid, txn)
}

// sessionEffects updates sessions after a session txn applied.
func (p *peer) sessionEffects(en entry.Entry, res znode.Result) {
	if en.Txn.Type == znode.TxnCreateSession && res.Err == nil {
		p.e.localJoined(en.Txn.Session)
	}
	if en.Txn.Type != znode.TxnCloseSession || res.Err != nil {
		return
	}
	id := en.Txn.Session
	if p.tracker != nil {
		p.tracker.Remove(id)
	}
	st := StateExpired
	if s := p.e.localSession(id); s != nil && s.closing.Load() {
		st = StateClosed
	}
	p.endSession(id, st)
	if s := p.e.lsess.find(id); s != nil {
		p.e.endLocal(s, StateExpired) // a local session whose client is away (detached)
	}
}

// endSession ends a session attached here: its handle moves to st and its
// watches end.
func (p *peer) endSession(id int64, st SessionState) {
	s := p.e.detach(id)
	if s == nil {
		return
	}
	p.e.lsess.forget(s) // a local session the ensemble closed (ExpireSession)
	reason := zkerr.ErrSessionExpired
	if st == StateClosed {
		reason = zkerr.ErrClosed
	}
	p.e.watches.DropSession(id, reason)
	s.end(st)
	if st == StateExpired {
		if f := p.cfg.Listener.SessionExpired; f != nil {
			f(id)
		}
	}
}

// mayRead reports whether a session attached here may read a node with acl:
// a watch delivers only what its session may read.
func (p *peer) mayRead(sessionID int64, acl []znode.ACL) bool {
	s := p.e.localSession(sessionID)
	return s != nil && s.allowed(acl, znode.PermRead)
}
