package sim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/hooks"
)

// TestBadInputCatchesIssue9: on a build with issue 9's defect
// (hooks.ResetOnRefusal: no size limits, and a proposal the core refuses
// resets the leader's pending view), the workload's oversized requests,
// sent among good writes, make the peers stop on a digest mismatch, and
// the run fails (6 of seeds 1..60 show it within 300 ticks; 14 does). The
// same run on the fixed build passes.
func TestBadInputCatchesIssue9(t *testing.T) {
	opts := Options{Seed: 14, Ticks: 300, NoFaults: true}
	if res := Run(opts); res.Err() != nil {
		t.Fatalf("the fixed build failed (%d bad requests sent): %v", res.Stats.BadOps, res.Err())
	}
	var trace failLines
	opts.Broken, opts.Trace = hooks.ResetOnRefusal, &trace
	res := Run(opts)
	if res.Err() == nil || !strings.Contains(trace.String(), "data inconsistency") {
		t.Fatalf("the run on issue 9's build did not fail on a digest mismatch (%d bad requests sent): %.2000s",
			res.Stats.BadOps, trace.String())
	}
	i := strings.Index(trace.String(), "data inconsistency")
	t.Logf("%d bad requests sent; the run failed: ...%.400s", res.Stats.BadOps, trace.String()[max(0, i-200):])
}

// failLines keeps the FAIL lines of a trace.
type failLines struct{ bytes.Buffer }

func (f *failLines) Write(p []byte) (int, error) {
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if bytes.Contains(line, []byte("FAIL")) {
			f.Buffer.Write(line)
		}
	}
	return len(p), nil
}
