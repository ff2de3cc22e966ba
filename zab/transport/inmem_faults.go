package transport

import "time"

// Partition splits the network into groups: peers in different groups
// cannot talk, and peers listed in no group are isolated. Connections across
// groups break at once. It replaces the previous Partition (Isolate, Cut and
// BlockOneWay faults stay). Ids must be members.
func (n *Network) Partition(groups ...[]int64) {
	for _, g := range groups {
		n.mustMember("Partition", g...)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups = make(map[int64]int)
	for i, g := range groups {
		for _, id := range g {
			n.groups[id] = i
		}
	}
	n.reconcileLocked()
}

// Isolate cuts id from every other peer (a leader isolated from its
// followers, say) until Heal.
func (n *Network) Isolate(id int64) {
	n.mustMember("Isolate", id)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.isolated[id] = true
	n.reconcileLocked()
}

// Cut separates a and b both ways, leaving each connected to the others: a
// partial partition. Until Heal.
func (n *Network) Cut(a, b int64) {
	n.mustMember("Cut", a, b)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[mkpair(a, b)] = true
	n.reconcileLocked()
}

// BlockOneWay loses every frame from -> to until Heal, as a one-way fault
// would on TCP: the first lost frame (one already in flight, or the next one
// sent) breaks the connection, which cannot re-form while blocked. Until
// then, frames to -> from still flow.
func (n *Network) BlockOneWay(from, to int64) {
	n.mustMember("BlockOneWay", from, to)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blocked[Link{from, to}] = true
	n.reconcileLocked()
}

// Heal removes every Partition, Isolate, Cut and BlockOneWay; connections
// re-form. Pauses and delays stay.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups = nil
	clear(n.isolated)
	clear(n.cut)
	clear(n.blocked)
	n.reconcileLocked()
}

// Break drops the current connection between a and b, if any (frames in
// flight are lost, both sides are told Down); it re-forms at once if the
// faults allow. It reports whether there was a connection.
func (n *Network) Break(a, b int64) bool {
	n.mustMember("Break", a, b)
	n.mu.Lock()
	defer n.mu.Unlock()
	p := mkpair(a, b)
	had := n.hasConn(p)
	n.breakLocked(p)
	n.reconcileLocked()
	return had
}

// Pause stops id as a stopped process would be: nothing is delivered to it
// and nothing it sends is delivered; both queue (and break their connection
// if a queue overflows). Connection announcements about id are still
// delivered to others.
func (n *Network) Pause(id int64) {
	n.mustMember("Pause", id)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.paused[id] = true
}

// Resume undoes Pause.
func (n *Network) Resume(id int64) {
	n.mustMember("Resume", id)
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.paused, id)
	for _, e := range n.eps {
		if !e.dead {
			e.poke()
		}
	}
}

// SetDelay delays what is sent from -> to from now on by d (0 removes the
// delay), in automatic mode; FIFO order is kept. Manual mode ignores delays:
// the caller decides when anything is delivered.
func (n *Network) SetDelay(from, to int64, d time.Duration) {
	n.mustMember("SetDelay", from, to)
	n.mu.Lock()
	defer n.mu.Unlock()
	if d <= 0 {
		delete(n.delays, Link{from, to})
		return
	}
	n.delays[Link{from, to}] = d
}
