package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/zab/transport"
)

// chCluster runs three peers in one process over the in-memory transport
// in manual mode, with manual clocks. Time passes only when the test ticks;
// frames move when a settle delivers them: before and after every tick,
// and, between ticks, by a driver goroutine, so that calls made by caches
// on their own goroutines (a reconnect's NewSession) complete while the
// test waits for them. Every tick therefore finds the network quiet.
type chCluster struct {
	t       testing.TB
	net     *transport.Network
	servers []zk.Server
	fs      map[int64]vfs.FS
	tweak   func(*zk.Config)

	mu  sync.Mutex // guards ens: the test, the driver and caches' reconnects read it
	ens map[int64]*zk.Ensemble

	stopDriver chan struct{}
	driverDone chan struct{}
}

func newChCluster(t testing.TB, tweak func(*zk.Config)) *chCluster {
	c := &chCluster{t: t, fs: map[int64]vfs.FS{}, ens: map[int64]*zk.Ensemble{}, tweak: tweak,
		stopDriver: make(chan struct{}), driverDone: make(chan struct{})}
	ids := []int64{1, 2, 3}
	for _, id := range ids {
		c.servers = append(c.servers, zk.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
		c.fs[id] = vfs.NewMem()
	}
	c.net = transport.NewNetwork(transport.NetworkOptions{Peers: ids, Manual: true, EventBuffer: 1 << 16})
	t.Cleanup(c.close)
	for _, id := range ids {
		c.start(id)
	}
	go c.drive()
	c.waitFor("a leader", func() bool { return c.leader() != 0 && c.allServing() })
	return c
}

func (c *chCluster) start(id int64) {
	c.t.Helper()
	cfg := chConfig(c.fs[id])
	cfg.ID, cfg.Servers, cfg.Transport = id, c.servers, c.net.Restart(id)
	cfg.MaxSessionTimeout = 40 * cfg.TickTime // survive the ticks of an election or two
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	e, err := zk.NewEnsemble(cfg)
	if err != nil {
		c.t.Fatalf("starting peer %d: %v", id, err)
	}
	c.mu.Lock()
	c.ens[id] = e
	c.mu.Unlock()
}

func (c *chCluster) stop(id int64) {
	c.net.Crash(id)
	c.mu.Lock()
	e := c.ens[id]
	delete(c.ens, id)
	c.mu.Unlock()
	e.Close()
}

func (c *chCluster) close() {
	close(c.stopDriver)
	<-c.driverDone
	for _, id := range c.running() {
		c.stop(id)
	}
	c.net.Close()
}

// peers returns the running peers, in id order.
func (c *chCluster) peers() []*zk.Ensemble {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*zk.Ensemble
	for _, s := range c.servers {
		if e := c.ens[s.ID]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (c *chCluster) running() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []int64
	for _, s := range c.servers {
		if c.ens[s.ID] != nil {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func (c *chCluster) peer(id int64) *zk.Ensemble {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ens[id]
}

// settle delivers frames and lets every peer handle them until nothing
// moves. A peer closing meanwhile is skipped.
func (c *chCluster) settle() {
	ctx := chCtx(c.t)
	for i := 0; i < 10000; i++ {
		n := c.net.DeliverAll()
		for _, e := range c.peers() {
			_ = e.Barrier(ctx)
		}
		if n == 0 && len(c.net.Pending()) == 0 {
			return
		}
	}
}

// drive settles the network whenever something is pending, until close.
func (c *chCluster) drive() {
	defer close(c.driverDone)
	for {
		select {
		case <-c.stopDriver:
			return
		case <-time.After(200 * time.Microsecond):
		}
		if len(c.net.Pending()) > 0 {
			c.settle()
		}
	}
}

// tick advances every running peer's clock one tick, on a quiet network.
func (c *chCluster) tick() {
	c.settle()
	ctx := chCtx(c.t)
	for _, e := range c.peers() {
		if err := e.Tick(ctx); err != nil && !errors.Is(err, zk.ErrClosed) {
			c.t.Fatalf("tick: %v", err)
		}
	}
	c.settle()
}

// waitFor ticks until cond holds.
func (c *chCluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	for i := 0; !cond(); i++ {
		if i == 3000 {
			c.t.Fatalf("still waiting for %s", what)
		}
		c.tick()
	}
}

func (c *chCluster) leader() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.ens {
		if st := e.Status(); st.Mode == zk.ModeLeading && st.Serving {
			return id
		}
	}
	return 0
}

func (c *chCluster) allServing() bool {
	for _, e := range c.peers() {
		if !e.Status().Serving {
			return false
		}
	}
	return true
}

// followers returns the running peers other than the leader.
func (c *chCluster) followers() []int64 {
	ld := c.leader()
	return slices.DeleteFunc(c.running(), func(id int64) bool { return id == ld })
}

// do runs a client call, ticking the cluster while it waits.
func (c *chCluster) do(fn func(ctx context.Context) error) error {
	c.t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn(chCtx(c.t)) }()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			return err
		case <-time.After(time.Millisecond):
		}
		if i%20 == 19 {
			c.tick()
		}
	}
}

func (c *chCluster) session(id int64) *zk.Session {
	c.t.Helper()
	e := c.peer(id)
	var s *zk.Session
	if err := c.do(func(ctx context.Context) (err error) { s, err = e.NewSession(ctx); return err }); err != nil {
		c.t.Fatalf("session on %d: %v", id, err)
	}
	return s
}

// TestCacheThroughLeaderChanges: caches of the three shapes, on a
// follower, keep in step while the leader stops (their sessions live on),
// while their sessions expire, and while their own peer stops (they go on
// with a session on another peer): every change is reported once, in
// order, and the content equals the tree.
func TestCacheThroughLeaderChanges(t *testing.T) {
	for _, tc := range []struct {
		shape cacheShape
		root  string
	}{{shapeTree, "/app"}, {shapeChildren, "/app"}, {shapeNode, "/app/n000"}} {
		t.Run(shapeNames[tc.shape], func(t *testing.T) { cacheThroughFailovers(t, tc.shape, tc.root) })
	}
}

func cacheThroughFailovers(t *testing.T, shape cacheShape, root string) {
	c := newChCluster(t, nil)
	fs := c.followers()
	ld, f, f2 := c.leader(), fs[0], fs[1]
	w := c.session(f2)
	chMust(t, c.do(func(ctx context.Context) error { _, err := w.Create(ctx, "/app", nil); return err }))
	cs := c.session(f)
	var next atomic.Pointer[zk.Ensemble] // the peer WithReconnect uses
	var reconnects atomic.Int32
	var cacheSession atomic.Int64
	cacheSession.Store(cs.ID())
	cache, err := newCache(shape, cs, root, []CacheOption{WithReconnect(func(ctx context.Context) (CacheSession, error) {
		s, err := next.Load().NewSession(ctx)
		if err == nil { // a failed try (no quorum yet) is tried again
			reconnects.Add(1)
			cacheSession.Store(s.ID())
		}
		return s, err
	})})
	chMust(t, err)
	r := chStart(t, cache)
	r.take()
	var want []string
	var target int64 // the zxid of the last change the cache sees
	write := func(i int) {
		p := "/app/" + nodeName(i%7)
		ev := ""
		err := c.do(func(ctx context.Context) error {
			_, err := w.Create(ctx, p, []byte(fmt.Sprint(i)))
			if err == nil {
				ev = "NodeCreated " + p + "=" + fmt.Sprint(i)
				return nil
			}
			if _, err = w.Set(ctx, p, []byte(fmt.Sprint(i)), -1); err == nil {
				ev = "NodeChanged " + p + "=" + fmt.Sprint(i)
			}
			return err
		})
		chMust(t, err)
		if shape != shapeNode || p == root {
			want, target = append(want, ev), lastZxid(t, w)
		}
	}
	for i := 0; i < 10; i++ {
		write(i)
	}
	c.stop(ld)
	c.waitFor("a new leader", func() bool { return c.leader() != 0 && c.allServing() })
	for i := 10; i < 20; i++ {
		write(i)
	}
	next.Store(c.peer(f2))
	chMust(t, c.do(func(ctx context.Context) error { return c.peer(f2).ExpireSession(ctx, cacheSession.Load()) }))
	for i := 20; i < 30; i++ {
		write(i)
	}
	c.start(ld)
	c.waitFor("the old leader back", c.allServing)
	next.Store(c.peer(ld))
	c.stop(f2) // the cache's own peer now: its session handle closes
	c.waitFor("a leader", func() bool { return c.leader() != 0 && c.allServing() })
	w = c.session(f)
	for i := 30; i < 40; i++ {
		write(i)
	}
	r.waitZxid(t, target)
	sameStrings(t, "events through failovers and an expiry", r.take(), want)
	sameContent(t, cache, readTree(t, w, shape, root))
	if cache.Err() != nil || reconnects.Load() != 2 {
		t.Fatalf("the cache ended (%v) or reconnected %d times", cache.Err(), reconnects.Load())
	}
	t.Logf("leader %d stopped, the cache's session expired, then its peer %d stopped; the cache is at %#x", ld, f2, cache.Zxid())
}

// TestCacheResumesFromBehind: the cache's peer is cut off while the others
// go on writing, then stops; the cache resumes on another peer from the
// zxid it holds, behind the ensemble: it reports every write it missed,
// once each, in order.
func TestCacheResumesFromBehind(t *testing.T) {
	c := newChCluster(t, nil)
	fs := c.followers()
	ld, f := c.leader(), fs[0]
	w := c.session(ld)
	chMust(t, c.do(func(ctx context.Context) error { _, err := w.Create(ctx, "/app", nil); return err }))
	var next atomic.Pointer[zk.Ensemble]
	next.Store(c.peer(ld))
	cache, err := NewTreeCache(c.session(f), "/app", WithReconnect(func(ctx context.Context) (CacheSession, error) {
		return next.Load().NewSession(ctx)
	}))
	chMust(t, err)
	r := chStart(t, cache)
	r.take()
	c.net.Isolate(f)
	var want []string
	for i := 0; i < 5; i++ {
		p := "/app/" + nodeName(i)
		chMust(t, c.do(func(ctx context.Context) error { _, err := w.Create(ctx, p, []byte("x")); return err }))
		want = append(want, "NodeCreated "+p+"=x")
	}
	last := lastZxid(t, w)
	c.stop(f)
	c.net.Heal()
	r.waitZxid(t, last)
	sameStrings(t, "the writes the cut-off peer never applied", r.take(), want)
	sameContent(t, cache, readTree(t, w, shapeTree, "/app"))
}
