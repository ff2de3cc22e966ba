package sim

import (
	"fmt"
	"slices"

	zk "github.com/embedzk/zk"
)

// Read-only mode in the simulation. A world with it (Options.ReadOnly, or
// one seed in three of the faulted runs) runs its peers with
// Config.ReadOnlyMode and partitions enabled; every third client opens its
// sessions WithReadOnly and, without a session, may open one on a peer in
// read-only mode (a local session). Checked at every step:
//
//   - a peer in read-only mode changes nothing: from the tick it enters the
//     mode until it leaves it, its applied zxid and its log stay as they
//     were (no write is accepted, no session created or expired, no sync);
//   - a read of a session served read-only returns a state the committed
//     history had at a zxid no newer than its peer's applied zxid and no
//     older than what the session had seen (its reads, its writes);
//   - its writes, Syncs and the Close of a session of the ensemble fail
//     with NOTREADONLY; a NewSession answered by a peer in read-only mode
//     is a read-only session (and commits no CreateSession: checkSessionOps
//     leaves it out, as the Close of such a session).
//
// At the end, after healing: no peer is in read-only mode and every live
// peer serves; every local session still held has joined the ensemble
// (StateConnected, and the committed history has it) or ended.

// ROStats counts what read-only mode did in a run.
type ROStats struct {
	Entered       int // a peer entered read-only mode
	Reads         int // reads served read-only, checked
	Refused       int // writes, Syncs, Closes refused with NOTREADONLY
	LocalSessions int // sessions opened on a peer in read-only mode
	Upgraded      int // of those, joined the ensemble by the end
}

// roWorld is the world's read-only state.
type roWorld struct {
	on      bool
	peers   map[int64]*roPeerRec // peers in read-only mode now
	ops     map[*opRecord]*roOp  // outstanding calls, as they started
	exempt  map[*opRecord]bool   // session calls that commit no session txn
	local   map[int64]bool       // sessions opened read-only
	seen    map[roHandle]int64   // the newest zxid each handle saw
	handles []handleRec          // the local sessions' handles
}

// roPeerRec is a peer's incarnation in read-only mode and its state then.
type roPeerRec struct {
	inc           int
	applied, last int64
	since         int64
}

// roOp is what a call found when it started.
type roOp struct {
	sessRO     bool  // its session was served read-only
	localNew   bool  // a NewSession on a peer in read-only mode
	localClose bool  // the Close of a session opened read-only
	seen       int64 // the newest zxid its handle had seen
}

type roHandle struct{ client, handle int }

// readOnlyFor decides whether a world runs read-only mode: as asked, else
// one seed in three of the faulted runs (the regression seeds 119 and
// 82806 and the fail-stop seed 3 keep their schedules; the determinism
// seed 4 runs it); never where local sessions are asked for
// (localsess.go), unless read-only mode is asked for too. It draws nothing from the world's generator, so a world
// without it runs as before.
func readOnlyFor(o Options) bool {
	switch {
	case o.ReadOnly > 0:
		return true
	case o.ReadOnly < 0 || o.NoFaults || o.LocalSessions > 0:
		return false
	}
	x := o.Seed ^ (0x7e4d<<16 | 33)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x%3 == 0
}

// initReadOnly sets the world's read-only mode up, before any peer starts.
func (w *World) initReadOnly() {
	w.ro = roWorld{on: readOnlyFor(w.opts), peers: map[int64]*roPeerRec{}, ops: map[*opRecord]*roOp{},
		exempt: map[*opRecord]bool{}, local: map[int64]bool{}, seen: map[roHandle]int64{}}
	if w.ro.on && !w.opts.NoFaults {
		w.faults.enabled[fPartition] = true
	}
	if w.ro.on {
		w.trace.line(0, "read-only mode on")
	}
}

// readOnly reports whether c's sessions allow read-only service.
func (c *client) readOnly() bool { return c.w.ro.on && c.id%3 == 2 }

// sessionOpts adds WithReadOnly to opts for a read-only client. It runs on
// the call's goroutine and reads only what never changes.
func (op *opRecord) sessionOpts(opts ...zk.SessionOption) []zk.SessionOption {
	if op.c.readOnly() {
		opts = append(opts, zk.WithReadOnly())
	}
	return opts
}

// roAbandoned drops a handle whose session id the client gave up: a
// session opened read-only that another peer did not know yet (its
// reattach said expired), which its own peer made part of the ensemble
// afterwards. The client moved on, as a ZooKeeper client that was told its
// session expired; the handle keeps the session alive (World.handles).
func (c *client) roAbandoned() bool {
	if !c.readOnly() || c.sid == c.sess.ID() {
		return false
	}
	c.w.trace.line(c.w.now, "c%d leaves session %#x", c.id, c.sess.ID())
	c.sess = nil
	return true
}

