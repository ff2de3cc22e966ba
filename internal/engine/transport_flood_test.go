package engine

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/zab/transport/transporttest"
)

// floodPerPeer is how many idle connections the flood holds to each peer.
const floodPerPeer = 64

// restartDuringFlood runs 3 peers over TCP, starts a client that never
// authenticates and holds perPeer idle connections to every quorum port
// (re-dialling each one closed; none if perPeer is 0), restarts a
// follower, and waits until it serves again. It returns the cluster (the
// flood still running), the restarted peer's index and how long it took
// to rejoin.
func restartDuringFlood(tb testing.TB, perPeer int) (*tcpCluster, *transporttest.Flood, int, time.Duration) {
	tb.Helper()
	fss := []vfs.FS{vfs.NewMem(), vfs.NewMem(), vfs.NewMem()}
	c := newTCPCluster(tb, 3, 100*time.Millisecond, func(i int) (vfs.FS, string) { return fss[i], "/zk" })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.waitServing(ctx)
	var addrs []string
	for _, s := range c.cfgs[0].Servers {
		addrs = append(addrs, s.QuorumAddr())
	}
	f := transporttest.StartFlood(tb, perPeer, addrs...)
	for _, a := range addrs {
		f.WaitLive(tb, a, perPeer, 30*time.Second)
	}
	start := time.Now()
	r := (c.leader() + 1) % 3 // a follower
	c.ens[r].Close()
	c.ens[r] = nil
	c.start(r)
	if err := c.ens[r].WaitServing(ctx); err != nil {
		tb.Fatalf("the restarted peer did not rejoin: %v", err)
	}
	return c, f, r, time.Since(start)
}

// TestRestartedPeerRejoinsDuringFlood: while a client that never
// authenticates holds 64 idle connections to every peer's quorum port
// (re-dialling each one closed), a restarted follower rejoins the ensemble
// and a write made through it commits everywhere.
func TestRestartedPeerRejoinsDuringFlood(t *testing.T) {
	c, f, r, took := restartDuringFlood(t, floodPerPeer)
	t.Logf("peer %d rejoined %v after its restart", r+1, took)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := c.ens[r].NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/rejoined", nil); err != nil {
		t.Fatal(err)
	}
	for i, e := range c.ens {
		o, err := e.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Sync(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := o.Exists(ctx, "/rejoined"); !ok || err != nil {
			t.Fatalf("peer %d: /rejoined %v %v", i+1, ok, err)
		}
	}
	addr := c.cfgs[r].Servers[r].QuorumAddr()
	if f.Dials(addr) <= floodPerPeer {
		t.Fatalf("the flood made %d connections to peer %d: it never had to re-dial", f.Dials(addr), r+1)
	}
}

// BenchmarkRejoin measures how long a restarted follower takes to serve
// again, with no flood and during the flood of
// TestRestartedPeerRejoinsDuringFlood (ms/rejoin; compare the two).
func BenchmarkRejoin(b *testing.B) {
	for _, bc := range []struct {
		name    string
		perPeer int
	}{{"quiet", 0}, {"flood64", floodPerPeer}} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				c, f, _, took := restartDuringFlood(b, bc.perPeer)
				total += took
				f.Stop()
				c.close()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/rejoin")
		})
	}
}
