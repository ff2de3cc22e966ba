//go:build race

package lint

// raceEnabled: the test binary runs with -race, so the README's programs
// are built with it too and reuse the packages it already compiled.
const raceEnabled = true
