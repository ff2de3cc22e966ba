package sim

import (
	"fmt"
	"strings"
	"testing"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/lincheck"
	"github.com/embedzk/zk/znode"
)

// These tests show that each check of the simulation fails when what it
// checks is broken: a sabotage (see Sabotage) breaks a guarantee on
// purpose, the same scenario passes without it.

func TestCheckCatchesLyingDisk(t *testing.T) {
	// Acknowledged writes survive, and acks claim only what is durable: a
	// disk that lies about fsync, then every peer crashing, breaks both.
	expectFailure(t, []string{"acknowledged", "does not start"}, Options{Voters: 3, Observers: -1, Sabotage: SabotageLyingFsync}, func(s *scenario) {
		s.run(150, true)
		for _, p := range s.live() {
			s.crashNow(p, 0)
		}
	})
}

func TestCheckCatchesStaleSyncRead(t *testing.T) {
	// Sync-then-read is linearizable: without the Sync, a follower cut off
	// from its leader (but not yet aware of it) answers stale data.
	expectFailure(t, []string{"not linearizable"}, Options{Voters: 3, Observers: -1, Sabotage: SabotageSkipSync}, func(s *scenario) {
		ld := s.leaderPeer()
		f := s.follower()
		cl, cf := s.clients[0], s.clients[1]
		s.session(cl, ld)
		s.session(cf, f)
		s.write(cl, regKey(0))
		s.until("the follower to apply it", 100, func() bool { z, _ := f.view.Applied(); return z == s.ref.last })
		// The leader's frames to f are held back (f does not notice for
		// SyncLimit ticks); the write commits with the other follower.
		s.faults.delays[transportLink(ld.id, f.id)] = s.now + 30
		s.write(cl, regKey(0))
		s.call(cf, &opRecord{kind: opSyncGet, path: regKey(0), version: -1})
	})
}

func TestCheckCatchesDivergence(t *testing.T) {
	// Every peer applies the committed history: a follower that gets an
	// altered proposal (with no digest for zk to check) diverges.
	expectFailure(t, []string{"divergence"}, Options{Voters: 3, Observers: -1, Sabotage: SabotageCorruptEntry, SabotagePeer: 2}, func(s *scenario) {
		s.run(200, true)
	})
}

func TestCheckCatchesNoLiveness(t *testing.T) {
	// After healing, a leader serves and a write commits within the bound.
	expectFailure(t, []string{"no write committed within"}, Options{Voters: 3, Observers: -1, Sabotage: SabotageBlackHole}, func(s *scenario) {
		s.run(50, true)
		s.crashNow(s.leaderPeer(), 100) // a new election is needed after healing
	})
}

func TestCheckCatchesWrongRead(t *testing.T) {
	// A plain read equals the committed state at the zxid its peer applied.
	expectFailure(t, []string{"committed"}, Options{Voters: 3, Observers: -1, Sabotage: SabotageTamperRead}, func(s *scenario) {
		ld := s.leaderPeer()
		c := s.clients[0]
		s.session(c, ld)
		s.write(c, regKey(1))
		s.call(c, &opRecord{kind: opGet, path: regKey(1), version: -1})
	})
}

func TestCheckCatchesLostWatchEvent(t *testing.T) {
	// A one-shot watch fires for the first change after it was set.
	expectFailure(t, []string{"never fired"}, Options{Voters: 3, Observers: -1, Sabotage: SabotageDropEvent}, func(s *scenario) {
		ld := s.leaderPeer()
		c, d := s.clients[0], s.clients[1]
		s.session(c, ld)
		s.session(d, ld)
		s.write(c, regKey(2))
		s.call(c, &opRecord{kind: opGetW, path: regKey(2), version: -1})
		s.write(d, regKey(2))
	})
}

func TestCheckOneLeaderPerEpoch(t *testing.T) {
	s := newScenario(t, Options{Voters: 3, Observers: -1})
	ld := s.leaderPeer()
	st := ld.ens.Status()
	other := s.follower()
	s.observeStatus(other, zk.Status{Mode: zk.ModeLeading, Serving: true, Epoch: st.Epoch}) // injected
	if !strings.Contains(strings.Join(s.fails, "\n"), "two leaders established in epoch") {
		t.Errorf("a second leader of epoch %d went unnoticed: %v", st.Epoch, s.fails)
	}
	s.fails = nil
	s.finish()
}

