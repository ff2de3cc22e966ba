package transport

import (
	"fmt"
	"time"
)

// Endpoint is one peer's Transport on a Network. Its methods are safe for
// concurrent use.
type Endpoint struct {
	net    *Network
	id     int64
	events chan Event
	dead   bool          // guarded by net.mu
	gone   chan struct{} // closed once Events is closed and the goroutine gone

	// Automatic mode only: the goroutine that delivers to this endpoint.
	wake chan struct{} // cap 1: something may have become deliverable
	stop chan struct{} // closed to stop the goroutine
	done chan struct{} // closed when it has stopped
}

var _ Transport = (*Endpoint)(nil)

// ID is the endpoint's peer id.
func (e *Endpoint) ID() int64 { return e.id }

// Events is the endpoint's event channel, closed when the endpoint is closed
// or crashed.
func (e *Endpoint) Events() <-chan Event { return e.events }

// Send queues a copy of frame to peer to; see Transport. A frame sent on a
// link blocked by BlockOneWay is accepted and lost, which breaks the
// connection.
func (e *Endpoint) Send(to int64, frame []byte) error { return e.net.send(e, to, frame) }

// Disconnect breaks the connection to peer; it re-forms at once if the
// network allows.
func (e *Endpoint) Disconnect(peer int64) error {
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.dead {
		return ErrClosed
	}
	if peer == e.id || !n.member(peer) {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, peer)
	}
	p := mkpair(e.id, peer)
	if !n.hasConn(p) {
		return fmt.Errorf("%w: peer %d", ErrNotConnected, peer)
	}
	n.breakLocked(p)
	n.reconcileLocked()
	return nil
}

// Close crashes the endpoint (see Network.Crash). Idempotent.
func (e *Endpoint) Close() error {
	e.net.kill(e)
	return nil
}

// poke tells the delivering goroutine to look again. Called under net.mu.
func (e *Endpoint) poke() {
	if e.wake == nil {
		return
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run is the automatic mode's delivery goroutine: it hands the endpoint the
// deliverable event sent first, waiting for room in its channel
// (back-pressure), for a delay to pass, or for a poke.
func (e *Endpoint) run() {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		ev, wait, ok := e.net.take(e)
		if ok {
			select {
			case e.events <- ev:
				continue
			case <-e.stop:
				return
			}
		}
		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-e.wake:
		case <-tick:
		case <-e.stop:
			return
		}
		timer.Stop()
	}
}
