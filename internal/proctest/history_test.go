//go:build unix

package proctest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/embedzk/zk/internal/lincheck"
	"github.com/embedzk/zk/znode"
)

// regState is a node's state in the replay of the log.
type regState struct {
	data    string
	version int32
}

// analysis is a history matched against the committed log.
type analysis struct {
	ops          []*op
	zxidOf       map[*op]int64       // writes found committed (acknowledged or resolved)
	versionAfter map[int64]int32     // SetData entries: the node's version after
	final        map[string]regState // every existing node the workload wrote, after the whole log
	seqPaths     []string            // sequential nodes, in commit order
	errs         []string

	acked, resolvedIn, resolvedOut, writes int
	// bad counts the bad requests sent; badLogged those the leader
	// refused in its pipeline (logged as failed no-ops).
	bad, badLogged int
	// bareCtx counts writes that committed although their call returned a
	// context error that is not ErrOutcomeUnknown.
	bareCtx int
}

func (a *analysis) errorf(format string, args ...any) {
	a.errs = append(a.errs, fmt.Sprintf(format, args...))
}

// clientTxn reports whether t is a client's write (as opposed to session
// housekeeping and the leader's own entries).
func clientTxn(t *znode.Txn) bool {
	return t.Session != 0 && t.Type != znode.TxnCreateSession && t.Type != znode.TxnCloseSession
}

// analyze matches ops against the committed log (and checks that nothing a
// client wrote committed after it, in tail).
func analyze(ops []*op, log, tail []logEntry) *analysis {
	a := &analysis{ops: ops, zxidOf: map[*op]int64{}}
	a.replay(log)
	bySession := map[int64][]logEntry{}
	for _, le := range log {
		if clientTxn(le.en.Txn) {
			bySession[le.en.Txn.Session] = append(bySession[le.en.Txn.Session], le)
		}
	}
	for _, le := range tail {
		if clientTxn(le.en.Txn) {
			a.errorf("a client write committed after the final dump: %#x %s", le.zxid, describeTxn(le.en.Txn))
		}
	}
	opsBySession := map[int64][]*op{}
	for _, o := range ops {
		if o.call.Kind == kindBad {
			a.bad++
			if o.class() == classBadWrong {
				a.errorf("%s op %d: bad request %s on %s got %q, not its clear error", o.call.Client, o.call.Op, o.call.Bad, o.call.Path, o.ret.Err)
			}
		}
		if o.isWrite() {
			opsBySession[o.call.Session] = append(opsBySession[o.call.Session], o)
			a.writes++
		}
	}
	for s, sops := range opsBySession {
		sort.Slice(sops, func(i, j int) bool { return sops[i].call.Op < sops[j].call.Op })
		if sops[0].call.Client != sops[len(sops)-1].call.Client {
			a.errorf("session %#x used by two clients: %s and %s", s, sops[0].call.Client, sops[len(sops)-1].call.Client)
			continue
		}
		a.matchSession(s, sops, bySession[s])
	}
	for s, les := range bySession {
		if opsBySession[s] == nil {
			a.errorf("session %#x wrote %d entries (first %#x %s) but no client used it", s, len(les), les[0].zxid, describeTxn(les[0].en.Txn))
		}
	}
	a.checkSeq()
	return a
}

// matchSession walks one session's writes and its committed entries in
// order: every acknowledged write must be the next entry; an unresolved
// write is committed if it is; nothing else may be there.
func (a *analysis) matchSession(s int64, sops []*op, les []logEntry) {
	j := 0
	for _, o := range sops {
		if j < len(les) && matches(o, les[j].en.Txn) {
			a.matched(o, les[j])
			j++
			continue
		}
		switch o.class() {
		case classOK, classZKFail:
			next := "nothing"
			if j < len(les) {
				next = fmt.Sprintf("%#x %s", les[j].zxid, describeTxn(les[j].en.Txn))
			}
			what := "acknowledged"
			if o.class() == classZKFail {
				what = "failed (" + o.ret.Code + ")"
			}
			a.errorf("%s op %d: %s %s %s %q is not in the committed log of session %#x (next entry of the session: %s)",
				o.call.Client, o.call.Op, what, o.call.Kind, o.call.Path, o.call.Data, s, next)
		default:
			a.resolvedOut++
		}
	}
	for ; j < len(les); j++ {
		a.errorf("session %#x: committed entry %#x %s matches none of its client's writes", s, les[j].zxid, describeTxn(les[j].en.Txn))
	}
}

