package sim

import (
	"errors"
	"fmt"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/znode"
)

// Local sessions in the simulation. A world with them (Options.LocalSessions,
// or three seeds in eight of those without read-only mode, half of them
// upgrading) runs its peers with Config.LocalSessions (and
// LocalSessionsUpgrading), and its multis may hold an ephemeral create.
// Every session a client opens is then local to its peer until an
// ephemeral create upgrades it, which commits its CreateSession. Checked
// at the end, against the committed history (a session is upgraded from
// the first apply of its CreateSession on):
//
//   - a NewSession commits no CreateSession, the Close of a session not
//     upgraded no CloseSession (the Close of an upgraded one does,
//     checkSessionOps);
//   - a Reattach of a session not upgraded succeeds only on the peer
//     incarnation that opened it, and only if that peer never stopped
//     serving since: a local session that moves, or whose peer lost its
//     leader, has expired; and its handle there is then expired too;
//   - without upgrading, a lone ephemeral create of a local session fails
//     with EPHEMERALONLOCALSESSION (or its session had ended), a multi with
//     one never succeeds: on the leader it fails at that op with -120, from
//     a follower with SESSIONEXPIRED;
//   - with upgrading, an ephemeral create of a local session that committed
//     comes after its session's CreateSession, itself applied after the
//     call began; one that failed with SESSIONEXPIRED left its session
//     ended;
//   - checked as the client sees it: the handle of an upgraded session
//     expires only once the ensemble closed the session (its ephemerals
//     went with it, never before).
//
// The other checks hold as in any world: no ephemeral outlives its
// session, every acknowledged write is in the history, and the
// linearizability of the register keys.

// LSStats counts what local sessions did in a run (0 without them).
type LSStats struct {
	Opened     int // local sessions opened
	Upgraded   int // of those, upgraded by an ephemeral create
	Refused    int // ephemeral creates refused (-120, or SESSIONEXPIRED in a multi)
	MoveLost   int // a Reattach elsewhere found the session expired
	LeaderLost int // handles expired after their peer stopped serving
	TimedOut   int // detached sessions seen expired (localexpiry.go)
}

// String summarizes the counts.
func (s LSStats) String() string {
	return fmt.Sprintf("opened=%d upgraded=%d refused=%d move-expired=%d leader-lost=%d timed-out=%d", s.Opened, s.Upgraded, s.Refused, s.MoveLost, s.LeaderLost, s.TimedOut)
}

// lsWorld is the world's local-session state.
type lsWorld struct {
	on, upgrading bool
	lost          map[int64]int        // per peer: times it stopped serving
	serving       map[int64]bool       // per peer: serving when last seen
	opened        map[int64]*lsRec     // local sessions, by id
	ops           map[*opRecord]lsOp   // calls, as they started
	expiredSeen   map[*zk.Session]bool // handles a client saw expired (checked once)
	up            map[int64]int64      // at the end: lsUpgradedAt
	limbo         map[int64]int64      // at the end: lsLimbo
	detached      []*lsDetach          // sessions whose client went away (localexpiry.go)
	ephem         map[int64]bool       // sessions that asked for an ephemeral
}

// lsRec is where a local session was opened.
type lsRec struct {
	peer *simPeer
	inc  int
	lost int // its peer's lost count when the session was opened
	sess *zk.Session
}

// lsOp is what a call found when it started.
type lsOp struct {
	leading bool // its peer led
	lost    int  // its peer's lost count
}

// localSessionsFor decides whether a world runs local sessions, and whether
// they upgrade: as asked (with read-only mode too, if that is on), else
// (faulted runs only) three seeds in eight of those without read-only
// mode, half of them upgrading (the CI seeds 3, 119 and 82806 keep their
// schedules). It draws nothing from the world's generator, so a world
// without them runs as before.
func localSessionsFor(o Options, readOnly bool) (on, upgrading bool) {
	x := o.Seed ^ (0x10cc4 << 20)
	x ^= x >> 31
	x *= 0x9e3779b97f4a7c15
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	switch {
	case o.LocalSessions < 0, readOnly && o.LocalSessions == 0:
		return false, false
	case o.LocalSessions > 0:
		return true, o.LocalSessions > 1
	case o.NoFaults:
		return false, false // the scenarios and the failover measure: as asked only
	}
	return x%8 < 3, x/8%2 == 0
}

