//go:build unix

package proctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/lincheck"
)

// checkTimeout bounds lincheck; a check that times out fails the test.
const checkTimeout = 30 * time.Second

// outcome is what finish measured, for the test's own checks and its log.
type outcome struct {
	ops     []*op
	a       *analysis
	dumps   map[int64]*treeDump
	applied int64
	lin     lincheck.Result
}

// finish ends a run and checks it: it heals every peer, waits until they all
// serve, stops the load, waits until the three trees are identical at one
// zxid, stops the peers, reads their logs and op logs, and runs every check
// (logs identical, acknowledged writes committed, unknown outcomes resolved,
// tree = replayed log, sequential nodes, linearizability).
func (c *cluster) finish(ctx context.Context) *outcome {
	c.t.Helper()
	c.heal(ctx)
	c.waitFor(ctx, "every peer serving after healing", func(s map[int64]*statusReply) bool {
		_, ok := serving(s, peerIDs)
		return ok
	})
	c.quiesce(ctx)
	dumps := c.converge(ctx)
	applied := dumps[peerIDs[0]].Applied
	for id, st := range c.statuses(ctx) {
		if st.Err != "" {
			c.t.Errorf("peer %d fail-stopped: %s", id, st.Err)
		}
	}
	c.stopAll(ctx)
	c.checkStderr()

	logs := map[int64][]logEntry{}
	var tail []logEntry
	for _, id := range peerIDs {
		full, err := readLog(c.peerDir(id))
		if err != nil {
			c.t.Fatal(err)
		}
		var after []logEntry
		logs[id], after = splitAt(full, applied)
		tail = append(tail, after...)
	}
	if err := sameLogs(logs); err != nil {
		c.t.Error(err)
	}
	ops, err := readOpLogs(c.opLogs())
	if err != nil {
		c.t.Fatal(err)
	}
	a := analyze(ops, logs[peerIDs[0]], tail)
	for _, id := range peerIDs {
		a.errs = append(a.errs, checkTree(a, dumps[id])...)
	}
	for i, e := range a.errs {
		if i == 20 {
			c.t.Errorf("... and %d more", len(a.errs)-i)
			break
		}
		c.t.Error(e)
	}
	out := &outcome{ops: ops, a: a, dumps: dumps, applied: applied}
	out.lin = c.checkLinearizable(a)
	c.selfCheck(ops, logs[peerIDs[0]], tail, a)
	c.t.Logf("%d ops (%d writes: %d acknowledged, %d unresolved found committed, %d not committed); %d log entries up to %#x",
		len(ops), a.writes, a.acked, a.resolvedIn, a.resolvedOut, len(logs[peerIDs[0]]), applied)
	c.t.Logf("outcomes: %v", outcomeCounts(ops))
	if a.bad > 0 {
		c.t.Logf("%d bad requests sent, %d of them refused by the leader's pipeline (logged as failed no-ops)", a.bad, a.badLogged)
	}
	if a.bareCtx > 0 {
		c.t.Logf("note: %d writes committed although their call returned a bare context error, not ErrOutcomeUnknown", a.bareCtx)
	}
	return out
}

// outcomeCounts counts the operations by outcome, errors by their cause.
func outcomeCounts(ops []*op) map[string]int {
	causes := []struct{ substr, name string }{
		{"outcome unknown", "outcome unknown"}, {"expired", "session expired"},
		{"not serving", "not serving"}, {"deadline", "deadline"}, {"closed", "closed"},
	}
	n := map[string]int{}
	for _, o := range ops {
		key := o.class()
		switch {
		case o.ret == nil:
			key = "no completion (process killed)"
		case o.call.Kind == kindBad:
			key = "bad request " + o.ret.Class
		case o.ret.Class == classZKFail:
			key += " " + o.ret.Code
		case o.ret.Class != classOK:
			key += " other error"
			for _, c := range causes {
				if strings.Contains(o.ret.Err, c.substr) {
					key = o.ret.Class + " " + c.name
					break
				}
			}
		}
		n[key]++
	}
	return n
}

