package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Benchmarks of a 3-peer ensemble in this process over TCP on 127.0.0.1,
// each peer on the real disk (fsync on), at the default TickTime. Compare
// with BenchmarkFsync of the same run.
//
//	go test -run x -bench 'Fsync|Cluster' -benchtime 3s ./internal/engine

func benchCluster(b *testing.B) *tcpCluster {
	b.Helper()
	root := b.TempDir()
	c := newTCPCluster(b, 3, DefaultTickTime, func(i int) (vfs.FS, string) {
		return vfs.Default, filepath.Join(root, fmt.Sprint(i+1))
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.waitServing(ctx)
	return c
}

// clusterSessions opens n sessions spread over the peers.
func clusterSessions(b *testing.B, c *tcpCluster, n int) []*Session {
	b.Helper()
	var out []*Session
	for i := 0; i < n; i++ {
		s, err := c.ens[i%len(c.ens)].NewSession(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// runOn runs b.N operations over the given sessions, one goroutine each.
func runOn(b *testing.B, sessions []*Session, op func(ctx context.Context, s *Session, i int64) error) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := op(ctx, s, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkCluster3(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("create/sessions=%d", n), func(b *testing.B) {
			c := benchCluster(b)
			runOn(b, clusterSessions(b, c, n), func(ctx context.Context, s *Session, i int64) error {
				_, err := s.Create(ctx, fmt.Sprintf("/n%d", i), benchValue)
				return err
			})
		})
	}
	b.Run("get/sessions=64", func(b *testing.B) {
		c := benchCluster(b)
		sessions := clusterSessions(b, c, 64)
		for i := 0; i < 100; i++ {
			if _, err := sessions[0].Create(context.Background(), fmt.Sprintf("/n%d", i), benchValue); err != nil {
				b.Fatal(err)
			}
		}
		for _, s := range sessions {
			if err := s.Sync(context.Background(), "/"); err != nil {
				b.Fatal(err)
			}
		}
		runOn(b, sessions, func(ctx context.Context, s *Session, i int64) error {
			_, _, err := s.Get(ctx, fmt.Sprintf("/n%d", i%100))
			return err
		})
	})
}

// BenchmarkFailover measures, at the default TickTime, the time from
// stopping the leader to the next write committed through a surviving peer.
// It reports the median in milliseconds and in ticks (TickTime/10 each).
func BenchmarkFailover(b *testing.B) {
	var times []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := benchCluster(b)
		l := c.leader()
		survivor := c.ens[(l+1)%3]
		s, err := survivor.NewSession(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		c.ens[l].Close()
		c.ens[l] = nil
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = writeRetrying(ctx, s, "/after-failover")
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		b.StopTimer()
		c.close()
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med := times[len(times)/2]
	b.ReportMetric(float64(med.Microseconds())/1000, "ms/failover")
	b.ReportMetric(float64(med)/float64(DefaultTickTime/TicksPerTickTime), "ticks/failover")
	b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
	b.Logf("%d failovers (ms): %v", len(times), roundedMs(times))
}

func roundedMs(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Milliseconds()
	}
	return out
}
