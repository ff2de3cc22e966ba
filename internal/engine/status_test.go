package engine

import (
	"fmt"
	"strings"
	"testing"
)

// TestStatusOfLaggingFollower: a follower that stops acknowledging (its
// process paused) shows on the leader's status with the entries it lacks
// and how long it has lacked them; its peer in step shows no lag; once it
// resumes its lag is gone.
func TestStatusOfLaggingFollower(t *testing.T) {
	c := newCluster(t, 3, 0, 21)
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	f := c.others(leader)
	s := c.session(leader)
	c.freeze(f[1])
	for i := 0; i < 5; i++ {
		if err := c.create(s, fmt.Sprintf("/lag%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		c.tick()
	}
	tick := c.config(leader).TickTime / TicksPerTickTime
	st := c.ens[leader].Status()
	if st.Mode != ModeLeading || len(st.Learners) != 2 {
		t.Fatalf("leader status: %+v", st)
	}
	lag, inStep := learner(t, st, f[1]), learner(t, st, f[0])
	if lag.LagTxns != 5 || lag.Lag < 4*tick || lag.Silent < lag.Lag || lag.Phase != "broadcast" || lag.Sync != "DIFF" {
		t.Fatalf("lagging follower %d: %+v", f[1], lag)
	}
	if lag.Zxid >= st.LastZxid {
		t.Fatalf("lagging follower at %#x, leader at %#x", lag.Zxid, st.LastZxid)
	}
	if inStep.LagTxns != 0 || inStep.Lag != 0 || inStep.Zxid != st.LastZxid {
		t.Fatalf("follower in step %d: %+v (leader at %#x)", f[0], inStep, st.LastZxid)
	}
	c.thaw(f[1])
	c.tick() // it catches up
	c.tick() // the status shows it (the details are taken at every tick)
	if l := learner(t, c.ens[leader].Status(), f[1]); l.LagTxns != 0 || l.Lag != 0 {
		t.Fatalf("resumed follower: %+v", l)
	}
}

func learner(t *testing.T, st Status, id int64) LearnerStatus {
	t.Helper()
	for _, l := range st.Learners {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("no learner %d in %+v", id, st.Learners)
	return LearnerStatus{}
}

// TestStatusSaysWhyNotServing: a follower whose leader is gone says it
// looks for a leader and why; a failed peer says why it failed; a closed
// one that it is closed.
func TestStatusSaysWhyNotServing(t *testing.T) {
	c := newCluster(t, 3, 0, 22)
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	if st := c.ens[leader].Status(); st.Why != "" || st.Round == 0 {
		t.Fatalf("serving leader: why %q, round %d", st.Why, st.Round)
	}
	f := c.others(leader)
	c.stop(leader)
	c.stop(f[0])
	c.settle()
	st := c.ens[f[1]].Status()
	if st.Serving || st.Why != "looking for a leader (lost the connection to the leader)" {
		t.Fatalf("follower without a leader: mode %v, why %q", st.Mode, st.Why)
	}
	boom := fmt.Errorf("disk on fire")
	c.ens[f[1]].fail(boom)
	if st := c.ens[f[1]].Status(); st.Mode != ModeFailed || st.Why != "failed: disk on fire" {
		t.Fatalf("failed peer: mode %v, why %q", st.Mode, st.Why)
	}
	e := c.ens[f[1]]
	c.stop(f[1])
	if st := e.Status(); st.Mode != ModeClosed || !strings.HasPrefix(st.Why, "closed") {
		t.Fatalf("closed peer: mode %v, why %q", st.Mode, st.Why)
	}
}
