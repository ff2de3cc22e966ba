package sim

import (
	"flag"
	"fmt"
	"slices"
	"testing"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

var flagRcSeeds = flag.Int("rc.seeds", 0, "TestSimReconfig: number of seeds to run from -seed (0: the fixed CI set)")

// rcSeeds are the CI seeds of TestSimReconfig. Campaigns with
// -rc.seeds found four bugs, each now a scripted test in package zab or
// here (TestReconfigStalePeerRejoins, TestReconfigRoleChangedWhileDown,
// TestReconfigPendingLostRejoins; a forwarded reconfig whose leader removed
// itself reported a definite failure although it committed); seeds 4 and
// 10 found two more (TestReconfigCommitLearnedWhileLookingAppliesNothing:
// a peer in read-only mode applied entries; TestReconfigJoinerAddedAsVoterAnswersFollowing:
// a voter looked forever).
var rcSeeds = []uint64{1, 2, 3, 4, 5, 10, 12}

// rcRaceSeeds are the seeds run under the race detector (raceBuild).
var rcRaceSeeds = []uint64{4, 10}

// TestSimReconfig runs seeds with membership changes among the faults
// (Options.Reconfig): spares join, the admin client adds, removes,
// promotes, demotes and replaces servers, and every check of the
// simulation holds across the configurations. It logs the changes and the
// ticks each took, call to return.
func TestSimReconfig(t *testing.T) {
	seeds := rcSeeds
	if raceBuild {
		seeds = rcRaceSeeds
	}
	if *flagRcSeeds > 0 {
		seeds = nil
		for i := 0; i < *flagRcSeeds; i++ {
			seeds = append(seeds, *flagFirst+uint64(i))
		}
	}
	var ticks int64
	changes, joins, rejoins, addBacks := 0, 0, 0, 0
	for _, seed := range seeds {
		opts := Options{Seed: seed, Ticks: ticksFromFlags(), Reconfig: true}
		res := Run(opts)
		ticks += res.Ticks
		changes += res.Reconfig.Changes
		t.Logf("seed %d: reconfig %s; %d joins (%d with a kept disk and Rejoin), %d committed adds of a removed server still running; %d committed, %d crashes, faults %s, %v",
			seed, res.Reconfig, res.Stats.Faults["join"], res.Stats.Faults["rejoin"], res.Stats.Faults["add back"],
			res.Stats.Committed, res.Stats.Crashes, res.Faults, res.Elapsed.Round(1e6))
		joins, rejoins, addBacks = joins+res.Stats.Faults["join"], rejoins+res.Stats.Faults["rejoin"], addBacks+res.Stats.Faults["add back"]
		if err := res.Err(); err != nil {
			t.Errorf("seed %d failed:\n%v\n--- trace tail ---\n%s\nreplay: %s", seed, err, res.Tail, replayCommand(opts))
		}
	}
	t.Logf("%d seeds, %.1f simulated minutes, %d membership changes committed, %d joins (%d with Rejoin), %d committed adds of a removed server still running",
		len(seeds), float64(ticks*tickMs)/60000, changes, joins, rejoins, addBacks)
}

// policySeeds are TestSimReconfigPolicy's CI seeds, each one where the
// policy acts. Three, so that the check holds if one run takes another
// course: a loaded CI machine once ran seed 12 without the policy's
// change (782 txns committed against 822 here; not reproduced since).
// Under the race detector the first two run, a margin still.
var policySeeds = []uint64{12, 21, 23}

// TestSimReconfigPolicy is TestSimReconfig with every peer running the
// membership policy (zk.MembershipPolicy, DownTicks 100): on top of every
// check, each change the leader makes on its own must be one voter
// demoted and one observer promoted (matchReconfigs), and the seeds
// together must see the policy act at least once.
func TestSimReconfigPolicy(t *testing.T) {
	seeds := policySeeds
	if raceBuild {
		seeds = policySeeds[:2]
	}
	if *flagRcSeeds > 0 {
		seeds = nil
		for i := 0; i < *flagRcSeeds; i++ {
			seeds = append(seeds, *flagFirst+uint64(i))
		}
	}
	acted := 0
	for _, seed := range seeds {
		opts := Options{Seed: seed, Ticks: ticksFromFlags(), Reconfig: true, Policy: 100}
		res := Run(opts)
		acted += res.Reconfig.Policy
		t.Logf("seed %d: reconfig %s; %d committed, %d crashes, faults %s", seed, res.Reconfig,
			res.Stats.Committed, res.Stats.Crashes, res.Faults)
		if err := res.Err(); err != nil {
			t.Errorf("seed %d failed:\n%v\n--- trace tail ---\n%s", seed, err, res.Tail)
		}
	}
	if acted == 0 {
		t.Errorf("the membership policy never acted in seeds %v", seeds)
	}
}

// TestBrokenBuildCommitNewConfigAlone: a leader replaces its two followers
// by two servers that joined, and the followers stop hearing it. On a build
// that commits under the new configuration alone (hooks.CommitNewConfigAlone)
// the change and the writes after it commit with the leader and the new
// servers, while the old followers, which hear nothing from the leader any
// more and are still under the old configuration,
// elect a leader of their own and commit another history: the checks see
// two histories. The real build needs a quorum of the old configuration
// too, so nothing commits on the leader's side and no check fails.
func TestBrokenBuildCommitNewConfigAlone(t *testing.T) {
	opts := Options{Voters: 3, Observers: -1, Reconfig: true, Broken: hooks.CommitNewConfigAlone}
	want := []string{"committed history", "not in the committed", "divergence", "skipped", "was acknowledged", "follows", "differs"}
	expectFailure(t, want, opts, func(s *scenario) {
		ld, a, b := s.roles()
		c := s.clients[0]
		s.session(c, ld)
		s.writes(c, 2)
		cur := ld.ens.ClusterConfig()
		members := []zk.Server{reconfigServer(ld.id, false)}
		for _, id := range []int64{4, 5} {
			p := s.byID[id]
			p.servers, p.dormant = append(slices.Clone(cur.Servers), reconfigServer(id, false)), false
			s.rc.servers[id] = reconfigServer(id, false)
			if err := s.start(p); err != nil {
				s.t.Fatal(err)
			}
			members = append(members, reconfigServer(id, false))
		}
		s.until("the joiners to serve", 300, func() bool {
			return s.byID[4].ens.Status().Serving && s.byID[5].ens.Status().Serving
		})
		// The old followers stop hearing the leader (their links stay up).
		s.faults.delays[transportLink(ld.id, a.id)] = 1 << 40
		s.faults.delays[transportLink(ld.id, b.id)] = 1 << 40
		op := &opRecord{c: s.rc.admin, peer: ld, kind: opReconfig, reconfig: zk.ReconfigRequest{Members: members}, path: "replace"}
		s.launch(op)
		s.run(300, true) // both sides serve clients
	})
}

// BenchmarkReconfigTicks measures how many ticks a membership change takes,
// from the Reconfig call to its return, on 3 and 5 voters without other
// faults (the simulated network delivers most frames within a tick): it
// reports the mean (ticks/change) over the changes of b.N seeds.
//
//	go test ./internal/sim -run x -bench ReconfigTicks -benchtime 10x
func BenchmarkReconfigTicks(b *testing.B) {
	for _, voters := range []int{3, 5} {
		b.Run(fmt.Sprintf("voters=%d", voters), func(b *testing.B) {
			var all []int64
			for i := 0; i < b.N; i++ {
				res := Run(Options{Seed: uint64(i + 1), Voters: voters, Observers: -1, NoFaults: true, Reconfig: true, Ticks: 1500})
				if err := res.Err(); err != nil {
					b.Fatalf("seed %d: %v", i+1, err)
				}
				all = append(all, res.Reconfig.Ticks...)
			}
			if len(all) == 0 {
				return
			}
			slices.Sort(all)
			sum := int64(0)
			for _, v := range all {
				sum += v
			}
			b.ReportMetric(float64(sum)/float64(len(all)), "ticks/change")
			b.ReportMetric(float64(all[len(all)/2]), "median-ticks")
			b.ReportMetric(float64(all[len(all)-1]), "max-ticks")
			b.ReportMetric(float64(len(all)), "changes")
		})
	}
}

var flagOneSeeds = flag.Int("rc1.seeds", 0, "TestSimReconfigOneVoter: number of seeds to run from -seed (0: the fixed CI set)")

// oneVoterSeeds are TestSimReconfigOneVoter's CI seeds. Before the world
// took a lone leader's first-turn applies and gave it barriers of its own,
// seeds 1, 6 and 7 failed on those gaps of the world, not of the peers.
// Seed 11 replaces a lone participant by a joiner (10 did, until the
// workload's bad Reattach shifted its schedule). Seed 5329 restarts an
// observer that joined naming only a server a reconfig then replaced: it
// never got back before its restart looked for the ensemble among the
// servers of the newest configuration it holds (startMembers). Seed 6205
// stalls on a removed server that restarted while a change added it back
// until the world, as an operator, restarts it with Rejoin (rejoinStalled).
var oneVoterSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 5329, 6205}

