package zab

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/embedzk/zk/election"
)

// Role is a peer's role.
type Role uint8

// The roles.
const (
	RoleLooking Role = iota + 1
	RoleFollowing
	RoleLeading
	RoleObserving
)

func (r Role) String() string {
	switch r {
	case RoleLooking:
		return "looking"
	case RoleFollowing:
		return "following"
	case RoleLeading:
		return "leading"
	case RoleObserving:
		return "observing"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Node is the ZAB state machine of one peer (see the package doc).
type Node struct {
	cfg      Config
	lg       *slog.Logger
	log      Log
	q        election.Quorum // the effective quorum (reconfig.go)
	el       *election.Election
	members  map[int64]bool // every member of either configuration but this peer
	observer bool           // this peer learns as an observer

	active    cfgState       // the committed configuration (reconfig.go)
	pending   *cfgState      // a proposed one, not known to be committed
	encodable bool           // the configuration can be sent and changed
	wantVoter bool           // Config lists this peer as a voter (a joiner follows so)
	confirmed bool           // a configuration not merely guessed listed this peer (reconfig.go)
	removedBy int64          // the committed configuration that removed this running peer (reconfig.go)
	removed   bool           // stopped: started outside its configuration
	hints     map[int64]bool // looking: peers that announced a newer configuration (reconfig.go)

	role   Role
	leader int64
	tick   int64

	state      State // durable epochs, as queued
	handed     State // as handed to the driver
	lastLogged int64 // last zxid queued for the log
	selfAck    int64 // last zxid handed to the driver to persist
	committed  int64 // highest zxid known committed
	applied    int64 // last zxid handed out in Apply (or restored by a snapshot)
	cache      entryCache

	acc          batch
	waiting      bool  // a Ready awaits its Advance
	pendingApply int64 // last zxid of that Ready's Apply
	reported     Status
	newLeaderAck int64 // epoch of a NEWLEADER ack queued in this batch

	// early keeps the latest FOLLOWERINFO/OBSERVERINFO of peers that chose
	// this peer as leader before it decided so itself.
	early map[int64]*Message

	ld *leader
	fl *follower

	syncsDone []SyncResult // finished barriers, handed out once applied

	maxCounter int64   // MaxCounter; tests lower it
	scratch    []int64 // reused by quorum checks

	lookingSince int64        // tick the current (or last) election began (observe.go)
	lookingWhy   string       // why it began
	lastElection ElectionInfo // how the last one ended
	lookings     int64        // elections started
}

// NewNode returns a Node for cfg over log, which holds what d describes. It
// starts LOOKING (a single voter has already decided to lead when NewNode
// returns; its first Ready makes its new epoch durable and serves).
func NewNode(cfg Config, log Log, d Durable) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		return nil, fmt.Errorf("%w: nil Log", ErrBadState)
	}
	last, base := log.LastZxid(), log.Base()
	switch {
	case d.CurrentEpoch < 0 || d.AcceptedEpoch < d.CurrentEpoch || d.AcceptedEpoch > MaxEpoch:
		return nil, fmt.Errorf("%w: accepted epoch %d, current epoch %d", ErrBadState, d.AcceptedEpoch, d.CurrentEpoch)
	case d.Applied < base || d.Applied > last:
		return nil, fmt.Errorf("%w: applied %#x outside the log (%#x, %#x]", ErrBadState, d.Applied, base, last)
	case d.Applied != base && !log.Contains(d.Applied):
		return nil, fmt.Errorf("%w: applied %#x is not an entry of the log", ErrBadState, d.Applied)
	}
	q := cfg.Quorum
	if q == nil {
		m, err := election.NewMajority(cfg.Voters)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
		}
		q = m
	}
	observers := cfg.Observers
	if !slices.Contains(slices.Concat(cfg.Voters, observers), cfg.ID) {
		observers = append(slices.Clone(observers), cfg.ID) // removed: Reconfigure below says so
	}
	el, err := election.New(election.Config{ID: cfg.ID, Quorum: q, Observers: observers,
		Finalize: cfg.ElectionFinalize, Resend: cfg.ElectionResend, Rand: cfg.Rand})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	n := &Node{
		cfg: cfg, lg: cfg.Logger.With("zab", cfg.ID), log: log, q: q, el: el,
		state: State{d.AcceptedEpoch, d.CurrentEpoch}, lastLogged: last, selfAck: last,
		committed: d.Applied, applied: d.Applied, early: map[int64]*Message{}, maxCounter: MaxCounter,
	}
	n.handed = n.state
	n.cache.reset(last)
	n.initConfig(cfg, q)
	n.setEffective()
	if err := n.scanConfigs(d.Applied); err != nil {
		return nil, err
	}
	if !n.isMember() {
		n.goRemoved("not in the configuration it was started with")
		return n, nil
	}
	n.goLooking("starting")
	return n, nil
}

