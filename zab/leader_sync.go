package zab

import "fmt"

// maxEpochScan bounds the search for where a learner's log leaves ours.
const maxEpochScan = 1 << 16

// startSync chooses how to bring a learner to this leader's history: DIFF
// from its last zxid if our log has it, TRUNC first if it has entries we do
// not, SNAP if our log does not reach back far enough.
func (n *Node) startSync(l *learner) {
	p, last, base := l.peerLast, n.lastLogged, n.log.Base()
	switch {
	case p == last || n.logHas(p):
		l.cursor = p
	case p < base:
		n.startSnap(l)
		return
	case p > last:
		n.send(l.id, &Message{Type: MsgTrunc, Epoch: n.ld.epoch, Zxid: last})
		l.cursor = last
	default:
		pred, ok := n.predecessor(p)
		if !ok || (pred == base && base > 0) {
			n.startSnap(l)
			return
		}
		n.send(l.id, &Message{Type: MsgTrunc, Epoch: n.ld.epoch, Zxid: pred})
		l.cursor = pred
	}
	l.phase, l.since = lpDiff, n.tick
	n.noteSync(l, l.cursor != p)
	n.pumpDiff(l)
}

func (n *Node) startSnap(l *learner) {
	l.sync = SyncSnap
	n.acc.syncs = append(n.acc.syncs, SyncStart{Peer: l.id, Mode: SyncSnap, From: l.peerLast, Txns: -1, Leader: n.lastLogged})
	l.phase, l.since = lpSnap, n.tick
	n.acc.snapshots = append(n.acc.snapshots, l.id)
}

// logHas reports whether z is in this peer's log (durable or on its way).
func (n *Node) logHas(z int64) bool {
	if z > n.cache.from {
		return n.cache.contains(z)
	}
	return n.log.Contains(z)
}

// predecessor returns the largest zxid of our log below z (z is not in it
// and lies inside it). Within an epoch a log holds consecutive counters, so
// each epoch is a binary search; epochs are scanned downwards.
func (n *Node) predecessor(z int64) (int64, bool) {
	base := n.log.Base()
	for e, scanned := EpochOf(z), 0; e >= EpochOf(base) && scanned < maxEpochScan; e, scanned = e-1, scanned+1 {
		lo := int64(0) // the log holds counters (lo, k] of epoch e for some k
		if e == EpochOf(base) {
			lo = CounterOf(base)
		}
		hi := int64(MaxCounter - 1)
		if e == EpochOf(z) {
			hi = CounterOf(z) - 1
		}
		if hi <= lo || !n.logHas(MakeZxid(e, lo+1)) {
			if e == EpochOf(base) {
				return base, true
			}
			continue
		}
		a, b := lo+1, hi // lo+1 is in the log; find the last counter that is
		for a < b {
			mid := a + (b-a+1)/2
			if n.logHas(MakeZxid(e, mid)) {
				a = mid
			} else {
				b = mid - 1
			}
		}
		return MakeZxid(e, a), true
	}
	return 0, false
}

// SnapshotSent tells the core the driver streamed a snapshot of the state at
// zxid to peer (see Ready.SendSnapshot); the sync continues with the
// entries after it.
func (n *Node) SnapshotSent(peer int64, zxid int64) {
	if n.ld == nil || n.ld.learners[peer] == nil || n.ld.learners[peer].phase != lpSnap {
		n.lg.Warn("zab: SnapshotSent for a peer that awaits none", "peer", peer)
		return
	}
	l := n.ld.learners[peer]
	if zxid > n.committed || (zxid != n.lastLogged && !n.logHas(zxid) && zxid != n.log.Base()) {
		n.dropLearner(peer, fmt.Sprintf("snapshot at %#x cannot be followed by our log", zxid))
		n.checkQuorum()
		return
	}
	l.cursor = zxid
	l.phase, l.since = lpDiff, n.tick
	n.pumpDiff(l)
	n.checkMembership()
	n.checkQuorum()
}

// diffTarget is where a learner's sync ends for now: a follower gets the
// whole log, an observer only what is committed.
func (n *Node) diffTarget(l *learner) int64 {
	if l.observer {
		return max(n.committed, l.cursor)
	}
	return n.lastLogged
}

// pumpDiff sends DIFF batches while the window allows, then NEWLEADER once
// the learner has everything.
func (n *Node) pumpDiff(l *learner) {
	for l.phase == lpDiff && len(l.batches) < diffWindow {
		upTo := n.diffTarget(l)
		if l.cursor >= upTo {
			n.sendNewLeader(l)
			return
		}
		ents, err := n.entries(l.cursor, upTo, n.cfg.MaxMsgBytes)
		if err != nil {
			n.lg.Error("zab: reading the log for a DIFF", "peer", l.id, "err", err)
			n.dropLearner(l.id, "cannot read the log")
			return
		}
		l.cursor = ents[len(ents)-1].Zxid
		l.batches = append(l.batches, l.cursor)
		n.send(l.id, &Message{Type: MsgDiff, Epoch: n.ld.epoch, Entries: ents})
	}
}

