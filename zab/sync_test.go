package zab

import (
	"fmt"
	"slices"
	"testing"
)

// threePeers returns a harness of 3 voters serving under leader 3 with
// entries a0..a(n-1) committed everywhere.
func threePeers(t *testing.T, seed uint64, n int) *harness {
	h := newHarness(t, seed, voters(3), nil, nil)
	h.record = true
	if l := h.serving(30); l != 3 {
		t.Fatalf("leader %d", l)
	}
	for i := 0; i < n; i++ {
		h.propose(3, fmt.Sprint("a", i))
	}
	h.deliverAll()
	h.converged()
	return h
}

// TestSyncDiff: a follower that missed proposals catches up by DIFF.
func TestSyncDiff(t *testing.T) {
	h := threePeers(t, 10, 3)
	h.crash(1)
	for i := 0; i < 20; i++ {
		h.propose(3, fmt.Sprint("b", i))
	}
	h.deliverAll()
	h.delivered = nil
	h.restart(1)
	h.serving(30)
	if h.count(MsgDiff, 3, 1) == 0 || h.count(MsgTrunc, 3, 1) != 0 || h.peers[3].snaps != 0 {
		t.Fatalf("want DIFF only: diff %d trunc %d snaps %d", h.count(MsgDiff, 3, 1), h.count(MsgTrunc, 3, 1), h.peers[3].snaps)
	}
	// MaxMsgBytes 256 and 2-byte entries: one batch; with a smaller cap the
	// DIFF is split and paced by DIFFACKs.
	if acks := h.count(MsgDiffAck, 1, 3); acks != h.count(MsgDiff, 3, 1) {
		t.Fatalf("%d DIFFACKs for %d DIFFs", acks, h.count(MsgDiff, 3, 1))
	}
	h.converged()
	if got := h.applied(1); len(got) != 23 || got[22] != "b19" {
		t.Fatalf("follower applied %v", got)
	}
}

// TestSyncDiffSplit: a DIFF larger than MaxMsgBytes goes in batches, at most
// diffWindow unacknowledged at a time.
func TestSyncDiffSplit(t *testing.T) {
	h := newHarness(t, 11, voters(3), nil, func(c *Config) { c.MaxMsgBytes = 10 })
	h.record = true
	h.serving(30)
	h.crash(1)
	for i := 0; i < 50; i++ {
		h.propose(3, fmt.Sprintf("%05d", i))
	}
	h.deliverAll()
	h.delivered = nil
	h.restart(1)
	// Deliver everything but 1's DIFFACKs: the window must close.
	h.deliverExcept([2]int64{1, 3}, func(m *Message) bool { return m.Type == MsgDiffAck })
	if n := h.count(MsgDiff, 3, 1); n != diffWindow {
		t.Fatalf("%d DIFF batches in flight without acks, want %d", n, diffWindow)
	}
	h.serving(30)
	if n := h.count(MsgDiff, 3, 1); n != 25 {
		t.Fatalf("%d DIFF batches, want 25 of 2 entries", n)
	}
	for _, d := range h.delivered {
		if d.m.Type == MsgDiff && dataBytes(d.m.Entries) > 10 {
			t.Fatalf("DIFF of %d bytes", dataBytes(d.m.Entries))
		}
	}
	h.converged()
}

// TestSyncTruncUncommitted: the leader logs a txn that no follower got and
// crashes; the others elect a new leader and go on. The ex-leader restarts,
// is told to truncate the txn, and it never reappears — not even after
// another crash.
func TestSyncTruncUncommitted(t *testing.T) {
	h := threePeers(t, 12, 2)
	z, err := h.peers[3].node.Propose([]byte("ghost"))
	if err != nil {
		t.Fatal(err)
	}
	h.process(3) // durable on 3 only: its PROPOSALs are lost with it
	h.crash(3)
	if !h.peers[3].disk.has(Entry{Zxid: z, Data: []byte("ghost")}) {
		t.Fatal("the ghost is not in the old leader's log")
	}
	l := h.serving(40)
	if l == 3 {
		t.Fatal("3 is down")
	}
	h.propose(l, "after")
	h.deliverAll()
	h.delivered = nil
	h.restart(3)
	h.serving(40)
	if h.count(MsgTrunc, l, 3) != 1 {
		t.Fatalf("%d TRUNCs", h.count(MsgTrunc, l, 3))
	}
	h.crash(3)
	h.restart(3)
	h.serving(40)
	h.converged()
	for _, id := range h.ids() {
		if slices.Contains(h.applied(id), "ghost") || h.peers[id].disk.has(Entry{Zxid: z, Data: []byte("ghost")}) {
			t.Fatalf("the truncated txn survived on %d: %v", id, h.applied(id))
		}
	}
	if got := h.applied(3); got[len(got)-1] != "after" {
		t.Fatalf("3 applied %v", got)
	}
}

