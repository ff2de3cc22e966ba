package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	zk "github.com/embedzk/zk"
)

// Result is what a run found.
type Result struct {
	Seed     uint64
	Hash     uint64 // of the whole trace: the same seed must give the same hash
	Ticks    int64  // simulated ticks, heal and quiet phases included
	Faults   string // the fault classes the seed used, with their rates
	Stats    Stats
	Failures []string
	Tail     string // the end of the trace, for a failure report
	Elapsed  time.Duration
	Reconfig ReconfigStats // Options.Reconfig: the membership changes
}

// Err summarizes the failures, or returns nil.
func (r *Result) Err() error {
	if len(r.Failures) == 0 {
		return nil
	}
	return errors.New(strings.Join(r.Failures, "\n"))
}

// SimulatedSeconds is the simulated time the run covered.
func (r *Result) SimulatedSeconds() float64 { return float64(r.Ticks*tickMs) / 1000 }

// Liveness bound: after the faults end, a leader must serve and a write
// must commit within this many ticks (InitLimit is 100 ticks; peers that
// were down must be elected, synced and started).
const healBound = 600

// Run runs one seed: a fault phase of opts.Ticks ticks with the client
// workload, then every fault healed and the liveness bound checked, then a
// quiet phase (longer than any session timeout) so that sessions without a
// client expire, then the end checks. It never panics on a failed check:
// the failures are in the result.
func Run(opts Options) *Result {
	start := time.Now()
	w, err := newWorld(opts)
	if err != nil {
		return &Result{Seed: opts.Seed, Failures: []string{err.Error()}}
	}
	w.trace.line(0, "faults %s", w.faults.describe())
	w.faultPhase()
	res := w.finish()
	res.Elapsed = time.Since(start)
	return res
}

// finish heals everything, checks liveness, lets the ensemble quiesce, runs
// the end checks and closes the world.
func (w *World) finish() *Result {
	w.heal = w.now
	if !w.abort {
		w.healPhase()
	}
	if !w.abort {
		// Removed servers keep serving as non-voting members: retire them
		// before the quiet period, so that their sessions expire in it.
		w.retireRemoved(true)
		w.quietPhase()
		w.retireRemoved(true)
		w.endChecks()
	}
	res := &Result{Seed: w.opts.Seed, Ticks: w.now, Faults: w.faults.describe(), Stats: w.stats, Reconfig: w.rc.stats()}
	w.close()
	res.Hash, res.Failures, res.Tail = w.trace.sum(), w.fails, w.trace.tail()
	return res
}

// faultPhase runs the workload under faults.
func (w *World) faultPhase() {
	for w.now < int64(w.opts.Ticks) && !w.abort {
		if w.ready {
			w.faults.step()
			w.reconfigStep()
		}
		w.step(true)
	}
}

// step runs one tick: restarts, client calls if clients (once the
// workload's roots exist), deliveries, the tick itself.
func (w *World) step(clients bool) {
	w.restartDue(false)
	if !w.ready {
		w.ready = w.setup()
	} else if clients {
		for _, c := range w.shuffledClients() {
			if w.rng.IntN(3) == 0 {
				c.step()
			}
		}
	}
	w.cancelStale()
	for r := 1 + w.rng.IntN(3); r > 0; r-- {
		w.deliverRound(0.8)
	}
	w.tickAll()
	w.pollAll()
	if w.ls.on {
		w.lsPoll()
	}
}

func (w *World) shuffledClients() []*client {
	out := append([]*client(nil), w.clients...)
	w.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// healPhase ends every fault and checks liveness: within healBound ticks a
// leader serves and a fresh session's write commits.
func (w *World) healPhase() {
	w.stopping = true
	w.healAll()
	probe := &client{id: len(w.clients), w: w}
	w.clients = append(w.clients, probe)
	var probed bool
	for w.now-w.heal < healBound && !w.abort {
		w.restartDue(true)
		w.cancelStale()
		if probe.op == nil {
			if probed = w.probe(probe); probed {
				break
			}
		}
		w.drainNetwork(20)
		w.tickAll()
		w.pollAll()
	}
	if !probed && !w.abort {
		w.failf("no write committed within %d ticks of healing every fault", healBound)
	}
	w.trace.line(w.now, "healed after %d ticks", w.now-w.heal)
}

// probe drives the liveness probe: a session on the leader, then a write.
// It reports whether the write was acknowledged.
func (w *World) probe(c *client) bool {
	if last := c.last; last != nil && last.kind == opCreate && last.err == nil {
		return true
	}
	ld := w.leader()
	if ld == nil || ld.busy != nil {
		return false
	}
	if !c.alive() || c.peer != ld {
		c.sess, c.sid = nil, 0
		c.peer = ld
		op := &opRecord{c: c, peer: ld, kind: opNewSession, timeout: 20 * TickTime}
		w.launch(op)
		return false
	}
	c.start(&opRecord{kind: opCreate, path: "/probe", mode: w.lsProbeMode(), data: fmt.Sprintf("v%d", w.nextOp), version: -1})
	return false
}

// quietPhase lets the ensemble run without new calls for longer than any
// session timeout: outstanding calls end, sessions nobody holds expire,
// every peer catches up.
func (w *World) quietPhase() {
	end := w.now + 2*int64(zk.TicksPerTickTime)*21 + 60
	if w.quick {
		end = w.now + 60
	}
	for w.now < end && !w.abort {
		w.restartDue(true)
		w.cancelStale()
		w.drainNetwork(20)
		w.tickAll()
		w.pollAll()
	}
	for _, op := range w.outstanding {
		op.cancel()
	}
	w.settleOrFail()
	w.drainNetwork(50)
}

// endChecks runs the checks that need the whole history.
func (w *World) endChecks() {
	w.checkConverged()
	w.checkLogs()
	w.checkMembers()
	w.resolve()
	w.checkSessionOrder()
	w.checkSessionOps()
	w.checkReads()
	w.checkLinearizable()
	w.checkWatches()
	w.roEndChecks()
	w.lsEndChecks()
	if !w.quick {
		w.checkSessions()
	}
	for _, msg := range w.ref.bad {
		w.failf("%s", msg)
	}
}

// checkConverged: every running peer applied the same history.
func (w *World) checkConverged() {
	for _, p := range w.live() {
		z, d := p.view.Applied()
		if z != w.ref.last {
			w.failf("peer %d ends at %#x, the committed history at %#x (status %+v)", p.id, z, w.ref.last, p.ens.Status())
		}
		if want, _ := w.ref.digestAt(z); want != d {
			w.failf("peer %d ends at %#x with digest %#x, committed %#x", p.id, z, d, want)
		}
	}
}

// checkLogs: every entry of every running peer's log at or below the
// commit point is the committed entry of that zxid, byte for byte.
func (w *World) checkLogs() {
	for _, p := range w.live() {
		after := p.view.LogBase()
		for {
			ents, err := p.view.LogEntries(after, 1<<20)
			if err != nil {
				w.failf("peer %d: reading its log after %#x: %v", p.id, after, err)
				break
			}
			if len(ents) == 0 {
				break
			}
			for _, e := range ents {
				if e.Zxid > w.ref.last {
					continue
				}
				i, ok := w.ref.index[e.Zxid]
				if !ok || string(w.ref.chain[i].raw) != string(e.Data) {
					w.failf("peer %d's log holds %#x, which differs from the committed entry", p.id, e.Zxid)
				}
			}
			after = ents[len(ents)-1].Zxid
		}
	}
}