// Tick advances the node's clock by one tick.
func (n *Node) Tick() {
	n.tick++
	if n.removed {
		return
	}
	defer n.checkMembership()
	switch n.role {
	case RoleLooking:
		n.el.Tick()
		n.pumpElection()
		n.tellHints()
	case RoleLeading:
		n.leaderTick()
	case RoleFollowing, RoleObserving:
		n.followerTick()
	}
}

// Step handles message m from peer from (as the transport authenticated it).
// Anything malformed, from an unknown peer, of a wrong epoch or unexpected
// in the current role is dropped and reported as an error; Step never
// panics on any input. m and its slices must not be modified afterwards.
func (n *Node) Step(from int64, m *Message) error {
	err := n.step(from, m)
	n.checkMembership()
	n.checkQuorum()
	if err != nil {
		n.lg.Debug("zab: dropped a message", "from", from, "type", msgType(m), "err", err)
	}
	return err
}

func msgType(m *Message) MsgType {
	if m == nil {
		return 0
	}
	return m.Type
}

func (n *Node) step(from int64, m *Message) error {
	if n.removed {
		n.answerRemoved(from, m)
		return ErrRemoved
	}
	if !n.knows(from) {
		if m != nil && m.Type == MsgNotification {
			return n.answerStranger(from, m)
		}
		if from < 1 || from > election.MaxPeerID || from == n.cfg.ID ||
			(n.role != RoleLeading && (m == nil || (m.Type != MsgFollowerInfo && m.Type != MsgObserverInfo))) {
			return fmt.Errorf("%w: %d", ErrUnknownPeer, from)
		}
		// A peer no configuration lists may join as a learner (it
		// counts nowhere until a configuration adds it).
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if m.From != 0 && m.From != from {
		return fmt.Errorf("%w: message from %d claims to be from %d", ErrBadMessage, from, m.From)
	}
	switch m.Type {
	case MsgNotification:
		return n.stepNotification(from, m)
	case MsgApp:
		n.acc.app = append(n.acc.app, AppMessage{From: from, Data: m.Data})
		return nil
	}
	switch n.role {
	case RoleLeading:
		return n.stepLeader(from, m)
	case RoleFollowing, RoleObserving:
		return n.stepFollower(from, m)
	}
	if m.Type == MsgFollowerInfo || m.Type == MsgObserverInfo {
		n.early[from] = m // it chose us; we may decide so too
		return nil
	}
	return fmt.Errorf("%w: %v while looking", ErrUnexpected, m.Type)
}

// LinkUp reports a new connection to peer: what was sent before may be lost.
func (n *Node) LinkUp(peer int64) {
	if !n.knows(peer) || n.removed {
		return
	}
	switch n.role {
	case RoleLooking:
		n.el.LinkUp(peer)
		n.pumpElection()
	case RoleFollowing, RoleObserving:
		if peer == n.leader && n.fl.phase == fpDiscovery {
			n.sendLearnerInfo()
		}
	}
}

// LinkDown reports that the connection to peer broke: messages since the last
// LinkUp may be lost. A follower whose leader link breaks goes LOOKING; a
// leader drops that learner (it must sync again).
func (n *Node) LinkDown(peer int64) {
	delete(n.early, peer)
	if !n.knows(peer) || n.removed {
		return
	}
	delete(n.early, peer)
	switch n.role {
	case RoleLeading:
		n.dropLearner(peer, "link down")
		n.checkQuorum()
	case RoleFollowing, RoleObserving:
		if peer == n.leader {
			n.goLooking("lost the connection to the leader")
		}
	}
}

// SendApp queues an opaque app message to peer to (0: the current leader) on
// the same FIFO stream as the protocol messages. A message to this peer
// itself (or to 0 on the leader) comes back in Ready.App. data belongs to the
// core after the call.
func (n *Node) SendApp(to int64, data []byte) error {
	if n.removed {
		return ErrRemoved
	}
	if to == 0 {
		if n.role == RoleLooking || n.leader == 0 {
			return ErrNoLeader
		}
		to = n.leader
	}
	if to == n.cfg.ID {
		n.acc.app = append(n.acc.app, AppMessage{From: to, Data: data})
		return nil
	}
	if !n.knows(to) {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	n.send(to, &Message{Type: MsgApp, Data: data})
	return nil
}

// Propose appends data as a new entry and returns its zxid at once (leader
// and serving only). Entries proposed in one Ready cycle are persisted in
// one Persist op and sent to followers in the same Ready (pipelined), each
// in its own PROPOSAL. data belongs to the core after the call.
func (n *Node) Propose(data []byte) (int64, error) {
	if n.removed {
		return 0, ErrRemoved
	}
	if n.role != RoleLeading {
		return 0, ErrNotLeader
	}
	if !n.serving() {
		return 0, ErrNotServing
	}
	if len(data) > n.cfg.MaxMsgBytes {
		return 0, fmt.Errorf("%w: %d bytes, MaxMsgBytes %d", ErrTooLarge, len(data), n.cfg.MaxMsgBytes)
	}
	if IsConfigEntry(data) {
		return 0, fmt.Errorf("%w: data begins with the configuration entry marker (use ProposeConfig)", ErrBadMembership)
	}
	return n.propose(data)
}

// goLooking ends the current role and starts a new election round.
func (n *Node) goLooking(reason string) {
	if n.role != RoleLooking && n.role != 0 {
		n.lg.Info("zab: looking for a leader", "was", n.role, "reason", reason)
	}
	observers := n.leaveRole(reason)
	n.role, n.leader, n.ld, n.fl = RoleLooking, 0, nil, nil
	n.lookingSince, n.lookingWhy = n.tick, reason
	n.lookings++
	n.el.Start(election.Vote{Leader: n.cfg.ID, Zxid: n.lastLogged, Epoch: n.state.CurrentEpoch})
	// The election tells the voters; a leader also tells its other learners
	// (observers, non-voting followers), whose session with it ends here
	// (ZooKeeper closes their connections).
	for _, id := range observers {
		n.sendNotification(id, election.Notification{Vote: n.el.Vote(), Round: n.el.Round(), State: election.Looking})
	}
	n.pumpElection()
}

// leaveRole ends the current role; a leader returns the learners its
// election does not tell: observers and non-voting followers.
func (n *Node) leaveRole(reason string) []int64 {
	var observers []int64
	switch n.role {
	case RoleLeading:
		n.leaderStop(reason)
		for _, id := range n.ld.ids() {
			if n.ld.learners[id].observer || !n.q.IsVoter(id) {
				observers = append(observers, id)
			}
		}
	case RoleFollowing, RoleObserving:
		n.followerStop(reason)
	}
	return observers
}

// stepNotification hands an FLE notification to the election.
func (n *Node) stepNotification(from int64, m *Message) error {
	nt := m.notification()
	if nt.State == election.Looking {
		delete(n.early, from) // it looks again: its FOLLOWERINFO is stale
	}
	n.noteHint(from, m)
	if p := n.pending; p != nil && m.Committed == p.version {
		// The sender has our pending configuration committed: so it is
		// (one entry per zxid), and it alone governs our counts from now
		// on, as ZooKeeper's processReconfig. The entries themselves wait
		// for a leader's sync: a peer without a leader applies nothing (in
		// read-only mode it serves the tree it had when it lost its leader).
		n.activate(*p)
		if n.role == RoleLooking {
			// Our round counted the old configuration's voters: start
			// another under the new one, as ZooKeeper restarts its
			// election when a notification changes its configuration (a
			// lone voter left decides at once). ZooKeeper's new election
			// counts rounds from zero again; ours takes the next round,
			// which the others adopt or answer.
			n.goLooking(fmt.Sprintf("configuration %#x is committed", p.version))
		}
	}
	if !n.members[from] {
		return n.nonMemberNotification(from, m)
	}
	if n.followNewer(from, m) {
		// The election did not decide: end its round with the leader's
		// own vote, what its other learners answer a looking peer with.
		if err := n.el.Follow(nt.Vote); err != nil {
			n.lg.Warn("zab: the election cannot follow the leader's vote", "leader", from, "err", err)
		}
		return nil
	}
	round := n.el.Round()
	err := n.el.Step(from, nt)
	if err != nil && !errors.Is(err, election.ErrCannotLead) {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	// (ErrCannotLead: peers may hold different configurations during a
	// change. The election still answered the sender if we decided, and
	// the vote still says what the sender does.)
	if n.leavesOn(from, nt, round) {
		return nil
	}
	n.pumpElection()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnexpected, err)
	}
	return nil
}

// leavesOn acts on what a member's notification nt says of our role: a
// leader drops a learner that looks again, a learner leaves a leader that
// looks again or votes for another; it reports whether we went looking.
// round is the election's round before nt.
func (n *Node) leavesOn(from int64, nt election.Notification, round int64) bool {
	switch {
	case n.role == RoleLeading && nt.State == election.Looking && n.ld.learners[from] != nil:
		// One of ours looks again (it sent this after its FOLLOWERINFO):
		// whatever it had with us is over.
		n.dropLearner(from, "it is looking")
	case (n.role == RoleFollowing || n.role == RoleObserving) && from == n.leader &&
		nt.State == election.Looking && nt.Round > round:
		// Our leader started an election after the one we followed it in.
		n.goLooking("the leader is looking")
		return true
	case (n.role == RoleFollowing || n.role == RoleObserving) && from == n.leader &&
		n.fl.phase == fpDiscovery && nt.Leader != from && nt.Round >= round:
		// The peer we decided to follow votes for another in our round or
		// a later one: it saw a better vote after we decided (its finalize
		// wait outlasted ours), or follows a leader of a configuration we
		// have not seen. It will most likely follow that one; if it leads
		// after all (a quorum of its peers' FOLLOWING votes can still make
		// it), our next election finds it at once. ZooKeeper's learner
		// gives up on such a peer within about half a second too (five
		// refused connects to a quorum port nobody listens on, 100 ms
		// apart); waiting out InitLimit would leave us out for longer.
		n.goLooking(fmt.Sprintf("the leader votes for %d", nt.Leader))
		return true
	}
	return false
}

// nonMemberNotification handles a notification from a peer that no
// configuration lists but that this peer deals with: its leader or one of
// its learners, removed by a configuration or joining. No election counts
// it. A learner that looks again is dropped, and a leader that looks again
// (after the election its learner followed it in) is no longer followed.
func (n *Node) nonMemberNotification(from int64, m *Message) error {
	if nt := m.notification(); nt.State == election.Looking {
		switch {
		case n.role == RoleLeading && n.ld.learners[from] != nil:
			n.dropLearner(from, "it is looking")
		case (n.role == RoleFollowing || n.role == RoleObserving) && from == n.leader && nt.Round > n.el.Round():
			n.goLooking("the leader is looking")
		}
	}
	return n.answerStranger(from, m)
}

// pumpElection sends the election's notifications and acts on its decision.
func (n *Node) pumpElection() {
	for _, m := range n.el.Messages() {
		n.sendNotification(m.To, m.Notification)
	}
	if n.role != RoleLooking {
		return
	}
	if n.el.State() != election.Looking {
		n.noteElection()
	}
	switch n.el.State() {
	case election.Leading:
		n.becomeLeader()
	case election.Following, election.Observing:
		n.becomeFollower(n.el.Leader(), n.observer)
	}
}

// checkQuorum: an established leader whose quorum is gone steps down at
// once, so that Serving never goes false and back true within an epoch.
func (n *Node) checkQuorum() {
	if n.ld != nil && n.ld.phase == phaseEstablished && (!n.ld.alive || n.ld.lost) {
		n.goLooking("lost the quorum")
	}
}
