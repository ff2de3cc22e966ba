//go:build !race

package recipes

// raceAllocs is how many allocations more the race detector's build makes
// of an empty poll of a watch (TestQueuedBatchAllocs): none without it.
const raceAllocs = 0
