package transport

import (
	"fmt"
	"time"
)

// memLink is the queue of events for Link.To about Link.From: Up, frames
// and Down of successive connections, in order.
type memLink struct {
	q     []memItem
	bytes int // queued frame bytes, with overhead
}

type memItem struct {
	kind  EventKind
	conn  uint64 // the connection it belongs to
	seq   uint64 // network-wide order of queuing
	frame []byte
	ready time.Time // automatic mode: not deliverable before
}

func (n *Network) link(l Link) *memLink {
	lk := n.links[l]
	if lk == nil {
		lk = &memLink{}
		n.links[l] = lk
	}
	return lk
}

func (n *Network) alive(id int64) bool {
	e := n.eps[id]
	return e != nil && !e.dead
}

// partitioned reports whether a fault separates a and b both ways.
func (n *Network) partitioned(a, b int64) bool {
	if n.isolated[a] || n.isolated[b] || n.cut[mkpair(a, b)] {
		return true
	}
	if n.groups == nil {
		return false
	}
	ga, oka := n.groups[a]
	gb, okb := n.groups[b]
	return !oka || !okb || ga != gb
}

// canForm reports whether a new connection between a and b may form.
func (n *Network) canForm(a, b int64) bool {
	return n.alive(a) && n.alive(b) && !n.partitioned(a, b) &&
		!n.blocked[Link{a, b}] && !n.blocked[Link{b, a}]
}

// lossOnBlock reports whether a one-way block has frames of p's connection
// in flight on the blocked direction: those are lost, so it breaks.
func (n *Network) lossOnBlock(p pair) bool {
	for _, l := range [2]Link{{p.lo, p.hi}, {p.hi, p.lo}} {
		if lk := n.links[l]; n.blocked[l] && lk != nil && lk.bytes > 0 {
			return true
		}
	}
	return false
}

// reconcileLocked breaks every connection the faults no longer allow and
// forms every one they do, in a deterministic order.
func (n *Network) reconcileLocked() {
	for i, a := range n.ids {
		for _, b := range n.ids[i+1:] {
			p := pair{a, b}
			if n.hasConn(p) && (!n.alive(a) || !n.alive(b) || n.partitioned(a, b) || n.lossOnBlock(p)) {
				n.breakLocked(p)
			}
			if !n.hasConn(p) && n.canForm(a, b) {
				n.connectLocked(p)
			}
		}
	}
}

// push queues it on l and pokes the receiver.
func (n *Network) push(l Link, it memItem) {
	n.lastSeq++
	it.seq = n.lastSeq
	lk := n.link(l)
	if !n.opts.Manual {
		if d := n.delays[l]; d > 0 {
			it.ready = n.now().Add(d)
		}
		if k := len(lk.q); k > 0 && lk.q[k-1].ready.After(it.ready) {
			it.ready = lk.q[k-1].ready // FIFO: never overtake
		}
	}
	lk.q = append(lk.q, it)
	if it.kind == EventFrame {
		lk.bytes += len(it.frame) + frameOverhead
	}
	if e := n.eps[l.To]; e != nil && !e.dead {
		e.poke()
	}
}

func (n *Network) connectLocked(p pair) {
	n.lastConn++
	n.conns[p] = n.lastConn
	n.push(Link{p.lo, p.hi}, memItem{kind: EventUp, conn: n.lastConn})
	n.push(Link{p.hi, p.lo}, memItem{kind: EventUp, conn: n.lastConn})
}

// breakLocked ends p's connection: its undelivered frames are lost, and a
// side that was told Up is told Down (a side whose Up was not delivered yet
// never hears of the connection).
func (n *Network) breakLocked(p pair) {
	id, ok := n.conns[p]
	if !ok {
		return
	}
	delete(n.conns, p)
	for _, l := range [2]Link{{p.lo, p.hi}, {p.hi, p.lo}} {
		upQueued := false
		if lk := n.links[l]; lk != nil {
			kept := lk.q[:0]
			for _, it := range lk.q {
				switch {
				case it.conn != id:
					kept = append(kept, it)
				case it.kind == EventFrame:
					n.stat(l).Dropped++
					lk.bytes -= len(it.frame) + frameOverhead
				case it.kind == EventUp:
					upQueued = true
				}
			}
			clear(lk.q[len(kept):])
			lk.q = kept
		}
		if !upQueued && n.alive(l.To) {
			n.push(l, memItem{kind: EventDown, conn: id})
		}
	}
}

