package zab

// Status is a snapshot of the node's state.
type Status struct {
	Role      Role
	Leader    int64 // 0 when unknown
	Epoch     int64 // current epoch
	LastZxid  int64 // last logged (durable once the Ready that reports it is done)
	Committed int64 // highest committed zxid known
	// Serving: leader: established (a quorum acked NEWLEADER) and holding
	// its quorum; follower/observer: got UPTODATE and its leader link is alive.
	Serving bool
	Synced  []int64 // leader: peers in broadcast phase; follower: [leader] when serving
	// Election is how this peer's last election ended (observe.go).
	Election ElectionInfo
	// Reason is why the peer looks for a leader, while it does.
	Reason string
	// Lookings counts the elections this Node started.
	Lookings int64
	// ConfigVersion is the committed configuration's version; PendingConfig
	// the zxid of a proposed one not known to be committed (0: none).
	ConfigVersion int64
	PendingConfig int64
	// Removed: this peer started outside its configuration (a committed
	// configuration removed it before it restarted); it stopped.
	Removed bool
	// RemovedBy is the version of the committed configuration that removed
	// this peer while it ran (0: none, or a later one lists it again). It
	// follows as a non-voting follower (an observer looks again to do so),
	// counted in no quorum, as ZooKeeper's removed server does, until a
	// configuration lists it again or it stops.
	RemovedBy int64
}

// Status returns the current status.
func (n *Node) Status() Status {
	st := Status{Role: n.role, Leader: n.leader, Epoch: n.state.CurrentEpoch, LastZxid: n.selfAck,
		Committed: n.committed, Serving: n.serving(), Election: n.lastElection,
		Lookings: n.lookings, ConfigVersion: n.active.version, Removed: n.removed, RemovedBy: n.removedBy}
	if n.pending != nil {
		st.PendingConfig = n.pending.version
	}
	if n.role == RoleLooking {
		st.Reason = n.lookingWhy
	}
	switch {
	case n.ld != nil:
		for _, id := range n.ld.ids() {
			if n.ld.learners[id].phase == lpBroadcast {
				st.Synced = append(st.Synced, id)
			}
		}
	case n.fl != nil && st.Serving:
		st.Synced = []int64{n.leader}
	}
	return st
}

func (n *Node) serving() bool {
	switch {
	case n.ld != nil:
		return n.ld.phase == phaseEstablished && n.ld.alive && !n.ld.lost
	case n.fl != nil:
		return n.fl.phase == fpBroadcast
	}
	return false
}

// statusChanged reports whether a Ready must carry the status.
func (n *Node) statusChanged() bool {
	r := n.reported
	pending := int64(0)
	if n.pending != nil {
		pending = n.pending.version
	}
	return r.Role != n.role || r.Leader != n.leader || r.Epoch != n.state.CurrentEpoch || r.Serving != n.serving() ||
		(n.ld != nil && n.ld.synced) || r.ConfigVersion != n.active.version || r.PendingConfig != pending || r.Removed != n.removed ||
		r.RemovedBy != n.removedBy
}

// report returns the status for a Ready and remembers it as reported.
func (n *Node) report() Status {
	st := n.Status()
	n.reported = st
	if n.ld != nil {
		n.ld.synced = false
	}
	return st
}

func (p leaderPhase) String() string {
	return [...]string{"?", "discovery", "epoch-ack", "sync", "established"}[min(int(p), 4)]
}

func (p learnerPhase) String() string {
	return [...]string{"?", "info", "epoch", "acked", "snap", "diff", "syncing", "broadcast"}[min(int(p), 7)]
}

func (p followerPhase) String() string {
	return [...]string{"?", "discovery", "sync", "synced", "broadcast"}[min(int(p), 4)]
}
