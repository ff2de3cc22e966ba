package zab

import (
	"fmt"
	"slices"

	"github.com/embedzk/zk/election"
)

// This file is dynamic reconfiguration (see the package doc, Membership
// changes): which configuration is in effect at each point of the log, the
// quorum every count uses, and what a peer does when its membership changes.

// cfgState is one configuration in a peer's view.
type cfgState struct {
	version int64 // zxid of its entry; 0 or Config.ConfigVersion for the starting one
	prev    int64 // pending only: the zxid before its entry in the log
	m       Membership
	q       election.Quorum
}

// initConfig sets the starting configuration from cfg (in effect at
// Durable.Applied) and the quorum q it describes.
func (n *Node) initConfig(cfg Config, q election.Quorum) {
	m, ok := membershipOf(cfg)
	n.encodable = ok
	n.wantVoter = slices.Contains(cfg.Voters, cfg.ID)
	n.active = cfgState{version: cfg.ConfigVersion, m: m, q: q}
	// The configuration a peer starts with is a guess if it is a new
	// server's (the members and itself): trust it only if it came from a
	// committed entry or the peer has a history (it took part), and the
	// driver does not say it is a joiner's again (Config.Joining);
	// otherwise the first sync (NEWLEADER) or an election won confirms it
	// (confirm).
	n.confirmed = m.Has(cfg.ID) && (cfg.ConfigVersion > 0 || n.lastLogged > 0) && !cfg.Joining
}

// confirm records that this peer's configuration, if it lists this peer,
// is the ensemble's: from now on a configuration without it removes it.
func (n *Node) confirm() {
	if n.active.m.Has(n.cfg.ID) {
		n.confirmed, n.removedBy = true, 0
	}
}

// leave: the committed configuration v no longer lists this confirmed
// member. As ZooKeeper's removed server, it becomes a non-voting follower
// (a leader steps down in checkMembership, then follows the new voters'
// leader; an observer looks again and follows) and counts in no quorum, as
// a joiner, until a configuration lists it again. Nothing stops it: the driver stops it, or a reconfig adds
// it back.
func (n *Node) leave(v int64) {
	n.lg.Warn("zab: removed from the ensemble; a non-voting member from now on", "version", v)
	n.removedBy, n.confirmed = v, false
}

// scanConfigs finds the configuration entries of the log after applied (a
// restart): the last one is pending, any before it was committed before the
// next was proposed.
func (n *Node) scanConfigs(applied int64) error {
	for after := applied; after < n.lastLogged; {
		ents, err := n.log.Entries(after, n.cfg.MaxMsgBytes)
		if err != nil || len(ents) == 0 {
			return fmt.Errorf("%w: reading the log after %#x: %v", ErrBadState, after, err)
		}
		if err := n.noteConfigs(ents, after); err != nil {
			return fmt.Errorf("%w: %v", ErrBadState, err)
		}
		after = ents[len(ents)-1].Zxid
	}
	return nil
}

// noteConfigs records the configuration entries among ents, which follow
// prev in the log. A second entry makes the first committed: a leader
// proposes a configuration only once the previous one is committed.
func (n *Node) noteConfigs(ents []Entry, prev int64) error {
	for _, e := range ents {
		if IsConfigEntry(e.Data) {
			m, _, _, err := DecodeConfigEntry(e.Data)
			if err != nil {
				return fmt.Errorf("configuration entry %#x: %w", e.Zxid, err)
			}
			q, _ := m.Quorum() // DecodeConfigEntry checked it
			if n.pending != nil {
				n.activate(*n.pending)
			}
			n.pending = &cfgState{version: e.Zxid, prev: prev, m: m, q: q}
			n.lg.Info("zab: configuration proposed", "version", e.Zxid, "members", m)
			n.setEffective()
		}
		prev = e.Zxid
	}
	return nil
}

// checkConfigEntries refuses a malformed configuration entry from a leader.
func checkConfigEntries(ents []Entry) error {
	for _, e := range ents {
		if _, _, ok, err := DecodeConfigEntry(e.Data); ok && err != nil {
			return fmt.Errorf("%w: configuration entry %#x: %v", ErrProtocol, e.Zxid, err)
		}
	}
	return nil
}

// activate makes c the committed configuration. A leader drops the
// learners whose role it changed (they come back in their new role); a
// member it removes becomes a non-voting member (leave).
func (n *Node) activate(c cfgState) {
	old := n.active
	if n.pending != nil && n.pending.version <= c.version {
		n.pending = nil
	}
	n.active = c
	n.lg.Info("zab: configuration committed", "version", c.version, "members", c.m)
	if n.confirmed && old.m.Has(n.cfg.ID) && !c.m.Has(n.cfg.ID) && (n.pending == nil || !n.pending.m.Has(n.cfg.ID)) {
		n.leave(c.version)
	}
	n.confirm()
	n.setEffective()
	if n.ld == nil {
		return
	}
	for _, id := range n.ld.ids() {
		// A learner the configuration removed stays, a non-voting member
		// (leave); one whose role changed comes back in its new role.
		if l := n.ld.learners[id]; n.members[id] && l.observer == n.q.IsVoter(id) {
			n.dropLearner(id, fmt.Sprintf("its role changed in configuration %#x", c.version))
		}
	}
}

