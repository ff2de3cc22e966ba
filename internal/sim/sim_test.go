package sim

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

var (
	flagSeeds    = flag.Int("seeds", 0, "TestSim: number of seeds to run (0: the fixed CI set)")
	flagFirst    = flag.Uint64("seed", 0, "TestSim: first seed (with -seeds), or the one seed to replay")
	flagTicks    = flag.Int("ticks", 0, "TestSim: ticks of the fault phase per seed (0: default)")
	flagDuration = flag.Duration("duration", 0, "TestSim: simulated time of the fault phase per seed (overrides -ticks)")
	flagTrace    = flag.Bool("trace", false, "TestSim: print the whole trace of each seed")
	flagHier     = flag.Bool("hier", false, "TestSim: give every seed a hierarchical quorum drawn from it (Options.Hierarchical)")
	flagReconfig = flag.Bool("reconfig", false, "TestSim: add membership changes to every seed's faults (Options.Reconfig)")
	flagLocal    = flag.Int("local", 0, "TestSim: local sessions on every seed (1; 2: upgrading too) or none (-1); 0: drawn from each seed (Options.LocalSessions)")
	flagRO       = flag.Int("readonly", 0, "TestSim: read-only mode on every seed (1), with -local too, or none (-1); 0: drawn from each seed (Options.ReadOnly)")
	flagOneVoter = flag.Bool("onevoter", false, "TestSim: with -reconfig, peers as standaloneEnabled=false and changes down to one participant (Options.OneVoter)")
)

// ciSeed is a seed of the fixed CI set, with the length of its fault phase
// (0: the default): a seed's schedule depends on that length, so a seed
// that found a bug keeps the length it was found with.
type ciSeed struct {
	seed  uint64
	ticks int
}

// ciSeeds is the fixed set of seeds the default test runs: the first
// eight, and the seeds that found bugs (119: a Session.Close refused by a
// deposed leader's pipeline reported success, and the session outlived its
// handle; 82806, found with -duration=2m: a leader whose snapshot fsync
// failed while it synced a returning follower still sent that follower a
// SNAP chunk in the same step).
var ciSeeds = []ciSeed{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}, {119, 0}, {82806, 600}}

// ciRaceSeeds are the seeds run under the race detector (raceBuild): the
// ones that found bugs and two of the first eight. .ci/run runs ciSeeds
// without it.
var ciRaceSeeds = []ciSeed{{1, 0}, {8, 0}, {119, 0}, {82806, 600}}

func ticksFromFlags() int {
	if *flagDuration > 0 {
		return int(*flagDuration / (TickTime / 10))
	}
	return *flagTicks
}

// TestSim runs seeds of the whole-ensemble simulation under faults. By
// default it runs the fixed CI set (a smaller one under the race detector); -seeds=N -seed=S runs seeds S..S+N-1;
// -seed=S alone replays one seed (add -trace to see everything it did).
func TestSim(t *testing.T) {
	seeds := ciSeeds
	if raceBuild {
		seeds = ciRaceSeeds
	}
	switch {
	case *flagSeeds > 0:
		seeds = nil
		for i := 0; i < *flagSeeds; i++ {
			seeds = append(seeds, ciSeed{seed: *flagFirst + uint64(i), ticks: ticksFromFlags()})
		}
	case *flagFirst > 0:
		seeds = []ciSeed{{seed: *flagFirst, ticks: ticksFromFlags()}}
	}
	var simTicks int64
	var linTime time.Duration
	bad := 0
	start := time.Now()
	for _, cs := range seeds {
		seed := cs.seed
		opts := Options{Seed: seed, Ticks: cs.ticks, Hierarchical: *flagHier, Reconfig: *flagReconfig, OneVoter: *flagOneVoter, LocalSessions: *flagLocal, ReadOnly: *flagRO}
		if *flagTrace {
			opts.Trace = os.Stderr
		}
		res := Run(opts)
		simTicks += res.Ticks
		linTime += res.Stats.LinTime
		bad += res.Stats.BadOps
		t.Logf("seed %d: %.0f simulated s, %d ops (%d ok, %d unknown, %d bad), %d committed (%d applied as kept), %d crashes, %d snap installs, faults %s, lincheck %v (max key %v), %v",
			seed, res.SimulatedSeconds(), res.Stats.Ops, res.Stats.OpsOK, res.Stats.OpsUnknown, res.Stats.BadOps, res.Stats.Committed,
			res.Stats.KeptApplies, res.Stats.Crashes, res.Stats.SnapInstalls, res.Faults, res.Stats.LinTime, res.Stats.LinMaxKey, res.Elapsed.Round(time.Millisecond))
		if res.Stats.Local.Opened > 0 {
			t.Logf("seed %d: local sessions %v", seed, res.Stats.Local)
		}
		if opts.Reconfig {
			t.Logf("seed %d: reconfig %s", seed, res.Reconfig)
		}
		if err := res.Err(); err != nil {
			t.Errorf("seed %d failed:\n%v\n--- trace tail ---\n%s\nreplay: %s", seed, err, res.Tail, replayCommand(opts))
		}
	}
	t.Logf("%d seeds, %.1f simulated minutes, %d bad requests, lincheck %v, in %v", len(seeds),
		float64(simTicks*tickMs)/60000, bad, linTime, time.Since(start).Round(time.Millisecond))
}

// replayCommand is the command that replays the run of opts with its trace.
func replayCommand(opts Options) string {
	s := fmt.Sprintf("go test ./internal/sim -run 'TestSim$' -v -args -seed=%d", opts.Seed)
	if opts.Ticks > 0 {
		s += fmt.Sprintf(" -ticks=%d", opts.Ticks)
	}
	if opts.Hierarchical {
		s += " -hier"
	}
	if opts.Reconfig {
		s += " -reconfig"
	}
	if opts.OneVoter {
		s += " -onevoter"
	}
	if opts.LocalSessions != 0 {
		s += fmt.Sprintf(" -local=%d", opts.LocalSessions)
	}
	if opts.ReadOnly != 0 {
		s += fmt.Sprintf(" -readonly=%d", opts.ReadOnly)
	}
	return s + " -trace"
}
