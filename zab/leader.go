package zab

import (
	"fmt"
	"slices"
)

type leaderPhase uint8

const (
	phaseDiscovery   leaderPhase = iota + 1 // gathering FOLLOWERINFOs of a quorum
	phaseEpochAck                           // LEADERINFO sent; gathering ACKEPOCHs
	phaseSync                               // syncing learners; gathering NEWLEADER acks
	phaseEstablished                        // a quorum acked NEWLEADER: broadcast
)

// learnerPhase is where one learner is in its handshake with the leader.
type learnerPhase uint8

const (
	lpInfo      learnerPhase = iota + 1 // FOLLOWERINFO in; the epoch is not decided yet
	lpEpoch                             // LEADERINFO sent; waiting for ACKEPOCH
	lpAcked                             // epoch acked; waiting for a quorum of acks
	lpSnap                              // the driver streams a snapshot (SnapshotSent ends it)
	lpDiff                              // DIFF batches on their way (paced by DIFFACKs)
	lpSyncing                           // NEWLEADER sent; proposals follow it
	lpBroadcast                         // acked NEWLEADER
)

// diffWindow is how many DIFF batches may be unacknowledged at once.
const diffWindow = 4

type learner struct {
	id       int64
	observer bool
	phase    learnerPhase
	since    int64 // tick the phase began
	heard    int64 // tick of its last message
	accepted int64 // its accepted epoch (FOLLOWERINFO)
	peerLast int64 // its last zxid (FOLLOWERINFO, then ACKEPOCH)
	cursor   int64 // DIFF: last zxid sent
	batches  []int64
	target   int64  // where its sync ended (NEWLEADER)
	informed int64  // observer: last zxid sent to it
	pingAck  uint64 // highest heartbeat round it answered
	sync     SyncMode
}

// forwarding reports whether the learner gets the broadcast stream.
func (l *learner) forwarding() bool { return l.phase == lpSyncing || l.phase == lpBroadcast }

// barrier is a Sync request waiting for a heartbeat round started after it.
type barrier struct {
	from  int64
	id    uint64
	round uint64 // 0: no round started yet
}

type leader struct {
	phase    leaderPhase
	since    int64
	epoch    int64 // the new epoch, once decided
	histLast int64 // the leader's last zxid when it decided the epoch
	sumEpoch int64 // the leader's current epoch and last zxid when it started:
	sumZxid  int64 // the epoch acks of learners ahead of these do not count
	learners map[int64]*learner
	order    []int64 // the learners' ids, sorted
	// What voters acknowledged in this epoch. An acknowledgement says
	// something is durable on that peer, which a broken connection does not
	// undo, so these outlive a dropped learner (as ZooKeeper's ack sets do).
	epochAcks     map[int64]bool
	newLeaderAcks map[int64]bool
	acks          map[int64]int64 // highest zxid each voter has durably (cumulative)
	alive         bool            // quorumAlive as of the last tick or learner change
	lost          bool            // the established quorum was lost: stepping down
	synced        bool            // the set of learners in broadcast changed (Status.Synced)
	round         uint64          // heartbeat round
	beat          int             // ticks since the last heartbeat
	barriers      []barrier
	props         propRing // when proposals were made, for learners' lag (observe.go)
}

// ids returns the learners' ids in order (deterministic iteration). The
// slice is replaced, never modified, when learners come and go, so a loop
// over it may add or drop learners.
func (ld *leader) ids() []int64 { return ld.order }

func (ld *leader) add(l *learner) {
	if ld.learners[l.id] == nil {
		i, _ := slices.BinarySearch(ld.order, l.id)
		ld.order = slices.Insert(slices.Clone(ld.order), i, l.id)
	}
	ld.learners[l.id] = l
}

func (ld *leader) needsRound() bool {
	for _, b := range ld.barriers {
		if b.round == 0 {
			return true
		}
	}
	return false
}

// becomeLeader starts discovery as the elected leader.
func (n *Node) becomeLeader() {
	n.role, n.leader = RoleLeading, n.cfg.ID
	n.confirm() // elected by the voters of its configuration
	n.ld = &leader{phase: phaseDiscovery, since: n.tick, sumEpoch: n.state.CurrentEpoch, sumZxid: n.lastLogged,
		learners: map[int64]*learner{}, epochAcks: map[int64]bool{}, newLeaderAcks: map[int64]bool{}, acks: map[int64]int64{}}
	n.lg.Info("zab: leading", "epoch", n.state.CurrentEpoch, "last", n.lastLogged)
	early := n.early
	n.early = map[int64]*Message{}
	for _, id := range sortedKeys(early) {
		if err := n.learnerInfo(id, early[id]); err != nil {
			n.lg.Debug("zab: early learner info", "from", id, "err", err)
		}
	}
	n.checkDiscovery()
}