// connectable returns the peers c may connect to: the serving ones, and,
// for a read-only client without a session, the ones in read-only mode (a
// client renews a session only on a serving peer: a read-only peer would
// refuse it, as ZooKeeper's does).
func (c *client) connectable() []*simPeer {
	ps := c.w.servingPeers()
	if !c.readOnly() || c.sid != 0 {
		return ps
	}
	for _, p := range c.w.live() {
		if p.busy == nil && !p.paused && p.ens.Status().Mode == zk.ModeReadOnly {
			ps = append(ps, p)
		}
	}
	return ps
}

// roLaunch notes, as op starts, what read-only mode means for it.
func (w *World) roLaunch(op *opRecord) {
	if !w.ro.on || op.kind == opBad {
		return
	}
	peerRO := op.ens.Status().Mode == zk.ModeReadOnly
	w.ro.ops[op] = &roOp{
		sessRO:     op.sess != nil && op.sess.State() == zk.StateConnectedReadOnly,
		localNew:   op.kind == opNewSession && peerRO && op.c.readOnly(),
		localClose: op.kind == opClose && (w.ro.local[op.sid] || w.lsSurelyLocal(op.sid)),
		seen:       w.ro.seen[roHandle{op.c.id, op.handle}],
	}
}

// roReturned checks op, which just returned, against what it started with.
func (w *World) roReturned(op *opRecord) {
	info := w.ro.ops[op]
	if info == nil {
		return
	}
	delete(w.ro.ops, op)
	if info.localClose {
		w.ro.exempt[op] = true
	}
	switch {
	case info.localNew:
		w.roLocalSession(op)
	case info.sessRO:
		w.roJudge(op, info)
	}
	k := roHandle{op.c.id, op.handle}
	switch {
	case op.kind.plainRead() && (op.out == outOK || op.errName == "nonode"):
		w.ro.seen[k] = max(w.ro.seen[k], op.applied)
	case (op.kind == opCreate || op.kind == opSet) && op.out == outOK:
		w.ro.seen[k] = max(w.ro.seen[k], op.stat.Mzxid)
	}
}

// roLocalOp reports whether op is a NewSession or Close of a session
// opened read-only: no session txn commits during it.
func (w *World) roLocalOp(op *opRecord) bool { return w.ro.exempt[op] }

// roLocalSession checks a NewSession a peer in read-only mode answered.
func (w *World) roLocalSession(op *opRecord) {
	w.ro.exempt[op] = true
	if op.out != outOK {
		return
	}
	s := op.newSess
	if st := s.State(); st != zk.StateConnectedReadOnly {
		w.failf("%v: a session opened on a peer in read-only mode is %v", op, st)
	}
	w.ro.local[s.ID()] = true
	w.ro.handles = append(w.ro.handles, handleRec{sess: s, peer: op.peer, inc: op.inc})
	w.stats.ReadOnly.LocalSessions++
	w.trace.line(w.now, "read-only session c%d id=%#x on %d", op.c.id, s.ID(), op.peer.id)
}

// roJudge checks a call of a session its peer served read-only.
func (w *World) roJudge(op *opRecord, info *roOp) {
	switch {
	case op.kind == opClose && w.ls.opened[op.sid] != nil && !info.localClose:
		// A local session that may have been upgraded: its Close is
		// refused if it was, taken here if not; nothing else.
		if op.out != outOK && op.errName != "notreadonly" {
			w.failf("%v closed a local session served read-only and returned %q, want OK or NOTREADONLY", op, op.errName)
		}
	case op.kind.write() || op.kind == opSyncGet || (op.kind == opClose && !info.localClose):
		if op.errName != "notreadonly" {
			w.failf("%v ran in a session served read-only and returned %q, want NOTREADONLY", op, op.errName)
			return
		}
		w.stats.ReadOnly.Refused++
	case op.kind.plainRead():
		if op.out != outOK && op.errName != "nonode" {
			w.failf("read-only read %v failed: %v", op, op.err)
			return
		}
		w.stats.ReadOnly.Reads++
		w.checkRORead(op, info.seen)
	}
}