// matched checks an op against the log entry it matched. Since failed
// writes are logged too (as no-ops carrying the failure), an entry records
// whether the write took effect.
func (a *analysis) matched(o *op, le logEntry) {
	failed := len(le.en.Failure) > 0
	z := le.zxid
	if o.call.Kind == kindBad {
		a.badLogged++
		a.zxidOf[o] = z
		if !failed {
			a.errorf("%s op %d: bad request %s on %s took effect at %#x", o.call.Client, o.call.Op, o.call.Bad, o.call.Path, z)
		}
		return
	}
	switch o.class() {
	case classOK:
		if failed {
			a.errorf("%s op %d: %s %s acknowledged, but the log records it as failed at %#x", o.call.Client, o.call.Op, o.call.Kind, o.call.Path, z)
			return
		}
		a.zxidOf[o] = z
		a.acked++
		if o.call.Kind == kindSet && o.ret.NewVersion != a.versionAfter[z] {
			a.errorf("%s op %d: set %s returned version %d, the log makes it %d", o.call.Client, o.call.Op, o.call.Path, o.ret.NewVersion, a.versionAfter[z])
		}
	case classZKFail:
		if !failed {
			a.errorf("%s op %d: %s %s failed with %q but took effect at %#x", o.call.Client, o.call.Op, o.call.Kind, o.call.Path, o.ret.Err, z)
		}
	case classOther: // e.g. session expired: fine if the log says it failed too
		if !failed {
			a.errorf("%s op %d: %s %s failed with %q but committed at %#x", o.call.Client, o.call.Op, o.call.Kind, o.call.Path, o.ret.Err, z)
		}
	default: // the client never learned the outcome: the log tells
		if failed {
			a.resolvedOut++
			return
		}
		a.zxidOf[o] = z
		a.resolvedIn++
		if o.ret != nil && !strings.Contains(o.ret.Err, "outcome unknown") {
			a.bareCtx++
		}
	}
}

// matches reports whether the committed txn t is operation o.
func matches(o *op, t *znode.Txn) bool {
	c := o.call
	switch c.Kind {
	case kindCreate, kindUnique:
		return t.Type == znode.TxnCreate && t.Mode == znode.ModePersistent && t.Path == c.Path && string(t.Data) == c.Data
	case kindSeq:
		ok := t.Type == znode.TxnCreate && t.Mode == znode.ModePersistentSequential &&
			strings.HasPrefix(t.Path, c.Path) && string(t.Data) == c.Data
		return ok && (o.class() != classOK || t.Path == o.ret.Created)
	case kindSet:
		return t.Type == znode.TxnSetData && t.Path == c.Path && string(t.Data) == c.Data && t.Version == c.Version
	case kindDelete:
		return t.Type == znode.TxnDelete && t.Path == c.Path && t.Version == c.Version
	case kindBad:
		return matchesBad(c, t)
	}
	return false
}

func describeTxn(t *znode.Txn) string {
	return fmt.Sprintf("{type %d session %#x path %s data %q version %d}", t.Type, t.Session, t.Path, t.Data, t.Version)
}

// replay runs the log's creates, sets and deletes over a map of nodes.
func (a *analysis) replay(log []logEntry) {
	a.versionAfter = map[int64]int32{}
	a.final = map[string]regState{}
	var config regState // /zookeeper/config
	for _, le := range log {
		t := le.en.Txn
		if len(le.en.Failure) > 0 {
			continue // a write that failed: logged, applied as a no-op
		}
		switch t.Type {
		case znode.TxnCreate:
			if _, ok := a.final[t.Path]; ok {
				a.errorf("%#x creates %s, which exists", le.zxid, t.Path)
			}
			a.final[t.Path] = regState{data: string(t.Data)}
			if t.Mode == znode.ModePersistentSequential {
				a.seqPaths = append(a.seqPaths, t.Path)
			}
		case znode.TxnSetData:
			st, ok := a.final[t.Path]
			if t.Path == znode.ConfigPath {
				// The built-in node, written by the first leader (the static
				// configuration) and by reconfigs; no workload writes it.
				st, ok = config, true
			}
			if !ok || (t.Version != -1 && t.Version != st.version) {
				a.errorf("%#x sets %s at version %d, which the log does not allow (exists %v, version %d)", le.zxid, t.Path, t.Version, ok, st.version)
			}
			st = regState{data: string(t.Data), version: st.version + 1}
			if t.Path == znode.ConfigPath {
				config = st
				continue
			}
			a.final[t.Path] = st
			a.versionAfter[le.zxid] = st.version
		case znode.TxnDelete:
			st, ok := a.final[t.Path]
			if !ok || (t.Version != -1 && t.Version != st.version) {
				a.errorf("%#x deletes %s at version %d, which the log does not allow (exists %v, version %d)", le.zxid, t.Path, t.Version, ok, st.version)
			}
			delete(a.final, t.Path)
		case znode.TxnCreateSession, znode.TxnCloseSession, znode.TxnNoop:
		default:
			a.errorf("%#x: unexpected entry %s", le.zxid, describeTxn(t))
		}
	}
}

