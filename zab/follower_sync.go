package zab

import "fmt"

// stepSync handles the leader's synchronization: TRUNC, DIFF batches or a
// snapshot, then NEWLEADER. Every op is queued for the log as it arrives.
func (n *Node) stepSync(m *Message) error {
	fl := n.fl
	if fl.phase != fpSync {
		return fmt.Errorf("%w: %v in phase %v", ErrProtocol, m.Type, fl.phase)
	}
	switch m.Type {
	case MsgTrunc:
		return n.syncTrunc(m.Zxid)
	case MsgDiff:
		if err := n.appendChecked(m.Entries); err != nil {
			return err
		}
		n.sendAfterPersist(n.leader, &Message{Type: MsgDiffAck, Epoch: fl.epoch, Zxid: n.lastLogged})
		return nil
	case MsgSnap:
		return n.syncSnap(m)
	}
	// NEWLEADER: the sync ends here.
	if fl.snap != nil {
		return fmt.Errorf("%w: NEWLEADER in the middle of a snapshot", ErrProtocol)
	}
	if m.Epoch != fl.epoch || n.lastLogged != m.Zxid {
		return fmt.Errorf("%w: NEWLEADER of epoch %d at %#x, but we synced to %#x in epoch %d",
			ErrProtocol, m.Epoch, m.Zxid, n.lastLogged, fl.epoch)
	}
	if len(m.Data) > 0 {
		if err := n.adopt(m.Data); err != nil {
			return err
		}
	}
	n.committed = max(n.committed, min(m.Committed, n.lastLogged))
	n.ackNewLeader(m.Epoch, m.Zxid)
	return nil
}

// ackNewLeader is the one path that acknowledges NEWLEADER. The synced
// history (every TRUNC / DIFF / SNAP op) is queued for the log already;
// the new current epoch is queued after it, and the ack waits in
// SendAfterPersist: history durable, THEN the epoch, THEN the ack.
// Ready asserts this ordering (checkNewLeaderAck).
func (n *Node) ackNewLeader(epoch, zxid int64) {
	n.saveState(State{AcceptedEpoch: n.state.AcceptedEpoch, CurrentEpoch: epoch})
	n.sendAfterPersist(n.leader, &Message{Type: MsgAck, Epoch: epoch, Zxid: zxid})
	n.newLeaderAck = epoch
	n.fl.phase = fpSynced
}

// syncTrunc drops our entries after z; never a committed one.
func (n *Node) syncTrunc(z int64) error {
	switch {
	case z < n.committed:
		return fmt.Errorf("%w: TRUNC to %#x below our commit point %#x", ErrProtocol, z, n.committed)
	case z > n.lastLogged:
		return fmt.Errorf("%w: TRUNC to %#x past our last zxid %#x", ErrProtocol, z, n.lastLogged)
	case z == n.lastLogged:
		return nil
	case !n.logHas(z) && z != n.log.Base():
		return fmt.Errorf("%w: TRUNC to %#x, which is not in our log", ErrProtocol, z)
	}
	n.truncateLog(z)
	return nil
}

// syncSnap takes one snapshot chunk; they must arrive in order.
func (n *Node) syncSnap(m *Message) error {
	fl := n.fl
	switch {
	case len(m.Data) > n.cfg.MaxMsgBytes:
		return fmt.Errorf("%w: snapshot chunk of %d bytes", ErrProtocol, len(m.Data))
	case m.Offset == 0:
		if m.Zxid < n.committed {
			return fmt.Errorf("%w: snapshot at %#x below our commit point %#x", ErrProtocol, m.Zxid, n.committed)
		}
		fl.snap = &snapIn{zxid: m.Zxid}
	case fl.snap == nil || fl.snap.zxid != m.Zxid || fl.snap.next != m.Offset:
		return fmt.Errorf("%w: snapshot chunk at %d of %#x out of order", ErrProtocol, m.Offset, m.Zxid)
	}
	fl.snap.next += int64(len(m.Data))
	n.saveSnapshotChunk(m.Zxid, m.Offset, m.Data, m.Last)
	// The leader sends more only as the chunks become durable here.
	n.sendAfterPersist(n.leader, &Message{Type: MsgSnapAck, Epoch: fl.epoch, Zxid: m.Zxid, Offset: fl.snap.next})
	if m.Last {
		fl.snap = nil
	}
	return nil
}

// appendChecked queues entries that must follow our log without a gap.
func (n *Node) appendChecked(ents []Entry) error {
	prev := n.lastLogged
	for _, e := range ents {
		if !follows(prev, e.Zxid) || EpochOf(e.Zxid) > n.fl.epoch {
			return fmt.Errorf("%w: entry %#x cannot follow %#x", ErrProtocol, e.Zxid, prev)
		}
		prev = e.Zxid
	}
	if err := checkConfigEntries(ents); err != nil {
		return err
	}
	n.appendEntries(ents)
	return nil
}

// stepBroadcast handles UPTODATE, PROPOSAL, COMMIT and INFORM.
func (n *Node) stepBroadcast(m *Message) error {
	fl := n.fl
	if fl.phase != fpSynced && fl.phase != fpBroadcast {
		return fmt.Errorf("%w: %v in phase %v", ErrProtocol, m.Type, fl.phase)
	}
	switch m.Type {
	case MsgUpToDate:
		if fl.phase != fpSynced || m.Committed > n.lastLogged {
			return fmt.Errorf("%w: UPTODATE at %#x in phase %v, last %#x", ErrProtocol, m.Committed, fl.phase, n.lastLogged)
		}
		n.committed = max(n.committed, m.Committed)
		fl.phase = fpBroadcast
		n.lg.Info("zab: up to date", "leader", n.leader, "epoch", fl.epoch)
	case MsgProposal:
		if fl.observer || EpochOf(m.Entries[0].Zxid) != fl.epoch {
			return fmt.Errorf("%w: PROPOSAL %#x to observer=%v", ErrProtocol, m.Entries[0].Zxid, fl.observer)
		}
		if err := n.appendChecked(m.Entries); err != nil {
			return err
		}
		n.ackProposal(m.Entries[0].Zxid)
	case MsgCommit:
		if fl.observer || m.Zxid > n.lastLogged {
			return fmt.Errorf("%w: COMMIT %#x past our last zxid %#x", ErrProtocol, m.Zxid, n.lastLogged)
		}
		n.committed = max(n.committed, m.Zxid)
	case MsgInform:
		if !fl.observer {
			return fmt.Errorf("%w: INFORM to a follower", ErrProtocol)
		}
		if err := n.appendChecked(m.Entries); err != nil {
			return err
		}
		n.committed = max(n.committed, n.lastLogged)
	}
	return nil
}

// ackProposal acknowledges z once it is durable. Acks are cumulative: when the
// last thing queued for the leader is an ack, it is moved forward instead of
// adding another.
func (n *Node) ackProposal(z int64) {
	if k := len(n.acc.after); k > 0 {
		if last := n.acc.after[k-1]; last.To == n.leader && last.Msg.Type == MsgAck && last.Msg.Epoch == n.fl.epoch && n.newLeaderAck == 0 {
			last.Msg.Zxid = z
			return
		}
	}
	n.sendAfterPersist(n.leader, &Message{Type: MsgAck, Epoch: n.fl.epoch, Zxid: z})
}
