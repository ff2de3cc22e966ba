package zab

import "fmt"

// Envelope is a message for peer To. Envelopes of one Ready may share a
// Message (a leader's PROPOSAL to each follower): the driver must not
// modify one, and may encode a shared one once for all its peers.
type Envelope struct {
	To  int64
	Msg *Message
}

// Ready is what the driver executes, in this order: send Send, perform
// Persist (each op durable, in order), send SendAfterPersist, apply Apply,
// stream SendSnapshot, hand out Synced and App, react to Status; then call
// Advance. All slices belong to the driver.
type Ready struct {
	Send             []Envelope  // may be sent before or while persisting (a leader's PROPOSALs)
	Persist          []PersistOp // in order, each durable, before SendAfterPersist and Advance
	SendAfterPersist []Envelope  // ACKs, ACKEPOCH, NEWLEADER acks: only after Persist is durable
	Apply            []Entry     // committed AND durable (after this Ready's Persist), in order
	// SendSnapshot: leader only. Stream a snapshot of the applied state
	// (after this Ready's Apply) to each of these peers, in SNAP chunks
	// (SnapshotMessages shows the shape), with no more than a window of
	// bytes beyond what the peer acknowledged (SnapAcks) in flight, and
	// call SnapshotSent once the last chunk is sent. A new SendSnapshot for
	// a peer replaces its stream; drop a stream once SnapshotWanted says so.
	SendSnapshot []int64
	// SnapAcks: leader only. How far each learner has made its snapshot
	// durable: the driver may send it more chunks.
	SnapAcks []SnapAck
	Synced   []SyncResult
	App      []AppMessage // inbound app messages, in arrival order
	Status   *Status      // non-nil when role, leader, epoch, Serving or (leader) Synced changed
	// Syncs: leader only. How it chose to sync learners (for logs and
	// metrics; nothing to execute).
	Syncs []SyncStart
}

// SyncResult ends a Sync barrier: Zxid is a committed zxid at least as new as
// the leader's commit point when the barrier reached it, and every entry up
// to it is in this Ready's Apply or an earlier one. Err is set instead when
// the barrier failed (the peer lost its leader or quorum).
type SyncResult struct {
	ID   uint64
	Zxid int64
	Err  error
}

// SnapAck is a learner's progress in the snapshot streamed to it: the
// snapshot at Zxid is durable on Peer up to byte Offset.
type SnapAck struct {
	Peer   int64
	Zxid   int64
	Offset int64
}

// AppMessage is an inbound app message.
type AppMessage struct {
	From int64
	Data []byte
}

// batch accumulates the next Ready.
type batch struct {
	send, after []Envelope
	afterPeer   map[int64]bool // peers with something in after: the rest must follow
	persist     []PersistOp
	snapshots   []int64
	snapAcks    []SnapAck
	app         []AppMessage
	syncs       []SyncStart
}

func (b *batch) empty() bool {
	return len(b.send) == 0 && len(b.after) == 0 && len(b.persist) == 0 && len(b.snapshots) == 0 &&
		len(b.snapAcks) == 0 && len(b.app) == 0 && len(b.syncs) == 0
}

// send queues m for to, after everything queued for to before it.
func (n *Node) send(to int64, m *Message) {
	m.From = n.cfg.ID
	if n.acc.afterPeer[to] {
		n.acc.after = append(n.acc.after, Envelope{To: to, Msg: m})
		return
	}
	n.acc.send = append(n.acc.send, Envelope{To: to, Msg: m})
}

// sendAfterPersist queues m to be sent once this Ready's Persist is durable.
func (n *Node) sendAfterPersist(to int64, m *Message) {
	m.From = n.cfg.ID
	if n.acc.afterPeer == nil {
		n.acc.afterPeer = map[int64]bool{}
	}
	n.acc.afterPeer[to] = true
	n.acc.after = append(n.acc.after, Envelope{To: to, Msg: m})
}

// sendDurable queues m to be sent after whatever is queued to persist so far.
func (n *Node) sendDurable(to int64, m *Message) {
	if len(n.acc.persist) > 0 {
		n.sendAfterPersist(to, m)
		return
	}
	n.send(to, m)
}

// appendEntries queues entries that follow the last logged zxid.
func (n *Node) appendEntries(ents []Entry) {
	if len(ents) == 0 {
		return
	}
	if k := len(n.acc.persist); k > 0 && n.acc.persist[k-1].Kind == PersistAppend {
		n.acc.persist[k-1].Entries = append(n.acc.persist[k-1].Entries, ents...)
	} else {
		n.acc.persist = append(n.acc.persist, PersistOp{Kind: PersistAppend, Entries: append([]Entry(nil), ents...)})
	}
	n.cache.append(ents)
	prev := n.lastLogged
	n.lastLogged = ents[len(ents)-1].Zxid
	if err := n.noteConfigs(ents, prev); err != nil {
		// Checked before: the leader's ProposeConfig, a learner's appendChecked.
		n.lg.Error("zab: a malformed configuration entry in the log", "err", err)
	}
}

// truncateLog queues the truncation of the log after z.
func (n *Node) truncateLog(z int64) {
	n.acc.persist = append(n.acc.persist, PersistOp{Kind: PersistTruncate, Zxid: z})
	n.cache.truncate(z)
	n.lastLogged = z
	n.configTruncated(z)
}

// saveState queues a write of the durable epochs.
func (n *Node) saveState(st State) {
	n.state = st
	if k := len(n.acc.persist); k > 0 && n.acc.persist[k-1].Kind == PersistState {
		n.acc.persist[k-1].State = st
		return
	}
	n.acc.persist = append(n.acc.persist, PersistOp{Kind: PersistState, State: st})
}