// promoteCommitted activates the pending configuration once it is committed.
func (n *Node) promoteCommitted() {
	if n.pending != nil && n.pending.version <= n.committed {
		n.activate(*n.pending)
	}
}

// configTruncated forgets a pending configuration whose entry is gone.
func (n *Node) configTruncated(z int64) {
	if n.pending != nil && n.pending.version > z {
		n.pending = nil
		n.setEffective()
	}
}

// configSnapshot: the log now starts after a snapshot of the leader's
// history, which replaced ours: a pending entry of ours is gone, even at a
// zxid below the snapshot's (our log may have left the leader's history
// before it). If the leader's history has it committed, NEWLEADER brings
// that configuration (adopt).
func (n *Node) configSnapshot(z int64) {
	if n.pending != nil {
		n.pending = nil
		n.setEffective()
	}
}

// adopt takes the leader's committed configuration (NEWLEADER) when it is
// newer than ours (after a snapshot our log may not show it), or of the
// same version but other members (ours was a joiner's guess). A peer the
// leader's configuration does not list yet (it joins) follows as a
// non-voter until a configuration adds it; a member (confirmed) that a newer
// configuration does not list is removed (leave), as the entry would have
// done.
func (n *Node) adopt(data []byte) error {
	v, m, err := decodeVersioned(data)
	if err != nil {
		return fmt.Errorf("%w: NEWLEADER configuration: %v", ErrProtocol, err)
	}
	defer n.confirm()
	if v < n.active.version || (v == n.active.version && fmt.Sprint(m) == fmt.Sprint(n.active.m)) {
		return nil
	}
	if n.pending != nil && n.pending.version <= v {
		n.activate(*n.pending) // committed: the leader's is at least as new
	}
	if v == n.active.version && fmt.Sprint(m) == fmt.Sprint(n.active.m) {
		return nil
	}
	// Newer, or the same version with other members: ours was a guess (a
	// joiner starts with the members and itself); the leader's is the one
	// the ensemble committed. A newer one without this member removes it
	// (a sync by snapshot skipped the entry that did).
	if n.confirmed && v > n.active.version && n.active.m.Has(n.cfg.ID) && !m.Has(n.cfg.ID) {
		n.leave(v)
	}
	q, _ := m.Quorum()
	n.active = cfgState{version: v, m: m, q: q}
	n.lg.Info("zab: configuration adopted from the leader", "version", v, "members", m)
	n.setEffective()
	return nil
}

// setEffective recomputes what every count uses: the committed
// configuration's quorum, AND the pending one's while there is one
// (ZooKeeper's rule); the members are those of either.
func (n *Node) setEffective() {
	n.hints = nil
	q := n.active.q
	members := slices.Concat(n.active.m.Voters, n.active.m.Observers)
	observers := slices.Clone(n.active.m.Observers)
	if p := n.pending; p != nil {
		q = election.Joint(n.active.q, p.q)
		members = append(members, slices.Concat(p.m.Voters, p.m.Observers)...)
		observers = append(observers, p.m.Observers...)
	}
	observers = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(observers))), q.IsVoter)
	n.q = q
	n.members = map[int64]bool{}
	for _, id := range members {
		if id != n.cfg.ID {
			n.members[id] = true
		}
	}
	n.observer = !q.IsVoter(n.cfg.ID)
	if !n.isMember() {
		// A joiner follows as it was started; a removed peer follows, as
		// ZooKeeper makes every removed server a non-voting participant
		// (so an observer removed, then added back as a participant, is a
		// synced follower ProposeConfig counts).
		n.observer = !n.wantVoter && n.removedBy == 0
	}
	if err := n.el.Reconfigure(q, observers); err != nil {
		n.lg.Error("zab: reconfiguring the election", "err", err)
	}
}

// isMember reports whether this peer is in the committed or pending
// configuration.
func (n *Node) isMember() bool {
	return n.active.m.Has(n.cfg.ID) || (n.pending != nil && n.pending.m.Has(n.cfg.ID))
}

// knows reports whether this peer deals with id: a member of either
// configuration, its leader, or (leader) one of its learners.
func (n *Node) knows(id int64) bool {
	return n.members[id] || (id == n.leader && id != n.cfg.ID) || (n.ld != nil && n.ld.learners[id] != nil)
}

