//go:build unix

package proctest

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/embedzk/zk/internal/lincheck"
)

var flagReanalyze = flag.String("proctest.reanalyze", "", "run directory of a finished run to analyze again (TestReanalyze)")

// TestReanalyze re-runs the checks of a kept run directory (its op logs,
// logs and dumps) and prints the diagnosis: a tool for failed runs, which
// does nothing without -proctest.reanalyze.
func TestReanalyze(t *testing.T) {
	dir := *flagReanalyze
	if dir == "" {
		return
	}
	var paths []string
	var applied int64
	for _, id := range peerIDs {
		pd := filepath.Join(dir, fmt.Sprintf("peer%d", id))
		paths = append(paths, opLogPath(pd))
		b, err := os.ReadFile(dumpPath(pd))
		if err != nil {
			t.Fatal(err)
		}
		var d treeDump
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		applied = d.Applied
	}
	ops, err := readOpLogs(paths)
	if err != nil {
		t.Fatal(err)
	}
	full, err := readLog(filepath.Join(dir, "peer1"))
	if err != nil {
		t.Fatal(err)
	}
	log, tail := splitAt(full, applied)
	a := analyze(ops, log, tail)
	for _, e := range a.errs {
		t.Error(e)
	}
	hist, from := a.linOps()
	res := lincheck.Check(hist, checkTimeout)
	t.Logf("%d ops, lincheck %+v", len(hist), res)
	if !res.Ok {
		t.Errorf("not linearizable:\n%s", diagnose(hist, from))
	}
}
