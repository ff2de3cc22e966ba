package sim

import (
	"errors"
	"fmt"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

// observeApply runs (in the BeforeWatchTrigger hook, on p's goroutine)
// right after p applied one entry: the entry must extend the committed
// chain or be the chain's next entry after what p applied before, and the
// digests must agree.
func (w *World) observeApply(p *simPeer, view hooks.View) {
	w.observeKept(p, view)
	z, d := view.Applied()
	ref := w.ref
	defer func() { p.lastApplied, p.lastDigest = z, d }()
	jumped := p.snapPending // a snapshot was installed just before: the digest vouches for it
	p.snapPending = false
	if z > ref.last {
		if p.lastApplied != ref.last && !jumped {
			w.failf("peer %d applied %#x after %#x, but the committed history ends at %#x: it skipped entries",
				p.id, z, p.lastApplied, ref.last)
			return
		}
		ents, err := view.LogEntries(z-1, 1)
		if err != nil || len(ents) == 0 || ents[0].Zxid != z {
			w.failf("peer %d applied %#x, which its log does not hold (%v)", p.id, z, err)
			return
		}
		if rd, ok := w.extendRef(p, z, ents[0].Data); ok && rd != d {
			w.failf("divergence at %#x: peer %d digest %#x, reference %#x", z, p.id, d, rd)
		}
		return
	}
	i, ok := ref.index[z]
	switch {
	case !ok:
		w.failf("peer %d applied %#x, which is not in the committed history (last %#x)", p.id, z, ref.last)
	case ref.chain[i].digest != d:
		w.failf("divergence at %#x: peer %d digest %#x, committed %#x", z, p.id, d, ref.chain[i].digest)
	case ref.pred(i) != p.lastApplied && !jumped:
		w.failf("peer %d applied %#x after %#x; in the committed history it follows %#x", p.id, z, p.lastApplied, ref.pred(i))
	}
}

// extendRef takes the entry at z, which peer p applied, into the committed
// history and returns the history's digest after it; false if it could
// not. The entry's digest (the leader's) must be that one, and what the
// reference found wrong on the way is reported.
func (w *World) extendRef(p *simPeer, z int64, data []byte) (uint64, bool) {
	ref := w.ref
	rd, err := ref.extend(z, data, w.stamp(), w.now)
	if err != nil {
		w.failf("peer %d: %v", p.id, err)
		return 0, false
	}
	w.stats.Committed++
	if en := ref.chain[len(ref.chain)-1].en; en.Digest != 0 && en.Digest != rd {
		w.failf("divergence at %#x: reference %#x, leader's %#x (applied by peer %d)", z, rd, en.Digest, p.id)
	}
	for _, msg := range ref.bad {
		w.failf("%s", msg)
	}
	ref.bad = nil
	return rd, true
}

// observeKept counts the txns p applied from its pipeline's kept effects
// (as the leader) and fails the run if p ever found kept effects staged on
// another state than its tree's: the leader's pipeline and its apply must
// agree on the history before every txn it proposed.
func (w *World) observeKept(p *simPeer, view hooks.View) {
	kept, missed := view.KeptApplies()
	if missed != 0 && p.keptSeen >= 0 {
		w.failf("peer %d found %d of its own txns kept on another state than its tree's", p.id, missed)
		p.keptSeen = -1 // reported once per incarnation
	}
	if p.keptSeen >= 0 && kept > p.keptSeen {
		w.stats.KeptApplies += kept - p.keptSeen
		p.keptSeen = kept
	}
}

// checkJump checks a peer's applied zxid that moved without applying
// entries one by one: a restart (the tree's durable state) or a snapshot
// installed from the leader. It must be a state of the committed history.
func (w *World) checkJump(p *simPeer, z int64, d uint64) {
	p.snapPending = false
	want, ok := w.ref.digestAt(z)
	switch {
	case !ok:
		w.failf("peer %d is at %#x, which is not in the committed history (last %#x)", p.id, z, w.ref.last)
	case want != d:
		w.failf("peer %d at %#x has digest %#x, the committed state %#x", p.id, z, d, want)
	}
	w.trace.line(w.now, "at peer=%d zxid=%#x", p.id, z)
	p.lastApplied, p.lastDigest = z, d
}

// onStatus is Config.Listener.StatusChanged: it sees every change of role,
// leader, epoch or serving, on the peer's goroutine.
func (w *World) onStatus(p *simPeer, st zk.Status) {
	w.hookMu.Lock()
	ready := p.ready
	w.hookMu.Unlock()
	if ready {
		w.observeStatus(p, st)
	}
}

// observeStatus checks the status of a peer: at most one leader
// establishes itself in each epoch, and no peer detects a divergence.
func (w *World) observeStatus(p *simPeer, st zk.Status) {
	if st.Mode == zk.ModeLeading && st.Serving {
		if other, ok := w.leaders[st.Epoch]; ok && other != p.id {
			w.failf("two leaders established in epoch %d: %d and %d", st.Epoch, other, p.id)
		}
		w.leaders[st.Epoch] = p.id
	}
	if errors.Is(st.Err, zk.ErrDataInconsistency) {
		w.failf("peer %d detected a divergence: %v", p.id, st.Err)
	}
	s := fmt.Sprintf("%v/%d/%d/%v", st.Mode, st.Leader, st.Epoch, st.Serving)
	if s != p.lastStatus {
		p.lastStatus = s
		w.trace.line(w.now, "status peer=%d %s last=%#x applied=%#x", p.id, s, st.LastZxid, st.Applied)
	}
}

// checkClaims runs when p restarted: every zxid its previous incarnation
// acknowledged as durable (ACK, DIFFACK, ACKEPOCH) must have survived the
// crash, unless a leader told it to truncate below it since.
func (w *World) checkClaims(p *simPeer) {
	st := p.ens.Status()
	if p.prevClaim > st.LastZxid {
		w.failf("peer %d acknowledged %#x as durable before it crashed, but recovered only up to %#x",
			p.id, p.prevClaim, st.LastZxid)
	}
	acc, cur := p.view.LogState()
	if cur > acc {
		w.failf("peer %d: current epoch %d above accepted epoch %d", p.id, cur, acc)
	}
	if nl := p.newLeader; cur > p.startEpoch && cur == nl[0] && st.LastZxid < nl[1] {
		w.failf("peer %d: current epoch %d is durable, but its log ends at %#x, before the history NEWLEADER synced (%#x)",
			p.id, cur, st.LastZxid, nl[1])
	}
	p.startEpoch, p.newLeader = cur, [2]int64{}
}
