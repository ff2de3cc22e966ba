package transport

import (
	"container/list"
	"net"
	"sync"
)

// admission bounds the accepted connections still in their handshake, so
// that strangers holding connections open cannot keep a configured peer
// out. A connection goes through two stages:
//
//   - anonymous, from accept until its hello names a member that may dial
//     this peer: it counts against MaxHandshakes overall and against
//     MaxHandshakesPerHost for its source address. When either bound is
//     reached, the oldest anonymous connection (of that source, or overall)
//     is closed to make room: the newest wins. A peer speaks as soon as it
//     connects, so it leaves this stage long before a flood of silent
//     connections can push it out; the silent ones only push each other out.
//   - claimed, from the hello until the handshake ends: one slot per member
//     id, outside the anonymous bounds, so silent connections never take
//     the slot a peer needs. A newer claim of the same id replaces an older
//     one (a restarted peer must not wait for its own stale attempt).
//
// Every stage is also bounded in time by HandshakeTimeout.
type admission struct {
	maxAnon    int
	maxPerHost int

	mu      sync.Mutex
	anon    *list.List // of *pendingConn, oldest first; guarded by mu
	perHost map[string]int
	claimed map[int64]*pendingConn // guarded by mu
	evicted uint64                 // guarded by mu: connections closed to make room, ever
}

// pendingConn is one accepted connection in its handshake.
type pendingConn struct {
	raw     net.Conn
	host    string
	elem    *list.Element // in anon while anonymous; guarded by admission.mu
	claim   int64         // the claimed id once claimed; guarded by admission.mu
	evicted bool          // closed to make room; guarded by admission.mu
	done    bool          // left admission; guarded by admission.mu
}

func newAdmission(maxAnon, maxPerHost int) *admission {
	return &admission{
		maxAnon:    maxAnon,
		maxPerHost: maxPerHost,
		anon:       list.New(),
		perHost:    make(map[string]int),
		claimed:    make(map[int64]*pendingConn),
	}
}

// sourceHost is the source address a connection counts against.
func sourceHost(raw net.Conn) string {
	addr := raw.RemoteAddr()
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return host
	}
	return addr.String()
}

// enter admits a newly accepted connection as anonymous, closing the
// oldest anonymous connections beyond the bounds. It returns the
// connection's handle and how many it closed.
func (a *admission) enter(raw net.Conn) (*pendingConn, int) {
	pc := &pendingConn{raw: raw, host: sourceHost(raw)}
	a.mu.Lock()
	pc.elem = a.anon.PushBack(pc)
	a.perHost[pc.host]++
	var victims []*pendingConn
	if a.perHost[pc.host] > a.maxPerHost {
		victims = append(victims, a.oldestOf(pc.host))
	}
	for a.anon.Len()-len(victims) > a.maxAnon {
		victims = append(victims, a.oldestBesides(victims))
	}
	for _, v := range victims {
		a.dropAnon(v)
		v.evicted, v.done = true, true
	}
	a.evicted += uint64(len(victims))
	a.mu.Unlock()
	for _, v := range victims {
		_ = v.raw.Close()
	}
	return pc, len(victims)
}

// oldestOf is the oldest anonymous connection from host (there is one).
func (a *admission) oldestOf(host string) *pendingConn {
	for e := a.anon.Front(); e != nil; e = e.Next() {
		if pc := e.Value.(*pendingConn); pc.host == host {
			return pc
		}
	}
	panic("transport: admission lost count of a host")
}

// oldestBesides is the oldest anonymous connection not in skip.
func (a *admission) oldestBesides(skip []*pendingConn) *pendingConn {
	for e := a.anon.Front(); e != nil; e = e.Next() {
		pc := e.Value.(*pendingConn)
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == pc
		}
		if !skipped {
			return pc
		}
	}
	panic("transport: admission lost count of its connections")
}

// dropAnon removes pc from the anonymous stage; a.mu is held.
func (a *admission) dropAnon(pc *pendingConn) {
	if pc.elem == nil {
		return
	}
	a.anon.Remove(pc.elem)
	pc.elem = nil
	if a.perHost[pc.host]--; a.perHost[pc.host] == 0 {
		delete(a.perHost, pc.host)
	}
}

// claim moves pc to the slot of the member id its hello names, closing an
// older handshake that holds that slot. It reports false if pc was closed
// to make room meanwhile.
func (a *admission) claim(pc *pendingConn, id int64) bool {
	a.mu.Lock()
	if pc.done {
		a.mu.Unlock()
		return false
	}
	a.dropAnon(pc)
	old := a.claimed[id]
	if old != nil {
		old.evicted, old.done = true, true
		a.evicted++
	}
	a.claimed[id] = pc
	pc.claim = id
	a.mu.Unlock()
	if old != nil {
		_ = old.raw.Close()
	}
	return true
}

// leave ends pc's handshake (done or failed) and frees its place. It
// reports whether pc had been closed to make room.
func (a *admission) leave(pc *pendingConn) (evicted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !pc.done {
		pc.done = true
		a.dropAnon(pc)
		if pc.claim != 0 && a.claimed[pc.claim] == pc {
			delete(a.claimed, pc.claim)
		}
	}
	return pc.evicted
}

// counts reports the anonymous and claimed handshakes in progress, and the
// connections closed to make room so far.
func (a *admission) counts() (anon, claimed int, evicted uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.anon.Len(), len(a.claimed), a.evicted
}
