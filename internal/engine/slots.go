package engine

import (
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// sessionSlots counts what Config.MaxSessions and Config.MaxClientCnxns
// limit: the sessions attached to this peer (Ensemble.sessions) plus those
// being opened or re-attached (reserved), and, per client address, both
// together. It is guarded by Ensemble.sessMu, under which a slot is taken
// and checked at once, so concurrent callers never exceed a limit
// (TestMaxClientCnxnsConcurrent, TestMaxSessionsConcurrent).
//
// A session counts under the address WithClientAddr declared. One opened
// without an address is the host's own: MaxClientCnxns does not count it
// (MaxSessions does). Sessions of the client port do not count under their
// address either: the client port limits the connections of an address as
// ZooKeeper does, when it accepts them, and a connection holds at most one
// session, so counting its session again would only refuse a client that
// reconnects while its old connection is still being closed.
type sessionSlots struct {
	reserved int
	byAddr   map[string]int
}

// slotAddr is the address a session opened with o counts under for
// MaxClientCnxns, or "" when it counts under none.
func slotAddr(o sessionOpts) string {
	if o.connCounted {
		return ""
	}
	return o.clientAddr
}

// reserveSlot takes a slot for a session being opened or re-attached with
// o, and returns the address it counts under. The caller either attaches a
// session (attachReserved) or gives the slot back (releaseSlot). Over a
// limit it fails with ErrConnectionLoss, as a ZooKeeper server refuses the
// connection.
func (e *Ensemble) reserveSlot(o sessionOpts) (string, error) {
	addr := slotAddr(o)
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	if limit := e.cfg.MaxSessions; limit > 0 && len(e.sessions)+e.slots.reserved >= limit {
		return "", fmt.Errorf("%w: this peer holds MaxSessions=%d sessions", zkerr.ErrConnectionLoss, limit)
	}
	if limit := e.cfg.MaxClientCnxns; limit > 0 && addr != "" && e.slots.byAddr[addr] >= limit {
		return "", fmt.Errorf("%w: client address %s holds MaxClientCnxns=%d sessions on this peer", zkerr.ErrConnectionLoss, addr, limit)
	}
	e.slots.reserved++
	e.countAddrLocked(addr, 1)
	return addr, nil
}

// releaseSlot gives back a slot whose session was not attached.
func (e *Ensemble) releaseSlot(addr string) {
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	e.slots.reserved--
	e.countAddrLocked(addr, -1)
}

// attachReserved registers s as attached to this peer (the peer keeps it
// alive) in the slot its caller reserved under addr. If a handle of the
// same session is attached already, s is not: the slot goes back and the
// attached handle is returned. If the peer has closed meanwhile, s ends
// (StateClosed) as the handles attached when it closed did: whether the
// NewSession or Reattach that made s finished just before Close or just
// after, its caller gets the same handle in the same state.
func (e *Ensemble) attachReserved(s *Session, addr string) (old *Session) {
	e.sessMu.Lock()
	e.slots.reserved--
	if e.closed.Load() { // Close set it before it took sessMu (closeSessions)
		e.countAddrLocked(addr, -1)
		e.sessMu.Unlock()
		s.end(StateClosed)
		return nil
	}
	defer e.sessMu.Unlock()
	if old := e.sessions[s.id]; old != nil {
		e.countAddrLocked(addr, -1)
		return old
	}
	s.slotAddr = addr
	e.sessions[s.id] = s
	return nil
}

// forgetLocked removes s from the attached sessions and frees its slot;
// the caller holds sessMu and has checked that s is the attached handle.
func (e *Ensemble) forgetLocked(s *Session) {
	delete(e.sessions, s.id)
	e.countAddrLocked(s.slotAddr, -1)
}

// countAddrLocked adds d to addr's count ("" counts nothing).
func (e *Ensemble) countAddrLocked(addr string, d int) {
	if addr == "" {
		return
	}
	if e.slots.byAddr == nil {
		e.slots.byAddr = map[string]int{}
	}
	if e.slots.byAddr[addr] += d; e.slots.byAddr[addr] <= 0 {
		delete(e.slots.byAddr, addr)
	}
}
