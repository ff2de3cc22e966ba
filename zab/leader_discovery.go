package zab

import "fmt"

// learnerInfo handles FOLLOWERINFO / OBSERVERINFO: a peer starts (or starts
// over) its handshake with this leader. Its message says which stream it
// wants (proposals or committed entries); whether its acknowledgements
// count is this leader's configuration's business. A peer may disagree
// with this leader about its role: it started before a change, or it
// joins; the sync brings it this leader's configuration.
func (n *Node) learnerInfo(from int64, m *Message) error {
	obs := m.Type == MsgObserverInfo
	ld := n.ld
	if ld.learners[from] != nil {
		n.dropLearner(from, "it starts over")
	}
	l := &learner{id: from, observer: obs, phase: lpInfo, since: n.tick, heard: n.tick,
		accepted: m.PeerEpoch, peerLast: m.Zxid}
	ld.add(l)
	if ld.phase == phaseDiscovery {
		n.checkDiscovery()
		return nil
	}
	if !obs && n.q.IsVoter(from) && m.PeerEpoch > ld.epoch {
		// The voter promised a newer epoch to a would-be leader that never
		// made it: it cannot join this one (leaderInfo refuses an older
		// epoch), and ZooKeeper leaves it out until the leader changes,
		// which may be never. Stepping down costs an election and lets the
		// next discovery propose an epoch past that promise.
		n.goLooking(fmt.Sprintf("voter %d accepted epoch %d, newer than this leader's %d", from, m.PeerEpoch, ld.epoch))
		return nil
	}
	n.sendLeaderInfo(l)
	return nil
}

// checkDiscovery decides the new epoch once a quorum of voters (this leader
// included) told their accepted epochs: one more than the largest of all.
func (n *Node) checkDiscovery() {
	ld := n.ld
	if ld.phase != phaseDiscovery {
		return
	}
	ids := []int64{n.cfg.ID}
	epoch := n.state.AcceptedEpoch
	for _, id := range ld.ids() {
		ids = append(ids, id)
		epoch = max(epoch, ld.learners[id].accepted)
	}
	if !n.q.HasQuorum(ids) {
		return
	}
	epoch++
	if epoch > MaxEpoch {
		n.lg.Error("zab: epochs exhausted", "epoch", epoch)
		return // discovery times out; nothing else can be done
	}
	ld.epoch, ld.histLast = epoch, n.lastLogged
	n.saveState(State{AcceptedEpoch: epoch, CurrentEpoch: n.state.CurrentEpoch})
	ld.phase, ld.since = phaseEpochAck, n.tick
	ld.epochAcks[n.cfg.ID] = true
	n.lg.Info("zab: proposing a new epoch", "epoch", epoch)
	for _, id := range ld.ids() {
		n.sendLeaderInfo(ld.learners[id])
	}
	n.checkEpochAcks()
}

// sendLeaderInfo proposes the new epoch to a learner, once this leader's own
// accepted epoch is durable.
func (n *Node) sendLeaderInfo(l *learner) {
	l.phase, l.since = lpEpoch, n.tick
	n.sendDurable(l.id, &Message{Type: MsgLeaderInfo, Epoch: n.ld.epoch})
}

// ackEpoch handles ACKEPOCH: the learner accepted the new epoch (PeerEpoch is
// its current epoch) or had accepted it before (PeerEpoch -1: it syncs but
// does not count). Until a quorum acked, the ack of a learner more recent
// than this leader does not count: a quorum that counted such acks could
// establish a leader that lacks committed txns (ZooKeeper's leader refuses
// that ack too, and closes the learner's connection). The learner is not dropped:
// it waits in its sync phase, and once a quorum of the others acked, the
// leader is known to hold every committed txn and syncs it like any
// learner (a TRUNC of what it has beyond the leader, or a DIFF or SNAP),
// as ZooKeeper syncs that learner once it reconnects.
func (n *Node) ackEpoch(l *learner, m *Message) error {
	ld := n.ld
	if l.phase != lpEpoch {
		return fmt.Errorf("%w: ACKEPOCH from %d in phase %v", ErrUnexpected, l.id, l.phase)
	}
	l.peerLast = m.Zxid
	if m.PeerEpoch >= 0 && ld.phase == phaseEpochAck {
		switch {
		case m.PeerEpoch > ld.sumEpoch || (m.PeerEpoch == ld.sumEpoch && m.Zxid > ld.sumZxid):
			n.lg.Info("zab: a learner is ahead of the leader; its epoch ack does not count",
				"peer", l.id, "epoch", m.PeerEpoch, "zxid", m.Zxid, "leaderEpoch", ld.sumEpoch, "leaderZxid", ld.sumZxid)
		case !l.observer:
			ld.epochAcks[l.id] = true
		}
	}
	l.phase, l.since = lpAcked, n.tick
	if ld.phase == phaseEpochAck {
		n.checkEpochAcks()
		return nil
	}
	n.startSync(l)
	return nil
}

// checkEpochAcks moves to synchronization once a quorum acked the epoch: the
// leader makes the epoch its current one and syncs every learner.
func (n *Node) checkEpochAcks() {
	ld := n.ld
	if ld.phase != phaseEpochAck {
		return
	}
	ids := make([]int64, 0, len(ld.epochAcks))
	for id := range ld.epochAcks {
		ids = append(ids, id)
	}
	if !n.q.HasQuorum(ids) {
		return
	}
	n.saveState(State{AcceptedEpoch: ld.epoch, CurrentEpoch: ld.epoch})
	ld.phase, ld.since = phaseSync, n.tick
	for _, id := range ld.ids() {
		if l := ld.learners[id]; l.phase == lpAcked {
			n.startSync(l)
		}
	}
}
