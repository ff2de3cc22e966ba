package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
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
	// The queue holds more than the snapshot window and the short DIFF
	// that follows the snapshot, but not the snapshot.
	const queue = 6 << 20
	var installs atomic.Int32
	var mu sync.Mutex
	views := map[int64]hooks.View{} // each peer's latest incarnation
	count := func(_ int64, point string) error {
		if point == hooks.AfterSnapInstall {
			installs.Add(1)
		}
		return nil
	}
	c := newClusterWith(t, 3, 0, 11, transport.NetworkOptions{MaxQueue: queue}, func(cfg *Config) {
		cfg.SnapCount = 20
		cfg.PurgeInterval = time.Nanosecond // purge after every snapshot (1 MiB segments: purges remove some)
		id := cfg.ID
		cfg.TestHooks = &hooks.Hooks{SegmentSize: 1 << 20, Func: count, Attach: func(v hooks.View) {
			mu.Lock()
			views[id] = v
			mu.Unlock()
		}}
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
	const n, perMulti = 160, 8 // 10 MiB
	for i := 0; i < n; i += perMulti {
		var ops []Op
		for j := i; j < i+perMulti; j++ {
			v := append([]byte{byte(j)}, value[1:]...)
			ops = append(ops, CreateOp(fmt.Sprintf("/n%04d", j), v))
		}
		err := c.do(func(ctx context.Context) error {
			_, err := s.Multi(ctx, ops...)
			return err
		})
		if err != nil {
			t.Fatalf("multi at %d: %v", i, err)
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
	c.settle()
	mu.Lock()
	defer mu.Unlock()
	lz, ld2 := views[ld].Applied()
	if fz, fd := views[f].Applied(); fz != lz || fd != ld2 {
		t.Fatalf("follower at %#x digest %#x, leader at %#x digest %#x", fz, fd, lz, ld2)
	}
}
