package recipesim

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/recipes"
)

// acquisition is one hold granted, in the order actors saw them.
type acquisition struct {
	h     *holder
	token int64
	node  string
	tick  int64
}

// acquired records that h now holds l (called by h's goroutine).
func (w *World) acquired(h *holder, p *peer, l *recipes.Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h.lease, h.peer, h.lastAcq = l, p, w.now
	// The moment a hold is granted, the previous holders' leases must
	// have ended already (the step's check would miss an overlap that the
	// next apply ends).
	w.checkLock(h.kind.lock(), "at the grant to "+h.name)
	w.log = append(w.log, acquisition{h: h, token: l.Token(), node: l.Node(), tick: w.now})
	w.trace.line(w.now, "holds %s token=%d peer=%d", h.name, l.Token(), p.id)
	w.stats.Acquired[h.kind.String()]++
}

// released records that h stopped using l, and how the hold ended.
func (w *World) released(h *holder, l *recipes.Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h.lease == l {
		h.lease = nil
	}
	cause := "released"
	if err := l.Err(); err != nil {
		cause = classify(err)
		w.stats.Lost[cause]++
	}
	w.trace.line(w.now, "ends %s token=%d: %s", h.name, l.Token(), cause)
}

func (w *World) count(what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats.Events[what]++
}

// classify names the reason of an error, for the statistics.
func classify(err error) string {
	s := err.Error()
	switch {
	case err == nil:
		return "ok"
	case strings.Contains(s, "no write of the session confirmed"):
		return "lapse"
	case errors.Is(err, zk.ErrSessionExpired):
		return "expired"
	case errors.Is(err, zk.ErrNoNode):
		return "node deleted"
	case errors.Is(err, recipes.ErrClientClosed):
		return "client closed"
	case errors.Is(err, zk.ErrClosed):
		return "peer closed"
	case errors.Is(err, zk.ErrConnectionLoss):
		return "disconnected"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	}
	return "other"
}

// check runs the checks of a step.
func (w *World) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.checkHolders()
	w.checkTokens()
	w.checkNodes()
}

// checkHolders: at most one live exclusive holder per lock, readers never
// beside a writer, at most semN live semaphore leases.
func (w *World) checkHolders() {
	for _, lock := range []string{"/m", "/sm", "/rw", "/sem", "/latch"} {
		w.checkLock(lock, "")
	}
}

// checkLock checks the live holders of one lock.
func (w *World) checkLock(lock, when string) {
	var hs []*holder
	for _, h := range w.holders {
		if h.kind.lock() == lock && h.lease != nil && h.lease.Err() == nil {
			hs = append(hs, h)
		}
	}
	{
		var names []string
		readers, writers := 0, 0
		for _, h := range hs {
			names = append(names, h.name)
			switch h.kind {
			case kReader:
				readers++
			default:
				writers++
			}
		}
		switch {
		case lock == "/sem" && len(hs) > semN:
			w.failf("%d live leases of the semaphore (at most %d) %s: %v", len(hs), semN, when, names)
		case lock == "/rw" && (writers > 1 || writers == 1 && readers > 0):
			w.failf("a writer beside another holder of %s %s: %v", lock, when, names)
		case lock != "/sem" && lock != "/rw" && len(hs) > 1:
			w.failf("%d live holders of %s %s: %v", len(hs), lock, when, names)
		}
	}
}

// tokenState is what the token check remembers per lock.
type tokenState struct {
	last, lastWrite int64
	lastNode        string
}

