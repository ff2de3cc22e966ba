package recipes

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk"
)

// Lock cycles (Acquire then Release) per second, 8 workers, each on a
// session of its own: contending one lock, or each on its own lock; on a
// standalone ensemble and on 3 peers over TCP on 127.0.0.1, on the real
// disk (fsync on), at the default TickTime. BenchmarkFsync gives the
// disk's rate in the same run, to read the others as ratios.
//
//	go test -run x -bench 'Fsync|Mutex' -benchtime 3s ./recipes

const benchWorkers = 8

// BenchmarkFsync measures the disk's rate of small write + fsync.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "probe"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

func BenchmarkMutex(b *testing.B) {
	for _, peers := range []int{1, 3} {
		for _, shape := range []string{"contended", "own"} {
			b.Run(fmt.Sprintf("peers=%d/%s", peers, shape), func(b *testing.B) {
				ens := benchEnsemble(b, peers)
				var ms []*Mutex
				for i := 0; i < benchWorkers; i++ {
					s, err := ens[i%len(ens)].NewSession(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					c, err := NewClient(s)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close(context.Background())
					path := "/bench/lock"
					if shape == "own" {
						path = fmt.Sprintf("/bench/lock%d", i)
					}
					ms = append(ms, must[*Mutex](b)(NewMutex(c, path)))
				}
				cycles(b, ms)
			})
		}
	}
}

// cycles runs b.N lock cycles over the mutexes, one goroutine each.
func cycles(b *testing.B, ms []*Mutex) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, m := range ms {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				l, err := m.Acquire(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				if err := l.Release(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// benchEnsemble starts a standalone ensemble or n peers over TCP on
// 127.0.0.1, each on the real disk, and waits until they serve.
func benchEnsemble(b *testing.B, n int) []*zk.Ensemble {
	b.Helper()
	root := b.TempDir()
	if n == 1 {
		e, err := zk.NewEnsemble(zk.Config{DataDir: filepath.Join(root, "zk")})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { e.Close() })
		return waitServing(b, []*zk.Ensemble{e})
	}
	var servers []zk.Server
	for i := 1; i <= n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		servers = append(servers, zk.Server{ID: int64(i), Host: "127.0.0.1", QuorumPort: port, ElectionPort: port})
	}
	var ens []*zk.Ensemble
	for i := 1; i <= n; i++ {
		e, err := zk.NewEnsemble(zk.Config{
			ID: int64(i), DataDir: filepath.Join(root, fmt.Sprint("zk", i)), Servers: servers,
			PeerSecret: []byte("recipes benchmark secret"),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { e.Close() })
		ens = append(ens, e)
	}
	return waitServing(b, ens)
}

func waitServing(b *testing.B, ens []*zk.Ensemble) []*zk.Ensemble {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range ens {
		if err := e.WaitServing(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return ens
}

// BenchmarkHandoff passes one lock back and forth between two holders,
// standalone and on 3 peers over TCP (real disk): a hand-off is the
// holder's delete committed (one commit) and the waiter's watch event,
// then the waiter's grant (local reads only). It reports the time of each
// part per hand-off: commit (the holder's Release), event+grant (from the
// end of the Release to the waiter's Acquire returning), and the whole.
func BenchmarkHandoff(b *testing.B) {
	for _, peers := range []int{1, 3} {
		b.Run(fmt.Sprintf("peers=%d", peers), func(b *testing.B) { handoff(b, peers) })
	}
}

func handoff(b *testing.B, peers int) {
	ens := benchEnsemble(b, peers)
	var ms [2]*Mutex
	for i := range ms {
		s, err := ens[i%len(ens)].NewSession(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		c, err := NewClient(s)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(context.Background())
		ms[i] = must[*Mutex](b)(NewMutex(c, "/bench/handoff"))
	}
	ctx := context.Background()
	held := must[*Lease](b)(ms[0].Acquire(ctx))
	var commit, grant time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := ms[(i+1)%2]
		got := make(chan *Lease, 1)
		go func() { got <- must[*Lease](b)(next.Acquire(ctx)) }()
		waitQueued(b, ms[i%2].c, "/bench/handoff", 2)
		t0 := time.Now()
		if err := held.Release(ctx); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		held = <-got
		t2 := time.Now()
		commit += t1.Sub(t0)
		grant += t2.Sub(t1)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(commit.Microseconds())/n, "µs-commit/op")
	b.ReportMetric(float64(grant.Microseconds())/n, "µs-event+grant/op")
	b.ReportMetric(float64((commit+grant).Microseconds())/n, "µs-handoff/op")
}

// waitQueued waits (briefly polling) until dir has n contenders.
func waitQueued(b *testing.B, c *Client, dir string, n int) {
	for {
		kids, _, err := c.conn.Children(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		if len(kids) >= n {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}
