package sim

import (
	"sort"
	"strings"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/znode"
)

// txnKey identifies a committed write that carries no unique data: a delete
// by its session, path and expected version.
type txnKey struct {
	session int64
	path    string
	version int32
}

// resolve matches every client write to the committed txn it became, if
// any, using the unique data each write carries (deletes: session, path
// and version, first committed after the call). Then: an acknowledged
// write must be committed; a write that definitely failed must not be; a
// write whose outcome was unknown takes the outcome the log says; and no
// write is committed twice, nor without a client asking for it.
func (w *World) resolve() {
	ref := w.ref
	byData := map[string]int{}
	byKey := map[txnKey][]int{}
	for i, t := range ref.chain {
		if t.failed {
			continue
		}
		for _, d := range txnData(t.en.Txn) {
			if j, dup := byData[d]; dup {
				w.failf("the write %q committed twice: at %#x and %#x", d, ref.chain[j].zxid, t.zxid)
			}
			byData[d] = i
		}
		if t.en.Txn.Type == znode.TxnDelete {
			k := txnKey{t.en.Txn.Session, t.en.Txn.Path, t.en.Txn.Version}
			byKey[k] = append(byKey[k], i)
		}
	}
	ops := append([]*opRecord(nil), w.history...)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call < ops[j].call })
	// Deletes carry nothing unique: an acknowledged one takes the txn
	// committed within its call (a session has one call at a time), then an
	// unknown one the first txn committed after its call. A delete that
	// failed is not matched: nothing tells its txn from a later one's.
	for _, pass := range []outcome{outOK, outUnknown} {
		for _, op := range ops {
			if op.kind != opDelete || op.out != pass {
				continue
			}
			i, found := -1, false
			for _, j := range byKey[txnKey{op.sid, op.path, op.version}] {
				t := ref.chain[j]
				if !t.matched && t.first > op.call && (pass != outOK || t.first < op.ret) {
					i, found = j, true
					break
				}
			}
			w.judge(op, i, found)
		}
	}
	for _, op := range ops {
		if op.kind.write() && op.kind != opDelete {
			i, found := byData[writeData(op)]
			w.judge(op, i, found)
		}
	}
	w.matchReconfigs()
	for _, t := range ref.chain {
		if !t.matched && !t.failed && clientWrite(t.en.Txn) {
			w.failf("txn %#x (%v %s) committed, but no client call asked for it", t.zxid, t.en.Txn.Type, t.en.Txn.Path)
		}
	}
}

// judge checks one write against what the log says of it.
func (w *World) judge(op *opRecord, i int, found bool) {
	if !found {
		if op.out == outOK {
			w.failf("acknowledged write lost: %v data=%q", op, op.data)
		}
		return
	}
	t := w.ref.chain[i]
	t.matched = true
	op.matched, op.zxid = true, t.zxid
	switch {
	case t.en.Txn.Session != op.sid:
		w.failf("%v committed as %#x under session %#x, it ran in %#x", op, t.zxid, t.en.Txn.Session, op.sid)
	case op.out == outFailed:
		w.failf("%v failed with %q but committed as %#x", op, op.errName, t.zxid)
	case t.first < op.call:
		w.failf("%v committed as %#x before it was called", op, t.zxid)
	case op.out == outOK && t.first > op.ret:
		w.failf("%v returned before its txn %#x was applied anywhere", op, t.zxid)
	case op.out == outOK && (op.kind == opCreate || op.kind == opSet) && op.stat.Mzxid != t.zxid:
		w.failf("%v returned a Stat with mzxid %#x, its txn is %#x", op, op.stat.Mzxid, t.zxid)
	case op.out == outOK && op.kind == opCreate && op.rPath != t.en.Txn.Path:
		w.failf("%v returned path %s, its txn created %s", op, op.rPath, t.en.Txn.Path)
	}
}

// txnData returns the unique data of the client writes in txn.
func txnData(txn *znode.Txn) []string {
	switch txn.Type {
	case znode.TxnCreate, znode.TxnSetData:
		if len(txn.Data) > 0 && txn.Data[0] == 'v' {
			return []string{string(txn.Data)}
		}
	case znode.TxnMulti:
		if len(txn.Ops) > 0 && len(txn.Ops[0].Data) > 0 {
			return []string{"multi:" + string(txn.Ops[0].Data)}
		}
	}
	return nil
}

// writeData is the key txnData gives op's txn.
func writeData(op *opRecord) string {
	if op.kind == opMulti {
		return "multi:" + op.multi[0].data
	}
	return op.data
}

// clientWrite reports whether txn is a write only a client asks for.
func clientWrite(txn *znode.Txn) bool {
	switch txn.Type {
	case znode.TxnCreate, znode.TxnSetData, znode.TxnDelete, znode.TxnMulti:
		return true
	}
	return false
}

