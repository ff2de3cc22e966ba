//go:build race

package recipesim

// raceEnabled: the race detector randomizes the scheduler on purpose, so a
// seed cannot replay bit for bit under it (TestDeterminism then checks a
// build without it).
const raceEnabled = true
