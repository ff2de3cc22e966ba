package zab

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// process executes every Ready peer id has.
func (h *harness) process(id int64) {
	for i := 0; ; i++ {
		p := h.peers[id]
		if p.node == nil || !p.node.HasReady() {
			return
		}
		if i > 10000 {
			h.fatalf("%d never stops having Readies", id)
		}
		h.execute(p, p.node.Ready(), -1)
	}
}

// flush executes the Readies of every peer until none has any.
func (h *harness) flush() {
	for again := true; again; {
		again = false
		for _, id := range h.ids() {
			if p := h.peers[id]; p.node != nil && p.node.HasReady() {
				h.process(id)
				again = true
			}
		}
	}
}

// execute runs a Ready as the driver does. crashAt >= 0 crashes the peer
// before Persist op crashAt (len(Persist): after the last op, before
// SendAfterPersist).
func (h *harness) execute(p *hpeer, rd Ready, crashAt int) {
	p.readies++
	for _, env := range rd.Send {
		h.checkSend(p, env, false)
		h.send(p.id, env)
	}
	for i, op := range rd.Persist {
		if i == crashAt {
			h.crash(p.id)
			return
		}
		if err := p.disk.persist(op); err != nil {
			h.fatalf("%d persist %v: %v", p.id, op.Kind, err)
		}
		h.stats[op.Kind.String()]++
		if op.Kind == PersistTruncate {
			h.logf("%d truncates after %#x", p.id, op.Zxid)
		}
	}
	if crashAt == len(rd.Persist) {
		h.crash(p.id)
		return
	}
	for _, env := range rd.SendAfterPersist {
		h.checkSend(p, env, true)
		h.send(p.id, env)
	}
	for _, e := range rd.Apply {
		h.apply(p, e)
	}
	for _, to := range rd.SendSnapshot {
		h.streamSnapshot(p, to)
	}
	p.acks = append(p.acks, rd.SnapAcks...)
	p.syncs = append(p.syncs, rd.Syncs...)
	for _, a := range rd.SnapAcks {
		h.pumpSnapshot(p, a.Peer)
	}
	for _, s := range rd.Synced {
		if s.Err == nil && s.Zxid > p.disk.smZxid() {
			h.fatalf("%d: sync %d at %#x before applying it (applied %#x)", p.id, s.ID, s.Zxid, p.disk.smZxid())
		}
	}
	for _, s := range rd.Synced {
		if s.Err != nil {
			h.stats["sync failed"]++
		} else {
			h.stats["sync ok"]++
		}
	}
	p.synced = append(p.synced, rd.Synced...)
	p.apps = append(p.apps, rd.App...)
	if rd.Status != nil {
		h.checkStatus(p, *rd.Status)
	}
	if h.midReady != nil {
		h.midReady(p) // the driver may call the node before Advance
	}
	p.node.Advance()
}

// checkSend holds every peer to the durability rules from the outside: acks
// only after what they acknowledge is on disk, LEADERINFO only once the
// leader accepted the epoch itself.
func (h *harness) checkSend(p *hpeer, env Envelope, afterPersist bool) {
	m, d := env.Msg, p.disk
	switch m.Type {
	case MsgAck, MsgAckEpoch, MsgDiffAck:
		if !afterPersist {
			h.fatalf("%d sends %v before persisting", p.id, m.Type)
		}
	}
	switch m.Type {
	case MsgAck:
		if d.state.CurrentEpoch != m.Epoch || m.Zxid > d.last() || !(memLog{d}).Contains(m.Zxid) {
			h.fatalf("%d ACKs %#x of epoch %d with disk last %#x, epochs %+v", p.id, m.Zxid, m.Epoch, d.last(), d.state)
		}
	case MsgAckEpoch:
		if d.state.AcceptedEpoch != m.Epoch {
			h.fatalf("%d ACKEPOCHs %d with accepted epoch %d on disk", p.id, m.Epoch, d.state.AcceptedEpoch)
		}
	case MsgLeaderInfo:
		if d.state.AcceptedEpoch != m.Epoch {
			h.fatalf("%d sends LEADERINFO %d with accepted epoch %d on disk", p.id, m.Epoch, d.state.AcceptedEpoch)
		}
	}
}

// apply hands one committed entry to p's state machine and checks it
// against the one committed history.
func (h *harness) apply(p *hpeer, e Entry) {
	if e.Zxid <= p.disk.smZxid() {
		h.fatalf("%d applies %#x after %#x", p.id, e.Zxid, p.disk.smZxid())
	}
	if !p.disk.has(e) {
		h.fatalf("%d applies %#x, which is not durable in its log", p.id, e.Zxid)
	}
	pos := len(p.disk.sm)
	switch {
	case pos < len(h.history):
		if w := h.history[pos]; w.Zxid != e.Zxid || !bytes.Equal(w.Data, e.Data) {
			h.fatalf("%d applies %#x %q at position %d where %#x %q was committed", p.id, e.Zxid, e.Data, pos, w.Zxid, w.Data)
		}
	case pos == len(h.history):
		h.history = append(h.history, e)
	default:
		h.fatalf("%d applies at position %d past the history", p.id, pos)
	}
	p.disk.sm = append(p.disk.sm, e)
}

