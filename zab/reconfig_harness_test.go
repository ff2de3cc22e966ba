package zab

import (
	"slices"
)

// membershipOnDisk sets c's membership to the one in effect at what peer
// id applied: the last configuration entry its state machine holds, or the
// one it was started with. That is what a driver keeps with its state.
func (h *harness) membershipOnDisk(id int64, c *Config) {
	m, ok := h.extra[id]
	if ok {
		c.Voters, c.Observers, c.Quorum = m.Voters, m.Observers, nil
	}
	p := h.peers[id]
	if p == nil {
		return
	}
	if h.joining[id] {
		c.Joining = true // the driver's decision (see engine's startMembers)
		return
	}
	for i := len(p.disk.sm) - 1; i >= 0; i-- {
		e := p.disk.sm[i]
		m, _, ok, err := DecodeConfigEntry(e.Data)
		if !ok {
			continue
		}
		if err != nil {
			h.fatalf("%d applied a malformed configuration entry %#x: %v", id, e.Zxid, err)
		}
		q, _ := m.Quorum()
		c.Voters, c.Observers, c.Quorum, c.ConfigVersion = m.Voters, m.Observers, q, e.Zxid
		return
	}
}

// addPeer adds peer id, started with membership m (a joiner lists the
// current members and itself), connects it and starts it.
func (h *harness) addPeer(id int64, m Membership) {
	if h.extra == nil {
		h.extra = map[int64]Membership{}
	}
	h.extra[id] = m
	h.peers[id] = &hpeer{id: id, disk: &memDisk{}}
	for _, o := range h.ids() {
		if o != id {
			h.links[[2]int64{id, o}] = &hlink{}
			h.links[[2]int64{o, id}] = &hlink{}
		}
	}
	h.start(id)
}

// reconfig proposes m on the leader and returns the version, failing the
// test on an error.
func (h *harness) reconfig(leader int64, m Membership) int64 {
	h.t.Helper()
	z, err := h.peers[leader].node.ProposeConfig(m, []byte("payload"))
	if err != nil {
		h.fatalf("ProposeConfig(%v) on %d: %v", m, leader, err)
	}
	h.logf("%d proposes configuration %#x: %v", leader, z, m)
	h.process(leader)
	return z
}

// configOf returns peer id's committed configuration version and members.
func (h *harness) configOf(id int64) ConfigInfo { return h.peers[id].node.Config() }

// agreeOn waits until every live, not removed peer has version committed.
func (h *harness) agreeOn(version int64, max int) {
	h.t.Helper()
	h.waitFor("configuration committed everywhere", max, func() bool {
		for _, id := range h.ids() {
			p := h.peers[id]
			if p.node == nil || p.node.Status().Removed {
				continue
			}
			if ci := p.node.Config(); ci.Version != version || ci.Pending != nil {
				return false
			}
		}
		return true
	})
}

func ids(v ...int64) []int64 { return v }

func sameIDs(a, b []int64) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// without returns ids in order without x: the followers of leader x, the
// first of them the peer a test picks.
func without(ids []int64, x int64) []int64 {
	return slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id == x })
}

// commitRemovingLeader proposes m, which removes leader l, and delivers the
// proposal to the peers of to and their acks back, nothing else: l commits
// m and is removed by it, and its COMMITs wait on the links.
func (h *harness) commitRemovingLeader(l int64, m Membership, to []int64) int64 {
	h.t.Helper()
	v := h.reconfig(l, m)
	for _, id := range to {
		for h.deliver(l, id) {
		}
	}
	for _, id := range to {
		for h.deliver(id, l) {
		}
	}
	if st := h.peers[l].node.Status(); st.RemovedBy != v {
		h.fatalf("the leader did not commit the change that removes it: %+v", st)
	}
	return v
}
