package recipes

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/zab/transport"
)

// benchTree fills /bench with parents×perParent nodes of size bytes each,
// by multis of up to 1000 creates that stay under jute.maxbuffer, and returns the bytes a cache of it holds:
// paths, data and a Stat (68 bytes) per node.
func benchTree(b *testing.B, s *zk.Session, parents, perParent, size int) int64 {
	ctx := context.Background()
	if _, err := s.Create(ctx, "/bench", nil); err != nil {
		b.Fatal(err)
	}
	const stat = 68
	held := int64(len("/bench") + stat)
	data := make([]byte, size)
	perMulti := min(1000, (zk.DefaultJuteMaxBuffer/2)/(size+64)) // well under the request limit
	for p := 0; p < parents; p++ {
		parent := fmt.Sprintf("/bench/d%03d", p)
		ops := []zk.Op{zk.CreateOp(parent, data)}
		held += int64(len(parent) + size + stat)
		for i := 0; i < perParent; i++ {
			path := fmt.Sprintf("%s/n%04d", parent, i)
			ops = append(ops, zk.CreateOp(path, data))
			held += int64(len(path) + size + stat)
			if len(ops) == perMulti {
				if _, err := s.Multi(ctx, ops...); err != nil {
					b.Fatal(err)
				}
				ops = ops[:0]
			}
		}
		if len(ops) > 0 {
			if _, err := s.Multi(ctx, ops...); err != nil {
				b.Fatal(err)
			}
		}
	}
	return held
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkTreeCacheLoad loads a TreeCache of 100,000 nodes (100 parents of
// 1,000 children, 100 or 1,000 bytes each) and reports the load time and
// the heap the loaded cache holds against the bytes of paths, data and
// Stats it caches.
//
//	go test ./recipes -run - -bench TreeCacheLoad -benchtime 3x
func BenchmarkTreeCacheLoad(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("data=%dB", size), func(b *testing.B) {
			cfg := chConfig(vfs.NewMem())
			cfg.SnapCount = 1 << 30 // no snapshot during the measure
			e, err := zk.NewEnsemble(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			s, err := e.NewSession(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			held := benchTree(b, s, 100, 999, size)
			b.ResetTimer()
			var ratio float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				before := heapInUse()
				b.StartTimer()
				c, err := NewTreeCache(s, "/bench")
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c.Len() != 100*1000+1 {
					b.Fatalf("the cache holds %d nodes", c.Len())
				}
				ratio = float64(heapInUse()-before) / float64(held)
				c.Close()
			}
			b.ReportMetric(ratio, "heap/held")
			b.ReportMetric(float64(held)/1e6, "MB-held")
		})
	}
}

// lagRun measures, while writers set nodes of a cached subtree with their
// send time as data, how long each write takes to reach a TreeCache's
// listener and a recursive watch of the same subtree on the same session.
type lagRun struct {
	start time.Time
	mu    sync.Mutex
	cache []time.Duration
	watch []time.Duration
}

func (r *lagRun) stamp() []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(time.Since(r.start)))
}

func (r *lagRun) since(data []byte) time.Duration {
	if len(data) != 8 {
		return -1
	}
	return time.Since(r.start) - time.Duration(binary.BigEndian.Uint64(data))
}

