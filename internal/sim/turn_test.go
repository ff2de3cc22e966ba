package sim

import (
	"strings"
	"testing"
)

// TestSyncGetCrashSameStep: a Sync+Get on the leader whose Sync is
// answered in the very step (Barrier) in which the leader then crashes at
// a log write: the follower's ping that completes the Sync's round and a
// write of another client are handled in the same step. The Get must not
// race the crash: it waits for the world's turn (settle), which comes
// after the world carried the crash out, so it fails "closed", every
// time. Before the turn it ran on its own goroutine while the world closed
// the peer, and returned data, "notserving" or "closed" by goroutine
// timing (seed 219 of TestSim -reconfig did not replay).
func TestSyncGetCrashSameStep(t *testing.T) {
	const runs = 10
	for i := 0; i < runs; i++ {
		s := newScenario(t, Options{Voters: 3, Observers: -1})
		get := s.syncGetThenCrash()
		tail := s.trace.tail()
		s.close()
		if !strings.Contains(tail, "why=crash before write /zk/log") {
			t.Fatalf("run %d: the leader did not crash at its log write:\n%s", i, tail)
		}
		if get.errName != "closed" {
			t.Fatalf("run %d: the Get after a Sync answered in the crash's step returned err=%q data=%q, want closed (the crash comes first)\n%s",
				i, get.errName, get.rData, tail)
		}
	}
}

// syncGetThenCrash drives the world by hand to the step described above
// and returns the Sync+Get once it returned.
func (s *scenario) syncGetThenCrash() *opRecord {
	s.t.Helper()
	ld := s.leaderPeer()
	c, c2 := s.clients[0], s.clients[1]
	s.session(c, ld)
	s.session(c2, ld)
	s.write(c2, regKey(0))
	s.drainNetwork(50)
	get := &opRecord{kind: opSyncGet, path: regKey(0), version: -1}
	c.start(get)
	s.control(ld, false) // the leader registers the Sync's barrier
	s.settleOrFail()
	for i := 0; !s.pendingFrom(ld.id); i++ { // its next ping round carries it
		if i == 100 {
			s.t.Fatalf("the leader sent no ping in 100 ticks\n%s", s.trace.tail())
		}
		s.now++
		s.control(ld, true)
		s.settleOrFail()
	}
	for _, f := range s.live() {
		if f != ld {
			s.deliverTo(f) // the followers answer the ping
		}
	}
	c2.start(&opRecord{kind: opSet, path: regKey(0), data: "late", version: -1})
	ld.fsPlan = fsPlan{kind: fsCrash, op: OpWrite, prefix: "/zk/log", until: 1 << 62, label: "crash-at-log-write"}
	s.deliverTo(ld) // the answers complete the Sync's round; then the Set's append crashes
	if c.op != nil {
		s.t.Fatalf("the Sync+Get did not return in the leader's step\n%s", s.trace.tail())
	}
	return get
}

// pendingFrom reports whether a frame from id waits in the network.
func (s *scenario) pendingFrom(id int64) bool {
	for _, pd := range s.net.Pending() {
		if pd.From == id {
			return true
		}
	}
	return false
}

// deliverTo delivers everything pending for p, then lets p handle it in
// one step.
func (s *scenario) deliverTo(p *simPeer) {
	for delivered := true; delivered; {
		delivered = false
		for _, pd := range s.net.Pending() {
			if pd.To == p.id && s.deliver(pd) {
				delivered = true
			}
		}
	}
	s.control(p, false)
	s.settleOrFail()
}

// TestReattachTurns: two sessions move to one follower at once. Each
// Reattach is a sync round and then a revalidation at the leader; the
// second request waits for the call's turn (hooks.BetweenRequests), so
// calls whose syncs end in the same step queue their revalidations in the
// seed's order, not their goroutines' (a CI run of TestSimReconfigPolicy
// took another course under load, and a seed of -reconfig, run four times
// at once in one process, did not replay). With SabotageNoTurn the world
// gives no turn there, and checkQueued catches the revalidation queued
// while other goroutines may run.
func TestReattachTurns(t *testing.T) {
	want := []string{"outside its start and its turn"}
	expectFailure(t, want, Options{Voters: 3, Observers: -1, Sabotage: SabotageNoTurn}, func(s *scenario) {
		ld := s.leaderPeer()
		f := s.follower()
		a, b := s.clients[0], s.clients[1]
		s.session(a, ld)
		s.session(b, ld)
		var moves []*opRecord
		for _, c := range []*client{a, b} {
			c.sess = nil
			op := &opRecord{c: c, peer: f, kind: opReattach, sid: c.sid, password: c.password}
			moves = append(moves, op)
			s.launch(op)
		}
		s.until("both re-attaches", 100, func() bool { return a.op == nil && b.op == nil })
		for _, op := range moves {
			if op.err != nil {
				s.t.Fatalf("%v: %v", op, op.err)
			}
		}
	})
}
