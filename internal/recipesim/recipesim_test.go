package recipesim

import (
	"flag"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var (
	flagSeed  = flag.Uint64("seed", 0, "first seed")
	flagSeeds = flag.Int("seeds", 0, "number of seeds (0: the CI set)")
	flagTicks = flag.Int("ticks", 0, "ticks of the fault phase per seed (default 1500)")
	flagTrace = flag.Bool("trace", false, "print the trace")
)

// ciSeeds run on every go test (with -ticks 0: ciTicks each).
var ciSeeds = []uint64{2, 3}

const ciTicks = 1200

// TestRecipesUnderFaults runs the recipes' fault test on the CI seeds, or
// on -seeds seeds from -seed (a campaign):
//
//	go test ./internal/recipesim -run TestRecipesUnderFaults -v -args -seeds=200 -seed=1000
//	go test ./internal/recipesim -run TestRecipesUnderFaults -v -args -seeds=1 -seed=42 -trace
func TestRecipesUnderFaults(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one P: a seed replays (see TestDeterminism)
	seeds := ciSeeds
	if *flagSeeds > 0 {
		seeds = nil
		for i := 0; i < *flagSeeds; i++ {
			seeds = append(seeds, *flagSeed+uint64(i))
		}
	}
	var total Stats
	var simulated float64
	failed := 0
	for _, seed := range seeds {
		opts := Options{Seed: seed, Ticks: *flagTicks}
		if *flagSeeds == 0 && opts.Ticks == 0 {
			opts.Ticks = ciTicks
		}
		if *flagTrace {
			opts.Trace = os.Stdout
		}
		var res *Result
		start := time.Now()
		synctest.Test(t, func(t *testing.T) { res = Run(opts) })
		res.Elapsed = time.Since(start)
		total.Add(res.Stats)
		simulated += res.SimulatedSeconds()
		t.Log(res.Summary())
		if err := res.Err(); err != nil {
			failed++
			t.Errorf("seed %d failed (replay: go test ./internal/recipesim -run TestRecipesUnderFaults -v -args -seeds=1 -seed=%d -trace):\n%v\n--- trace tail ---\n%s",
				seed, seed, err, res.Tail)
		}
	}
	t.Logf("campaign: %d seeds, %.1f simulated hours, faults %v, %s, %d seeds failed",
		len(seeds), simulated/3600, total.Faults, total.String(), failed)
}

// TestSabotage: each check catches the defect it stands for, within a few
// seeds.
func TestSabotage(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	cases := []struct {
		name  string
		s     Sabotage
		want  string
		ticks int
		seed  uint64 // the first seed tried (one known to catch it without -race)
	}{
		{"long timeout", SabotageLongTimeout, " live ", 1500, 42},
		{"hidden predecessor", SabotageHidePredecessor, "live holders of /m", 600, 1},
		{"no delete", SabotageNoDelete, "left after every actor stopped", 600, 1},
		{"token", SabotageToken, "not above the previous", 600, 1},
		{"end early", SabotageEndEarly, "which ended", 600, 1},
		{"blind reader", SabotageBlindReader, "a writer beside another holder", 600, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for seed := c.seed; seed < c.seed+10; seed++ {
				var res *Result
				synctest.Test(t, func(t *testing.T) { res = Run(Options{Seed: seed, Ticks: max(c.ticks, 600), Sabotage: c.s}) })
				for _, f := range res.Failures {
					if strings.Contains(f, c.want) {
						t.Logf("seed %d: %s", seed, f)
						return
					}
				}
			}
			t.Fatalf("no seed of 10 caught %s (want %q)", c.name, c.want)
		})
	}
}