// initLocalSessions sets the world's local sessions up, before any peer
// starts.
func (w *World) initLocalSessions() {
	on, up := localSessionsFor(w.opts, w.ro.on)
	w.ls = lsWorld{on: on, upgrading: up, lost: map[int64]int{}, serving: map[int64]bool{},
		opened: map[int64]*lsRec{}, ops: map[*opRecord]lsOp{}, expiredSeen: map[*zk.Session]bool{}, ephem: map[int64]bool{}}
	if on {
		w.trace.line(0, "local sessions on, upgrading=%v", up)
	}
}

// lsStatus notes a peer that stopped serving: its local sessions are gone.
func (w *World) lsStatus(p *simPeer, st zk.Status) {
	if !w.ls.on {
		return
	}
	if w.ls.serving[p.id] && !st.Serving {
		w.ls.lost[p.id]++
	}
	w.ls.serving[p.id] = st.Serving
}

// lsLaunch notes, as op starts, what its peer was.
func (w *World) lsLaunch(op *opRecord) {
	if !w.ls.on || op.kind == opBad || op.ens == nil {
		return
	}
	w.ls.ops[op] = lsOp{leading: op.ens.Status().Mode == zk.ModeLeading, lost: w.ls.lost[op.peer.id]}
	w.lsDetachLaunch(op)
}

// lsReturned records a local session a NewSession opened.
func (w *World) lsReturned(op *opRecord) {
	if !w.ls.on || op.kind != opNewSession || op.out != outOK {
		return
	}
	w.ls.opened[op.newSess.ID()] = &lsRec{peer: op.peer, inc: op.inc, lost: w.ls.lost[op.peer.id], sess: op.newSess}
}

// lsSurelyLocal reports whether session id is a local session that never
// asked for an ephemeral, so was never upgraded.
func (w *World) lsSurelyLocal(id int64) bool {
	return w.ls.on && w.ls.opened[id] != nil && !w.ls.ephem[id]
}

// lsModes returns the create mode of an ephemeral in a multi: a multi of a
// world with local sessions holds one now and then (none elsewhere: the
// other worlds draw what they always drew).
func (c *client) lsMultiEphemeral(op *opRecord) {
	if !c.w.ls.on || c.w.rng.IntN(4) != 0 {
		return
	}
	for i := range op.multi {
		if op.multi[i].kind == opCreate {
			op.multi[i].ephemeral = true
			return
		}
	}
}

// lsProbeMode is the liveness probe's create mode: ephemeral, but
// persistent where a local session may not create an ephemeral.
func (w *World) lsProbeMode() zk.CreateMode {
	if w.ls.on && !w.ls.upgrading {
		return zk.ModePersistent
	}
	return zk.ModeEphemeral
}

// lsSawExpired runs when a client finds its handle expired: the handle of
// an upgraded session expires only once the ensemble closed the session.
func (w *World) lsSawExpired(s *zk.Session) {
	if !w.ls.on || w.ls.expiredSeen[s] {
		return
	}
	w.ls.expiredSeen[s] = true
	created, closed := false, false
	for _, t := range w.ref.chain {
		if t.failed || t.en.Txn.Session != s.ID() {
			continue
		}
		switch t.en.Txn.Type {
		case znode.TxnCreateSession:
			created, closed = true, false
		case znode.TxnCloseSession:
			closed = true
		}
	}
	if created && !closed {
		w.failf("the handle of session %#x, upgraded, expired while the ensemble holds it (and its ephemerals)", s.ID())
	}
}

// lsLocalOp reports whether op is a NewSession, or the Close of a session
// not upgraded, in a world with local sessions: no session txn commits for
// it (checked by lsEndChecks instead of checkSessionOps).
func (w *World) lsLocalOp(op *opRecord) bool {
	if !w.ls.on {
		return false
	}
	up, ok := w.lsUpgradedAt()[op.sid]
	return op.kind == opNewSession || (op.kind == opClose && w.ls.opened[op.sid] != nil && (!ok || up > op.call))
}

