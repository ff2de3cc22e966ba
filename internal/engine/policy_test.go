package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestMembershipPolicy: three voters and an observer with the policy on.
// A voter stopped for less than DownTicks stays a voter; past DownTicks the
// leader demotes it and promotes the observer in one reconfig, writes go on
// with the new voters, and the old voter, restarted, observes.
func TestMembershipPolicy(t *testing.T) {
	const down = 120
	c, withObserver, leader, gone := policyClusterVoterGone(t, down)
	for range down - 10 {
		c.tick()
	}
	if cur := c.ens[leader].ClusterConfig(); cur.Version != withObserver.Version {
		t.Fatalf("the policy acted before DownTicks: %s", cur.Text())
	}
	c.waitFor("the policy's reconfig", 40, func() bool {
		return c.ens[leader].ClusterConfig().Version != withObserver.Version
	})
	after := c.ens[leader].ClusterConfig()
	for _, s := range after.Servers {
		if s.Observer != (s.ID == gone) {
			t.Fatalf("after the policy: %s (want %d observing, 4 voting)", after.Text(), gone)
		}
	}
	c.configEverywhere(after)
	// {leader, the other voter, 4} vote now: stop the other voter too and
	// the leader and 4 still commit.
	var other int64
	for _, id := range c.others(leader) {
		if id != 4 {
			other = id
		}
	}
	c.stop(other)
	if err := c.create(c.session(4), "/after-the-policy"); err != nil {
		t.Fatalf("a write with voters %d and 4: %v", leader, err)
	}
	c.start(gone)
	c.waitFor("the demoted voter to observe", 400, func() bool {
		st := c.ens[gone].Status()
		return st.Serving && st.Mode == ModeObserving
	})
}

// policyClusterVoterGone starts three voters and observer 4 with the policy
// on (DownTicks down) and stops a voter other than the leader. It returns
// the configuration with the observer, the leader and the stopped voter.
func policyClusterVoterGone(t *testing.T, down int64) (c *cluster, withObserver ClusterConfig, leader, gone int64) {
	t.Helper()
	c = newReconfigCluster(t, 3, []int64{4}, 7)
	c.tweak = func(cfg *Config) {
		cfg.ReconfigEnabled = true
		cfg.MembershipPolicy = &MembershipPolicy{DownTicks: down}
	}
	for _, id := range c.running() { // every peer runs with the policy
		c.stop(id)
		c.start(id)
	}
	c.waitFor("a serving ensemble", 400, c.allServing)
	c.joinPeer(4, true)
	withObserver, err := c.reconfig(c.leader(), ReconfigRequest{Add: []Server{reconfigServer(4, true)}})
	if err != nil {
		t.Fatalf("adding observer 4: %v", err)
	}
	c.configEverywhere(withObserver)
	leader = c.leader()
	gone = c.others(leader)[0]
	if gone == 4 {
		gone = c.others(leader)[1]
	}
	c.stop(gone)
	return c, withObserver, leader, gone
}

// TestMembershipPolicyWaitsForTheAppliedConfig: while the configuration the
// leader has applied is not the one its core committed, the policy proposes
// nothing, however long the voter is gone (a change computed from the
// applied configuration would undo the committed one); once the leader has
// applied it, the policy acts. The lag is made by hand: the leader's applied
// configuration is replaced with a copy under another version.
func TestMembershipPolicyWaitsForTheAppliedConfig(t *testing.T) {
	const down = 60
	c, withObserver, leader, _ := policyClusterVoterGone(t, down)
	stale := c.ens[leader].ClusterConfig()
	stale.Version--
	c.ens[leader].members.Store(&stale)
	for range 3 * down {
		c.tick()
	}
	for _, id := range c.running() {
		if id == leader {
			continue
		}
		if cur := c.ens[id].ClusterConfig(); cur.Version != withObserver.Version {
			t.Fatalf("the policy proposed from an applied configuration that is not the committed one: peer %d has %s", id, cur.Text())
		}
	}
	if cur := c.ens[leader].ClusterConfig(); cur.Version != stale.Version {
		t.Fatalf("the leader applied a configuration meanwhile: %s", cur.Text())
	}
	c.ens[leader].members.Store(&withObserver)
	c.waitFor("the policy's reconfig once the leader applied the committed configuration", down+40, func() bool {
		return c.ens[leader].ClusterConfig().Version != withObserver.Version
	})
}

// TestMembershipPolicyNeedsAnObserver: with no observer to promote the
// policy changes nothing, however long a voter is gone; and its
// configuration is checked.
func TestMembershipPolicyNeedsAnObserver(t *testing.T) {
	c := newReconfigCluster(t, 3, nil, 8)
	c.tweak = func(cfg *Config) {
		cfg.ReconfigEnabled = true
		cfg.MembershipPolicy = &MembershipPolicy{DownTicks: 60}
	}
	for _, id := range c.running() {
		c.stop(id)
		c.start(id)
	}
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	before := c.ens[leader].ClusterConfig()
	c.stop(c.others(leader)[0])
	for range 200 {
		c.tick()
	}
	if cur := c.ens[leader].ClusterConfig(); cur.Version != before.Version {
		t.Fatalf("the policy changed the configuration without an observer: %s", cur.Text())
	}
	for _, tc := range []struct {
		tweak func(*Config)
		field string
	}{
		{func(cfg *Config) { cfg.ReconfigEnabled = false }, "needs ReconfigEnabled"},
		{func(cfg *Config) { cfg.MembershipPolicy.DownTicks = int64(cfg.SyncLimit) * TicksPerTickTime }, "must exceed the sync limit"},
	} {
		cfg := c.config(9)
		cfg.MembershipPolicy = &MembershipPolicy{DownTicks: 1000}
		cfg.ReconfigEnabled = true
		tc.tweak(&cfg)
		if _, err := NewEnsemble(cfg); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "MembershipPolicy") || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}
