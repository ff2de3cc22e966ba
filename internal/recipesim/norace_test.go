//go:build !race

package recipesim

const raceEnabled = false
