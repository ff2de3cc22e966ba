package sim

import (
	"bytes"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
)

var (
	flagDetSeeds  = flag.Int("det.seeds", 0, "TestDeterminism: run seeds -seed..-seed+N-1 instead of its fixed one")
	flagDetCopies = flag.Int("det.copies", 2, "TestDeterminism: runs of each seed at once, in this process")
	flagDetRc     = flag.Bool("det.reconfig", false, "TestDeterminism with -det.seeds: membership changes and the membership policy on")
)

// TestDeterminism runs one seed twice at once, in one process: the trace
// (every frame delivered, byte for byte, every tick, call, result, fault
// and status change) must hash the same. The seed has crashes, crash
// points, disk faults, partitions and pauses. Running the copies
// concurrently lets goroutine timing differ between them as much as it
// ever does between runs. With -det.seeds it is a campaign:
//
//	go test ./internal/sim -run TestDeterminism -args -det.seeds=40 -seed=1 -det.copies=4 -det.reconfig
func TestDeterminism(t *testing.T) {
	if *flagDetSeeds > 0 {
		for i := 0; i < *flagDetSeeds; i++ {
			opts := Options{Seed: *flagFirst + uint64(i), Ticks: ticksFromFlags()}
			if *flagDetRc {
				opts.Reconfig, opts.Policy = true, 100
			}
			res := runCopies(t, opts, *flagDetCopies)
			t.Logf("seed %d: hash %#x, %d committed", opts.Seed, res.Hash, res.Stats.Committed)
		}
		return
	}
	const seed = 4
	a := runCopies(t, Options{Seed: seed, Ticks: 700}, max(2, *flagDetCopies))
	if err := a.Err(); err != nil {
		t.Fatalf("seed %d failed: %v", seed, err)
	}
	for _, class := range []string{"crash", "disk", "partition"} {
		if !strings.Contains(a.Faults, class) {
			t.Errorf("seed %d no longer injects %s faults (%s): pick another seed", seed, class, a.Faults)
		}
	}
	if a.Stats.Crashes == 0 || a.Stats.Delivered == 0 || a.Stats.OpsOK == 0 {
		t.Errorf("seed %d did too little to prove anything: %+v", seed, a.Stats)
	}
	t.Logf("seed %d: hash %#x, %d frames, %d calls, %d crashes, %d ticks", seed, a.Hash, a.Stats.Delivered, a.Stats.Ops, a.Stats.Crashes, a.Ticks)
}

// runCopies runs n copies of opts at once and fails t, with the first line
// where their traces part, unless every copy ran the same. It returns the
// first copy's result.
func runCopies(t *testing.T, opts Options, n int) *Result {
	t.Helper()
	res := make([]*Result, n)
	traces := make([]bytes.Buffer, n)
	var wg sync.WaitGroup
	for k := range n {
		o := opts
		o.Trace = &traces[k]
		wg.Go(func() { res[k] = Run(o) })
	}
	wg.Wait()
	for k := 1; k < n; k++ {
		a, b := res[0], res[k]
		if a.Hash != b.Hash || a.Stats.Delivered != b.Stats.Delivered || a.Stats.Ops != b.Stats.Ops {
			t.Errorf("seed %d ran differently in two runs at once: hash %#x vs %#x, %d vs %d frames, %d vs %d calls\n%s",
				opts.Seed, a.Hash, b.Hash, a.Stats.Delivered, b.Stats.Delivered, a.Stats.Ops, b.Stats.Ops,
				firstDifference(traces[0].String(), traces[k].String()))
			break
		}
	}
	return res[0]
}

// firstDifference shows where two traces part: the lines before, then
// each trace's next lines.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	if i == len(la) && i == len(lb) {
		return "the traces are the same line for line (a frame's bytes differ)"
	}
	ctx := la[max(0, i-20):i]
	return fmt.Sprintf("--- both, up to line %d ---\n%s\n--- first run ---\n%s\n--- other run ---\n%s",
		i, strings.Join(ctx, "\n"), strings.Join(la[i:min(len(la), i+20)], "\n"), strings.Join(lb[i:min(len(lb), i+20)], "\n"))
}
