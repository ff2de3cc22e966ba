//go:build race

package sim

// raceBuild: the tests run under the race detector (the README's test
// command), where a simulated second costs several times more: TestSim,
// TestSimReconfig and TestSimReconfigPolicy then run fewer of their fixed
// seeds and TestFailStopAtEveryCallSite a third of the call sites, and
// .ci/run runs them all without it.
const raceBuild = true
