//go:build !race

package znode

// filterSteps, filterKeys: see race_on_test.go.
const filterSteps, filterKeys = 30000, 6000
