package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// row is one line of the final table.
type row struct {
	name  string
	label string // what the table calls it
	unit  string
	lower bool   // lower is better (latency, memory)
	goal  string // issue 15's goal for 3 peers, as zk ÷ ZooKeeper
}

// workload measures one or more rows on a running system (or, for the RSS
// workload, on systems of its own).
type workload struct {
	name string
	rows []row
	run  func(ctx context.Context, sys system, win window) ([]float64, error)
	// rss is set for the memory workload, which starts its own servers.
	rss func(dir, target string, peers int) ([]float64, error)
}

var workloads = []workload{
	{name: "create-1", rows: []row{{name: "create-1", label: "create, 1 session", unit: "ops/s", goal: "≥ 0.7x the fsync rate"}},
		run: func(ctx context.Context, sys system, win window) ([]float64, error) {
			return one(creates(ctx, sys, win, 1))
		}},
	{name: "create-64", rows: []row{{name: "create-64", label: "create, 64 sessions", unit: "ops/s", goal: "≥ 5x"}},
		run: func(ctx context.Context, sys system, win window) ([]float64, error) {
			return one(creates(ctx, sys, win, 64))
		}},
	{name: "set-64", rows: []row{{name: "set-64", label: "setData, 64 sessions", unit: "ops/s", goal: "≥ 5x"}},
		run: func(ctx context.Context, sys system, win window) ([]float64, error) {
			return one(sets(ctx, sys, win, 64))
		}},
	{name: "lock-shared", rows: []row{{name: "lock-shared", label: "lock cycles, 8 contending one lock", unit: "cycles/s", goal: "≥ 10x"}},
		run: func(ctx context.Context, sys system, win window) ([]float64, error) {
			return one(lockCycles(ctx, sys, win, 8, true))
		}},
	{name: "lock-own", rows: []row{{name: "lock-own", label: "lock cycles, 8 with own locks", unit: "cycles/s", goal: "≥ 5x"}},
		run: func(ctx context.Context, sys system, win window) ([]float64, error) {
			return one(lockCycles(ctx, sys, win, 8, false))
		}},
	{name: "watch-p50", rows: []row{{name: "watch-p50", label: "watch event p50 (set on one session, event on another)", unit: "ms", lower: true, goal: "≤ 0.2x"}},
		run: func(ctx context.Context, sys system, win window) ([]float64, error) {
			return one(watchLatency(ctx, sys, win))
		}},
	{name: "rss", rows: []row{
		{name: "rss", label: "RSS holding the nodes (3 zk peers: one process)", unit: "MiB", lower: true, goal: "≤ 0.15x"},
		{name: "rss-gc", label: "the same RSS after a full GC (Go: runtime.GC; JVM: jcmd GC.run)", unit: "MiB", lower: true},
	}, rss: measureRSS},
}

func workloadNames() []string {
	var out []string
	for _, w := range workloads {
		out = append(out, w.name)
	}
	return out
}

func workloadByName(name string) (workload, bool) {
	for _, w := range workloads {
		if w.name == name {
			return w, true
		}
	}
	return workload{}, false
}

func one(v float64, err error) ([]float64, error) { return []float64{v}, err }

