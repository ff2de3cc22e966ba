package transport

import "fmt"

// Pending is one thing a manual Network could do next: deliver the head of
// a link's queue to its receiver. Only heads are pending, which keeps every
// link FIFO.
type Pending struct {
	From, To int64
	Kind     EventKind
	Conn     uint64 // the connection it belongs to (ids start at 1, never reused)
	Seq      uint64 // network-wide queuing order; identifies the item
	Size     int    // frame length (EventFrame)
}

// Pending lists what can be delivered now, sorted by receiver then sender.
// It is empty in automatic mode. Pausing a peer, or a full Events channel,
// holds back what is for it.
func (n *Network) Pending() []Pending {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.opts.Manual {
		return nil
	}
	var out []Pending
	for _, to := range n.ids {
		for _, from := range n.ids {
			l := Link{from, to}
			lk := n.links[l]
			if !n.deliverable(l, lk, n.now()) {
				continue
			}
			it := lk.q[0]
			out = append(out, Pending{From: from, To: to, Kind: it.kind, Conn: it.conn, Seq: it.seq, Size: len(it.frame)})
		}
	}
	return out
}

// Deliver performs p, which must still be pending; it never blocks.
func (n *Network) Deliver(p Pending) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := Link{p.From, p.To}
	lk := n.links[l]
	if !n.opts.Manual || !n.deliverable(l, lk, n.now()) || lk.q[0].seq != p.Seq {
		return fmt.Errorf("%w: %+v", ErrNotPending, p)
	}
	n.handLocked(l)
	return nil
}

// DeliverAll delivers, in Pending order, until nothing is pending, and
// returns how many it delivered. It does not return while consumers keep
// sending in reaction to what they receive.
func (n *Network) DeliverAll() int {
	count := 0
	for n.deliverFirst() {
		count++
	}
	return count
}

func (n *Network) deliverFirst() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.opts.Manual {
		return false
	}
	for _, to := range n.ids {
		for _, from := range n.ids {
			l := Link{from, to}
			if n.deliverable(l, n.links[l], n.now()) {
				n.handLocked(l)
				return true
			}
		}
	}
	return false
}

// handLocked pops the head of l into its receiver's channel, which
// deliverable guaranteed has room (only this, under n.mu, sends on it).
func (n *Network) handLocked(l Link) {
	ev := n.pop(l)
	n.eps[l.To].events <- ev
}
