package recipes

import (
	"context"
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
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	ids := []int64{1, 2, 3}
	var servers []zk.Server
	for _, id := range ids {
		servers = append(servers, zk.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
	}
	c := &cluster{t: t, stop: make(chan struct{}), done: make(chan struct{})}
	c.net = transport.NewNetwork(transport.NetworkOptions{Peers: ids, Manual: true, EventBuffer: 1 << 16})
	for _, id := range ids {
		e, err := zk.NewEnsemble(zk.Config{
			ID: id, DataDir: "/zk", FS: vfs.NewMem(), ManualClock: true, TickTime: tickTime,
			Servers: servers, Transport: c.net.Endpoint(id),
		})
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
		for {
			n := c.net.DeliverAll()
			for _, e := range c.ens {
				e.Barrier(ctx)
			}
			if n == 0 && len(c.net.Pending()) == 0 {
				break
			}
		}
		for _, e := range c.ens {
			e.Tick(ctx)
		}
		time.Sleep(tickTime / zk.TicksPerTickTime)
	}
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