// runLag runs 64 writers of n writes each in total through writers (round
// robin) and observes through obs; it returns the cache's and the watch's
// latencies.
func runLag(b *testing.B, obs *zk.Session, writers []*zk.Session, n int) *lagRun {
	ctx := context.Background()
	const nw = 64
	for i := 0; i < nw; i++ {
		if _, err := writers[0].Create(ctx, fmt.Sprintf("/lag/w%02d", i), nil, zk.WithParents()); err != nil {
			b.Fatal(err)
		}
	}
	r := &lagRun{start: time.Now()}
	c, err := NewTreeCache(obs, "/lag")
	if err != nil {
		b.Fatal(err)
	}
	c.Listen(func(ev CacheEvent) {
		if d := r.since(ev.Node.Data); ev.Type == CacheNodeChanged && d >= 0 {
			r.mu.Lock()
			r.cache = append(r.cache, d)
			r.mu.Unlock()
		}
	})
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w, err := obs.AddWatch(ctx, "/lag", true, zk.WithEventData(), zk.WithWatchBuffer(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for got := 0; got < n; {
			ev, err := w.Next(ctx)
			if err != nil {
				return
			}
			if ev.Type == zk.EventNodeDataChanged && ev.Node != nil {
				d := r.since(ev.Node.Data)
				r.mu.Lock()
				r.watch = append(r.watch, d)
				r.mu.Unlock()
				got++
			}
		}
	}()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := 0; i < nw; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := writers[i%len(writers)]
			p := fmt.Sprintf("/lag/w%02d", i)
			for j := i; j < n; j += nw {
				if _, err := s.Set(ctx, p, r.stamp(), -1); err != nil {
					b.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	<-watchDone
	b.StopTimer()
	w.Remove()
	return r
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (r *lagRun) report(b *testing.B) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp50, cp99 := percentile(r.cache, 0.50), percentile(r.cache, 0.99)
	wp50, wp99 := percentile(r.watch, 0.50), percentile(r.watch, 0.99)
	b.ReportMetric(float64(cp50.Microseconds()), "cache-p50-µs")
	b.ReportMetric(float64(cp99.Microseconds()), "cache-p99-µs")
	b.ReportMetric(float64(wp50.Microseconds()), "watch-p50-µs")
	b.ReportMetric(float64(wp99.Microseconds()), "watch-p99-µs")
	if wp99 > 0 {
		b.ReportMetric(float64(cp99)/float64(wp99), "p99-cache/watch")
	}
}

// BenchmarkCacheLag: 64 writers set nodes of a TreeCache's subtree; the
// lag from each write's start to the cache's listener, p50 and p99, next
// to the latency of a recursive watch of the same subtree in the same run.
// Standalone, and on three peers (in-memory transport, real clock) with
// the writers on all three and the cache and the watch on a follower.
//
//	go test ./recipes -run - -bench CacheLag -benchtime 20000x
func BenchmarkCacheLag(b *testing.B) {
	b.Run("standalone", func(b *testing.B) {
		cfg := chConfig(vfs.NewMem())
		cfg.ManualClock = false
		e, err := zk.NewEnsemble(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		var ss []*zk.Session
		for i := 0; i < 9; i++ {
			s, err := e.NewSession(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			ss = append(ss, s)
		}
		runLag(b, ss[0], ss[1:], b.N).report(b)
	})
	b.Run("3peers", func(b *testing.B) {
		ens := benchCluster(b)
		var obs *zk.Session
		var writers []*zk.Session
		for i := 0; i < 9; i++ {
			e := ens[i%3]
			s, err := e.NewSession(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if obs == nil && e.Status().Mode == zk.ModeFollowing {
				obs = s
				continue
			}
			writers = append(writers, s)
		}
		runLag(b, obs, writers, b.N).report(b)
	})
}

// benchCluster starts three peers on the in-memory transport with real
// clocks and waits until they serve.
func benchCluster(b *testing.B) []*zk.Ensemble {
	ids := []int64{1, 2, 3}
	net := transport.NewNetwork(transport.NetworkOptions{Peers: ids, EventBuffer: 1 << 16})
	b.Cleanup(net.Close)
	var servers []zk.Server
	for _, id := range ids {
		servers = append(servers, zk.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
	}
	var ens []*zk.Ensemble
	for _, id := range ids {
		cfg := chConfig(vfs.NewMem())
		cfg.ManualClock = false
		cfg.ID, cfg.Servers, cfg.Transport = id, servers, net.Restart(id)
		e, err := zk.NewEnsemble(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { e.Close() })
		ens = append(ens, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range ens {
		if err := e.WaitServing(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return ens
}

// BenchmarkTreeCacheResume: a TreeCache of 100,000 nodes loses its
// session; 1,000 writes later it resumes on a new one from its zxid (a
// replay from the newest snapshot before it, SnapCount 20,000) instead of
// loading again. Reported: the time from the new session to the cache
// holding the last write, next to a fresh load of the same tree.
//
//	go test ./recipes -run - -bench TreeCacheResume -benchtime 3x
func BenchmarkTreeCacheResume(b *testing.B) {
	cfg := chConfig(vfs.NewMem())
	cfg.SnapCount = 20000
	e, err := zk.NewEnsemble(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	w, err := e.NewSession(ctx)
	if err != nil {
		b.Fatal(err)
	}
	benchTree(b, w, 100, 999, 100)
	var resume, load time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := e.NewSession(ctx)
		if err != nil {
			b.Fatal(err)
		}
		gate := make(chan struct{})
		c, err := NewTreeCache(s, "/bench", WithReconnect(func(ctx context.Context) (CacheSession, error) {
			<-gate
			return e.NewSession(ctx)
		}))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := c.Start(ctx); err != nil {
			b.Fatal(err)
		}
		load += time.Since(t0)
		wake := make(chan struct{}, 1)
		c.testBatch = func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		if err := e.ExpireSession(ctx, s.ID()); err != nil {
			b.Fatal(err)
		}
		var last zk.Stat
		for j := 0; j < 1000; j++ {
			if last, err = w.Set(ctx, fmt.Sprintf("/bench/d%03d/n%04d", j%100, j%999), []byte("changed"), -1); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 = time.Now()
		close(gate)
		for c.Zxid() < last.Mzxid {
			<-wake
		}
		resume += time.Since(t0)
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(resume.Milliseconds())/float64(b.N), "resume-ms")
	b.ReportMetric(float64(load.Milliseconds())/float64(b.N), "load-ms")
}