func TestCheckSequenceNumbers(t *testing.T) {
	r, err := newReference()
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	r.checkSequence(1, "/s/p-0000000004")
	r.checkSequence(2, "/s/e-0000000005")
	if len(r.bad) != 0 {
		t.Fatalf("increasing sequence numbers reported: %v", r.bad)
	}
	r.checkSequence(3, "/s/p-0000000005") // a duplicate
	r.checkSequence(4, "/s/p-0000000003") // going back
	if len(r.bad) != 2 {
		t.Fatalf("a duplicate and a decreasing sequence number: got %v", r.bad)
	}
}

func TestCheckEphemeralOutlivesSession(t *testing.T) {
	s := newScenario(t, Options{Voters: 3, Observers: -1})
	// Injected: the committed state shows an ephemeral of a session that
	// does not exist.
	s.ref.states["/r/k5"] = append(s.ref.states["/r/k5"], keyState{zxid: s.ref.last, exists: true, owner: 0x1234})
	s.checkSessions()
	s.fails = filterFails(s.fails, "outlives its session")
	if !strings.Contains(strings.Join(s.fails, "\n"), "outlives its session") {
		t.Errorf("an ephemeral without its session went unnoticed: %v", s.fails)
	}
	s.fails = nil
	s.close()
}

func TestCheckPersistentWatchOrder(t *testing.T) {
	s := newScenario(t, Options{Voters: 3, Observers: -1})
	defer s.close()
	ld := s.leaderPeer()
	c := s.clients[0]
	s.session(c, ld)
	s.call(c, &opRecord{kind: opAddWatch, path: "/r", version: -1})
	s.write(c, regKey(0))
	s.write(c, regKey(1))
	s.pollAll()
	var r *watchRec
	for _, wr := range c.watches {
		if wr.persistent {
			r = wr
		}
	}
	if r == nil || len(r.events) != 2 {
		t.Fatalf("persistent watch: %+v", r)
	}
	s.checkPersistent(r)
	if len(s.fails) != 0 {
		t.Fatalf("a correct persistent watch was reported: %v", s.fails)
	}
	r.events[0], r.events[1] = r.events[1], r.events[0] // injected: out of order
	s.checkPersistent(r)
	if len(s.fails) == 0 {
		t.Fatal("events out of zxid order went unnoticed")
	}
	s.fails = nil
}

func TestLincheckCatchesLostCreate(t *testing.T) {
	ops := []lincheck.Op{
		{Client: 0, Kind: lincheck.Create, Path: "/r/k0", Data: "a", Call: 1, Return: 2},
		{Client: 1, Kind: lincheck.Read, Path: "/r/k0", Call: 3, Return: 4, Err: lincheck.NoNode},
	}
	if r := lincheck.Check(ops, linTimeout); r.Ok {
		t.Fatal("a read missing a completed create was accepted")
	}
	if p := lincheck.Explain(ops, linTimeout); len(p) != 2 {
		t.Fatalf("Explain: %v", p)
	}
	_ = znode.ChangeCreated
}

func TestCheckCatchesSessionOrder(t *testing.T) {
	// A session's writes commit in the order its client sent them: a write
	// held on its follower's link to the leader, which the client gave up
	// on before it re-attached its session on another follower and wrote
	// there, must not commit after that write. On a build whose leader
	// ignores session owners (no SESSIONMOVED) it does.
	opts := Options{Voters: 3, Observers: -1, Broken: hooks.NoSessionOwners}
	expectFailure(t, []string{"called earlier"}, opts, func(s *scenario) {
		ld := s.leaderPeer()
		a := s.follower()
		b := s.follower(a)
		c := s.clients[0]
		s.session(c, a)
		s.write(c, regKey(0))
		s.faults.delays[transportLink(a.id, ld.id)] = s.now + 200
		held := &opRecord{kind: opSet, path: regKey(0), data: fmt.Sprintf("v%d", s.nextOp), version: -1}
		c.start(held)
		held.cancelTick = s.now + 20
		s.until("the client to give up", 100, func() bool { return c.op == nil })
		if held.out != outUnknown {
			t.Fatalf("the held write returned %v (%v), want an unknown outcome", held.out, held.err)
		}
		c.sess = nil
		moved := &opRecord{c: c, peer: b, kind: opReattach, sid: c.sid, password: c.password}
		s.launch(moved)
		s.until("the re-attach", 100, func() bool { return c.op == nil })
		if moved.err != nil {
			t.Fatalf("re-attach on %d: %v", b.id, moved.err)
		}
		if op := s.write(c, regKey(0)); op.err != nil {
			t.Fatalf("the write through %d: %v", b.id, op.err)
		}
		s.run(250, false) // the held write reaches the leader
	})
}