// TestSyncTruncPastLeader: the ex-leader has txns past the new leader's
// last zxid (the new leader proposed nothing yet): TRUNC to that zxid.
func TestSyncTruncPastLeader(t *testing.T) {
	h := threePeers(t, 13, 2)
	for _, s := range []string{"g1", "g2"} {
		if _, err := h.peers[3].node.Propose([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	h.process(3)
	h.crash(3)
	l := h.serving(40)
	last := h.peers[l].node.Status().LastZxid
	h.delivered = nil
	h.restart(3)
	h.serving(40)
	var trunc []int64
	for _, d := range h.delivered {
		if d.m.Type == MsgTrunc {
			trunc = append(trunc, d.m.Zxid)
		}
	}
	if len(trunc) != 1 || trunc[0] != last {
		t.Fatalf("TRUNCs %#x, want one to %#x", trunc, last)
	}
	if h.peers[3].disk.last() != last {
		t.Fatalf("3's log ends at %#x", h.peers[3].disk.last())
	}
	h.propose(l, "x")
	h.deliverAll()
	h.converged()
}

// TestSyncSnap: the leader's log no longer reaches back to the follower's
// last zxid: it streams a snapshot, then the entries after it.
func TestSyncSnap(t *testing.T) {
	h := threePeers(t, 14, 3)
	h.crash(1)
	for i := 0; i < 10; i++ {
		h.propose(3, fmt.Sprint("b", i))
	}
	h.deliverAll()
	h.peers[3].disk.compact() // the leader purged its log up to the applied zxid
	h.propose(3, "c")         // one entry after the snapshot, not applied yet
	h.delivered = nil
	h.restart(1)
	h.serving(40)
	if h.peers[3].snaps != 1 || h.count(MsgSnap, 3, 1) < 2 {
		t.Fatalf("snapshots %d, SNAP messages %d", h.peers[3].snaps, h.count(MsgSnap, 3, 1))
	}
	d := h.peers[1].disk
	if d.base != MakeZxid(1, 13) || len(d.entries) > 1 {
		t.Fatalf("follower's log: base %#x, %d entries", d.base, len(d.entries))
	}
	h.deliverAll()
	h.converged()
	if got := h.applied(1); len(got) != 14 || got[13] != "c" {
		t.Fatalf("follower applied %v", got)
	}
}

// TestSyncSnapPaced: the follower acknowledges each snapshot chunk once it
// is durable, and the leader's driver, sending one chunk per ack, gets
// every ack while the snapshot is wanted.
func TestSyncSnapPaced(t *testing.T) {
	h := threePeers(t, 14, 3)
	h.paced = true
	h.crash(1)
	for i := 0; i < 10; i++ {
		h.propose(3, fmt.Sprint("b", i))
	}
	h.deliverAll()
	h.peers[3].disk.compact()
	h.delivered = nil
	h.restart(1)
	h.serving(40)
	chunks, acks := h.count(MsgSnap, 3, 1), h.count(MsgSnapAck, 1, 3)
	if chunks < 3 || acks != chunks {
		t.Fatalf("%d SNAP chunks, %d SNAPACKs", chunks, acks)
	}
	var want int64
	got := h.peers[3].acks
	for _, d := range h.delivered {
		if d.m.Type == MsgSnap && !d.m.Last {
			want += int64(len(d.m.Data))
			if len(got) == 0 || got[0].Peer != 1 || got[0].Offset != want {
				t.Fatalf("leader's driver got acks %+v, want one at offset %d next", h.peers[3].acks, want)
			}
			got = got[1:]
		}
	}
	if h.peers[3].node.SnapshotWanted(1) {
		t.Fatal("the snapshot is still wanted after the sync")
	}
	h.deliverAll()
	h.converged()
}

// TestNewLeaderAckWaitsForFsync: the NEWLEADER ack goes out only after the
// synced entries and then the new current epoch are durable, in the Ready
// that persists them; a crash before that fsync leaves no ack behind.
func TestNewLeaderAckWaitsForFsync(t *testing.T) {
	for _, crash := range []string{"before fsync", "after fsync", "no crash"} {
		h := threePeers(t, 15, 2)
		h.crash(1)
		h.crash(2)
		for i := 0; i < 2; i++ {
			if _, err := h.peers[3].node.Propose([]byte(fmt.Sprint("x", i))); err != nil {
				t.Fatal(err)
			}
		}
		h.process(3)
		h.crash(3)
		// 3 has x0, x1 uncommitted; 3 and 1 restart and 3 leads epoch 2
		// (higher zxid) and syncs 1 with a DIFF of x0, x1.
		h.restart(1)
		h.restart(3)
		rd := h.readyWithDiffAndNewLeader(3, 1)
		var ack *Message
		for _, env := range rd.Send {
			if env.Msg.Type == MsgAck {
				t.Fatalf("ack in Send")
			}
		}
		for _, env := range rd.SendAfterPersist {
			if env.Msg.Type == MsgAck {
				ack = env.Msg
			}
		}
		if ack == nil || ack.Epoch != 2 {
			t.Fatalf("no NEWLEADER ack in SendAfterPersist: %+v", rd.SendAfterPersist)
		}
		stateAt := slices.IndexFunc(rd.Persist, func(op PersistOp) bool { return op.Kind == PersistState && op.State.CurrentEpoch == 2 })
		if stateAt < 0 {
			t.Fatalf("no current epoch in Persist: %+v", rd.Persist)
		}
		appendAt := slices.IndexFunc(rd.Persist, func(op PersistOp) bool { return op.Kind == PersistAppend })
		if appendAt < 0 || appendAt > stateAt || rd.Persist[appendAt].Entries[1].Zxid != MakeZxid(1, 4) {
			t.Fatalf("synced entries are not durable before the epoch: %+v", rd.Persist)
		}
		crashAt := -1
		switch crash {
		case "before fsync":
			crashAt = 0
		case "after fsync":
			crashAt = len(rd.Persist)
		}
		h.executeReady(1, rd, crashAt)
		if crashAt >= 0 {
			if durable := h.peers[1].disk.state.CurrentEpoch == 2; durable != (crashAt > 0) {
				t.Fatalf("%s: current epoch durable = %v", crash, durable)
			}
			if has := h.peers[1].disk.has(Entry{Zxid: MakeZxid(1, 4), Data: []byte("x1")}); has != (crashAt > 0) {
				t.Fatalf("%s: synced entry durable = %v", crash, has)
			}
			h.deliverAll()
			if h.leader() != 0 {
				t.Fatal("leader established without 1's ack")
			}
			h.restart(1)
		}
		h.serving(40)
		h.converged()
	}
}

// headType is the type of the next message on from -> to (0 for events).
func (h *harness) headType(from, to int64) MsgType {
	q := h.links[[2]int64{from, to}].q
	if len(q) == 0 || q[0].kind != 0 {
		return 0
	}
	m, err := DecodeMessage(q[0].b)
	if err != nil {
		h.fatalf("%v", err)
	}
	return m.Type
}

// deliverOnly delivers the head of from -> to without executing the
// receiver's Ready.
func (h *harness) deliverOnly(from, to int64) bool {
	l := h.links[[2]int64{from, to}]
	if len(l.q) == 0 || l.q[0].kind != 0 {
		return false
	}
	m, _ := DecodeMessage(l.q[0].b)
	l.q = l.q[1:]
	if h.record {
		h.delivered = append(h.delivered, delivered{from, to, m})
	}
	if err := h.peers[to].node.Step(from, m); err != nil {
		h.fatalf("%v", err)
	}
	return true
}

// TestNewLeaderAckAssertion: the core refuses (panics) to hand out a
// NEWLEADER ack whose epoch is not made durable before it.
func TestNewLeaderAckAssertion(t *testing.T) {
	h := threePeers(t, 16, 1)
	n := h.peers[1].node
	n.newLeaderAck = n.state.CurrentEpoch + 1
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	n.Ready()
}

// deliverExcept delivers everything in flight except, on link, the messages
// for which hold returns true (and whatever follows them on that link).
func (h *harness) deliverExcept(link [2]int64, hold func(*Message) bool) {
	for i := 0; ; i++ {
		if i > 100000 {
			h.fatalf("never settles")
		}
		h.flush()
		progressed := false
		for _, k := range h.pending() {
			if k == link && h.headType(k[0], k[1]) != 0 {
				m, _ := DecodeMessage(h.links[k].q[0].b)
				if hold(m) {
					continue
				}
			}
			h.deliver(k[0], k[1])
			progressed = true
			break
		}
		if !progressed {
			return
		}
	}
}

// readyWithDiffAndNewLeader runs the ensemble until leader's DIFF to f is
// next, hands f the DIFF batches and the NEWLEADER that follows them, and
// returns f's next Ready without executing it.
func (h *harness) readyWithDiffAndNewLeader(leader, f int64) Ready {
	for i := 0; ; i++ {
		if i > 1000 {
			h.fatalf("no DIFF reached %d", f)
		}
		ks := h.pending()
		if len(ks) == 0 {
			h.tickAll()
			continue
		}
		if ks[0] == [2]int64{leader, f} && h.headType(leader, f) == MsgDiff {
			for h.headType(leader, f) == MsgDiff || h.headType(leader, f) == MsgNewLeader {
				h.deliverOnly(leader, f)
			}
			return h.readyOf(f)
		}
		h.deliver(ks[0][0], ks[0][1])
	}
}