// checkRORead: the read returned a state of the committed history at a
// zxid between what its session had seen and its peer's applied zxid.
func (w *World) checkRORead(op *opRecord, seen int64) {
	hi := op.applied
	if rec := w.ro.peers[op.peer.id]; rec == nil || rec.inc != op.inc || rec.applied != hi {
		w.failf("read-only read %v ran at %#x on a peer not in read-only mode there (%+v)", op, hi, rec)
		return
	}
	if hi < seen {
		w.failf("read-only read %v read the tree at %#x, older than %#x, which its session had seen", op, hi, seen)
		return
	}
	for _, z := range w.ref.statesBetween(op, seen, hi) {
		if w.readMatches(op, z) {
			return
		}
	}
	w.failf("read-only read %v returned %q (exists=%v version %d, children %v), a state the committed history never had between %#x (seen by its session) and %#x (its peer's applied zxid)",
		op, op.rData, op.exists, op.stat.Version, op.children, seen, hi)
}

// statesBetween returns lo and every zxid in (lo, hi] at which what op
// reads changed.
func (r *reference) statesBetween(op *opRecord, lo, hi int64) []int64 {
	zs := []int64{lo}
	paths := []string{op.path}
	if op.kind == opChildren || op.kind == opChildrenW {
		paths = append(paths, r.children[op.path]...)
	}
	for _, p := range paths {
		for _, st := range r.states[p] {
			if st.zxid > lo && st.zxid <= hi {
				zs = append(zs, st.zxid)
			}
		}
	}
	return zs
}

// readMatches reports whether op's result is what the committed history
// holds after zxid z.
func (w *World) readMatches(op *opRecord, z int64) bool {
	if op.kind == opChildren || op.kind == opChildrenW {
		return slices.Equal(w.ref.childrenAt(op.path, z), op.children)
	}
	st := w.ref.stateAt(op.path, z)
	switch {
	case st.exists != op.exists:
		return false
	case !st.exists:
		return true
	case op.stat.Version != st.version:
		return false
	case op.kind == opGet || op.kind == opGetW:
		return string(op.rData) == st.data
	}
	return true
}

// roCheckPeer runs after every Barrier and Tick of p: a peer in read-only
// mode keeps its tree and its log as they were when it entered the mode.
func (w *World) roCheckPeer(p *simPeer, st zk.Status) {
	if !w.ro.on {
		return
	}
	rec := w.ro.peers[p.id]
	if st.Mode != zk.ModeReadOnly {
		if rec != nil {
			delete(w.ro.peers, p.id)
			w.trace.line(w.now, "read-only ends peer=%d", p.id)
		}
		return
	}
	z, _ := p.view.Applied()
	if rec == nil || rec.inc != p.inc {
		w.ro.peers[p.id] = &roPeerRec{inc: p.inc, applied: z, last: st.LastZxid, since: w.now}
		w.stats.ReadOnly.Entered++
		w.trace.line(w.now, "read-only peer=%d applied=%#x", p.id, z)
		return
	}
	if z != rec.applied || st.LastZxid != rec.last {
		w.failf("peer %d, in read-only mode since tick %d, changed its state: applied %#x -> %#x, log %#x -> %#x",
			p.id, rec.since, rec.applied, z, rec.last, st.LastZxid)
		rec.applied, rec.last = z, st.LastZxid
	}
}

// roEndChecks: after healing every peer serves normally, and every local
// session still held joined the ensemble or ended.
func (w *World) roEndChecks() {
	if !w.ro.on {
		return
	}
	for _, p := range w.live() {
		if st := p.ens.Status(); st.Mode == zk.ModeReadOnly || !st.Serving {
			w.failf("peer %d does not serve normally after healing: %v, serving %v", p.id, st.Mode, st.Serving)
		}
	}
	sessions, err := w.ref.tree.Sessions()
	if err != nil {
		w.failf("reading the reference sessions: %v", err)
		return
	}
	known := map[int64]bool{}
	for _, s := range sessions {
		known[s.ID] = true
	}
	for _, h := range w.ro.handles {
		if h.peer.inc != h.inc || h.peer.ens == nil {
			continue // its peer went away, and the session with it
		}
		switch st := h.sess.State(); {
		case st == zk.StateConnected && known[h.sess.ID()]:
			w.stats.ReadOnly.Upgraded++
		case st == zk.StateClosed || st == zk.StateExpired:
		default:
			w.failf("session %#x, opened read-only on peer %d, is %v after healing (committed: %v)",
				h.sess.ID(), h.peer.id, st, known[h.sess.ID()])
		}
	}
}

// String summarizes the counts.
func (s ROStats) String() string {
	return fmt.Sprintf("entered=%d reads=%d refused=%d local=%d upgraded=%d", s.Entered, s.Reads, s.Refused, s.LocalSessions, s.Upgraded)
}