// saveSnapshotChunk queues one chunk of an incoming snapshot.
func (n *Node) saveSnapshotChunk(zxid, offset int64, data []byte, last bool) {
	n.acc.persist = append(n.acc.persist, PersistOp{Kind: PersistSnapshot, Zxid: zxid, Snapshot: data, Offset: offset, Last: last})
	if last {
		n.lastLogged = zxid
		n.applied = max(n.applied, zxid)
		n.committed = max(n.committed, zxid)
		n.cache.reset(zxid)
		n.configSnapshot(zxid)
	}
}

// HasReady reports whether Ready would return something to do. It is false
// while a Ready awaits its Advance.
func (n *Node) HasReady() bool {
	if n.waiting {
		return false
	}
	if !n.acc.empty() || n.appliable() > n.applied || n.statusChanged() {
		return true
	}
	if n.ld != nil && n.ld.needsRound() {
		return true
	}
	for _, r := range n.syncsDone {
		if r.Err != nil || r.Zxid <= n.applied {
			return true
		}
	}
	return false
}

// Ready returns what the driver must do now. The driver executes it fully and
// calls Advance before the next Ready; a Ready asked for before that is empty.
// Calls made meanwhile (Propose, SendApp, Sync, ...) go into the next Ready.
func (n *Node) Ready() Ready {
	if n.waiting {
		n.lg.Error("zab: Ready called before Advance")
		return Ready{}
	}
	if n.ld != nil {
		n.leaderBeforeReady()
	}
	rd := Ready{
		Send: n.acc.send, Persist: n.acc.persist, SendAfterPersist: n.acc.after,
		SendSnapshot: n.acc.snapshots, SnapAcks: n.acc.snapAcks, App: n.acc.app,
		Syncs: n.acc.syncs,
	}
	n.checkNewLeaderAck(rd.Persist)
	n.acc = batch{}
	// From here on, everything handed out is durable before anything queued
	// later is sent, applied or reported.
	n.handed = n.state
	n.selfAck = n.lastLogged
	if n.ld != nil {
		n.leaderAfterHandOff()
	}
	n.checkMembership()
	rd.Apply = n.applyList()
	n.pendingApply = n.applied
	if len(rd.Apply) > 0 {
		n.pendingApply = rd.Apply[len(rd.Apply)-1].Zxid
	}
	rd.Synced = n.takeSynced(n.pendingApply)
	if n.statusChanged() {
		st := n.report()
		rd.Status = &st
	}
	n.waiting = true
	return rd
}

// Advance tells the core the driver executed the last Ready completely.
func (n *Node) Advance() {
	if !n.waiting {
		return
	}
	n.waiting = false
	n.applied = max(n.applied, n.pendingApply)
	n.cache.trim(n.applied)
}

// appliable is the last zxid that is committed and (once the pending Persist
// is done) durable here.
func (n *Node) appliable() int64 { return min(n.committed, n.lastLogged) }

// applyList returns the entries to apply in the Ready being built.
func (n *Node) applyList() []Entry {
	upTo := n.appliable()
	var out []Entry
	for after := n.applied; after < upTo; {
		ents, err := n.entries(after, upTo, n.cfg.MaxMsgBytes)
		if err != nil {
			// The log lost what it promised: nothing can be applied past it.
			n.lg.Error("zab: reading committed entries to apply", "after", after, "err", err)
			break
		}
		out = append(out, ents...)
		after = ents[len(ents)-1].Zxid
	}
	return out
}

// entries returns entries in (after, upTo], about maxBytes of them but at
// least one, from the cache or the Log.
func (n *Node) entries(after, upTo int64, maxBytes int) ([]Entry, error) {
	if after >= n.cache.from {
		ents := n.cache.get(after, upTo, maxBytes)
		if len(ents) == 0 {
			return nil, fmt.Errorf("zab: no entry after %#x up to %#x in memory", after, upTo)
		}
		return ents, nil
	}
	ents, err := n.log.Entries(after, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("zab: reading the log after %#x: %w", after, err)
	}
	limit := min(upTo, n.cache.from)
	i := 0
	for i < len(ents) && ents[i].Zxid <= limit {
		if ents[i].Zxid <= after || (i > 0 && ents[i].Zxid <= ents[i-1].Zxid) {
			return nil, fmt.Errorf("zab: the log returned zxid %#x reading after %#x", ents[i].Zxid, after)
		}
		i++
	}
	if i == 0 {
		return nil, fmt.Errorf("zab: the log has no entry after %#x up to %#x", after, limit)
	}
	return ents[:i:i], nil
}

// checkNewLeaderAck asserts the one ordering ZAB's safety rests on: a
// follower acknowledges NEWLEADER only after its synced history and then its
// new current epoch are durable. The ack sits in SendAfterPersist of the
// Ready whose Persist ends the sync with the State op (or a later one).
func (n *Node) checkNewLeaderAck(ops []PersistOp) {
	e := n.newLeaderAck
	if e == 0 {
		return
	}
	n.newLeaderAck = 0
	if n.handed.CurrentEpoch == e {
		return // the epoch was made durable by an earlier Ready
	}
	for _, op := range ops {
		if op.Kind == PersistState && op.State.CurrentEpoch == e {
			return
		}
	}
	panic(fmt.Sprintf("zab: NEWLEADER ack of epoch %d queued without its current epoch in Persist", e))
}
