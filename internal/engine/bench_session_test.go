package engine

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// BenchmarkSessionCreateClose opens and closes sessions (each a committed
// CreateSession and CloseSession) from 16 goroutines, on the real disk.
func BenchmarkSessionCreateClose(b *testing.B) {
	e := benchEnsemble(b)
	ctx := context.Background()
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := e.NewSession(ctx)
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Close(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}

// BenchmarkWatchLatency sets a data watch on one session and changes the
// node through another: the time from the Set call to the event on the
// watcher's channel, p50 and p99, on the real disk (the fsync dominates)
// and in memory (the library's own cost).
func BenchmarkWatchLatency(b *testing.B) {
	for _, disk := range []string{"disk", "memory"} {
		b.Run(disk, func(b *testing.B) {
			var e *Ensemble
			if disk == "disk" {
				e = benchEnsemble(b)
			} else {
				e = memEnsemble(b)
			}
			ctx := context.Background()
			watcher, _ := e.NewSession(ctx)
			writer, _ := e.NewSession(ctx)
			if _, err := writer.Create(ctx, "/w", nil); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, _, ch, err := watcher.GetW(ctx, "/w")
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				go writer.Set(ctx, "/w", benchValue, -1)
				<-ch
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func memEnsemble(b *testing.B) *Ensemble {
	return startBench(b, Config{DataDir: "/zk", FS: vfs.NewMem(), SnapCount: 1 << 30})
}

// BenchmarkMemorySessionsWatches opens 10k sessions and sets 10 one-shot
// watches on each (on 10k distinct nodes), and reports the heap growth per
// session and per watch. Run with -benchtime 1x.
func BenchmarkMemorySessionsWatches(b *testing.B) {
	for i := 0; i < b.N; i++ {
		e := memEnsemble(b)
		ctx := context.Background()
		seedNodes(b, e, 10000)
		heap0 := heapInUse()
		sessions := make([]*Session, 10000)
		var wg sync.WaitGroup
		for g := 0; g < 64; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := g; j < len(sessions); j += 64 {
					s, err := e.NewSession(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					sessions[j] = s
				}
			}()
		}
		wg.Wait()
		heap1 := heapInUse()
		var chans []<-chan Event
		for j, s := range sessions {
			for k := 0; k < 10; k++ {
				_, _, ch, err := s.ExistsW(ctx, fmt.Sprintf("/n%d", (j*10+k)%10000))
				if err != nil {
					b.Fatal(err)
				}
				chans = append(chans, ch)
			}
		}
		heap2 := heapInUse()
		b.ReportMetric(float64(heap1-heap0)/float64(len(sessions)), "B/session")
		b.ReportMetric(float64(heap2-heap1)/float64(len(chans)), "B/watch")
		runtime.KeepAlive(chans)
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