// checkTokens: fencing tokens increase strictly in acquisition order.
func (w *World) checkTokens() {
	if w.tokens == nil {
		w.tokens = map[string]*tokenState{}
	}
	batch := w.log
	w.log = nil
	for _, a := range batch {
		lock := a.h.kind.lock()
		st := w.tokens[lock]
		if st == nil {
			st = &tokenState{}
			w.tokens[lock] = st
		}
		switch a.h.kind {
		case kReader:
			if a.token <= st.lastWrite {
				w.failf("%s read token %d not above the last write token %d", a.h.name, a.token, st.lastWrite)
			}
		case kLatch:
			if a.token < st.last || a.token == st.last && a.node != st.lastNode {
				w.failf("%s leadership token %d after %d (%s)", a.h.name, a.token, st.last, st.lastNode)
			}
		default:
			if a.token <= st.last {
				w.failf("%s token %d not above the previous %d on %s", a.h.name, a.token, st.last, lock)
			}
			if a.h.kind == kWriter {
				st.lastWrite = a.token
			}
		}
		st.last, st.lastNode = max(st.last, a.token), a.node
	}
	slices.SortFunc(batch, func(x, y acquisition) int { return strings.Compare(x.h.name, y.h.name) })
	for _, a := range batch {
		w.trace.line(w.now, "acquired %s token=%d", a.h.name, a.token)
	}
}

// checkNodes: no serving peer shows a recipe node of a session it has seen
// end. A node that outlives its session stays, so reading the trees at
// every step would only cost time (under the race detector, most of it):
// a peer is read when it saw sessions end since its last check, and every
// tenth step.
func (w *World) checkNodes() {
	for _, p := range w.peers {
		if p.ens == nil || p.inspector == nil || p.frozen != 0 || !p.ens.Status().Serving {
			continue
		}
		applied := p.ens.Status().Applied
		if applied == p.checked || len(w.ended) == p.checkedEnds && w.now%10 != 0 {
			continue
		}
		p.checked, p.checkedEnds = applied, len(w.ended)
		for _, n := range w.nodesOf(p.inspector) {
			if z, ok := w.ended[n.owner]; ok && applied >= z {
				w.failf("peer %d (applied %#x) holds %s of session %#x, which ended at %#x", p.id, applied, n.path, n.owner, z)
			}
		}
	}
}

type nodeInfo struct {
	path  string
	owner int64
}

// nodesOf lists the recipes' nodes with their owners, in two reads.
func (w *World) nodesOf(s *zk.Session) []nodeInfo {
	ops := make([]zk.ReadOp, len(recipeDirs))
	for i, d := range recipeDirs {
		ops[i] = zk.GetChildrenOp(d)
	}
	dirs, err := s.MultiRead(w.ctx, ops...)
	if err != nil {
		return nil
	}
	var paths []string
	ops = ops[:0]
	for i, r := range dirs {
		for _, k := range r.Children {
			paths = append(paths, recipeDirs[i]+"/"+k)
			ops = append(ops, zk.GetDataOp(recipeDirs[i]+"/"+k))
		}
	}
	if len(ops) == 0 {
		return nil
	}
	res, err := s.MultiRead(w.ctx, ops...)
	if err != nil {
		return nil
	}
	var out []nodeInfo
	for i, r := range res {
		if r.Err == nil {
			out = append(out, nodeInfo{path: paths[i], owner: r.Stat.EphemeralOwner})
		}
	}
	return out
}

// addSession remembers an actor's session, to see it end.
func (w *World) addSession(s *session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sessions = append(w.sessions, s)
	w.stats.Sessions++
	if w.opts.Sabotage == SabotageEndEarly {
		w.ended[s.sess.ID()] = 0
	}
}

// sessionEnded records that s ended, as its peer has applied.
func (w *World) sessionEnded(s *session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.endedLocked(s)
}

func (w *World) endedLocked(s *session) {
	if _, ok := w.ended[s.sess.ID()]; !ok {
		w.ended[s.sess.ID()] = s.ens.Status().Applied
		w.trace.line(w.now, "session %#x ended", s.sess.ID())
	}
}

// observeEnds notes the sessions whose handles say they expired.
func (w *World) observeEnds() {
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.sessions[:0]
	for _, s := range w.sessions {
		switch s.sess.State() {
		case zk.StateExpired:
			w.stats.Expired++
			w.endedLocked(s)
		case zk.StateClosed:
		default:
			kept = append(kept, s)
			continue
		}
	}
	clear(w.sessions[len(kept):])
	w.sessions = kept
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
