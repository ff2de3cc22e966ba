package recipesim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestDeterminism: a seed replays to the same trace, with one P (the
// gates fix the order of the writes, one P the order in which goroutines
// woken at one instant run).
//
// The race detector shuffles the scheduler on purpose, so a seed cannot
// replay bit for bit in a -race binary; CI runs every test under -race.
// There the test builds and runs this package's tests again without the
// race detector (go test, in a subprocess) and checks that this test
// passed there: the check runs in every configuration, never skipped.
func TestDeterminism(t *testing.T) {
	if raceEnabled {
		determinismWithoutRace(t)
		return
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var hashes []uint64
	for i := 0; i < 2; i++ {
		synctest.Test(t, func(t *testing.T) { hashes = append(hashes, Run(Options{Seed: 7, Ticks: 800}).Hash) })
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("seed 7 gave two traces: %#x and %#x", hashes[0], hashes[1])
	}
	t.Logf("seed 7 replayed: trace hash %#x", hashes[0])
}

// determinismWithoutRace runs TestDeterminism in a test binary built
// without -race, with the go command that built this one.
func determinismWithoutRace(t *testing.T) {
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command to build the test without -race (GOROOT %s, PATH): %v", runtime.GOROOT(), err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The package directory is the working directory of a test.
	cmd := exec.CommandContext(ctx, goCmd, "test", "-count=1", "-run=^TestDeterminism$", "-v", ".")
	cmd.Env = withoutRaceFlag(os.Environ())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TestDeterminism without -race: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`(?m)^--- PASS: TestDeterminism .*$`).Find(out); m == nil || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("TestDeterminism did not pass without -race:\n%s", out)
	}
	if m := regexp.MustCompile(`seed 7 replayed: trace hash 0x[0-9a-f]+`).Find(out); m != nil {
		t.Logf("without -race: %s", m)
	}
}

// withoutRaceFlag returns env with -race taken out of GOFLAGS.
func withoutRaceFlag(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			var keep []string
			for _, f := range strings.Fields(v) {
				if f != "-race" && f != "-race=true" {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		out = append(out, kv)
	}
	return out
}
