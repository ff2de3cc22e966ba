package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/lincheck"
	"github.com/embedzk/zk/znode"
)

// linTimeout bounds the porcupine check of one key's history; a check
// that times out fails the run.
const linTimeout = 20 * time.Second

// isRegKey reports whether path is one of the register keys.
func isRegKey(path string) bool { return strings.HasPrefix(path, "/r/k") }

// linOps turns the history into lincheck operations on the register keys:
// acknowledged writes and Sync-then-read calls with their call and return
// times; writes whose outcome was unknown, if the log holds them, with the
// time their txn was first applied as their return (the txn took effect by
// then; if the log does not hold them they never took effect and are left
// out); writes that failed with a ZooKeeper error as observations; and,
// for every committed txn no client call accounts for (a session closed by
// expiry deleting its ephemerals, a reaped node), its effect at the time it
// was first applied.
func (w *World) linOps() []lincheck.Op {
	var out []lincheck.Op
	for _, op := range w.history {
		out = append(out, w.linOf(op)...)
	}
	for _, t := range w.ref.chain {
		if t.matched {
			continue
		}
		for _, ch := range t.changes {
			if !isRegKey(ch.Path) {
				continue
			}
			lo := lincheck.Op{Client: -1, Path: ch.Path, Version: -1, Call: t.first, Return: t.first}
			st := w.ref.stateAt(ch.Path, t.zxid)
			switch ch.Type {
			case znode.ChangeCreated:
				lo.Kind, lo.Data = lincheck.Create, st.data
			case znode.ChangeDeleted:
				lo.Kind = lincheck.Delete
			default:
				lo.Kind, lo.Data, lo.NewVersion = lincheck.Set, st.data, st.version
			}
			out = append(out, lo)
		}
	}
	return out
}

// linOf returns the lincheck operations one client call stands for.
func (w *World) linOf(op *opRecord) []lincheck.Op {
	base := lincheck.Op{Client: op.c.id, Path: op.path, Data: op.data, Version: op.version, Call: op.call, Return: op.ret}
	switch {
	case op.kind == opSyncGet && (op.out == outOK || op.errName == "nonode"):
		base.Kind, base.Exists, base.ReadData, base.NewVersion = lincheck.Read, op.exists, string(op.rData), op.stat.Version
		if !op.exists {
			base.Err = lincheck.NoNode
		}
		return []lincheck.Op{base}
	case !op.kind.write():
		return nil
	case op.out == outFailed:
		return failedObservation(op, base)
	case !op.matched:
		return nil // unknown and not in the log: it never happened
	}
	if op.out != outOK {
		base.Return = w.ref.chain[w.ref.index[op.zxid]].first
	}
	if op.kind != opMulti {
		if !isRegKey(op.path) {
			return nil
		}
		base.Kind = linKind(op.kind)
		base.NewVersion = w.ref.stateAt(op.path, op.zxid).version
		if op.out == outOK {
			base.NewVersion = op.stat.Version // what the client was told
		}
		return []lincheck.Op{base}
	}
	var out []lincheck.Op
	for _, m := range op.multi {
		lo := base
		lo.Kind, lo.Path, lo.Data, lo.Version = linKind(m.kind), m.path, m.data, m.version
		lo.NewVersion = w.ref.stateAt(m.path, op.zxid).version
		out = append(out, lo)
	}
	return out
}

// failedObservation is what a write that failed with a ZooKeeper error
// says about its key's state.
func failedObservation(op *opRecord, base lincheck.Op) []lincheck.Op {
	if op.kind == opMulti || !isRegKey(op.path) {
		return nil
	}
	switch op.errName {
	case "nonode":
		base.Err = lincheck.NoNode
	case "exists":
		base.Err = lincheck.NodeExists
	case "badversion":
		base.Err = lincheck.BadVersion
	default:
		return nil // refused before it left: it says nothing
	}
	base.Kind = linKind(op.kind)
	return []lincheck.Op{base}
}

func linKind(k opKind) lincheck.Kind {
	switch k {
	case opCreate:
		return lincheck.Create
	case opSet:
		return lincheck.Set
	case opDelete:
		return lincheck.Delete
	}
	return lincheck.VersionCheck
}

// checkLinearizable checks each register key's history with porcupine.
func (w *World) checkLinearizable() {
	byKey := map[string][]lincheck.Op{}
	for _, op := range w.linOps() {
		byKey[op.Path] = append(byKey[op.Path], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res := lincheck.Check(byKey[k], linTimeout)
		w.stats.LinOps += res.Ops
		w.stats.LinTime += res.Elapsed
		w.stats.LinMaxKey = max(w.stats.LinMaxKey, res.Elapsed)
		switch {
		case res.TimedOut:
			w.failf("linearizability check of %s (%d ops) timed out after %v", k, res.Ops, res.Elapsed)
		case !res.Ok:
			prefix := lincheck.Explain(byKey[k], linTimeout)
			if len(prefix) > 12 {
				prefix = prefix[len(prefix)-12:]
			}
			w.failf("history of %s (%d ops) is not linearizable; the first operation it cannot explain is the last of:\n%s",
				k, res.Ops, describeOps(prefix))
		}
	}
}

// describeOps lists a key's history, sorted by call time, for a report.
func describeOps(ops []lincheck.Op) string {
	ops = append([]lincheck.Op(nil), ops...)
	sort.Slice(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	var b strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&b, "  [%d,%d] c%d %v data=%q v=%d -> err=%q exists=%v data=%q v=%d\n", op.Call, op.Return,
			op.Client, op.Kind, op.Data, op.Version, op.Err, op.Exists, op.ReadData, op.NewVersion)
	}
	return b.String()
}