// oneVoterRaceSeeds are the seeds run under the race detector: 9 commits
// configurations of one participant.
var oneVoterRaceSeeds = []uint64{9}

// TestSimReconfigOneVoter is TestSimReconfig with every peer started as
// zoo.cfg's standaloneEnabled=false (Options.OneVoter): the admin client
// also shrinks the participants to one, the leader among those removed or
// not, and may replace a lone participant by a joiner (disjoint old and
// new quorums of one); the ensemble grows again by the other changes.
// Every check holds, and the seeds together commit at least one
// configuration of a single participant.
func TestSimReconfigOneVoter(t *testing.T) {
	seeds := oneVoterSeeds
	if raceBuild {
		seeds = oneVoterRaceSeeds
	}
	if *flagOneSeeds > 0 {
		seeds = nil
		for i := 0; i < *flagOneSeeds; i++ {
			seeds = append(seeds, *flagFirst+uint64(i))
		}
	}
	one, lone, rejoined := 0, 0, 0
	for _, seed := range seeds {
		opts := Options{Seed: seed, Ticks: ticksFromFlags(), Reconfig: true, OneVoter: true}
		res := Run(opts)
		one += res.Reconfig.OneVoter
		lone += res.Stats.Faults["replace lone"]
		rejoined += res.Stats.Faults["operator rejoin"]
		t.Logf("seed %d: reconfig %s; %d lone participants replaced; %d committed, %d crashes, faults %s, %v",
			seed, res.Reconfig, res.Stats.Faults["replace lone"], res.Stats.Committed, res.Stats.Crashes, res.Faults, res.Elapsed.Round(1e6))
		if err := res.Err(); err != nil {
			t.Errorf("seed %d failed:\n%v\n--- trace tail ---\n%s\nreplay: %s", seed, err, res.Tail, replayCommand(opts))
		}
	}
	if one == 0 {
		t.Errorf("no seed committed a configuration of one participant")
	}
	if lone == 0 && !raceBuild && *flagOneSeeds == 0 {
		t.Errorf("no CI seed replaced a lone participant by a joiner")
	}
	if rejoined == 0 && !raceBuild && *flagOneSeeds == 0 {
		t.Errorf("no CI seed restarted a stalled removed server with Rejoin")
	}
	t.Logf("%d seeds: %d configurations of one participant committed, %d lone participants replaced by a joiner, %d stalled removed servers rejoined", len(seeds), one, lone, rejoined)
}
