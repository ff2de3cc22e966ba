package zab

import (
	"fmt"
	"slices"
)

// Sync starts a linearizable read barrier with the caller's id. Exactly one
// SyncResult with that id appears in a later Ready: Zxid is the leader's
// commit point at (or after) the moment the leader received the request,
// confirmed by a heartbeat round of a quorum that started after it, and
// every entry up to it is applied by then; or Err when the barrier failed
// (the peer lost its leader or quorum) — never silence. When Sync itself
// returns an error no SyncResult follows.
func (n *Node) Sync(id uint64) error {
	if !n.serving() {
		return ErrNotServing
	}
	if n.ld != nil {
		n.ld.barriers = append(n.ld.barriers, barrier{from: n.cfg.ID, id: id})
		return nil
	}
	n.fl.syncs = append(n.fl.syncs, id)
	n.send(n.leader, &Message{Type: MsgSync, Epoch: n.fl.epoch, ID: id})
	return nil
}

// syncRequest registers a learner's barrier.
func (n *Node) syncRequest(l *learner, m *Message) error {
	if n.ld.phase != phaseEstablished || l.phase != lpBroadcast {
		n.send(l.id, &Message{Type: MsgSynced, Epoch: n.ld.epoch, ID: m.ID, Failed: true})
		return nil
	}
	n.ld.barriers = append(n.ld.barriers, barrier{from: l.id, id: m.ID})
	return nil
}

// checkBarriers completes the barriers whose round a quorum answered.
// Rounds grow along the list, so it stops at the first that waits.
func (n *Node) checkBarriers() {
	ld := n.ld
	for len(ld.barriers) > 0 {
		b := ld.barriers[0]
		if b.round == 0 || !n.roundConfirmed(b.round) {
			return
		}
		ld.barriers = ld.barriers[1:]
		if b.from == n.cfg.ID {
			n.syncsDone = append(n.syncsDone, SyncResult{ID: b.id, Zxid: n.committed})
			continue
		}
		n.send(b.from, &Message{Type: MsgSynced, Epoch: ld.epoch, ID: b.id, Zxid: n.committed})
	}
}

func (n *Node) roundConfirmed(round uint64) bool {
	ids := []int64{n.cfg.ID}
	for id, l := range n.ld.learners {
		if l.phase == lpBroadcast && l.pingAck >= round {
			ids = append(ids, id)
		}
	}
	return n.q.HasQuorum(ids)
}

// synced handles the leader's answer to one of this follower's barriers.
func (n *Node) synced(m *Message) error {
	i := slices.Index(n.fl.syncs, m.ID)
	if i < 0 {
		return fmt.Errorf("%w: SYNCED for unknown barrier %d", ErrUnexpected, m.ID)
	}
	n.fl.syncs = slices.Delete(n.fl.syncs, i, i+1)
	if m.Failed {
		n.syncsDone = append(n.syncsDone, SyncResult{ID: m.ID, Err: fmt.Errorf("%w: the leader refused the barrier", ErrNotServing)})
		return nil
	}
	n.syncsDone = append(n.syncsDone, SyncResult{ID: m.ID, Zxid: m.Zxid})
	return nil
}

// takeSynced returns the finished barriers whose zxid is applied once the
// Ready being built is done (failed ones at once).
func (n *Node) takeSynced(applied int64) []SyncResult {
	var out []SyncResult
	keep := n.syncsDone[:0]
	for _, r := range n.syncsDone {
		if r.Err != nil || r.Zxid <= applied {
			out = append(out, r)
		} else {
			keep = append(keep, r)
		}
	}
	n.syncsDone = keep
	return out
}
