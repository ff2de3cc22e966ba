package engine

import (
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/hooks"
)

// TestTraceMarksAWrite: with a tracer, a standalone write is noted step by
// step, in order, each step carrying what the benchmark's trace matches on
// (examples/bench -trace): the session, the request id, the zxid.
func TestTraceMarksAWrite(t *testing.T) {
	var mu sync.Mutex
	var got []hooks.Mark
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.TestHooks = &hooks.Hooks{Trace: func(m hooks.Mark) {
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}}
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	mu.Lock()
	got = nil
	mu.Unlock()
	mustCreate(t, s, "/a", "x")
	mu.Lock()
	defer mu.Unlock()
	var points []string
	for _, m := range got {
		points = append(points, m.Point)
	}
	want := []string{hooks.TraceSubmit, hooks.TraceTake, hooks.TraceProposed, hooks.TraceFsyncStart,
		hooks.TraceFsyncDone, hooks.TraceApplyStart, hooks.TraceApplyDone, hooks.TraceAnswer, hooks.TraceReturned}
	if !slices.Equal(points, want) {
		t.Fatalf("marks %v, want %v", points, want)
	}
	zxid := got[2].Zxid
	req := got[1].Req
	for i, m := range got {
		switch {
		case i >= 2 && m.Zxid != zxid:
			t.Errorf("%s: zxid %#x, want %#x", m.Point, m.Zxid, zxid)
		case (i == 1 || i == 2 || i == 7) && m.Req != req:
			t.Errorf("%s: request %d, want %d", m.Point, m.Req, req)
		case (i <= 2 || i >= 7) && m.Session != s.ID():
			t.Errorf("%s: session %#x, want %#x", m.Point, m.Session, s.ID())
		}
	}
	if zxid == 0 || req == 0 {
		t.Fatalf("zxid %#x, request %d: want both set", zxid, req)
	}
}