// seqNumber parses the sequence suffix of a sequential node.
func seqNumber(path string) (int64, error) {
	return strconv.ParseInt(strings.TrimPrefix(path, seqPrefix), 10, 64)
}

// checkSeq checks the sequential nodes: unique and increasing in commit
// order, and increasing in real time (a create that returned before another
// was called has the smaller number).
func (a *analysis) checkSeq() {
	last := int64(-1)
	for _, p := range a.seqPaths {
		n, err := seqNumber(p)
		if err != nil || n <= last {
			a.errorf("sequential node %s does not follow %d in commit order (%v)", p, last, err)
		}
		last = n
	}
	var acked []*op
	for _, o := range a.ops {
		if o.call.Kind == kindSeq && o.class() == classOK {
			acked = append(acked, o)
		}
	}
	byReturn := append([]*op(nil), acked...)
	sort.Slice(byReturn, func(i, j int) bool { return byReturn[i].ret.Time < byReturn[j].ret.Time })
	byCall := append([]*op(nil), acked...)
	sort.Slice(byCall, func(i, j int) bool { return byCall[i].call.Time < byCall[j].call.Time })
	maxBefore, maxPath, i := int64(-1), "", 0
	for _, b := range byCall {
		for ; i < len(byReturn) && byReturn[i].ret.Time < b.call.Time; i++ {
			if n, _ := seqNumber(byReturn[i].ret.Created); n > maxBefore {
				maxBefore, maxPath = n, byReturn[i].ret.Created
			}
		}
		if n, err := seqNumber(b.ret.Created); err != nil || n <= maxBefore {
			a.errorf("%s op %d created %s after %s had returned (%v)", b.call.Client, b.call.Op, b.ret.Created, maxPath, err)
		}
	}
}

// linOps is the history for lincheck: resolved operations with their
// outcome, unresolved writes found committed with the log's outcome and a
// return at the end of the history; the rest (unresolved reads, writes not
// committed) dropped. Sequential creates (each on its own new path) are
// checked by checkSeq instead.
// The second slice holds the operation each one comes from.
func (a *analysis) linOps() ([]lincheck.Op, []*op) {
	var end int64
	clients := map[string]int{}
	for _, o := range a.ops {
		end = max(end, o.call.Time)
		if o.ret != nil {
			end = max(end, o.ret.Time)
		}
		if _, ok := clients[o.call.Client]; !ok {
			clients[o.call.Client] = len(clients)
		}
	}
	var out []lincheck.Op
	var from []*op
	for _, o := range a.ops {
		c := o.call
		lo := lincheck.Op{Client: clients[c.Client], Path: c.Path, Data: c.Data, Version: c.Version, Call: c.Time}
		switch c.Kind {
		case kindCreate, kindUnique:
			lo.Kind = lincheck.Create
		case kindSet:
			lo.Kind = lincheck.Set
		case kindDelete:
			lo.Kind = lincheck.Delete
		case kindRead:
			lo.Kind = lincheck.Read
		default:
			continue
		}
		switch z, committed := a.zxidOf[o]; {
		case o.resolved():
			lo.Return, lo.Err = o.ret.Time, o.ret.Code
			lo.Exists, lo.ReadData, lo.NewVersion = o.ret.Exists, o.ret.ReadData, o.ret.NewVersion
		case committed:
			lo.Return, lo.NewVersion = end+1, a.versionAfter[z]
		default:
			continue
		}
		out = append(out, lo)
		from = append(from, o)
	}
	return out, from
}
