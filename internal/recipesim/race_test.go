//go:build race

package recipesim

// raceEnabled: the race detector randomizes the scheduler on purpose, so a
// seed cannot replay bit for bit under it.
const raceEnabled = true
