package sim

import (
	"hash/crc32"
	"slices"
	"sync/atomic"

	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/zab/transport"
)

// deliverRound delivers part of what the network has pending (each head of
// a link with probability prob, in an order drawn from the seed), then
// lets every peer that received something handle it. It returns how many
// events it delivered.
func (w *World) deliverRound(prob float64) int {
	pend := w.net.Pending()
	if w.stopping && w.opts.Sabotage == SabotageBlackHole {
		pend = nil
	}
	w.rng.Shuffle(len(pend), func(i, j int) { pend[i], pend[j] = pend[j], pend[i] })
	touched := map[int64]bool{}
	n := 0
	for _, pd := range pend {
		to := w.byID[pd.To]
		if to.ens == nil || to.paused || w.faults.delayed(pd.From, pd.To) {
			continue
		}
		if prob < 1 && w.rng.Float64() >= prob {
			continue
		}
		if w.deliver(pd) {
			touched[pd.To] = true
			n++
		}
	}
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	w.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids {
		w.control(w.byID[id], false)
	}
	if n > 0 {
		w.settleOrFail()
	}
	return n
}

// deliver hands one pending event to its receiver, looking at it on the
// way (checks, sabotage). It reports whether the receiver got something.
func (w *World) deliver(pd transport.Pending) bool {
	to := w.byID[pd.To]
	if err := w.net.Deliver(pd); err != nil {
		w.failf("deliver %+v: %v", pd, err)
		return false
	}
	ev, ok := <-to.tr.ep.Events()
	if !ok {
		return false
	}
	w.stats.Delivered++
	if ev.Kind != transport.EventFrame {
		w.trace.line(w.now, "net %d->%d %v", pd.From, pd.To, ev.Kind)
		to.tr.events <- ev
		return true
	}
	w.trace.bytes(ev.Frame)
	m, err := zab.DecodeMessage(ev.Frame)
	if err != nil {
		w.failf("undecodable frame %d->%d: %v", pd.From, pd.To, err)
		to.tr.events <- ev
		return true
	}
	if m.Type == zab.MsgNotification {
		w.trace.line(w.now, "net %d->%d %v leader=%d e=%d z=%#x round=%d state=%d config=%#x", pd.From, pd.To, m.Type,
			m.Leader, m.Epoch, m.Zxid, m.Round, m.State, m.Committed)
	} else {
		// The frame's checksum shows where two runs' frames first differ
		// (TestDeterminism); the hash has the bytes themselves.
		w.trace.line(w.now, "net %d->%d %v e=%d z=%#x n=%d #%08x", pd.From, pd.To, m.Type, m.Epoch, m.Zxid, len(m.Entries), crc32.ChecksumIEEE(ev.Frame))
	}
	w.inspect(pd.From, to, m)
	if ev.Frame = w.sabotageFrame(pd.From, to, m, ev.Frame); ev.Frame == nil {
		return false
	}
	if to.inbox == nil {
		to.inbox = map[zab.MsgType]bool{}
	}
	to.inbox[m.Type] = true
	to.tr.events <- ev
	return true
}

// inspect keeps the per-message bookkeeping of the checks: what a leader
// told a peer to drop (what a peer claims durable is seen as it sends,
// by simTransport), the last NEWLEADER it got.
func (w *World) inspect(from int64, to *simPeer, m *zab.Message) {
	switch m.Type {
	case zab.MsgTrunc, zab.MsgSnap:
		lowerClaim(&to.claim, m.Zxid)
		to.newLeader = [2]int64{}
	case zab.MsgNewLeader:
		// Only a NEWLEADER that can make its epoch the peer's current one
		// binds the history it ends; a learner synced again by the leader
		// whose epoch it has already took that epoch with an earlier one.
		if w.currentEpoch(to) < m.Epoch {
			to.newLeader = [2]int64{m.Epoch, m.Zxid}
		}
	}
}

// currentEpoch is p's durable current epoch now (0 if p is not running).
func (w *World) currentEpoch(p *simPeer) int64 {
	w.hookMu.Lock()
	defer w.hookMu.Unlock()
	if p.view == nil || !p.ready {
		return 0
	}
	_, cur := p.view.LogState()
	return cur
}

// drainNetwork delivers everything until the network is quiet (or max
// rounds passed), with every peer handling what it got.
func (w *World) drainNetwork(maxRounds int) {
	for i := 0; i < maxRounds; i++ {
		if w.deliverRound(1) == 0 {
			return
		}
	}
}

// tickAll advances the clock by one tick: every running peer that is not
// paused, stalled or skewed gets a Tick, in an order drawn from the seed.
func (w *World) tickAll() {
	w.now++
	w.clock.Store(w.now * tickMs)
	for _, p := range w.shuffled(w.live()) {
		if p.paused || p.busy != nil {
			continue
		}
		if p.slowUntil > w.now && w.rng.IntN(3) == 0 {
			continue // a slow clock loses ticks
		}
		p.ticked++
		w.control(p, true)
		if w.opts.OneVoter && p.ens != nil && p.busy == nil && p.ens.Status().Requests > 0 {
			// A stepped peer takes client requests only in a barrier,
			// which the world runs when it delivers frames; a peer that
			// leads alone may hear nothing for a long time, while a free
			// loop takes requests at once. (Only with OneVoter, so that
			// the other runs keep their schedules.)
			w.control(p, false)
		}
		p.inbox = nil
	}
	w.settleOrFail()
	w.retireRemoved(false)
}

// settleOrFail settles the clients' calls, failing the run if one never
// parks or returns.
func (w *World) settleOrFail() {
	if stuck := w.settle(); len(stuck) > 0 {
		for _, op := range stuck {
			w.failf("client call %v never returned nor parked", op)
		}
		w.abort = true
	}
}

// lowerClaim lowers *c to at most z.
func lowerClaim(c *atomic.Int64, z int64) {
	for {
		old := c.Load()
		if old <= z || c.CompareAndSwap(old, z) {
			return
		}
	}
}

// raiseClaim raises *c to at least z.
func raiseClaim(c *atomic.Int64, z int64) {
	for {
		old := c.Load()
		if old >= z || c.CompareAndSwap(old, z) {
			return
		}
	}
}