func sortedKeys[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// leaderStop ends this leadership: pending local barriers fail.
func (n *Node) leaderStop(reason string) {
	for _, b := range n.ld.barriers {
		if b.from == n.cfg.ID {
			n.syncsDone = append(n.syncsDone, SyncResult{ID: b.id, Err: fmt.Errorf("%w: %s", ErrNotServing, reason)})
		}
	}
	n.failUnappliable(reason)
}

// stepLeader dispatches a learner's message.
func (n *Node) stepLeader(from int64, m *Message) error {
	if m.Type == MsgFollowerInfo || m.Type == MsgObserverInfo {
		return n.learnerInfo(from, m)
	}
	l := n.ld.learners[from]
	if l == nil {
		if m.Type == MsgSync && m.Epoch == n.ld.epoch {
			// A learner we dropped does not know yet: fail its barrier.
			n.send(from, &Message{Type: MsgSynced, Epoch: m.Epoch, ID: m.ID, Failed: true})
		}
		return fmt.Errorf("%w: %v from %d, which is not our learner", ErrUnknownPeer, m.Type, from)
	}
	if m.Epoch != n.ld.epoch {
		return fmt.Errorf("%w: %v of epoch %d from %d, ours is %d", ErrStaleEpoch, m.Type, m.Epoch, from, n.ld.epoch)
	}
	l.heard = n.tick
	switch m.Type {
	case MsgAckEpoch:
		return n.ackEpoch(l, m)
	case MsgDiffAck:
		return n.diffAck(l, m)
	case MsgSnapAck:
		return n.snapAck(l, m)
	case MsgAck:
		return n.learnerAck(l, m)
	case MsgPing:
		return n.pingBack(l, m)
	case MsgSync:
		return n.syncRequest(l, m)
	}
	return fmt.Errorf("%w: %v from learner %d", ErrUnexpected, m.Type, from)
}

// dropLearner forgets a learner: it must start over with FOLLOWERINFO.
func (n *Node) dropLearner(id int64, reason string) {
	ld := n.ld
	if ld == nil || ld.learners[id] == nil {
		return
	}
	n.lg.Info("zab: dropping learner", "peer", id, "phase", ld.learners[id].phase, "reason", reason)
	ld.synced = ld.synced || ld.learners[id].phase == lpBroadcast
	delete(ld.learners, id)
	ld.order = slices.DeleteFunc(slices.Clone(ld.order), func(x int64) bool { return x == id })
	ld.alive = n.quorumAlive()
	if ld.phase == phaseEstablished && !ld.alive {
		ld.lost = true // for good: checkQuorum steps down after this input
	}
	ld.barriers = slices.DeleteFunc(ld.barriers, func(b barrier) bool { return b.from == id })
	n.acc.snapshots = slices.DeleteFunc(n.acc.snapshots, func(p int64) bool { return p == id })
}

// leaderTick runs the leader's timers.
func (n *Node) leaderTick() {
	ld := n.ld
	if ld.phase != phaseEstablished && n.tick-ld.since > int64(n.cfg.InitLimit) {
		n.goLooking(fmt.Sprintf("%v not done within InitLimit", ld.phase))
		return
	}
	for _, id := range ld.ids() {
		l := ld.learners[id]
		switch {
		case l.phase == lpBroadcast && n.tick-l.heard > int64(n.cfg.SyncLimit):
			n.dropLearner(id, "silent for more than SyncLimit")
		case l.phase != lpBroadcast && n.tick-l.heard > int64(n.cfg.InitLimit):
			n.dropLearner(id, "silent for more than InitLimit")
		case (l.phase == lpSnap || l.phase == lpInfo) && n.tick-l.since > int64(n.cfg.InitLimit):
			n.dropLearner(id, "sync not done within InitLimit")
		}
	}
	ld.alive = n.quorumAlive()
	if ld.phase == phaseEstablished && !ld.alive {
		n.checkQuorum()
		return
	}
	ld.beat++
	if ld.beat >= n.cfg.HeartbeatInterval {
		n.heartbeat()
		if ld.phase == phaseEstablished && ld.round%announceRounds == 0 && (n.active.version > 0 || n.pending != nil) {
			n.announce()
		}
	}
}

// quorumAlive reports whether this leader and the voters in broadcast that it
// heard from within SyncLimit form a quorum.
func (n *Node) quorumAlive() bool {
	ids := append(n.scratch[:0], n.cfg.ID)
	for id, l := range n.ld.learners {
		if l.phase == lpBroadcast && n.tick-l.heard <= int64(n.cfg.SyncLimit) {
			ids = append(ids, id)
		}
	}
	n.scratch = ids
	return n.q.HasQuorum(ids)
}

// heartbeat starts a round: every learner past LEADERINFO gets a PING, and
// the barriers waiting for a round get this one.
func (n *Node) heartbeat() {
	ld := n.ld
	ld.round++
	ld.beat = 0
	for _, id := range ld.ids() {
		if l := ld.learners[id]; l.phase >= lpEpoch {
			n.send(id, &Message{Type: MsgPing, Epoch: ld.epoch, ID: ld.round})
		}
	}
	for i := range ld.barriers {
		if ld.barriers[i].round == 0 {
			ld.barriers[i].round = ld.round
		}
	}
	n.checkBarriers()
}

// leaderBeforeReady runs before a Ready is packed: barriers start their round.
func (n *Node) leaderBeforeReady() {
	if n.ld.needsRound() {
		n.heartbeat()
	}
}

// leaderAfterHandOff runs once a Ready's Persist is handed to the driver: the
// leader's own acknowledgement (its log, its current epoch) now counts, as
// the Ready's Apply and Status are acted on only after that Persist. What it
// sends as a result goes in the next Ready.
func (n *Node) leaderAfterHandOff() {
	n.checkEstablished()
	n.maybeCommit()
	n.checkQuorum()
}
