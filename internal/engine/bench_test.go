package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/wal"
)

// The benchmarks run a standalone ensemble on the real disk (a temporary
// directory), with 1 KiB values. Compare their ops/s with BenchmarkFsync of
// the same run: the disk's own rate of 1 KiB write+fsync.
//
//	go test -run x -bench 'Fsync|Standalone' -benchtime 3s ./internal/engine

var benchValue = make([]byte, 1024)

func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(benchValue); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

func benchEnsemble(b *testing.B) *Ensemble {
	b.Helper()
	return startBench(b, Config{DataDir: b.TempDir(), FS: vfs.Default, SnapCount: 1 << 30})
}

// startBench opens an ensemble and waits until it serves.
func startBench(b *testing.B, cfg Config) *Ensemble {
	b.Helper()
	e, err := NewEnsemble(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.WaitServing(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	return e
}

// runSessions runs b.N operations spread over n sessions, each on its own
// goroutine, and reports ops/s and the log records per fsync (the group
// commit's batch).
func runSessions(b *testing.B, e *Ensemble, n int, op func(ctx context.Context, s *Session, i int64) error) {
	sessions := make([]*Session, n)
	for i := range sessions {
		s, err := e.NewSession(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
	}
	before := e.wal.Stats()
	runOn(b, sessions, op)
	reportBatch(b, before, e.wal.Stats())
}

// reportBatch reports the log records per fsync between two stats.
func reportBatch(b *testing.B, before, after wal.Stats) {
	if syncs := after.Syncs - before.Syncs; syncs > 0 {
		b.ReportMetric(float64(after.Records-before.Records)/float64(syncs), "records/fsync")
	}
}

func BenchmarkStandalone(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("create/sessions=%d", n), func(b *testing.B) {
			e := benchEnsemble(b)
			runSessions(b, e, n, func(ctx context.Context, s *Session, i int64) error {
				_, err := s.Create(ctx, fmt.Sprintf("/n%d", i), benchValue)
				return err
			})
		})
		b.Run(fmt.Sprintf("set/sessions=%d", n), func(b *testing.B) {
			e := benchEnsemble(b)
			seedNodes(b, e, 1000)
			runSessions(b, e, n, func(ctx context.Context, s *Session, i int64) error {
				_, err := s.Set(ctx, fmt.Sprintf("/n%d", i%1000), benchValue, -1)
				return err
			})
		})
		b.Run(fmt.Sprintf("get/sessions=%d", n), func(b *testing.B) {
			e := benchEnsemble(b)
			seedNodes(b, e, 1000)
			runSessions(b, e, n, func(ctx context.Context, s *Session, i int64) error {
				_, _, err := s.Get(ctx, fmt.Sprintf("/n%d", i%1000))
				return err
			})
		})
	}
}

// seedNodes creates /n0../n(count-1) with 1 KiB values, in multis that
// stay under the default request limit (jute.maxbuffer, 1 MiB).
func seedNodes(b *testing.B, e *Ensemble, count int) {
	b.Helper()
	ctx := context.Background()
	s, err := e.NewSession(ctx)
	if err != nil {
		b.Fatal(err)
	}
	const perMulti = 500
	for start := 0; start < count; start += perMulti {
		var ops []Op
		for i := start; i < min(count, start+perMulti); i++ {
			ops = append(ops, CreateOp(fmt.Sprintf("/n%d", i), benchValue))
		}
		if _, err := s.Multi(ctx, ops...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestart100k measures NewEnsemble until serving, on a tree of
// 100k nodes of 1 KiB, after a clean close (the tree lives in Pebble:
// only the log after its last flush is replayed).
func BenchmarkRestart100k(b *testing.B) {
	dir := b.TempDir()
	cfg := Config{DataDir: dir, FS: vfs.Default, SnapCount: 1 << 30}
	e, err := NewEnsemble(cfg)
	if err != nil {
		b.Fatal(err)
	}
	seedNodes(b, e, 100000)
	e.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e, err := NewEnsemble(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.WaitServing(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/restart")
		if n := e.tree.NodeCount(); n < 100000 {
			b.Fatalf("restarted with %d nodes", n)
		}
		e.Close()
	}
}
