package recipes

import "testing"

// TestQueuedBatchAllocs: the cache's follow loop (with connection events)
// calls queuedBatch at each wake-up until it finds none queued; an empty
// poll costs at most the two allocations of the error NextBatch makes.
func TestQueuedBatchAllocs(t *testing.T) {
	w := newWorld(t)
	s, _ := w.session()
	wt, err := s.AddWatch(w.ctx, "/", true)
	if err != nil {
		t.Fatal(err)
	}
	done := doneContext()
	n := testing.AllocsPerRun(1000, func() {
		if b, err := queuedBatch(done, wt); b != nil || err != nil {
			t.Fatal(b, err)
		}
	})
	t.Logf("allocs per empty queuedBatch: %v", n)
	// 2: the error NextBatch makes of the done context (a TryNextBatch
	// would make none); the race detector's build adds one.
	if limit := 2 + float64(raceAllocs); n > limit {
		t.Fatalf("%v allocations per empty poll, want at most %v", n, limit)
	}
}
