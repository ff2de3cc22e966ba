package zab

import "github.com/embedzk/zk/election"

// NextZxid returns the zxid the next Propose will assign if it succeeds, so
// that a caller can prepare the entry with it; 0 when this peer is not the
// serving leader. Nothing changes until Propose.
func (n *Node) NextZxid() int64 {
	if n.role != RoleLeading || !n.serving() {
		return 0
	}
	return n.nextZxid()
}

func (n *Node) nextZxid() int64 {
	counter := int64(0)
	if EpochOf(n.lastLogged) == n.ld.epoch {
		counter = CounterOf(n.lastLogged)
	}
	return MakeZxid(n.ld.epoch, counter+1)
}

// propose assigns the next zxid of the epoch to data, queues it for the log
// and sends it to every forwarding follower.
func (n *Node) propose(data []byte) (int64, error) {
	ld := n.ld
	z := n.nextZxid()
	if CounterOf(z) >= n.maxCounter || EpochOf(z) != ld.epoch {
		n.goLooking("the zxid counter rolled over")
		return 0, ErrZxidRollover
	}
	ent := Entry{Zxid: z, Data: data}
	n.appendEntries([]Entry{ent})
	ld.props.note(z, n.tick)
	var prop *Message // one message for every follower (the driver may encode it once)
	for _, id := range ld.ids() {
		if l := ld.learners[id]; l.forwarding() && !l.observer {
			if prop == nil {
				o := &oneEntry{one: [1]Entry{ent}}
				o.m = Message{Type: MsgProposal, Epoch: ld.epoch, Entries: o.one[:]}
				prop = &o.m
			}
			n.send(id, prop)
		}
	}
	return ent.Zxid, nil
}

// maybeCommit advances the commit point to the largest zxid a quorum of
// voters has durably (the leader's own ack is what it handed to the driver)
// and tells the learners: COMMIT to followers, INFORM to observers.
func (n *Node) maybeCommit() {
	ld := n.ld
	if ld.phase != phaseEstablished {
		return
	}
	ld.acks[n.cfg.ID] = n.selfAck
	c := n.commitIndex(ld.acks)
	if c <= n.committed {
		return
	}
	n.committed = c
	for _, id := range ld.ids() {
		l := ld.learners[id]
		switch {
		case !l.forwarding():
		case l.observer:
			n.inform(l)
		default:
			n.send(id, &Message{Type: MsgCommit, Epoch: ld.epoch, Zxid: c})
		}
	}
}

// commitIndex is the largest zxid that acks commit: a quorum of the
// committed configuration, and from a pending configuration's entry on a
// quorum of both (ZooKeeper's rule); only the entries before it otherwise.
func (n *Node) commitIndex(acks map[int64]int64) int64 {
	p := n.pending
	if p != nil && n.cfg.BrokenReconfigCommit {
		return election.CommittedIndex(p.q, acks)
	}
	c := election.CommittedIndex(n.active.q, acks)
	if p == nil || c < p.version {
		return c
	}
	if j := election.CommittedIndex(n.q, acks); j >= p.version {
		return j
	}
	return p.prev
}

// inform sends an observer the committed entries it does not have.
func (n *Node) inform(l *learner) {
	for l.informed < n.committed {
		ents, err := n.entries(l.informed, n.committed, n.cfg.MaxMsgBytes)
		if err != nil {
			n.lg.Error("zab: reading the log for an INFORM", "peer", l.id, "err", err)
			n.dropLearner(l.id, "cannot read the log")
			return
		}
		l.informed = ents[len(ents)-1].Zxid
		n.send(l.id, &Message{Type: MsgInform, Epoch: n.ld.epoch, Entries: ents})
	}
}

// pingBack records a learner's answer to a heartbeat.
func (n *Node) pingBack(l *learner, m *Message) error {
	if m.ID <= n.ld.round {
		l.pingAck = max(l.pingAck, m.ID)
		n.checkBarriers()
	}
	return nil
}
