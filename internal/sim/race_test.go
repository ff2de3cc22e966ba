//go:build race

package sim

// raceBuild: the tests run under the race detector (the README's test
// command), where a simulated second costs several times more; TestSim and
// TestSimReconfig then run a smaller fixed set of seeds, and .ci/run runs
// the whole sets without it.
const raceBuild = true
