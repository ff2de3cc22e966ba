package sim

import (
	"testing"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

// lsScript drives local sessions through each of their checks: sessions
// opened on a follower and on the leader, their ephemeral creates (lone and
// in a multi), a move to the leader, and the follower cut off until it
// lost its leader, then healed.
func lsScript(s *scenario) {
	t := s.t
	t.Helper()
	ld := s.leaderPeer()
	f := s.follower()
	ce, cm, cl, cf := s.clients[0], s.clients[1], s.clients[2], s.clients[3]
	s.session(ce, f)
	s.session(cm, ld)
	s.session(cl, f)
	s.session(cf, f)
	s.write(cm, regKey(0))
	// Refused, or (upgrading) upgrading its session: the world's checks
	// say which it must be (lsCheckEphemeral).
	s.call(ce, &opRecord{kind: opCreate, path: regKey(1), data: "v-eph", mode: zk.ModeEphemeral, version: -1})
	if !s.ls.upgrading {
		s.call(cm, &opRecord{kind: opMulti, multi: []mop{
			{kind: opSet, path: regKey(0), data: "v-m1.0", version: -1},
			{kind: opCreate, path: regKey(2), data: "v-m1.1", ephemeral: true}}})
		if ce.sess != nil { // (a build that answered its create wrongly may have ended it)
			s.call(ce, &opRecord{kind: opMulti, multi: []mop{
				{kind: opCreate, path: regKey(3), data: "v-m2.0", ephemeral: true}}})
		}
	}
	// A move: the session has expired, unless it was upgraded.
	cl.sess = nil
	s.lsCall(cl, &opRecord{kind: opReattach, peer: ld, sid: cl.sid, password: cl.password})
	s.net.Isolate(f.id)
	s.trace.line(s.now, "scenario isolate %d", f.id)
	s.until("the follower to stop serving", 300, func() bool { return !f.ens.Status().Serving })
	s.net.Heal()
	s.trace.line(s.now, "scenario heal")
	s.until("the follower to serve again", 600, func() bool { return f.ens.Status().Serving })
	s.run(5, false)
}

// lsCall is like call for a call on another peer than the client's.
func (s *scenario) lsCall(c *client, op *opRecord) *opRecord {
	op.c = c
	s.launch(op)
	s.until("the call to return", 600, func() bool { return c.op == nil })
	return op
}

// TestSimLocalSessionsScenario: the script passes every check, with and
// without upgrading, and exercises them.
func TestSimLocalSessionsScenario(t *testing.T) {
	for _, mode := range []int{1, 2} {
		s := newScenario(t, Options{Voters: 3, Observers: -1, LocalSessions: mode})
		lsScript(s)
		res := s.finish()
		if err := res.Err(); err != nil {
			t.Fatalf("local sessions %d: %v\n%s", mode, err, res.Tail)
		}
		st := res.Stats.Local
		t.Logf("local sessions %d: %v", mode, st)
		if st.Opened < 4 || st.MoveLost != 1 || st.LeaderLost < 1 ||
			mode == 1 && st.Refused != 3 || mode == 2 && st.Upgraded < 1 {
			t.Errorf("local sessions %d were not exercised: %v", mode, st)
		}
	}
}

func TestCheckCatchesLocalSessionSurvivingLeaderLoss(t *testing.T) {
	// A local session expires when its peer loses its leader: a build
	// whose local sessions outlive that is caught.
	expectFailure(t, []string{"though its peer stopped serving"},
		Options{Voters: 3, Observers: -1, LocalSessions: 1, Broken: hooks.LocalSessionsSurvive}, lsScript)
}

func TestCheckCatchesUpgradeWithoutSession(t *testing.T) {
	// An ephemeral create upgrades its local session: a build that sends
	// it without the session's CreateSession is caught.
	expectFailure(t, []string{"failed with SESSIONEXPIRED, but the session lives on"},
		Options{Voters: 3, Observers: -1, LocalSessions: 2, Broken: hooks.UpgradeWithoutSession}, lsScript)
}

// TestLocalSessionsForSeeds: the share of seeds with local sessions, and
// the CI seeds' choices (those that found bugs stay without).
func TestLocalSessionsForSeeds(t *testing.T) {
	on, up := 0, 0
	for seed := uint64(1); seed <= 800; seed++ {
		o := Options{Seed: seed}
		l, u := localSessionsFor(o, readOnlyFor(o))
		if l && readOnlyFor(o) {
			t.Fatalf("seed %d: local sessions with read-only mode", seed)
		}
		if l {
			on++
		}
		if l && u {
			up++
		}
	}
	if on < 150 || on > 250 || up < on/3 || up > 2*on/3 {
		t.Errorf("of 800 seeds, %d run local sessions, %d upgrading", on, up)
	}
	for _, seed := range []uint64{3, 119, 82806} {
		if l, _ := localSessionsFor(Options{Seed: seed}, false); l {
			t.Errorf("CI seed %d runs local sessions: its schedule changed", seed)
		}
	}
	if l, _ := localSessionsFor(Options{Seed: 6, NoFaults: true}, false); l {
		t.Error("a run without faults drew local sessions")
	}
	if l, u := localSessionsFor(Options{Seed: 6, LocalSessions: -1}, false); l || u {
		t.Error("LocalSessions -1 did not turn them off")
	}
	if l, u := localSessionsFor(Options{Seed: 1, LocalSessions: 2}, true); !l || !u {
		t.Error("LocalSessions 2 with read-only mode asked for did not turn them on")
	}
	for seed := uint64(1); seed <= 800; seed++ {
		if l, _ := localSessionsFor(Options{Seed: seed}, true); l {
			t.Fatalf("seed %d drew local sessions with read-only mode", seed)
		}
	}
	if l, u := localSessionsFor(Options{Seed: 1, LocalSessions: 2}, false); !l || !u {
		t.Error("LocalSessions 2 did not turn them on, upgrading")
	}
}
