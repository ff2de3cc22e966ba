package engine

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// watchKinds are the kinds of watch a session can set, as idleWatches names
// them.
var watchKinds = []string{"data", "exist", "child", "persistent", "recursive"}

// seedWatchNodes creates /n0 .. /n<count-1>, in multis of 1000.
func seedWatchNodes(tb testing.TB, e *Ensemble, count int) {
	tb.Helper()
	ctx := context.Background()
	s, err := e.NewSession(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for start := 0; start < count; start += 1000 {
		var ops []Op
		for i := start; i < min(count, start+1000); i++ {
			ops = append(ops, CreateOp(fmt.Sprintf("/n%d", i), nil))
		}
		if _, err := s.Multi(ctx, ops...); err != nil {
			tb.Fatal(err)
		}
	}
}

// idleWatches sets n watches of kind (one of watchKinds) spread over
// sessions, one per path: data and child watches on /n<i> (which must
// exist), the others on /w/<i> (missing nodes). It returns the handles, to
// be kept alive while the heap is measured.
func idleWatches(tb testing.TB, e *Ensemble, kind string, n int, sessions []*Session) []any {
	tb.Helper()
	ctx := context.Background()
	keep := make([]any, 0, n)
	for i := 0; i < n; i++ {
		s := sessions[i%len(sessions)]
		var h any
		var err error
		switch kind {
		case "data":
			_, _, h, err = s.GetW(ctx, fmt.Sprintf("/n%d", i))
		case "child":
			_, _, h, err = s.ChildrenW(ctx, fmt.Sprintf("/n%d", i))
		case "exist":
			_, _, h, err = s.ExistsW(ctx, fmt.Sprintf("/w/%d", i))
		case "persistent", "recursive":
			h, err = s.AddWatch(ctx, fmt.Sprintf("/w/%d", i), kind == "recursive")
		default:
			tb.Fatalf("unknown watch kind %q", kind)
		}
		if err != nil {
			tb.Fatalf("%s watch %d: %v", kind, i, err)
		}
		keep = append(keep, h)
	}
	return keep
}

// bytesPerIdleWatch returns the heap growth per watch when n watches of
// kind are set over sessions.
func bytesPerIdleWatch(tb testing.TB, e *Ensemble, kind string, n int, sessions []*Session) float64 {
	tb.Helper()
	before := heapInUse()
	keep := idleWatches(tb, e, kind, n, sessions)
	after := heapInUse()
	runtime.KeepAlive(keep)
	return float64(after-before) / float64(n)
}

func benchSessions(tb testing.TB, e *Ensemble, n int) []*Session {
	tb.Helper()
	out := make([]*Session, n)
	for i := range out {
		s, err := e.NewSession(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// BenchmarkMemoryIdleWatches reports the heap held per idle watch (set,
// never fired) of each kind: 10k watches over 16 sessions, one path each.
// persistent-1M sets one million persistent watches, the scale the watch
// memory issue was about. Run with -benchtime 1x; each sub-benchmark opens
// its own in-memory ensemble.
func BenchmarkMemoryIdleWatches(b *testing.B) {
	cases := []struct {
		name, kind string
		n          int
	}{}
	for _, k := range watchKinds {
		cases = append(cases, struct {
			name, kind string
			n          int
		}{k + "-10k", k, 10_000})
	}
	cases = append(cases, struct {
		name, kind string
		n          int
	}{"persistent-1M", "persistent", 1_000_000})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				e := memEnsemble(b)
				if c.kind == "data" || c.kind == "child" {
					seedWatchNodes(b, e, c.n)
				}
				sessions := benchSessions(b, e, 16)
				per = bytesPerIdleWatch(b, e, c.kind, c.n, sessions)
				e.Close()
			}
			b.ReportMetric(per, "B/watch")
			b.ReportMetric(per*1e6/(1<<30), "GiB/1M-watches")
		})
	}
}
