package main

import (
	"strings"
	"testing"
)

// TestDiskBounds checks the verdicts printed under the 3-peer table: each
// goal is set against the disk's chained-commit rate of the same run.
func TestDiskBounds(t *testing.T) {
	r := newResults()
	r.fsync = []float64{6000, 7000, 8000} // median 7000
	r.chain = []float64{3000, 3500, 2000} // median 3000: 0.43x, 0.33 ms a commit
	r.values[key(3, targetZooKeeper, "lock-shared")] = []float64{200}
	r.values[key(3, targetZooKeeper, "watch-p50")] = []float64{2.0} // goal 0.4 ms
	var b strings.Builder
	r.printDiskBounds(&b)
	out := b.String()
	for _, want := range []string{
		"create-1 ≥ 0.7x the fsync rate: the disk allows 0.43x (out of reach on this disk)",
		"(3200/s): the disk allows 3000 hand-offs/s (out of reach on this disk)",
		"watch p50 ≤ 0.2x ZooKeeper (0.40 ms): a commit takes the disk 0.33 ms (reachable only if nothing else took any time)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	r.values[key(3, targetZooKeeper, "lock-shared")] = []float64{400} // goal 4000/s
	b.Reset()
	r.printDiskBounds(&b)
	if !strings.Contains(b.String(), "(4000/s): the disk allows 3000") {
		t.Errorf("10x ZooKeeper above 3,200 not used:\n%s", b.String())
	}
}