// checkReads checks every plain read (no Sync) against the committed state
// at exactly the zxid its peer had applied when it ran (the peers do
// nothing between the simulation's steps), and that each handle's reads
// never go back in time nor miss its own acknowledged writes.
func (w *World) checkReads() {
	type handleKey struct{ client, handle int }
	seen := map[handleKey]int64{}
	for _, op := range w.history {
		k := handleKey{op.c.id, op.handle}
		switch {
		case op.kind.write() && op.out == outOK && op.matched:
			seen[k] = max(seen[k], op.zxid)
		case op.kind.plainRead() && (op.out == outOK || op.errName == "nonode"):
			if op.applied < seen[k] {
				w.failf("%v read the state at %#x, older than %#x which its session had seen or written", op, op.applied, seen[k])
			}
			seen[k] = max(seen[k], op.applied)
			w.checkRead(op)
		}
	}
}

func (w *World) checkRead(op *opRecord) {
	if op.kind == opChildren || op.kind == opChildrenW {
		want := w.ref.childrenAt(op.path, op.applied)
		if strings.Join(want, ",") != strings.Join(op.children, ",") {
			w.failf("%v at %#x returned children %v, the committed state has %v", op, op.applied, op.children, want)
		}
		return
	}
	st := w.ref.stateAt(op.path, op.applied)
	switch {
	case st.exists != op.exists:
		w.failf("%v at %#x: exists=%v, committed state exists=%v", op, op.applied, op.exists, st.exists)
	case !st.exists:
	case op.stat.Version != st.version:
		w.failf("%v at %#x: version %d, committed %d", op, op.applied, op.stat.Version, st.version)
	case (op.kind == opGet || op.kind == opGetW) && string(op.rData) != st.data:
		w.failf("%v at %#x: data %q, committed %q", op, op.applied, op.rData, st.data)
	}
}

// checkSessions runs at the end, after the quiet period: no ephemeral node
// outlives its session, and every session that no live handle keeps alive
// has expired.
func (w *World) checkSessions() {
	sessions, err := w.ref.tree.Sessions()
	if err != nil {
		w.failf("reading the reference sessions: %v", err)
		return
	}
	known := map[int64]bool{}
	for _, s := range sessions {
		known[s.ID] = true
	}
	for path, sts := range w.ref.states {
		st := sts[len(sts)-1]
		if st.exists && st.owner > 0 && !known[st.owner] { // containers and TTL nodes have negative markers
			w.failf("ephemeral %s outlives its session %#x", path, st.owner)
		}
	}
	held := map[int64]bool{}
	for _, h := range w.handles {
		if h.peer.inc == h.inc && h.peer.ens != nil {
			if st := h.sess.State(); st == zk.StateConnected || st == zk.StateDisconnected {
				held[h.sess.ID()] = true
			}
		}
	}
	for _, s := range sessions {
		if !held[s.ID] {
			w.failf("session %#x is held by no live handle but has not expired", s.ID)
		}
	}
}

// handleRec is a session handle some client got: it keeps its session
// alive while its peer incarnation runs, even once the client moved on
// (zk has no call to detach a handle without closing the session).
type handleRec struct {
	sess *zk.Session
	peer *simPeer
	inc  int
}

// checkSessionOrder checks ZooKeeper's FIFO client order: a session's
// writes that committed did so in the order its client called them, across
// handles on different peers too (a write the client gave up on, still on
// its way from the peer it left, must not commit after one it sent
// through the next peer: the leader refuses it with SESSIONMOVED). A
// delete whose outcome was unknown is left out: nothing tells its txn
// from a later delete's of the same path and version.
func (w *World) checkSessionOrder() {
	last := map[int64]*opRecord{}
	ops := append([]*opRecord(nil), w.history...)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call < ops[j].call })
	for _, op := range ops {
		if !op.kind.write() || !op.matched || (op.kind == opDelete && op.out == outUnknown) {
			continue
		}
		if prev := last[op.sid]; prev != nil && prev.zxid > op.zxid {
			w.failf("session %#x: %v committed as %#x, before %v called earlier (%#x)", op.sid, op, op.zxid, prev, prev.zxid)
		}
		last[op.sid] = op
	}
}

// checkSessionOps: every acknowledged NewSession, Close and ExpireSession
// is a session txn of the committed history, first applied during the call.
func (w *World) checkSessionOps() {
	for _, op := range w.history {
		if op.out != outOK || w.roLocalOp(op) || w.lsLocalOp(op) {
			continue
		}
		var typ znode.TxnType
		var id int64
		switch op.kind {
		case opNewSession:
			typ, id = znode.TxnCreateSession, op.newSess.ID()
		case opClose:
			typ, id = znode.TxnCloseSession, op.sid
		case opExpire:
			typ, id = znode.TxnCloseSession, op.target
		default:
			continue
		}
		found := false
		for _, t := range w.ref.chain {
			if !t.failed && t.en.Txn.Type == typ && t.en.Txn.Session == id && t.first > op.call && t.first < op.ret {
				found = true
				break
			}
		}
		if !found {
			w.failf("%v was acknowledged, but no %v of session %#x was applied during the call", op, typ, id)
		}
	}
}
