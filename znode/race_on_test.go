//go:build race

package znode

// filterSteps and filterKeys: how many creates and deletes
// TestKeyFilterNeverHidesAKey makes, over how many paths. The race
// detector makes each commit many times slower, so under it the test makes
// fewer; it checks itself that they still reach rebuilds and growth.
const filterSteps, filterKeys = 4000, 1000
