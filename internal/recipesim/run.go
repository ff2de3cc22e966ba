package recipesim

import (
	"errors"

	"fmt"
	"github.com/embedzk/zk"
	"slices"
	"strings"
	"time"
)

// Result is what a run found.
type Result struct {
	Seed     uint64
	Hash     uint64 // of the trace: a seed must give the same hash
	Ticks    int64
	Stats    Stats
	Failures []string
	Tail     string
	Elapsed  time.Duration // real time (the caller measures it: the bubble's clock is fake)
}

// Err summarizes the failures, or returns nil.
func (r *Result) Err() error {
	if len(r.Failures) == 0 {
		return nil
	}
	return errors.New(strings.Join(r.Failures, "\n"))
}

// SimulatedSeconds is the simulated time the run covered.
func (r *Result) SimulatedSeconds() float64 {
	return float64(r.Ticks) * (TickTime / zk.TicksPerTickTime).Seconds()
}

// Bounds, in ticks. After healing every actor must acquire within
// healBound: a hold taken before healing may last up to 1000 ticks, a dead
// session up to 200 (20 TickTimes) before it expires, a leader is elected
// and the peers synced, and the queues move (holds taken after healing are
// short). The quiet phase outlasts every session timeout.
const (
	healBound = 2000
	quiet     = 300
	stopBound = 1000
)

// Run runs one seed. It must be called inside a testing/synctest bubble.
func Run(opts Options) *Result {
	w := newWorld(opts)
	w.spawnActors()
	for w.now < int64(w.opts.Ticks) {
		w.step(!opts.NoFaults)
	}
	w.healAll()
	w.mu.Lock()
	w.heal = w.now
	w.mu.Unlock()
	w.awaitProgress()
	w.stopActors()
	for i := 0; i < quiet; i++ {
		w.step(false)
	}
	w.checkEmpty()
	close(w.finish)
	for i := 0; w.actorsLeft() > 0 && i < stopBound; i++ {
		w.step(false)
	}
	if n := w.actorsLeft(); n > 0 {
		w.failf("%d actors did not finish", n)
	}
	w.close()
	w.actorsWG.Wait()
	return &Result{Seed: opts.Seed, Hash: w.trace.sum(), Ticks: w.now, Stats: w.stats, Failures: w.fails,
		Tail: w.trace.tail()}
}

// awaitProgress: after healing, every actor acquires within healBound.
func (w *World) awaitProgress() {
	for i := 0; i < healBound; i++ {
		if len(w.stalled()) == 0 {
			w.trace.line(w.now, "every actor acquired %d ticks after healing", w.now-w.heal)
			w.stats.HealTicks = max(w.stats.HealTicks, w.now-w.heal)
			return
		}
		w.step(false)
	}
	w.failf("%d ticks after healing, no acquisition by %v", healBound, w.stalled())
}

// stalled lists the holders that did not acquire since healing (for
// leader latches: none did).
func (w *World) stalled() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	latch := false
	for _, h := range w.holders {
		switch {
		case h.kind == kLatch:
			latch = latch || h.lastAcq >= w.heal
		case h.lastAcq < w.heal:
			out = append(out, h.name)
		}
	}
	if !latch {
		out = append(out, "every latch")
	}
	return out
}

// stopActors makes every actor give back what it holds and close its
// Client; their sessions stay open until finish.
func (w *World) stopActors() {
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	for i := 0; i < stopBound && !w.idle(); i++ {
		w.step(false)
	}
	if !w.idle() {
		w.failf("actors still hold after %d ticks of stopping", stopBound)
	}
}

// idle reports whether no actor holds anything.
func (w *World) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !slices.ContainsFunc(w.holders, func(h *holder) bool { return h.lease != nil })
}

func (w *World) actorsLeft() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.actorsUp
}

// checkEmpty: with every actor stopped (sessions open) and every dead
// session expired, no recipe node is left on any peer: deletes were
// guaranteed and nothing outlived its session.
func (w *World) checkEmpty() {
	for _, p := range w.peers {
		if p.ens == nil || p.inspector == nil {
			w.failf("peer %d cannot be inspected at the end", p.id)
			continue
		}
		for _, n := range w.nodesOf(p.inspector) {
			w.failf("peer %d: node %s (session %#x) left after every actor stopped", p.id, n.path, n.owner)
		}
	}
}

// Summary is one line about a run.
func (r *Result) Summary() string {
	return fmt.Sprintf("seed %d: %.0f simulated s, faults %v, %s, %d failures, %v",
		r.Seed, r.SimulatedSeconds(), r.Stats.Faults, r.Stats.String(), len(r.Failures), r.Elapsed.Round(time.Millisecond))
}
