//go:build !race

package sim

// raceBuild: see race_test.go.
const raceBuild = false