// dropLinkLocked discards everything queued on l (its receiver died).
func (n *Network) dropLinkLocked(l Link) {
	lk := n.links[l]
	if lk == nil {
		return
	}
	for _, it := range lk.q {
		if it.kind == EventFrame {
			n.stat(l).Dropped++
		}
	}
	delete(n.links, l)
}

func (n *Network) send(e *Endpoint, to int64, frame []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.dead {
		return ErrClosed
	}
	if to == e.id || !n.member(to) {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	if len(frame) > n.opts.MaxFrame {
		return fmt.Errorf("%w: %d bytes to peer %d, limit %d", ErrFrameTooLarge, len(frame), to, n.opts.MaxFrame)
	}
	l, p := Link{e.id, to}, mkpair(e.id, to)
	st := n.stat(l)
	id, ok := n.conns[p]
	if !ok {
		st.Refused++
		return fmt.Errorf("%w: peer %d", ErrNotConnected, to)
	}
	if n.blocked[l] {
		// Accepted, then lost on the way: the connection breaks and cannot
		// re-form while the block lasts.
		st.Sent++
		st.SentBytes += int64(len(frame))
		st.Dropped++
		n.breakLocked(p)
		return nil
	}
	lk := n.link(l)
	if queueFull(lk.bytes, len(frame)+frameOverhead, n.opts.MaxQueue) {
		st.Refused++
		queued := lk.bytes
		n.breakLocked(p)
		n.reconcileLocked()
		return fmt.Errorf("%w: peer %d, %d bytes queued", ErrOverflow, to, queued)
	}
	st.Sent++
	st.SentBytes += int64(len(frame))
	n.push(l, memItem{kind: EventFrame, conn: id, frame: append([]byte(nil), frame...)})
	return nil
}

// deliverable reports whether the head of l can be delivered now.
func (n *Network) deliverable(l Link, lk *memLink, now time.Time) bool {
	if lk == nil || len(lk.q) == 0 || n.paused[l.To] {
		return false
	}
	e := n.eps[l.To]
	if e == nil || e.dead {
		return false
	}
	if lk.q[0].kind == EventFrame && n.paused[l.From] {
		return false
	}
	if n.opts.Manual {
		return len(e.events) < cap(e.events)
	}
	return !lk.q[0].ready.After(now)
}

// pop removes the head of l and returns it as an event.
func (n *Network) pop(l Link) Event {
	lk := n.links[l]
	it := lk.q[0]
	lk.q[0] = memItem{}
	lk.q = lk.q[1:]
	if len(lk.q) == 0 {
		lk.q = nil
	}
	if it.kind == EventFrame {
		lk.bytes -= len(it.frame) + frameOverhead
		st := n.stat(l)
		st.Delivered++
		st.DeliveredBytes += int64(len(it.frame))
	}
	return Event{Kind: it.kind, Peer: l.From, Frame: it.frame}
}

// take pops the deliverable event for e that was queued first. If there is
// none, wait is how long until a delayed one becomes deliverable (0: wait
// for a poke).
func (n *Network) take(e *Endpoint) (ev Event, wait time.Duration, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.dead {
		return Event{}, 0, false
	}
	now := n.now()
	var best Link
	var bestSeq uint64
	var next time.Time
	for _, from := range n.ids {
		l := Link{from, e.id}
		lk := n.links[l]
		switch {
		case n.deliverable(l, lk, now):
			if !ok || lk.q[0].seq < bestSeq {
				best, bestSeq, ok = l, lk.q[0].seq, true
			}
		case lk != nil && len(lk.q) > 0 && lk.q[0].ready.After(now):
			if next.IsZero() || lk.q[0].ready.Before(next) {
				next = lk.q[0].ready
			}
		}
	}
	if ok {
		return n.pop(best), 0, true
	}
	if !next.IsZero() {
		wait = next.Sub(now)
	}
	return Event{}, wait, false
}
