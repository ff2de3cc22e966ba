package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// failStopScript is the workload of TestFailStopAtEveryCallSite: writes,
// snapshots and purges; a follower down long enough to need a SNAP; a
// leader whose last proposal reached nobody, which rejoins and truncates
// it. arm is called with each peer whenever a fault may be armed on it.
func failStopScript(s *scenario, arm func(*simPeer)) {
	ld := s.leaderPeer()
	f := s.follower()
	b := s.follower(f)
	for _, p := range []*simPeer{ld, b, f} {
		arm(p)
	}
	s.run(60, true)
	s.down(f, 0)
	s.run(150, true) // snapshots and purges: f will need a SNAP
	s.restart(f)
	arm(f)
	s.run(40, true)
	if ld = s.leader(); ld == nil {
		return
	}
	for _, p := range s.live() { // the leader's next proposal reaches nobody
		s.faults.delays[transportLink(ld.id, p.id)] = 1 << 62
	}
	c := s.clients[0]
	if c.op == nil && c.alive() && c.peer == ld {
		c.start(&opRecord{kind: opSet, path: regKey(0), data: fmt.Sprintf("v%d", s.nextOp), version: -1})
	}
	s.run(2, false)
	s.down(ld, 100)
	clear(s.faults.delays)
	s.run(60, true)
	s.restart(ld) // it truncates what it alone had
	arm(ld)
	s.run(40, true)
}

// failStopKinds are the operations whose failure must stop the peer.
var failStopKinds = []FSOpKind{OpSync, OpWrite, OpRename, OpSyncDir}

// TestFailStopAtEveryCallSite finds every call site of a log or snapshot
// fsync, write, rename and directory sync in a workload, then, for each,
// runs the workload again with that call failing (EIO) on the peer that
// first made it: the peer must stop in the same step, send nothing after
// the failure, and, restarted on what its disk kept, hold everything it
// acknowledged.
func TestFailStopAtEveryCallSite(t *testing.T) {
	opts := Options{Voters: 3, Observers: -1, Seed: 3, SnapCount: 10}
	s := newScenario(t, opts)
	s.sites = map[string]int64{}
	failStopScript(s, func(*simPeer) {})
	sites := s.sites
	s.sites = nil
	if err := s.finish().Err(); err != nil {
		t.Fatalf("the workload fails without faults: %v", err)
	}
	var names []string
	for site := range sites {
		for _, k := range failStopKinds {
			if strings.HasPrefix(site, k.String()+" ") {
				names = append(names, site)
			}
		}
	}
	slices.Sort(names)
	if len(names) < 8 {
		t.Fatalf("only %d call sites found: %v", len(names), names)
	}
	for i, site := range names {
		if raceBuild && i%3 != 0 {
			continue // a third of the sites under the race detector; .ci/run runs all without it
		}
		runFailStop(t, opts, site, sites[site])
	}
}

func runFailStop(t *testing.T, opts Options, site string, peer int64) {
	t.Helper()
	kind := FSOpKind(0)
	for _, k := range failStopKinds {
		if strings.HasPrefix(site, k.String()+" ") {
			kind = k
		}
	}
	s := newScenario(t, opts)
	s.quick = true
	fired := false
	failStopScript(s, func(p *simPeer) {
		if p.id == peer && !fired {
			p.fsPlan = fsPlan{kind: fsEIO, op: kind, prefix: "/zk", site: site, until: 1 << 62, label: "eio"}
		}
		fired = fired || s.stats.Faults["fs-eio"] > 0
	})
	fired = s.stats.Faults["fs-eio"] > 0
	err := s.finish().Err()
	switch {
	case !fired:
		t.Logf("%-90s peer %d: not reached again", site, peer)
	case err != nil:
		t.Errorf("%s failing on peer %d:\n%v", site, peer, err)
	default:
		t.Logf("%-90s peer %d: stopped at once", site, peer)
	}
}
