package zab

import (
	"flag"
	"fmt"
	"github.com/embedzk/zk/election"
	"testing"
)

var (
	randomSeeds   = flag.Int("zab.seeds", 0, "seeds for TestRandomized (default 100, 20 with -short)")
	randomSeed    = flag.Uint64("zab.seed", 0, "run TestRandomized with this seed only")
	randomVerbose = flag.Bool("zab.verbose", false, "trace every message in TestRandomized")
	randomSteps   = flag.Int("zab.steps", 1500, "steps per seed of TestRandomized")
)

// TestRandomized runs seeded random schedules — message delivery order,
// ticks, proposals, barriers, crashes (also in the middle of a Ready, losing
// what was not persisted, and losing a suffix of the state machine),
// partitions (noticed or silent), broken links, log compaction — while the
// harness checks at every step: at most one established leader per epoch,
// one committed history that every peer applies a prefix of, applied
// entries durable, acks only after their fsync, barriers that return a
// zxid at least as new as what was committed before they started. At the
// end the network heals and every peer must converge on the history.
func TestRandomized(t *testing.T) {
	seeds := *randomSeeds
	if seeds == 0 {
		seeds = 100
		if testing.Short() {
			seeds = 20
		}
	}
	first, last := uint64(1), uint64(seeds)
	if *randomSeed != 0 {
		first, last = *randomSeed, *randomSeed
	}
	total := map[string]int{}
	for seed := first; seed <= last; seed++ {
		runRandom(t, seed, *randomSteps, total, nil)
		if t.Failed() {
			return
		}
	}
	t.Logf("over %d seeds: %v", last-first+1, total)
	// The schedules must exercise what they are meant to: a run where
	// nothing commits or no peer ever truncates would prove nothing.
	if last-first+1 >= 8 {
		for _, k := range []string{"committed", "established", "truncate", "snapshot", "sync ok", "sync failed"} {
			if total[k] == 0 {
				t.Errorf("no %q over %d seeds: the schedules lost their teeth", k, last-first+1)
			}
		}
	}
}

// runRandom runs one seed; q, if set, is the quorum rule over voters 1..6
// (else the voters are 3 or 5 under a majority).
func runRandom(t *testing.T, seed uint64, steps int, total map[string]int, q election.Quorum) {
	vs, obs := voters(3), []int64(nil)
	switch seed % 4 {
	case 1:
		vs = voters(5)
	case 2:
		obs = []int64{9}
	case 3:
		vs, obs = voters(5), []int64{8, 9}
	}
	if q != nil {
		vs = q.Voters()
	}
	h := newHarness(t, seed, vs, obs, func(c *Config) {
		c.Quorum = q
		c.MaxMsgBytes = 24
		c.ElectionFinalize = 1 + int(seed%3)
		c.SyncLimit = 3 + int(seed%5)
		c.InitLimit = c.SyncLimit + 2 + int(seed%4)
		c.HeartbeatInterval = 1 + int(seed/5%2)
	})
	h.lossySM = seed%2 == 0
	h.verbose = *randomVerbose
	h.chunk = 7
	h.paced = seed/3%2 == 0 // half the seeds stream snapshots as the real driver does
	w := &workload{h: h, syncs: map[uint64]int{}}
	h.midReady = func(p *hpeer) {
		// Like the driver answering an app message inside its Ready loop.
		if h.rng.IntN(8) == 0 && p.node.Status().Serving {
			if p.node.Status().Role == RoleLeading {
				w.proposed++
				if _, err := p.node.Propose([]byte(fmt.Sprint("m", w.proposed))); err != nil {
					h.fatalf("propose before Advance: %v", err)
				}
			} else if err := p.node.SendApp(0, []byte("fwd")); err != nil {
				h.fatalf("SendApp before Advance: %v", err)
			}
		}
	}
	for step := 0; step < steps; step++ {
		x := h.rng.IntN(100)
		if (step/150)%2 == 1 && x >= 79 {
			// A calm phase: no faults, so that the ensemble makes progress.
			x = h.rng.IntN(79)
		}
		if x < 79 {
			w.step(x)
		} else {
			h.fault(x)
		}
		h.checkSyncs(w.syncs)
	}
	// Heal, restart everyone, and let the ensemble converge.
	h.midReady = nil
	h.heal()
	for _, id := range h.ids() {
		h.restart(id)
	}
	h.settle()
	h.propose(h.leader(), "final")
	h.run(3)
	h.converged()
	h.checkSyncs(w.syncs)
	h.stats["committed"] = len(h.history)
	for k, v := range h.stats {
		total[k] += v
	}
}

// workload is the normal traffic of a random run.
type workload struct {
	h        *harness
	proposed int
	syncs    map[uint64]int // barrier id -> history length when it started
	nextSync uint64
}

