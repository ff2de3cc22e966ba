package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkMetricsCost measures what the metrics cost the hot path: two
// standalone peers, one without a Registerer and one with, take the same
// operations in alternating batches (ABBA order, so a busy machine's drift
// falls on both), and the benchmark reports each one's ops/s and their
// ratio (on/off: 1 means free). On an in-memory FS there is no fsync, so the
// CPU cost stands out (the worst case); on the real disk it is the cost an
// application sees.
//
//	go test -run x -bench MetricsCost -benchtime 20000x ./internal/engine
func BenchmarkMetricsCost(b *testing.B) {
	for _, disk := range []string{"mem", "os"} {
		for _, op := range []string{"create", "get"} {
			for _, n := range []int{1, 64} {
				b.Run(fmt.Sprintf("disk=%s/%s/sessions=%d", disk, op, n), func(b *testing.B) {
					benchMetricsCost(b, disk, op, n)
				})
			}
		}
	}
}

func benchMetricsCost(b *testing.B, disk, op string, n int) {
	var peers [2]*Ensemble // off, on
	var sessions [2][]*Session
	for i := range peers {
		cfg := Config{DataDir: b.TempDir(), FS: vfs.Default, SnapCount: 1 << 30}
		if disk == "mem" {
			cfg.DataDir, cfg.FS = "/zk", vfs.NewMem()
		}
		if i == 1 {
			cfg.Registerer = prometheus.NewRegistry()
		}
		peers[i] = startBench(b, cfg)
		if op == "get" {
			seedSmall(b, peers[i], 1000)
		}
		for j := 0; j < n; j++ {
			s, err := peers[i].NewSession(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			sessions[i] = append(sessions[i], s)
		}
	}
	do := func(ctx context.Context, s *Session, i int64) error {
		if op == "get" {
			_, _, err := s.Get(ctx, fmt.Sprintf("/n%d", i%1000))
			return err
		}
		_, err := s.Create(ctx, fmt.Sprintf("/n%d", i), benchValue)
		return err
	}
	const batch = 500
	var spent [2]time.Duration
	var next [2]int64
	b.ResetTimer()
	for round := 0; next[0] < int64(b.N); round++ {
		order := [2]int{0, 1}
		if round%2 == 1 {
			order = [2]int{1, 0}
		}
		for _, k := range order {
			count := min(batch, int64(b.N)-next[k])
			spent[k] += runBatch(b, sessions[k], next[k], count, do)
			next[k] += count
		}
	}
	b.StopTimer()
	off := float64(b.N) / spent[0].Seconds()
	on := float64(b.N) / spent[1].Seconds()
	b.ReportMetric(off, "off-ops/s")
	b.ReportMetric(on, "on-ops/s")
	b.ReportMetric(on/off, "on/off")
}

// runBatch runs ops [from, from+count) over the sessions, one goroutine
// each, and returns the time it took.
func runBatch(b *testing.B, sessions []*Session, from, count int64, op func(context.Context, *Session, int64) error) time.Duration {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= count {
					return
				}
				if err := op(ctx, s, from+i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// seedSmall creates /n0../n(count-1) with 1 KiB values, 500 per multi (a
// multi of 1000 is over jute.maxbuffer).
func seedSmall(b *testing.B, e *Ensemble, count int) {
	b.Helper()
	ctx := context.Background()
	s, err := e.NewSession(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < count; start += 500 {
		var ops []Op
		for i := start; i < min(count, start+500); i++ {
			ops = append(ops, CreateOp(fmt.Sprintf("/n%d", i), benchValue))
		}
		if _, err := s.Multi(ctx, ops...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummaryObserve compares an observation of zk's summary with one
// of the client library's Summary (same quantiles), from parallel
// goroutines, as sessions observe their latencies.
//
//	go test -run x -bench SummaryObserve ./internal/engine
func BenchmarkSummaryObserve(b *testing.B) {
	b.Run("zk", func(b *testing.B) {
		s := newSummary(time.Now(), "x", "x", 1e-6)
		b.RunParallel(func(pb *testing.PB) {
			for i := int64(0); pb.Next(); i++ {
				s.observe(1000+i%5000, i)
			}
		})
	})
	b.Run("client_golang", func(b *testing.B) {
		s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "x", Help: "x",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}})
		b.RunParallel(func(pb *testing.PB) {
			for i := int64(0); pb.Next(); i++ {
				s.Observe(float64(1000+i%5000) * 1e-6)
			}
		})
	})
}
