package recipesim

import (
	"github.com/embedzk/zk/zab/transport"
)

// Fault rates per tick of the fault phase.
const (
	rateCrash   = 0.003
	rateLeader  = 0.002
	rateIsolate = 0.003
	rateSilent  = 0.004
	ratePause   = 0.003
)

// faultStep maybe starts a fault.
func (w *World) faultStep() {
	r := w.rng.Float64()
	span := func() int64 { return int64(20 + w.rng.IntN(380)) }
	live := w.live()
	switch {
	case r < rateCrash:
		if len(live) > 0 {
			w.crash(live[w.rng.IntN(len(live))], span())
			w.stats.Faults["crash"]++
		}
	case r < rateCrash+rateLeader:
		if l := w.leader(); l != nil {
			w.crash(l, span())
			w.stats.Faults["leader crash"]++
		}
	case r < rateCrash+rateLeader+rateIsolate:
		if len(live) > 0 {
			p := live[w.rng.IntN(len(live))]
			w.isolated[p.id] = w.now + span()
			w.net.Isolate(p.id)
			w.stats.Faults["isolate"]++
			w.trace.line(w.now, "isolate peer=%d until=%d", p.id, w.isolated[p.id])
		}
	case r < rateCrash+rateLeader+rateIsolate+rateSilent:
		w.silentLink(span())
	case r < rateCrash+rateLeader+rateIsolate+rateSilent+ratePause:
		if run := w.running(); len(run) > 0 {
			p := run[w.rng.IntN(len(run))]
			if h := w.holderPeer(); h != nil && w.rng.IntN(2) == 0 && h.frozen == 0 && h.ens != nil {
				p = h // the worst case: a holder's process stops
			}
			p.frozen = w.now + span() + 100
			w.net.Pause(p.id)
			w.stats.Faults["pause"]++
			w.trace.line(w.now, "pause peer=%d until=%d", p.id, p.frozen)
		}
	}
}

// silentLink holds back what a follower sends to the leader, without the
// connection breaking: the follower keeps serving, its sessions say
// connected, and the leader hears none of their touches.
func (w *World) silentLink(span int64) {
	l := w.leader()
	if l == nil {
		return
	}
	var fs []int64
	for _, p := range w.running() {
		if p != l {
			fs = append(fs, p.id)
		}
	}
	if len(fs) == 0 {
		return
	}
	f := fs[w.rng.IntN(len(fs))]
	if h := w.holderPeer(); h != nil && h != l && h.frozen == 0 && h.ens != nil && w.rng.IntN(2) == 0 {
		f = h.id // the worst case: a holder's peer goes silent
	}
	link := transport.Link{From: f, To: l.id}
	w.held[link] = w.now + span
	w.stats.Faults["silent link"]++
	w.trace.line(w.now, "silent %d->%d until=%d", f, l.id, w.held[link])
}

// holderPeer returns the peer of the holder that means to hold longest
// (at least 100 more ticks), if one does: the fault that hits it is the
// worst case, a holder that holds on while its session may expire.
func (w *World) holderPeer() *peer {
	w.mu.Lock()
	defer w.mu.Unlock()
	var best *holder
	for _, h := range w.holders {
		if h.lease != nil && h.peer != nil && h.until-w.now >= 100 && h.lease.Err() == nil && (best == nil || h.until > best.until) {
			best = h
		}
	}
	if best == nil {
		return nil
	}
	return best.peer
}

// expireFaults ends the faults whose time is up.
func (w *World) expireFaults() {
	for _, link := range sortedLinks(w.held) {
		if w.held[link] <= w.now {
			delete(w.held, link)
			w.trace.line(w.now, "unsilent %d->%d", link.From, link.To)
		}
	}
	changed := false
	for _, id := range sortedIDs(w.isolated) {
		if w.isolated[id] <= w.now {
			delete(w.isolated, id)
			changed = true
		}
	}
	if changed {
		w.net.Heal()
		for _, id := range sortedIDs(w.isolated) {
			w.net.Isolate(id)
		}
	}
	for _, p := range w.peers {
		if p.frozen != 0 && p.frozen <= w.now {
			p.frozen = 0
			w.net.Resume(p.id)
			w.trace.line(w.now, "resume peer=%d", p.id)
		}
	}
}

// restartDue restarts the crashed peers whose time has come.
func (w *World) restartDue() {
	for _, p := range w.peers {
		if p.ens == nil && p.restartAt <= w.now {
			w.start(p)
		}
	}
}

// healAll ends every fault and restarts every peer.
func (w *World) healAll() {
	for link := range w.held {
		delete(w.held, link)
	}
	clear(w.isolated)
	w.net.Heal()
	for _, p := range w.peers {
		if p.frozen != 0 {
			p.frozen = 0
			w.net.Resume(p.id)
		}
		if p.ens == nil {
			w.start(p)
		}
	}
	w.trace.line(w.now, "heal")
}

func sortedLinks(m map[transport.Link]int64) []transport.Link {
	var out []transport.Link
	for l := range m {
		out = append(out, l)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].From < out[j-1].From || out[j].From == out[j-1].From && out[j].To < out[j-1].To); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func sortedIDs(m map[int64]int64) []int64 {
	var out []int64
	for id := range m {
		out = append(out, id)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