// answerStranger answers a notification from a peer that is in no
// configuration this peer knows (a joiner, or one that was removed, or one
// whose configuration is older than the change that removed us): a voter
// tells it the vote it holds, and so does a peer that follows a leader,
// voter or not, so that it can find the leader (ZooKeeper answers a
// non-voter whatever its own role). A looking non-voter has no vote to
// tell.
func (n *Node) answerStranger(from int64, m *Message) error {
	if from < 1 || from > election.MaxPeerID || from == n.cfg.ID {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, from)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	n.noteHint(from, m)
	if n.followNewer(from, m) {
		return nil
	}
	if m.notification().State == election.Looking && !n.removed && (n.q.IsVoter(n.cfg.ID) || n.role != RoleLooking) {
		n.sendNotification(from, election.Notification{Vote: n.el.Vote(), Round: n.el.Round(), State: n.el.State()})
	}
	return nil
}

// answerRemoved: a peer that started removed (stopped) still tells a
// looking peer the version of its committed configuration (as an
// observer's notification, which no election counts): a peer that holds
// that configuration pending learns that it is committed. Without it, peers
// that did not hear the commit before the leader that removed itself
// restarted would need that leader's vote in the old configuration forever.
// (A removed peer that keeps running tells them in its own notifications.)
func (n *Node) answerRemoved(from int64, m *Message) {
	if m == nil || m.Type != MsgNotification || m.Validate() != nil || from < 1 || from > election.MaxPeerID ||
		from == n.cfg.ID || m.notification().State != election.Looking {
		return
	}
	n.sendNotification(from, election.Notification{Vote: election.NoVote, Round: max(1, n.el.Round()), State: election.Observing})
}

// followNewer follows a leader that announces a configuration newer than
// ours, or ours while we hold a change pending (see the package doc); it
// reports whether it did.
func (n *Node) followNewer(from int64, m *Message) bool {
	nt := m.notification()
	if n.role == RoleLooking && nt.State == election.Leading && nt.Leader == from &&
		(m.Committed > n.active.version || (n.pending != nil && m.Committed == n.active.version)) {
		// A leader with a configuration newer than ours, or ours without
		// the change we hold pending: our election may never decide (we
		// count voters that are not all there, or need the quorum of a
		// configuration the others never saw). Follow it: its sync brings
		// us its configuration (NEWLEADER) and truncates what it lacks. It
		// cannot cost a committed entry: a leader refuses a learner ahead
		// of it while it gathers its epoch, and we refuse an epoch older
		// than the one we accepted.
		n.lg.Info("zab: following a leader of a newer configuration", "leader", from, "version", m.Committed)
		n.noteElection()
		n.becomeFollower(from, n.observer)
		n.fl.announced = m.Committed
		return true
	}
	return false
}

// announceRounds: an established leader tells the members that are not
// its learners that it leads, every so many heartbeat rounds, once the
// configuration changed at least once (a static one cannot be missed).
const announceRounds = 20

// announce sends the members of the configuration that are not learners
// of this leader its LEADING notification: a member that missed a change
// may look among voters that are all gone, and no new member writes to it
// unless it looks too. It follows a leader that announces a newer
// configuration (followNewer).
func (n *Node) announce() {
	for _, id := range sortedKeys(n.members) {
		if n.ld.learners[id] == nil {
			n.sendNotification(id, election.Notification{Vote: n.el.Vote(), Round: max(1, n.el.Round()), State: election.Leading})
		}
	}
}

// noteHint remembers, while looking, a peer that announced a configuration
// newer than ours, and the leader it names: our election counts voters
// that may all be gone, and does not write to the new members. tellHints
// sends them our vote as the election re-sends it; a leader among them
// answers LEADING, which we follow (stepNotification).
func (n *Node) noteHint(from int64, m *Message) {
	if n.role != RoleLooking || m.Committed <= n.active.version {
		return
	}
	if n.hints == nil {
		n.hints = map[int64]bool{}
	}
	n.hints[from] = true
	if nt := m.notification(); nt.State != election.Looking && nt.Leader >= 1 && nt.Leader <= election.MaxPeerID && nt.Leader != n.cfg.ID {
		n.hints[nt.Leader] = true
	}
}

// tellHints sends the hinted peers our vote every ElectionResend ticks.
func (n *Node) tellHints() {
	if len(n.hints) == 0 || n.tick%int64(n.cfg.ElectionResend) != 0 {
		return
	}
	for _, id := range sortedKeys(n.hints) {
		if !n.members[id] || !n.q.IsVoter(id) {
			n.sendNotification(id, election.Notification{Vote: n.el.Vote(), Round: max(1, n.el.Round()), State: election.Looking})
		}
	}
}

// sendNotification sends an election notification, with the version of
// our committed configuration: a peer whose configuration is older learns
// that it is (stepNotification).
func (n *Node) sendNotification(to int64, nt election.Notification) {
	m := notificationMessage(n.cfg.ID, nt)
	m.Committed = n.active.version
	n.send(to, m)
}

