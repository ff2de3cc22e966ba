package zab

import (
	"errors"
	"fmt"
)

type followerPhase uint8

const (
	fpDiscovery followerPhase = iota + 1 // FOLLOWERINFO sent; waiting for LEADERINFO
	fpSync                               // ACKEPOCH sent; TRUNC / DIFF / SNAP until NEWLEADER
	fpSynced                             // NEWLEADER acked; waiting for UPTODATE
	fpBroadcast                          // UPTODATE received: serving
)

// follower is the state of a follower or an observer (a learner).
type follower struct {
	observer bool
	phase    followerPhase
	epoch    int64 // the leader's epoch (LEADERINFO)
	silent   int   // ticks since the leader was last heard
	snap     *snapIn
	syncs    []uint64 // barrier ids sent to the leader
	// announced is the configuration version of a leader followed because
	// it announced a configuration newer than ours (followNewer): until
	// ours reaches it, our configuration's view of that leader is stale.
	announced int64
}

// snapIn tracks a snapshot arriving in chunks.
type snapIn struct {
	zxid int64
	next int64 // offset of the next chunk
}

// becomeFollower starts the handshake with the elected leader.
func (n *Node) becomeFollower(leader int64, observer bool) {
	n.role, n.leader = RoleFollowing, leader
	if observer {
		n.role = RoleObserving
	}
	n.fl = &follower{observer: observer, phase: fpDiscovery}
	n.hints = nil
	n.early = map[int64]*Message{}
	n.lg.Info("zab: following", "leader", leader, "observer", observer)
	n.sendLearnerInfo()
}

func (n *Node) sendLearnerInfo() {
	t := MsgFollowerInfo
	if n.fl.observer {
		t = MsgObserverInfo
	}
	n.send(n.leader, &Message{Type: t, PeerEpoch: n.state.AcceptedEpoch, Zxid: n.lastLogged})
}

// followerStop ends this learner's role: pending barriers fail.
func (n *Node) followerStop(reason string) {
	for _, id := range n.fl.syncs {
		n.syncsDone = append(n.syncsDone, SyncResult{ID: id, Err: fmt.Errorf("%w: %s", ErrNotServing, reason)})
	}
	n.failUnappliable(reason)
}

// failUnappliable turns finished barriers whose zxid this peer cannot apply
// yet into failures: it is leaving its quorum.
func (n *Node) failUnappliable(reason string) {
	for i, r := range n.syncsDone {
		if r.Err == nil && r.Zxid > n.appliable() {
			n.syncsDone[i] = SyncResult{ID: r.ID, Err: fmt.Errorf("%w: %s", ErrNotServing, reason)}
		}
	}
}

// followerTick: a leader silent for too long is gone.
func (n *Node) followerTick() {
	n.fl.silent++
	limit := n.cfg.InitLimit
	if n.fl.phase == fpBroadcast {
		limit = n.cfg.SyncLimit
	}
	if n.fl.silent > limit {
		n.goLooking(fmt.Sprintf("the leader was silent for %d ticks", n.fl.silent))
	}
}

// stepFollower handles a message to a learner. Messages from anyone but the
// leader are dropped; a leader that breaks the protocol is left (LOOKING).
func (n *Node) stepFollower(from int64, m *Message) error {
	fl := n.fl
	if from != n.leader {
		return fmt.Errorf("%w: %v from %d, our leader is %d", ErrUnknownPeer, m.Type, from, n.leader)
	}
	if m.Type == MsgLeaderInfo {
		return n.leaderInfo(m)
	}
	if fl.phase == fpDiscovery {
		return fmt.Errorf("%w: %v before LEADERINFO", ErrUnexpected, m.Type)
	}
	if m.Type != MsgSnap && m.Epoch != fl.epoch {
		return fmt.Errorf("%w: %v of epoch %d, the leader's is %d", ErrStaleEpoch, m.Type, m.Epoch, fl.epoch)
	}
	fl.silent = 0
	var err error
	switch m.Type {
	case MsgPing:
		n.send(n.leader, &Message{Type: MsgPing, Epoch: fl.epoch, ID: m.ID})
	case MsgSynced:
		err = n.synced(m)
	case MsgTrunc, MsgDiff, MsgSnap, MsgNewLeader:
		err = n.stepSync(m)
	case MsgUpToDate, MsgProposal, MsgCommit, MsgInform:
		err = n.stepBroadcast(m)
	default:
		err = fmt.Errorf("%w: %v from the leader", ErrUnexpected, m.Type)
	}
	if errors.Is(err, ErrProtocol) {
		n.goLooking(err.Error())
	}
	return err
}

// leaderInfo handles LEADERINFO: accept the new epoch durably, then ACKEPOCH
// with our current epoch and last zxid. An epoch we accepted already is
// answered with -1 (it syncs us but does not count); an older one is refused.
func (n *Node) leaderInfo(m *Message) error {
	fl := n.fl
	if fl.phase != fpDiscovery {
		err := fmt.Errorf("%w: LEADERINFO in phase %v", ErrProtocol, fl.phase)
		n.goLooking(err.Error())
		return err
	}
	e := m.Epoch
	current := n.state.CurrentEpoch
	switch {
	case e > n.state.AcceptedEpoch:
		n.saveState(State{AcceptedEpoch: e, CurrentEpoch: current})
	case e == n.state.AcceptedEpoch:
		current = -1
	default:
		// We promised a newer epoch to another would-be leader: we cannot
		// join this one. ZooKeeper goes straight back to election, which
		// finds the same leader again at once; we wait out InitLimit
		// instead (this leader stays silent for us) so that the retries are
		// paced by ticks. A voter's leader steps down when our FOLLOWERINFO
		// tells it of the promise (learnerInfo), so the next leader proposes
		// a newer epoch.
		return fmt.Errorf("%w: LEADERINFO epoch %d is older than our accepted epoch %d", ErrStaleEpoch, e, n.state.AcceptedEpoch)
	}
	fl.silent = 0
	fl.epoch, fl.phase = e, fpSync
	n.sendAfterPersist(n.leader, &Message{Type: MsgAckEpoch, Epoch: e, PeerEpoch: current, Zxid: n.lastLogged})
	return nil
}
