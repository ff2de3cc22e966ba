//go:build !race

package engine

// worstCaseLimit: see race_on_test.go.
const worstCaseLimit = MaxJuteMaxBuffer
