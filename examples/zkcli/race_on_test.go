//go:build race

package main

// raceEnabled: the tests run with -race, which makes each line of
// TestRandomLines far slower.
const raceEnabled = true