// checkLinearizable runs lincheck on the history; it also writes the
// history to the run directory for inspection.
func (c *cluster) checkLinearizable(a *analysis) lincheck.Result {
	c.t.Helper()
	hist, from := a.linOps()
	if b, err := json.Marshal(hist); err == nil {
		os.WriteFile(filepath.Join(c.dir, "history.json"), b, 0o644)
	}
	res := lincheck.Check(hist, checkTimeout)
	c.t.Logf("lincheck: %d ops checked in %v (ok=%v timedOut=%v)", res.Ops, res.Elapsed.Round(time.Millisecond), res.Ok, res.TimedOut)
	switch {
	case res.TimedOut:
		c.t.Errorf("lincheck timed out after %v on %d ops: counted as a failure", checkTimeout, res.Ops)
	case !res.Ok:
		c.t.Errorf("the history is not linearizable (%d ops; history.json in the run directory)\n%s", res.Ops, diagnose(hist, from))
	}
	return res
}

// workloadPath reports whether p is one of the workload's nodes.
func workloadPath(p string) bool {
	for _, d := range workloadDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// checkTree checks that a peer's final tree is what replaying the committed
// log gives, for every node the workload writes.
func checkTree(a *analysis, d *treeDump) []string {
	var errs []string
	for p, st := range a.final {
		n, ok := d.Nodes[p]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("peer %d: %s is missing from the tree", d.ID, p))
		case !bytes.Equal(n.Data, []byte(st.data)) || n.Stat.Version != st.version:
			errs = append(errs, fmt.Sprintf("peer %d: %s holds %q v%d, the log gives %q v%d", d.ID, p, n.Data, n.Stat.Version, st.data, st.version))
		}
	}
	for p := range d.Nodes {
		if _, ok := a.final[p]; !ok && workloadPath(p) {
			errs = append(errs, fmt.Sprintf("peer %d: %s is in the tree but not in the replayed log", d.ID, p))
		}
	}
	return errs
}

// twins returns the ops of victim's client whose call is the same write as
// victim's (kind, path, data, version: a delete of one key at version -1,
// say), victim included. Their log entries are alike, so when victim's is
// taken out, the analysis may match victim with a twin's entry and report
// the twin, or report victim with whatever that entry says.
func twins(ops []*op, victim *op) []*op {
	var out []*op
	v := victim.call
	for _, o := range ops {
		c := o.call
		if c.Client == v.Client && c.Kind == v.Kind && c.Path == v.Path && c.Data == v.Data && c.Version == v.Version {
			out = append(out, o)
		}
	}
	return out
}

// namesOneOf reports whether an error of errs is about one of ops.
func namesOneOf(errs []string, ops []*op) bool {
	for _, e := range errs {
		for _, o := range ops {
			if strings.HasPrefix(e, fmt.Sprintf("%s op %d: ", o.call.Client, o.call.Op)) {
				return true
			}
		}
	}
	return false
}