// streamSnapshot sends p's applied state to a peer as the driver does:
// all at once, or (paced) one chunk now and one per SNAPACK.
func (h *harness) streamSnapshot(p *hpeer, to int64) {
	p.snaps++
	zxid := p.disk.smZxid()
	var chunks []*Message
	err := SnapshotMessages(zxid, bytes.NewReader(p.disk.snapshot()), h.chunk, func(m *Message) error {
		chunks = append(chunks, m)
		return nil
	})
	if h.paced && err == nil {
		if p.streams == nil {
			p.streams = map[int64][]*Message{}
		}
		p.streams[to] = chunks
		h.pumpSnapshot(p, to)
		return
	}
	for _, m := range chunks {
		h.send(p.id, Envelope{To: to, Msg: m})
	}
	if err != nil {
		h.fatalf("snapshot: %v", err)
	}
	h.logf("%d streams a snapshot at %#x to %d", p.id, zxid, to)
	p.node.SnapshotSent(to, zxid)
}

// pumpSnapshot sends the next chunk of p's paced stream to peer, and ends
// the stream after the last one.
func (h *harness) pumpSnapshot(p *hpeer, to int64) {
	chunks := p.streams[to]
	if len(chunks) == 0 || !p.node.SnapshotWanted(to) {
		delete(p.streams, to)
		return
	}
	m := chunks[0]
	p.streams[to] = chunks[1:]
	h.send(p.id, Envelope{To: to, Msg: m})
	if m.Last {
		delete(p.streams, to)
		h.logf("%d streamed a snapshot at %#x to %d", p.id, m.Zxid, to)
		p.node.SnapshotSent(to, m.Zxid)
	}
}

// checkStatus: at most one established leader per epoch, and serving
// followers agree with it.
func (h *harness) checkStatus(p *hpeer, st Status) {
	h.logf("%d status %v leader %d epoch %d serving %v", p.id, st.Role, st.Leader, st.Epoch, st.Serving)
	was := p.status
	p.status = st
	if st.Role == RoleLeading && st.Serving && !(was.Serving && was.Role == RoleLeading && was.Epoch == st.Epoch) {
		// A leader serves at most once per epoch: once it stops, it is gone.
		if h.leaders[st.Epoch] == p.id {
			h.fatalf("%d serves as leader of epoch %d again", p.id, st.Epoch)
		}
		// The Ready that first reports a serving leader carried its whole
		// history in Apply: the driver applies it before proposing.
		if p.disk.smZxid() != st.Committed || st.Committed != p.disk.last() {
			h.fatalf("%d serves as leader with applied %#x, committed %#x, last %#x", p.id, p.disk.smZxid(), st.Committed, p.disk.last())
		}
	}
	if !st.Serving {
		return
	}
	if st.Role == RoleLeading {
		if l, ok := h.leaders[st.Epoch]; ok && l != p.id {
			h.fatalf("two leaders established in epoch %d: %d and %d", st.Epoch, l, p.id)
		}
		if _, ok := h.leaders[st.Epoch]; !ok {
			h.stats["established"]++
		}
		h.leaders[st.Epoch] = p.id
		return
	}
	if l, ok := h.leaders[st.Epoch]; ok && l != st.Leader {
		h.fatalf("%d serves under %d in epoch %d, whose leader is %d", p.id, st.Leader, st.Epoch, l)
	}
}

// deliver hands the head of the link from -> to to its receiver.
func (h *harness) deliver(from, to int64) bool {
	l := h.links[[2]int64{from, to}]
	p := h.peers[to]
	if len(l.q) == 0 || p.node == nil {
		return false
	}
	it := l.q[0]
	l.q = l.q[1:]
	switch it.kind {
	case 1:
		p.node.LinkUp(from)
	case 2:
		p.node.LinkDown(from)
	default:
		m, err := DecodeMessage(it.b)
		if err != nil {
			h.fatalf("%d -> %d: decode: %v", from, to, err)
		}
		if h.verbose {
			h.logf("%d -> %d %s", from, to, describe(m))
		}
		if h.record {
			h.delivered = append(h.delivered, delivered{from, to, m})
		}
		if err := p.node.Step(from, m); err != nil {
			h.logf("%d -> %d %v dropped: %v", from, to, m.Type, err)
			if errors.Is(err, ErrBadMessage) {
				h.fatalf("%d rejects %v from %d as malformed: %v", to, m.Type, from, err)
			}
		}
	}
	h.process(to)
	return true
}

// pending lists the links with something to deliver, in a fixed order.
func (h *harness) pending() [][2]int64 {
	var out [][2]int64
	for _, a := range h.ids() {
		for _, b := range h.ids() {
			if l := h.links[[2]int64{a, b}]; a != b && len(l.q) > 0 && h.peers[b].node != nil {
				out = append(out, [2]int64{a, b})
			}
		}
	}
	return out
}

