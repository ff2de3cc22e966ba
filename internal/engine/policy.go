package engine

import (
	"fmt"
	"slices"
)

// MembershipPolicy lets the leader keep the ensemble's number of voters
// while hosts come and go, beyond ZooKeeper (which leaves every change to
// an operator). Set on every peer (with ReconfigEnabled), it acts on the
// leader: a voter that has not been synced with it for DownTicks ticks is
// demoted to observer and the synced observer with the lowest id promoted
// in its place, in one ordinary reconfig txn (ordered like any write,
// committed by a quorum of the old and of the new configuration, shown in
// /zookeeper/config). The demoted server stays listed: when it comes back
// it observes, and it may be promoted again if another voter goes. With no
// synced observer nothing changes. Majority quorums only: a hierarchical
// configuration (Groups, Weights) is left as it is. Off (nil) by default.
type MembershipPolicy struct {
	// DownTicks is how long a voter must have been out of sync with the
	// leader before it is replaced, in ticks (TicksPerTickTime per
	// TickTime); counted from when this leader was established at the
	// earliest. It must exceed the sync limit (SyncLimit ticks of
	// TickTime), or a slow voter would be replaced before the leader gives
	// up on it.
	DownTicks int64
}

// policyState is the leader's record for the policy: the tick each voter
// was last seen synced.
type policyState struct {
	seen map[int64]int64
}

// validatePolicy checks Config.MembershipPolicy.
func (c Config) validatePolicy() error {
	p := c.MembershipPolicy
	switch {
	case p == nil:
		return nil
	case !c.ReconfigEnabled:
		return configErr("MembershipPolicy", "needs ReconfigEnabled (the policy makes reconfig txns)")
	case p.DownTicks <= int64(c.SyncLimit)*TicksPerTickTime:
		return configErr("MembershipPolicy", "DownTicks %d must exceed the sync limit, %d ticks", p.DownTicks, int64(c.SyncLimit)*TicksPerTickTime)
	}
	return nil
}

// policyTick runs the membership policy on a serving leader, once a tick.
func (p *peer) policyTick() {
	pol := p.cfg.MembershipPolicy
	if pol == nil || !p.leading() {
		p.policy.seen = nil // a new leadership counts afresh
		return
	}
	cur := p.e.ClusterConfig()
	ci := p.node.Config()
	if !p.zst.Serving || ci.Pending != nil || cur.Version != ci.Version || cur.Groups != nil || cur.Weights != nil {
		// Not now: not serving, a change in flight, or the committed
		// configuration not applied here yet (a change computed from the
		// applied one would undo the committed one). The counts go on.
		return
	}
	if p.policy.seen == nil {
		p.policy.seen = map[int64]int64{}
	}
	synced := p.node.Status().Synced
	gone, promote := int64(0), int64(0)
	for _, s := range cur.Servers {
		in := s.ID == p.cfg.ID || slices.Contains(synced, s.ID)
		switch {
		case s.Observer:
			if in && (promote == 0 || s.ID < promote) {
				promote = s.ID
			}
		case in:
			p.policy.seen[s.ID] = p.ticks
		default:
			since, ok := p.policy.seen[s.ID]
			if !ok {
				p.policy.seen[s.ID], since = p.ticks, p.ticks
			}
			if p.ticks-since >= pol.DownTicks && gone == 0 {
				gone = s.ID
			}
		}
	}
	if gone == 0 || promote == 0 {
		return
	}
	p.replaceVoter(cur, gone, promote)
}

// replaceVoter proposes cur with voter gone demoted and observer promote
// promoted. A refusal is logged and tried again DownTicks later.
func (p *peer) replaceVoter(cur ClusterConfig, gone, promote int64) {
	servers := slices.Clone(cur.Servers)
	for i := range servers {
		switch servers[i].ID {
		case gone:
			servers[i].Observer = true
		case promote:
			servers[i].Observer = false
		}
	}
	// Through the admin's path, from the version the policy looked at: the
	// same checks (nothing pending, the committed configuration applied).
	var err error
	if res, ok := p.proposeReconfig(p.cfg.ID, 0, &ReconfigRequest{Members: servers, FromConfig: cur.Version}); !ok {
		err = res.Err
	}
	if err != nil {
		p.policy.seen[gone] = p.ticks
		p.cfg.Logger.Warn("zk: membership policy: replacing a voter", "gone", gone, "promote", promote, "err", err)
		return
	}
	delete(p.policy.seen, gone)
	p.cfg.Logger.Info("zk: membership policy: replacing a voter out of sync",
		"gone", gone, "promote", promote, "after_ticks", fmt.Sprint(p.cfg.MembershipPolicy.DownTicks))
}