// checkMembership acts on the configuration after each input: a leader
// that may no longer lead (removed too) steps down; a learner whose role or
// whose leader's vote changed looks for a leader again (a removed observer
// comes back as a non-voting follower); a learner that no configuration
// lists (a joiner, or removed) otherwise keeps its leader.
func (n *Node) checkMembership() {
	if n.removed {
		return
	}
	n.promoteCommitted()
	switch n.role {
	case RoleLeading:
		if !election.CanLead(n.q, n.cfg.ID) {
			n.goLooking(fmt.Sprintf("no longer a voter in configuration %#x", n.active.version))
		}
	case RoleFollowing, RoleObserving:
		switch {
		case !n.isMember() && n.removedBy == 0: // a joiner keeps its leader
		case (n.role == RoleObserving) != n.observer:
			n.goLooking(fmt.Sprintf("its role changed in configuration %#x", n.active.version))
		case n.members[n.leader] && !n.q.IsVoter(n.leader) && n.active.version >= n.fl.announced:
			// (A leader our configuration does not list, or lists in
			// another role, is one we follow because it announced a newer
			// configuration: the sync brings it. A joiner restarted from
			// its static configuration may list the leader as the observer
			// it was then.)
			n.goLooking(fmt.Sprintf("the leader is not a voter in configuration %#x", n.active.version))
		}
	}
}

// goRemoved ends the part of a peer that started outside its
// configuration (a committed one removed it before it restarted). It does
// nothing more (Status.Removed); to take part again it is restarted with a
// configuration that lists it.
func (n *Node) goRemoved(reason string) {
	n.lg.Warn("zab: removed from the ensemble", "reason", reason)
	n.leaveRole(reason)
	n.removed = true
	n.role, n.leader, n.ld, n.fl = RoleLooking, 0, nil, nil
	n.lookingSince, n.lookingWhy = n.tick, reason
}

// ProposeConfig proposes m as the next configuration (leader, serving) and
// returns the zxid of its entry, which is also the configuration's version.
// payload rides in the entry for the driver (DecodeConfigEntry); zab does
// not look into it. Refused: a change while another is pending
// (ErrReconfigInProgress), an invalid m (ErrBadMembership), and an m whose
// voters connected and synced to this leader (itself included) are not a
// quorum of m (ErrNewConfigNoQuorum): a new voter must have joined as a
// learner first. Until the entry commits, every commit at or after it needs
// a quorum of both configurations.
func (n *Node) ProposeConfig(m Membership, payload []byte) (int64, error) {
	switch {
	case n.removed:
		return 0, ErrRemoved
	case n.role != RoleLeading:
		return 0, ErrNotLeader
	case !n.serving():
		return 0, ErrNotServing
	case !n.encodable:
		return 0, fmt.Errorf("%w: a custom Quorum cannot be reconfigured", ErrBadMembership)
	}
	n.promoteCommitted()
	if n.pending != nil {
		return 0, fmt.Errorf("%w: configuration %#x is not committed yet", ErrReconfigInProgress, n.pending.version)
	}
	data, err := EncodeConfigEntry(m, payload)
	if err != nil {
		return 0, err
	}
	if len(data) > n.cfg.MaxMsgBytes {
		return 0, fmt.Errorf("%w: configuration entry of %d bytes, MaxMsgBytes %d", ErrTooLarge, len(data), n.cfg.MaxMsgBytes)
	}
	q, _ := m.Quorum()
	synced := []int64{n.cfg.ID}
	for _, id := range n.ld.ids() {
		l := n.ld.learners[id]
		if l.phase == lpBroadcast && !l.observer && n.tick-l.heard <= int64(n.cfg.SyncLimit) {
			synced = append(synced, id)
		}
	}
	if !q.HasQuorum(synced) {
		return 0, fmt.Errorf("%w: synced followers %v are not a quorum of %v (%v)", ErrNewConfigNoQuorum, synced, m, q)
	}
	z, err := n.propose(data)
	if err == nil {
		n.checkMembership()
	}
	return z, err
}

// ConfigInfo is a peer's view of the configuration.
type ConfigInfo struct {
	Version int64 // the committed configuration's (0: the starting one)
	Members Membership
	// PendingVersion is the zxid of a proposed configuration not known to be
	// committed yet (0: none); Pending is that configuration.
	PendingVersion int64
	Pending        *Membership
}

// Config returns the configuration in effect at this peer.
func (n *Node) Config() ConfigInfo {
	ci := ConfigInfo{Version: n.active.version, Members: n.active.m.clone()}
	if p := n.pending; p != nil {
		m := p.m.clone()
		ci.PendingVersion, ci.Pending = p.version, &m
	}
	return ci
}