// sendNewLeader ends a learner's sync: from now on it gets the broadcast.
func (n *Node) sendNewLeader(l *learner) {
	l.target = l.cursor
	l.informed = l.cursor
	l.phase, l.since = lpSyncing, n.tick
	m := &Message{Type: MsgNewLeader, Epoch: n.ld.epoch, Zxid: l.target, Committed: min(n.committed, l.target)}
	if n.encodable {
		// Our committed configuration: a learner that got a snapshot
		// cannot read it from its log.
		m.Data = encodeVersioned(n.active.version, n.active.m)
	}
	n.send(l.id, m)
}

// diffAck handles a DIFFACK: one more batch is durable on the learner.
func (n *Node) diffAck(l *learner, m *Message) error {
	if len(l.batches) == 0 || l.batches[0] != m.Zxid || (l.phase != lpDiff && l.phase != lpSyncing && l.phase != lpBroadcast) {
		return fmt.Errorf("%w: DIFFACK %#x from %d", ErrUnexpected, m.Zxid, l.id)
	}
	l.batches = l.batches[1:]
	n.pumpDiff(l)
	return nil
}

// snapAck passes a learner's progress in the snapshot streamed to it to
// the driver, which sends more chunks. An ack that arrives after the
// stream ended (the last chunk's) is of no use any more.
func (n *Node) snapAck(l *learner, m *Message) error {
	switch l.phase {
	case lpSnap:
		n.acc.snapAcks = append(n.acc.snapAcks, SnapAck{Peer: l.id, Zxid: m.Zxid, Offset: m.Offset})
		return nil
	case lpDiff, lpSyncing, lpBroadcast:
		return nil
	}
	return fmt.Errorf("%w: SNAPACK from %d", ErrUnexpected, l.id)
}

// SnapshotWanted reports whether peer still awaits the snapshot the driver
// streams to it (see Ready.SendSnapshot): the driver drops its stream once
// it is not (the learner was dropped, or started over).
func (n *Node) SnapshotWanted(peer int64) bool {
	if n.ld == nil {
		return false
	}
	l := n.ld.learners[peer]
	return l != nil && l.phase == lpSnap
}

// learnerAck handles ACK: of NEWLEADER while syncing, of proposals after.
func (n *Node) learnerAck(l *learner, m *Message) error {
	switch {
	case l.phase == lpSyncing && m.Zxid == l.target:
		l.phase, l.since = lpBroadcast, n.tick
		n.ld.synced = true
		n.ld.alive = n.quorumAlive()
		if !l.observer {
			n.ld.newLeaderAcks[l.id] = true
			n.ld.acks[l.id] = max(n.ld.acks[l.id], l.target)
		}
		n.lg.Debug("zab: learner synced", "peer", l.id, "zxid", l.target)
		if n.ld.phase == phaseEstablished {
			n.send(l.id, &Message{Type: MsgUpToDate, Epoch: n.ld.epoch, Committed: n.committed})
		} else {
			n.checkEstablished()
		}
	case l.phase == lpBroadcast && !l.observer && m.Zxid >= l.target && m.Zxid <= n.lastLogged:
		n.ld.acks[l.id] = max(n.ld.acks[l.id], m.Zxid)
	default:
		return fmt.Errorf("%w: ACK %#x from %d in phase %v (synced to %#x)", ErrUnexpected, m.Zxid, l.id, l.phase, l.target)
	}
	n.maybeCommit()
	return nil
}

// checkEstablished: once a quorum of voters acked NEWLEADER (this leader
// counts once its current epoch is handed to the driver), its whole history
// is committed and it serves.
func (n *Node) checkEstablished() {
	ld := n.ld
	if ld.phase != phaseSync {
		return
	}
	var ids []int64
	if n.handed.CurrentEpoch == ld.epoch {
		ids = append(ids, n.cfg.ID)
	}
	for id := range ld.newLeaderAcks {
		ids = append(ids, id)
	}
	if !n.q.HasQuorum(ids) {
		return
	}
	ld.phase, ld.since = phaseEstablished, n.tick
	ld.alive = n.quorumAlive()
	n.committed = max(n.committed, ld.histLast)
	n.lg.Info("zab: established", "epoch", ld.epoch, "committed", n.committed)
	for _, id := range ld.ids() {
		l := ld.learners[id]
		if l.forwarding() && l.observer {
			n.inform(l)
		}
		if l.phase == lpBroadcast {
			n.send(id, &Message{Type: MsgUpToDate, Epoch: ld.epoch, Committed: n.committed})
		}
	}
}
