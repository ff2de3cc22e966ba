package zab

import "testing"

// deliverHolding delivers the head of the first link (in pending's order)
// that hold does not keep back; it reports whether it delivered anything.
// A held head keeps the rest of its link waiting, as a FIFO stream would.
func (h *harness) deliverHolding(hold func(from, to int64, m *Message) bool) bool {
	h.flush()
	for _, k := range h.pending() {
		if it := h.links[k].q[0]; it.kind == 0 {
			m, err := DecodeMessage(it.b)
			if err != nil {
				h.fatalf("%d -> %d: decode: %v", k[0], k[1], err)
			}
			if hold(k[0], k[1], m) {
				continue
			}
		}
		return h.deliver(k[0], k[1])
	}
	return false
}

// tickHolding ticks and delivers, holding back what hold keeps, until cond
// holds, failing after max ticks.
func (h *harness) tickHolding(what string, max int, hold func(from, to int64, m *Message) bool, cond func() bool) {
	h.t.Helper()
	for i := 0; ; i++ {
		for !cond() && h.deliverHolding(hold) {
		}
		if cond() {
			return
		}
		if i >= max {
			h.fatalf("%s: not after %d ticks", what, max)
		}
		h.tickAll()
	}
}

// TestLearnerAheadOfNewLeader: a follower logged a txn that only it and the
// old leader had, and acks the new leader's epoch before a quorum of the
// others has. Its ack must not count (it is ahead of the leader), but once
// the others' acks make a quorum the leader truncates it and it serves at
// once, as a ZooKeeper learner does once it reconnects; it must not wait
// for InitLimit, unsynced, as when the leader dropped it without a word.
func TestLearnerAheadOfNewLeader(t *testing.T) {
	h := newHarness(t, 3, voters(5), nil, nil)
	h.record = true
	old := h.serving(60)
	h.propose(old, "w0")
	h.deliverAll()
	h.converged()

	f := int64(1)
	if f == old {
		f = 2
	}
	var others []int64
	for _, id := range h.ids() {
		if id != old && id != f {
			others = append(others, id)
		}
	}
	// The old leader's next txn reaches f alone; then the old leader dies.
	lost := h.propose(old, "lost")
	h.partition([]int64{old, f}, others)
	for h.deliver(old, f) {
	}
	h.crash(old)
	if last := h.peers[f].disk.last(); last != lost {
		h.fatalf("%d logged up to %#x, want %#x", f, last, lost)
	}

	// The others elect a leader among themselves; no epoch ack reaches it
	// yet.
	h.partition([]int64{f}, others)
	isAck := func(from, to int64, m *Message) bool { return m.Type == MsgAckEpoch }
	var nl int64
	h.tickHolding("a new leader in discovery", 60, isAck, func() bool {
		for _, id := range others {
			if h.peers[id].node.Status().Role == RoleLeading {
				nl = id
				return true
			}
		}
		return false
	})

	// f joins it and acks the epoch first; the others' acks wait.
	h.heal()
	othersAcks := func(from, to int64, m *Message) bool { return isAck(from, to, m) && from != f }
	h.tickHolding("f's epoch ack", 20, othersAcks, func() bool { return h.count(MsgAckEpoch, f, nl) > 0 })
	// Then one other voter's: with f's, the leader's own and that one, a
	// quorum of 5 if f's counted. It must not: the leader still gathers
	// acks.
	one := others[0]
	if one == nl {
		one = others[1]
	}
	notOne := func(from, to int64, m *Message) bool { return isAck(from, to, m) && from != one }
	h.tickHolding("a second epoch ack", 20, notOne, func() bool { return h.count(MsgAckEpoch, one, nl) > 0 })
	if ld := h.peers[nl].node.ld; ld.phase != phaseEpochAck || ld.epochAcks[f] {
		h.fatalf("%d counted the ack of %d, which is ahead of it (phase %v, acks %v)", nl, f, ld.phase, ld.epochAcks)
	}

	// The last ack makes the quorum: everyone serves without a tick.
	h.deliverAll()
	for _, id := range h.ids() {
		if id != old && !h.servesUnder(id, nl) {
			h.fatalf("%d does not serve under %d once the quorum acked: %+v", id, nl, h.peers[id].node.Status())
		}
	}
	if n := h.count(MsgTrunc, nl, f); n != 1 {
		h.fatalf("%d TRUNCs from %d to %d, want 1", n, nl, f)
	}
	h.converged()
	if last := h.peers[f].disk.last(); last == lost {
		h.fatalf("%d kept the txn no quorum logged (%#x)", f, lost)
	}
}
