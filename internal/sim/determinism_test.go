package sim

import (
	"strings"
	"testing"
)

// TestDeterminism runs one seed twice: the trace (every frame delivered,
// byte for byte, every tick, call, result, fault and status change) must
// hash the same. The seed has crashes, crash points, disk faults,
// partitions and pauses.
func TestDeterminism(t *testing.T) {
	const seed = 4
	a := Run(Options{Seed: seed, Ticks: 700})
	b := Run(Options{Seed: seed, Ticks: 700})
	if err := a.Err(); err != nil {
		t.Fatalf("seed %d failed: %v", seed, err)
	}
	if a.Hash != b.Hash || a.Stats.Delivered != b.Stats.Delivered || a.Stats.Ops != b.Stats.Ops {
		t.Fatalf("seed %d ran differently twice: hash %#x vs %#x, %d vs %d frames, %d vs %d calls\n--- first ---\n%s\n--- second ---\n%s",
			seed, a.Hash, b.Hash, a.Stats.Delivered, b.Stats.Delivered, a.Stats.Ops, b.Stats.Ops, a.Tail, b.Tail)
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