// deliverAll delivers until nothing is in flight.
func (h *harness) deliverAll() {
	h.flush()
	for i := 0; ; i++ {
		ks := h.pending()
		if len(ks) == 0 {
			return
		}
		if i > 1000000 {
			h.fatalf("messages never settle")
		}
		h.deliver(ks[0][0], ks[0][1])
	}
}

// tickAll ticks every live peer once and executes the Readies.
func (h *harness) tickAll() {
	h.tick++
	for _, id := range h.ids() {
		if p := h.peers[id]; p.node != nil {
			p.node.Tick()
		}
	}
	h.flush()
}

// run ticks and delivers everything, n times.
func (h *harness) run(n int) {
	for i := 0; i < n; i++ {
		h.deliverAll()
		h.tickAll()
	}
	h.deliverAll()
}

// leader returns the serving leader, or 0.
func (h *harness) leader() int64 {
	for _, id := range h.ids() {
		if p := h.peers[id]; p.node != nil {
			if st := p.node.Status(); st.Role == RoleLeading && st.Serving {
				return id
			}
		}
	}
	return 0
}

// waitFor runs ticks until cond holds, failing after max ticks.
func (h *harness) waitFor(what string, max int, cond func() bool) {
	h.t.Helper()
	h.deliverAll()
	for i := 0; !cond(); i++ {
		if i >= max {
			h.fatalf("%s: not after %d ticks", what, max)
		}
		h.tickAll()
		h.deliverAll()
	}
}

// serving waits until every live peer serves under one leader, and returns it.
func (h *harness) serving(max int) int64 {
	h.t.Helper()
	var leader int64
	h.waitFor("everyone serving", max, func() bool {
		leader = h.leader()
		if leader == 0 {
			return false
		}
		for _, id := range h.ids() {
			p := h.peers[id]
			if p.node == nil || p.node.Status().Removed {
				continue
			}
			if !h.servesUnder(id, leader) {
				return false
			}
		}
		return true
	})
	return leader
}

// propose proposes data on the leader and returns its zxid.
func (h *harness) propose(id int64, data string) int64 {
	h.t.Helper()
	z, err := h.peers[id].node.Propose([]byte(data))
	if err != nil {
		h.fatalf("propose %q on %d: %v", data, id, err)
	}
	h.logf("%d proposes %#x %q", id, z, data)
	h.process(id)
	return z
}

// applied returns the data peer id applied, in order.
func (h *harness) applied(id int64) []string {
	var out []string
	for _, e := range h.peers[id].disk.sm {
		out = append(out, string(e.Data))
	}
	return out
}

// converged checks every live peer applied exactly the history.
func (h *harness) converged() {
	h.t.Helper()
	for _, id := range h.ids() {
		p := h.peers[id]
		if p.node == nil || p.node.Status().Removed {
			continue
		}
		if len(p.disk.sm) != len(h.history) {
			h.fatalf("%d applied %d entries, the history has %d", id, len(p.disk.sm), len(h.history))
		}
		for i, e := range p.disk.sm {
			if e.Zxid != h.history[i].Zxid || !bytes.Equal(e.Data, h.history[i].Data) {
				h.fatalf("%d differs from the history at %d", id, i)
			}
		}
	}
}

// readyOf returns the next Ready of id without executing it (for tests that
// look inside); executeReady then runs it.
func (h *harness) readyOf(id int64) Ready {
	h.t.Helper()
	p := h.peers[id]
	if !p.node.HasReady() {
		h.fatalf("%d has no Ready", id)
	}
	return p.node.Ready()
}

func (h *harness) executeReady(id int64, rd Ready, crashAt int) {
	h.execute(h.peers[id], rd, crashAt)
	if h.peers[id].node != nil {
		h.process(id)
	}
}

func describe(m *Message) string {
	switch m.Type {
	case MsgNotification:
		n := m.notification()
		return fmt.Sprintf("%v %v round %d %v", m.Type, n.Vote, n.Round, n.State)
	case MsgDiff, MsgProposal, MsgInform:
		return fmt.Sprintf("%v e%d %#x..%#x", m.Type, m.Epoch, m.Entries[0].Zxid, m.Entries[len(m.Entries)-1].Zxid)
	}
	return fmt.Sprintf("%v e%d z%#x pe%d c%#x id%d", m.Type, m.Epoch, m.Zxid, m.PeerEpoch, m.Committed, m.ID)
}

// servesUnder reports whether peer id serves under leader, in its epoch and
// known to it as synced.
func (h *harness) servesUnder(id, leader int64) bool {
	lst := h.peers[leader].node.Status()
	st := h.peers[id].node.Status()
	if id == leader {
		return st.Serving && st.Role == RoleLeading
	}
	return st.Serving && st.Leader == leader && st.Epoch == lst.Epoch && slices.Contains(lst.Synced, id)
}