// lsLimbo maps each session an ephemeral create of which had an unknown
// outcome while the session was local to the event time it returned: from
// then on the session is no longer local, and of the ensemble only if its
// CreateSession committed (the engine follows ZooKeeper's upgradeSession).
func (w *World) lsLimbo() map[int64]int64 {
	if w.ls.limbo != nil {
		return w.ls.limbo
	}
	up := w.lsUpgradedAt()
	out := map[int64]int64{}
	for _, op := range w.history {
		at, ok := up[op.sid]
		if (op.kind == opCreate || op.kind == opMulti) && op.out == outUnknown && w.ls.opened[op.sid] != nil &&
			(!ok || at > op.call) && op.ephemeral() {
			if _, seen := out[op.sid]; !seen {
				out[op.sid] = op.ret
			}
		}
	}
	w.ls.limbo = out
	return out
}

// lsUpgradedAt maps each session with a committed CreateSession to the
// event time of its first apply. It runs at the end only (its answer is
// kept).
func (w *World) lsUpgradedAt() map[int64]int64 {
	if w.ls.up != nil {
		return w.ls.up
	}
	out := map[int64]int64{}
	for _, t := range w.ref.chain {
		if !t.failed && t.en.Txn.Type == znode.TxnCreateSession {
			if _, ok := out[t.en.Txn.Session]; !ok {
				out[t.en.Txn.Session] = t.first
			}
		}
	}
	w.ls.up = out
	return out
}

// lsEndChecks checks every call of a world with local sessions (see the
// comment at the top).
func (w *World) lsEndChecks() {
	if !w.ls.on {
		return
	}
	up := w.lsUpgradedAt()
	w.stats.Local.Opened = len(w.ls.opened)
	for id := range w.ls.opened {
		if _, ok := up[id]; ok {
			w.stats.Local.Upgraded++
		}
	}
	for _, op := range w.history {
		info, ok := w.ls.ops[op]
		if !ok {
			continue
		}
		upAt, upgraded := up[op.sid]
		limboAt, limbo := w.lsLimbo()[op.sid]
		local := w.ls.opened[op.sid] != nil && (!upgraded || upAt > op.call) && (!limbo || limboAt > op.call)
		switch {
		case op.kind == opClose && !local && (!upgraded || upAt > op.call):
			// In limbo: its CloseSession may commit, or find nothing.
		case op.kind == opNewSession || op.kind == opClose && local:
			w.lsNoSessionTxn(op)
		case op.kind == opReattach && op.out == outOK:
			w.lsCheckReattach(op, info, up)
		case op.kind == opReattach && op.errName == "expired" && local && op.peer != w.ls.opened[op.sid].peer:
			w.stats.Local.MoveLost++
		case local && (op.kind == opCreate || op.kind == opMulti) && op.ephemeral():
			w.lsCheckEphemeral(op, info)
		}
	}
	w.lsCheckHandles(up)
	w.lsExpiryChecks()
}

// lsNoSessionTxn: a local session's open or close commits nothing.
func (w *World) lsNoSessionTxn(op *opRecord) {
	if op.out != outOK {
		return
	}
	id := op.sid
	if op.kind == opNewSession {
		id = op.newSess.ID()
	}
	for _, t := range w.ref.chain {
		if !t.failed && t.en.Txn.Session == id && t.first > op.call && t.first < op.ret &&
			(t.en.Txn.Type == znode.TxnCreateSession || t.en.Txn.Type == znode.TxnCloseSession) {
			w.failf("%v of local session %#x committed %v as %#x", op, id, t.en.Txn.Type, t.zxid)
		}
	}
}

// lsCheckReattach: a session not upgraded by the time the Reattach returned
// is reattached only where it was opened, on a peer that kept serving.
func (w *World) lsCheckReattach(op *opRecord, info lsOp, up map[int64]int64) {
	rec := w.ls.opened[op.sid]
	if rec == nil {
		return
	}
	if at, ok := up[op.sid]; ok && at < op.ret {
		return // one of the ensemble by then: free to move
	}
	switch {
	case op.peer != rec.peer || op.inc != rec.inc:
		w.failf("%v: local session %#x, opened on peer %d (incarnation %d), survived a move to peer %d (incarnation %d)",
			op, op.sid, rec.peer.id, rec.inc, op.peer.id, op.inc)
	case info.lost != rec.lost:
		w.failf("%v: local session %#x survived its peer %d losing its leader", op, op.sid, rec.peer.id)
	}
}

