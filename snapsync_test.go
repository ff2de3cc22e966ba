package zk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// TestSnapSyncLargerThanTransportQueue: a follower that needs a SNAP of a
// tree larger than what the transport queues to one peer
// still syncs, because the leader sends the chunks only as fast as the
// follower makes them durable.
func TestSnapSyncLargerThanTransportQueue(t *testing.T) {
	// The queue holds a DIFF window (4 messages of up to 4 MiB) but not
	// the snapshot.
	const queue = 20 << 20
	var installs atomic.Int32
	count := func(_ int64, point string) error {
		if point == hooks.AfterSnapInstall {
			installs.Add(1)
		}
		return nil
	}
	c := newClusterWith(t, 3, 0, 11, transport.NetworkOptions{MaxQueue: queue}, func(cfg *Config) {
		cfg.SnapCount = 20
		cfg.PurgeInterval = time.Nanosecond                             // purge after every snapshot
		cfg.TestHooks = &hooks.Hooks{SegmentSize: 1 << 20, Func: count} // purges remove segments
	})
	c.waitFor("a leader", 100, c.allServing)
	ld := c.leader()
	f := c.others(ld)[0]
	c.stop(f)
	s := c.session(ld)
	value := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range value {
		value[i] = byte(rng.Uint32()) // incompressible
	}
	const n = 400 // 25 MiB
	for i := range n {
		err := c.do(func(ctx context.Context) error {
			value[0] = byte(i)
			_, err := s.Create(ctx, fmt.Sprintf("/n%04d", i), value)
			return err
		})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	c.start(f)
	c.waitFor("the follower to sync", 400, func() bool {
		st := c.ens[f].Status()
		return st.Serving && st.Applied == c.ens[ld].Status().Applied
	})
	if st := c.ens[f].Status(); st.Mode != ModeFollowing {
		t.Fatalf("peer %d is %v", f, st.Mode)
	}
	if installs.Load() == 0 {
		t.Fatal("the follower synced without a snapshot")
	}
	c.sameTrees()
}
