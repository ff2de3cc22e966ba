package wal

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// BenchmarkFsync is the raw rate of the disk under the benchmarks: write
// 1 KiB and fsync, on a real temporary directory.
func BenchmarkFsync(b *testing.B) {
	fs := vfs.Default
	f, err := fs.Create(fs.PathJoin(b.TempDir(), "f"), vfs.WriteCategoryUnspecified)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1024)
	b.SetBytes(1024)
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

// BenchmarkAppend appends 1 KiB records, one per call, from 1 or 64
// goroutines on a real temporary directory. With 64 appenders group commit
// shares each fsync among many calls.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(map[int]string{1: "appenders=1", 64: "appenders=64"}[n], func(b *testing.B) {
			benchAppend(b, n)
		})
	}
}

func benchAppend(b *testing.B, appenders int) {
	l, err := Open(Options{FS: vfs.Default, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	data := make([]byte, 1024)
	var (
		mu   sync.Mutex // makes arrival order the zxid order
		next int64
		left atomic.Int64
		wg   sync.WaitGroup
	)
	left.Store(int64(b.N))
	b.SetBytes(1024)
	b.ResetTimer()
	for range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				mu.Lock()
				next++
				c, err := l.enqueue([]Entry{{Zxid: next, Data: data}})
				mu.Unlock()
				if err == nil {
					err = l.wait(c)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	st := l.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	b.ReportMetric(float64(st.Syncs)/b.Elapsed().Seconds(), "fsyncs/s")
	b.ReportMetric(float64(st.Records)/float64(max(st.Syncs, 1)), "records/fsync")
}