// selfCheck proves on this run's own data that the checks can fail: with
// one acknowledged write taken out of the committed log, analyze must
// report it; with one read's data changed to a value nobody wrote, lincheck
// must reject the history.
func (c *cluster) selfCheck(ops []*op, log, tail []logEntry, a *analysis) {
	c.t.Helper()
	rng := rand.New(rand.NewPCG(uint64(c.seed), 0x73656c66))
	var acked, reads []*op
	for _, o := range ops {
		switch {
		case o.isWrite() && o.class() == classOK:
			acked = append(acked, o)
		case o.call.Kind == kindRead && o.class() == classOK:
			reads = append(reads, o)
		}
	}
	if len(acked) == 0 || len(reads) == 0 {
		c.t.Errorf("self-check: %d acknowledged writes and %d successful reads: nothing to mutate", len(acked), len(reads))
		return
	}
	victim := acked[rng.IntN(len(acked))]
	var cut []logEntry
	for _, le := range log {
		if le.zxid != a.zxidOf[victim] {
			cut = append(cut, le)
		}
	}
	if m := analyze(ops, cut, tail); !namesOneOf(m.errs, twins(ops, victim)) {
		c.t.Errorf("self-check: removing the entry of %s op %d (%s %s, acknowledged) from the log went unnoticed (%d other errors)",
			victim.call.Client, victim.call.Op, victim.call.Kind, victim.call.Path, len(m.errs))
	}
	c.selfCheckBad(ops, log, tail, a)
	read := reads[rng.IntN(len(reads))]
	saved := read.ret.ReadData
	read.ret.ReadData = "never-written"
	hist, _ := a.linOps()
	res := lincheck.Check(hist, checkTimeout)
	read.ret.ReadData = saved
	if res.Ok || res.TimedOut {
		c.t.Errorf("self-check: a read of %s returning data nobody wrote was accepted by lincheck (%+v)", read.call.Path, res)
	}
}

// selfCheckBad: with the failed no-op of a bad request the leader refused
// made into a txn that took effect, analyze must report it.
func (c *cluster) selfCheckBad(ops []*op, log, tail []logEntry, a *analysis) {
	c.t.Helper()
	for _, o := range ops {
		z, ok := a.zxidOf[o]
		if o.call.Kind != kindBad || !ok {
			continue
		}
		forged := append([]logEntry(nil), log...)
		for i := range forged {
			if forged[i].zxid == z {
				forged[i].en.Failure = nil
			}
		}
		needle := fmt.Sprintf("%s op %d: bad request %s on %s took effect", o.call.Client, o.call.Op, o.call.Bad, o.call.Path)
		if m := analyze(ops, forged, tail); !strings.Contains(strings.Join(m.errs, "\n"), needle) {
			c.t.Errorf("self-check: a bad request taking effect at %#x went unnoticed", z)
		}
		return
	}
}

// diagnose narrows a non-linearizable history down: for each path whose
// history fails, the shortest prefix (in invocation order) that fails, and
// the operations on that path around its last one.
func diagnose(hist []lincheck.Op, from []*op) string {
	byPath := map[string][]int{}
	for i, o := range hist {
		byPath[o.Path] = append(byPath[o.Path], i)
	}
	var b strings.Builder
	for p, idx := range byPath {
		sub := func(n int) []lincheck.Op {
			out := make([]lincheck.Op, n)
			for i := range out {
				out[i] = hist[idx[i]]
			}
			return out
		}
		if lincheck.Check(sub(len(idx)), checkTimeout).Ok {
			continue
		}
		lo, hi := 1, len(idx) // the shortest failing prefix is in [lo, hi]
		for lo < hi {
			if m := (lo + hi) / 2; lincheck.Check(sub(m), checkTimeout).Ok {
				lo = m + 1
			} else {
				hi = m
			}
		}
		fmt.Fprintf(&b, "%s: the first %d of its %d operations are not linearizable; the last ones:\n", p, lo, len(idx))
		for _, i := range idx[max(0, lo-15):lo] {
			o := from[i]
			ret := "(unresolved: committed, returns at the end)"
			if o.ret != nil && o.resolved() {
				ret = fmt.Sprintf("-> %s %q exists=%v data=%q v%d at %d", o.ret.Class, o.ret.Code, o.ret.Exists, o.ret.ReadData, o.ret.NewVersion, o.ret.Time)
			}
			fmt.Fprintf(&b, "  %s op %d session %#x: %s %s %q v%d at %d %s\n",
				o.call.Client, o.call.Op, o.call.Session, o.call.Kind, o.call.Path, o.call.Data, o.call.Version, o.call.Time, ret)
		}
	}
	return b.String()
}
