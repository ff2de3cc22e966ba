package recipes

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/zab/transport"
)

// cluster is a 3-peer ensemble inside a synctest bubble: a manual
// in-memory network and manual clocks, driven by a goroutine that delivers
// every frame and ticks every peer once per tenth of a TickTime of the
// bubble's fake time. Tests call the peers as a program would; faults are
// the network's (Isolate, Heal).
type cluster struct {
	t    *testing.T
	net  *transport.Network
	ens  []*zk.Ensemble
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	held map[transport.Link]bool // links whose frames stay in flight (silently)
}

func newCluster(t *testing.T) *cluster { t.Helper(); return newClusterWith(t, nil) }

// newClusterWith is newCluster with tweak applied to each peer's Config
// (nil: none).
func newClusterWith(t *testing.T, tweak func(*zk.Config)) *cluster {
	t.Helper()
	ids := []int64{1, 2, 3}
	var servers []zk.Server
	for _, id := range ids {
		servers = append(servers, zk.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
	}
	c := &cluster{t: t, stop: make(chan struct{}), done: make(chan struct{})}
	c.net = transport.NewNetwork(transport.NetworkOptions{Peers: ids, Manual: true, EventBuffer: 1 << 16})
	for _, id := range ids {
		cfg := zk.Config{
			ID: id, DataDir: "/zk", FS: vfs.NewMem(), ManualClock: true, TickTime: tickTime,
			Servers: servers, Transport: c.net.Endpoint(id),
		}
		if tweak != nil {
			tweak(&cfg)
		}
		e, err := zk.NewEnsemble(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.ens = append(c.ens, e)
	}
	go c.drive()
	t.Cleanup(c.close)
	c.waitFor("every peer serving", func() bool {
		for _, e := range c.ens {
			if !e.Status().Serving {
				return false
			}
		}
		return true
	})
	return c
}

// drive delivers and ticks until the cluster closes.
func (c *cluster) drive() {
	defer close(c.done)
	ctx := context.Background()
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		for c.deliver() > 0 {
			for _, e := range c.ens {
				e.Barrier(ctx)
			}
		}
		for _, e := range c.ens {
			e.Barrier(ctx)
		}
		for _, e := range c.ens {
			e.Tick(ctx)
		}
		time.Sleep(tickTime / zk.TicksPerTickTime)
	}
}

// deliver delivers every pending frame but those of held links.
func (c *cluster) deliver() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for {
		var next []transport.Pending
		for _, p := range c.net.Pending() {
			if !c.held[transport.Link{From: p.From, To: p.To}] {
				next = append(next, p)
			}
		}
		if len(next) == 0 {
			return n
		}
		for _, p := range next {
			if c.net.Deliver(p) == nil {
				n++
			}
		}
	}
}

// hold keeps the frames from -> to in flight (true) or lets them go: a
// silent link, which no connection break reveals.
func (c *cluster) hold(from, to int, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = map[transport.Link]bool{}
	}
	c.held[transport.Link{From: int64(from + 1), To: int64(to + 1)}] = on
}

// leader returns the index of the serving leader.
func (c *cluster) leader() int {
	for i, e := range c.ens {
		if st := e.Status(); st.Mode == zk.ModeLeading && st.Serving {
			return i
		}
	}
	c.t.Fatal("no leader")
	return -1
}

func (c *cluster) close() {
	close(c.stop)
	<-c.done
	for _, e := range c.ens {
		e.Close()
	}
	c.net.Close()
}

// waitFor sleeps (fake time) until cond holds, failing after a minute.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	for start := time.Now(); !cond(); time.Sleep(tickTime / zk.TicksPerTickTime) {
		if time.Since(start) > time.Minute {
			c.t.Fatalf("after a minute: still waiting for %s", what)
		}
	}
}

// follower returns the index of a peer that follows.
func (c *cluster) follower() int {
	for i, e := range c.ens {
		if e.Status().Mode == zk.ModeFollowing {
			return i
		}
	}
	c.t.Fatal("no follower")
	return -1
}