// openClients opens n sessions, session i on peer i mod peers.
func openClients(sys system, n int) ([]client, error) {
	var out []client
	for i := 0; i < n; i++ {
		c, err := sys.open(i)
		if err != nil {
			closeClients(out)
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func closeClients(cs []client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.close()
		}()
	}
	wg.Wait()
}

// loop runs op on every client, each on its own goroutine, for d, and
// returns the operations per second.
func loop(ctx context.Context, cs []client, d time.Duration, op func(ctx context.Context, g int, c client, i int) error) (float64, error) {
	var count atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for g, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				if err := op(ctx, g, c, i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(count.Load()) / elapsed.Seconds(), nil
}

// window runs a measurement window, with the profiles -cpuprofile and
// -memprofile ask for around it.
type window func(f func() (float64, error)) (float64, error)

func creates(ctx context.Context, sys system, win window, n int) (float64, error) {
	cs, err := openClients(sys, n)
	if err != nil {
		return 0, err
	}
	defer closeClients(cs)
	prefix := fmt.Sprintf("/create-%d", n)
	if err := cs[0].create(prefix, nil); err != nil {
		return 0, err
	}
	value := make([]byte, *valueLen)
	return win(func() (float64, error) {
		return loop(ctx, cs, *duration, func(ctx context.Context, g int, c client, i int) error {
			return c.create(fmt.Sprintf("%s/g%d-%d", prefix, g, i), value)
		})
	})
}

// sets: each session sets its own node.
func sets(ctx context.Context, sys system, win window, n int) (float64, error) {
	cs, err := openClients(sys, n)
	if err != nil {
		return 0, err
	}
	defer closeClients(cs)
	prefix := fmt.Sprintf("/set-%d", n)
	value := make([]byte, *valueLen)
	if err := cs[0].create(prefix, nil); err != nil {
		return 0, err
	}
	for g, c := range cs {
		if err := c.create(fmt.Sprintf("%s/n%d", prefix, g), value); err != nil {
			return 0, err
		}
	}
	return win(func() (float64, error) {
		return loop(ctx, cs, *duration, func(ctx context.Context, g int, c client, i int) error {
			return c.set(fmt.Sprintf("%s/n%d", prefix, g), value)
		})
	})
}

// lockCycles: n sessions lock and unlock, all the same lock (shared) or
// each its own, and the cycles per second are counted.
func lockCycles(ctx context.Context, sys system, win window, n int, shared bool) (float64, error) {
	cs, err := openClients(sys, n)
	if err != nil {
		return 0, err
	}
	defer closeClients(cs)
	name := "lock-own"
	if shared {
		name = "lock-shared"
	}
	if err := cs[0].create("/"+name, nil); err != nil {
		return 0, err
	}
	locks := make([]locker, n)
	for g, c := range cs {
		path := "/" + name + "/lock"
		if !shared {
			path = fmt.Sprintf("/%s/lock%d", name, g)
		}
		l, err := c.lock(path)
		if err != nil {
			return 0, err
		}
		locks[g] = l
	}
	return win(func() (float64, error) {
		return loop(ctx, cs, *duration, func(ctx context.Context, g int, c client, i int) error {
			if err := locks[g].Lock(ctx); err != nil {
				return err
			}
			return locks[g].Unlock(ctx)
		})
	})
}

// watchLatency: a watcher session sets a data watch, a setter session on
// another peer (both followers with 3 peers) sets the node; the time from
// the set's call to the watcher's event is measured, and its median
// returned, in milliseconds.
func watchLatency(ctx context.Context, sys system, win window) (float64, error) {
	setIdx, watchIdx := 0, 0
	if sys.peers() > 1 {
		var followers []int
		for i := 0; i < sys.peers(); i++ {
			if i != sys.leader() {
				followers = append(followers, i)
			}
		}
		setIdx, watchIdx = followers[0], followers[1]
	}
	setter, err := sys.open(setIdx)
	if err != nil {
		return 0, err
	}
	defer setter.close()
	watcher, err := sys.open(watchIdx)
	if err != nil {
		return 0, err
	}
	defer watcher.close()
	value := make([]byte, *valueLen)
	if err := setter.create("/watch", value); err != nil {
		return 0, err
	}
	// The watcher's peer may not have applied the create yet.
	if err := watcher.sync("/watch"); err != nil {
		return 0, err
	}
	var lat []time.Duration
	_, err = win(func() (float64, error) {
		deadline := time.Now().Add(*duration)
		for len(lat) < 20 || time.Now().Before(deadline) {
			wait, err := watcher.getW("/watch")
			if err != nil {
				return 0, err
			}
			start := time.Now()
			if err := setter.set("/watch", value); err != nil {
				return 0, err
			}
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err = wait(wctx)
			cancel()
			if err != nil {
				return 0, fmt.Errorf("waiting for the watch event: %w", err)
			}
			lat = append(lat, time.Since(start))
		}
		return 0, nil
	})
	if err != nil {
		return 0, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(lat[len(lat)/2].Microseconds()) / 1000, nil
}

// warmMax bounds the warm-up of one ensemble, however slow it is.
const warmMax = time.Minute

// warm runs creates and sets of -value bytes from 64 sessions, unmeasured,
// for at least -warmup and at least -warmup-ops writes (every target gets
// the same count), but no longer than warmMax. ZooKeeper's JVMs compile
// their hot paths over their first tens of thousands of requests: with 2 s
// of warm-up alone three servers did about half the creates and sets from
// 64 sessions that they did after 15 s (PROFILE.md, session 7).
func warm(sys system) error {
	if *warmup <= 0 && *warmupOps <= 0 {
		return nil
	}
	cs, err := openClients(sys, 64)
	if err != nil {
		return err
	}
	defer closeClients(cs)
	if err := cs[0].create("/warmup", nil); err != nil {
		return err
	}
	value := make([]byte, *valueLen)
	var done atomic.Int64
	start := time.Now()
	for pass := 0; time.Since(start) < *warmup || done.Load() < int64(*warmupOps); pass++ {
		if time.Since(start) >= warmMax {
			progress("warm-up stopped after %s and %d writes (-warmup-ops %d)", warmMax, done.Load(), *warmupOps)
			return nil
		}
		_, err := loop(context.Background(), cs, time.Second, func(ctx context.Context, g int, c client, i int) error {
			path := fmt.Sprintf("/warmup/p%d-g%d-%d", pass, g, i/2)
			var err error
			if i%2 == 0 {
				err = c.create(path, value)
			} else {
				err = c.set(path, value)
			}
			if err == nil {
				done.Add(1)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