// lsCheckEphemeral checks an ephemeral create (or a multi with one) of a
// session that was local when it was called.
func (w *World) lsCheckEphemeral(op *opRecord, info lsOp) {
	if op.errName == "notreadonly" {
		return // its peer served it read-only: refused before anything (readonly.go checks it)
	}
	if w.ls.upgrading {
		w.lsCheckUpgrade(op)
		return
	}
	if op.matched || op.out == outOK {
		w.failf("%v: an ephemeral create of local session %#x succeeded without upgrading", op, op.sid)
		return
	}
	if op.kind == opCreate {
		switch op.errName {
		case "ephemeral-local":
			w.stats.Local.Refused++
		case "expired", "closed":
			if !lsEnded(op) {
				w.failf("%v: an ephemeral create of local session %#x returned %q, but the session lives on", op, op.sid, op.errName)
			}
		default:
			w.failf("%v: an ephemeral create of local session %#x returned %q, want EPHEMERALONLOCALSESSION", op, op.sid, op.errName)
		}
		return
	}
	at := op.ephemeralAt()
	if op.out != outFailed || len(op.multiRes) <= at {
		return // refused before it left, or its outcome unknown
	}
	want := zk.ErrSessionExpired
	if info.leading {
		want = zk.ErrEphemeralOnLocalSession
	}
	if got := op.multiRes[at].Err; !errors.Is(got, want) {
		w.failf("%v: a multi of local session %#x answered %v at its ephemeral create (op %d), want %v", op, op.sid, got, at, want)
		return
	}
	w.stats.Local.Refused++
}

// lsCheckUpgrade: an ephemeral create that upgraded its session committed
// after the session's CreateSession, which was applied during the call;
// one that found its session expired ended it.
func (w *World) lsCheckUpgrade(op *opRecord) {
	if op.errName == "expired" {
		if !lsEnded(op) {
			w.failf("%v: the upgrade of local session %#x failed with SESSIONEXPIRED, but the session lives on (%v)", op, op.sid, op.sess.State())
		}
		return
	}
	if !op.matched {
		return
	}
	for _, t := range w.ref.chain {
		if t.zxid >= op.zxid {
			break
		}
		if !t.failed && t.en.Txn.Type == znode.TxnCreateSession && t.en.Txn.Session == op.sid && t.first > op.call {
			return
		}
	}
	w.failf("%v: local session %#x created an ephemeral as %#x without its CreateSession committed before it during the call", op, op.sid, op.zxid)
}

// lsCheckHandles: the handle of a local session whose peer stopped serving
// since it was opened has expired once the peer serves again.
func (w *World) lsCheckHandles(up map[int64]int64) {
	for id, rec := range w.ls.opened {
		p := rec.peer
		if _, limbo := w.lsLimbo()[id]; limbo {
			continue
		}
		if _, ok := up[id]; ok || p.inc != rec.inc || p.ens == nil || w.ls.lost[p.id] == rec.lost || !p.ens.Status().Serving {
			continue
		}
		if st := rec.sess.State(); st != zk.StateExpired && st != zk.StateClosed {
			w.failf("local session %#x of peer %d is %v, though its peer stopped serving since it was opened", id, p.id, st)
			continue
		}
		w.stats.Local.LeaderLost++
	}
}

// lsEnded reports whether op's session has ended by now (or went with its
// peer's incarnation).
func lsEnded(op *opRecord) bool {
	st := op.sess.State()
	return op.peer.inc != op.inc || op.peer.ens == nil || st == zk.StateExpired || st == zk.StateClosed
}

// ephemeral reports whether op creates an ephemeral node (a multi: in one
// of its ops).
func (op *opRecord) ephemeral() bool {
	if op.kind == opCreate {
		return op.mode == zk.ModeEphemeral || op.mode == zk.ModeEphemeralSequential
	}
	return op.ephemeralAt() >= 0
}

// ephemeralAt returns the index of a multi's ephemeral create, or -1.
func (op *opRecord) ephemeralAt() int {
	for i, m := range op.multi {
		if m.ephemeral {
			return i
		}
	}
	return -1
}

// String summarizes the world's local sessions.
func (l *lsWorld) String() string {
	if !l.on {
		return "off"
	}
	return fmt.Sprintf("on upgrading=%v opened=%d", l.upgrading, len(l.opened))
}