// step delivers a message (x < 45), ticks (< 60), proposes a few entries on
// the serving leader (< 75) or starts a barrier on a serving peer.
func (w *workload) step(x int) {
	h, r := w.h, w.h.rng
	switch {
	case x < 45:
		if ks := h.pending(); len(ks) > 0 {
			k := ks[r.IntN(len(ks))]
			h.deliver(k[0], k[1])
		}
	case x < 60:
		h.tickAll()
	case x < 75:
		if l := h.leader(); l != 0 {
			for i := r.IntN(4); i >= 0; i-- {
				w.proposed++
				if _, err := h.peers[l].node.Propose([]byte(fmt.Sprint("p", w.proposed))); err != nil {
					h.fatalf("propose on the serving leader: %v", err)
				}
			}
			h.process(l)
		}
	default:
		id := h.ids()[r.IntN(len(h.ids()))]
		if p := h.peers[id]; p.node != nil && p.node.Status().Serving {
			w.nextSync++
			if err := p.node.Sync(w.nextSync); err == nil {
				w.syncs[w.nextSync] = len(h.history)
			}
			h.process(id)
		}
	}
}

// fault injects one fault (79 <= x < 100): a crash, restarts, a partition,
// a heal, a broken connection, or a log compaction.
func (h *harness) fault(x int) {
	r := h.rng
	ids := h.ids()
	switch {
	case x < 83:
		h.randomCrash()
	case x < 88:
		for _, id := range ids {
			if h.peers[id].node == nil && r.IntN(2) == 0 {
				h.restart(id)
			}
		}
	case x < 91:
		h.randomPartition()
	case x < 94:
		h.heal()
	case x < 97:
		a, b := ids[r.IntN(len(ids))], ids[r.IntN(len(ids))]
		if a != b {
			h.disconnect(a, b, r.IntN(3))
			h.logf("break %d-%d", a, b)
		}
	default:
		h.peers[ids[r.IntN(len(ids))]].disk.compact()
	}
}

// randomCrash crashes a random live peer, sometimes in the middle of a Ready.
func (h *harness) randomCrash() {
	r := h.rng
	id := h.ids()[r.IntN(len(h.ids()))]
	p := h.peers[id]
	if p.node == nil {
		return
	}
	if p.node.HasReady() && r.IntN(2) == 0 {
		rd := p.node.Ready()
		h.execute(p, rd, r.IntN(len(rd.Persist)+1))
		if p.node != nil {
			h.crash(id)
		}
		return
	}
	h.crash(id)
}

// randomPartition splits the peers in two; sometimes nobody notices at once.
func (h *harness) randomPartition() {
	r := h.rng
	var a, b []int64
	for _, id := range h.ids() {
		if r.IntN(2) == 0 {
			a = append(a, id)
		} else {
			b = append(b, id)
		}
	}
	h.partition(a, b)
}

// checkSyncs: a barrier returns a zxid at least as new as the last entry
// committed (applied anywhere) before it started: Sync-then-read is
// linearizable.
func (h *harness) checkSyncs(syncs map[uint64]int) {
	for _, id := range h.ids() {
		p := h.peers[id]
		for _, s := range p.synced {
			before, ok := syncs[s.ID]
			if !ok {
				h.fatalf("%d: result of unknown barrier %d", id, s.ID)
			}
			delete(syncs, s.ID)
			if s.Err == nil && before > 0 && s.Zxid < h.history[before-1].Zxid {
				h.fatalf("%d: barrier %d returned %#x, but %#x was committed before it started", id, s.ID, s.Zxid, h.history[before-1].Zxid)
			}
		}
		p.synced = nil
	}
}

// settle waits until every peer serves under one leader. A peer that
// promised a newer epoch to a leader that never got established cannot join
// the current one (ZooKeeper's rule); only then the leader is restarted so
// that the next election proposes a newer epoch.
func (h *harness) settle() {
	for attempt := 0; ; attempt++ {
		h.waitFor("a serving leader", 400, func() bool { return h.leader() != 0 })
		l := h.leader()
		ok := true
		h.waitFor("everyone serving", 100, func() bool {
			ok = true
			blocked := false
			for _, id := range h.ids() {
				if h.servesUnder(id, l) {
					continue
				}
				ok = false
				if h.peers[id].disk.state.AcceptedEpoch > h.peers[l].node.Status().Epoch {
					blocked = true
				}
			}
			return ok || blocked
		})
		if ok {
			return
		}
		if attempt > 5 {
			h.fatalf("the ensemble does not converge")
		}
		h.logf("a peer accepted a newer epoch than leader %d's: restart the leader", l)
		h.crash(l)
		h.restart(l)
	}
}

// TestRandomizedDeterministic: a seed replays exactly (same messages, same
// decisions, same log lines), which is what makes a failing seed useful.
func TestRandomizedDeterministic(t *testing.T) {
	traces := make([][]string, 2)
	for i := range traces {
		h := newHarness(t, 7, voters(3), []int64{9}, nil)
		h.verbose, h.maxTrace = true, 1<<30
		w := &workload{h: h, syncs: map[uint64]int{}}
		for step := 0; step < 1500; step++ {
			if x := h.rng.IntN(100); x < 79 {
				w.step(x)
			} else {
				h.fault(x)
			}
		}
		traces[i] = h.trace
	}
	if len(traces[0]) < 300 {
		t.Fatalf("only %d events", len(traces[0]))
	}
	for i := range traces[0] {
		if i >= len(traces[1]) || traces[0][i] != traces[1][i] {
			t.Fatalf("runs diverge at event %d:\n%s\n%s", i, traces[0][i], traces[1][min(i, len(traces[1])-1)])
		}
	}
}
