package recipes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/embedzk/zk"
)

// TestCacheConnectionEvents: a cache made WithConnectionEvents on a
// follower is suspended when its peer is cut off, and reconnected once
// healed, before the change made meanwhile, as Curator's TreeCache; its
// session expires: lost, then, on the next session, reconnected, the
// change made while it waited, and initialized again. (The order is
// checked with both the change and the state pending: the cache's select
// takes either first, so a cache that told them in the wrong order would
// fail one run in two.) At each CacheReconnected the cache still holds
// the tree from before the change; at the CacheInitialized after
// CacheLost it holds the tree.
func TestCacheConnectionEvents(t *testing.T) {
	c := newChCluster(t, nil)
	fs := c.followers()
	f, other := fs[0], c.leader()
	w := c.session(other)
	chMust(t, c.do(func(ctx context.Context) error { _, err := w.Create(ctx, "/app", []byte("r")); return err }))
	cs := c.session(f)
	gate := make(chan struct{})
	cache, err := NewTreeCache(cs, "/app", WithConnectionEvents(), WithReconnect(gatedReconnect(gate, func(ctx context.Context) (*zk.Session, error) {
		return c.peer(other).NewSession(ctx)
	})))
	chMust(t, err)
	var mu sync.Mutex
	var atReconnect, atInit [][]CachedNode
	cache.Listen(func(ev CacheEvent) {
		nodes, _ := cache.Nodes()
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case CacheReconnected:
			atReconnect = append(atReconnect, nodes)
		case CacheInitialized:
			atInit = append(atInit, nodes)
		}
	})
	r := chStart(t, cache)
	sameStrings(t, "load", r.take(), []string{"NodeCreated /app=r", "Initialized"})
	// A Client on the cache's session follows the session's state too:
	// its lease is lost when the session is disconnected.
	cl, err := NewClient(cs)
	chMust(t, err)
	t.Cleanup(func() { cl.Close(context.Background()) })
	m, err := NewMutex(cl, "/locks/shared")
	chMust(t, err)
	var lease *Lease
	chMust(t, c.do(func(ctx context.Context) (err error) { lease, err = m.Acquire(ctx); return err }))
	// The cache's goroutine waits in this listener, once suspended, until
	// the peer serves again: the change's event and the state then wait
	// together, and the cache must tell CacheReconnected first whichever
	// it takes first.
	release := make(chan struct{})
	cache.Listen(func(ev CacheEvent) {
		if ev.Type == CacheSuspended {
			<-release
		}
	})
	told := func(typ CacheEventType) func() bool {
		return func() bool { return r.has(typ) }
	}
	write := func(fn func(ctx context.Context) error) { chMust(t, c.do(fn)) }

	c.net.Isolate(f)
	c.waitFor("the cache suspended", told(CacheSuspended))
	c.waitFor("the lease lost", func() bool { return lease.Context().Err() != nil })
	write(func(ctx context.Context) error { _, err := w.Create(ctx, "/app/a", []byte("1")); return err })
	c.net.Heal()
	c.waitFor("the session connected", func() bool { return cs.State() == zk.StateConnected })
	close(release)
	z := lastZxid(t, w)
	c.waitFor("the change told", func() bool { return r.toldZxid() >= z })
	sameStrings(t, "through a disconnection", r.take(), []string{"Suspended", "Reconnected", "NodeCreated /app/a=1"})

	write(func(ctx context.Context) error { return c.peer(other).ExpireSession(ctx, cs.ID()) })
	c.waitFor("the cache lost", told(CacheLost))
	write(func(ctx context.Context) error { _, err := w.Set(ctx, "/app/a", []byte("2"), -1); return err })
	close(gate)
	c.waitFor("the cache initialized again", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(atInit) == 2
	})
	sameStrings(t, "through an expiry", r.take(), []string{"Lost", "Reconnected", "NodeChanged /app/a=2", "Initialized"})

	mu.Lock()
	defer mu.Unlock()
	want := readTree(t, w, shapeTree, "/app")
	if diff := cmp.Diff(noAversion(want), noAversion(atInit[1])); diff != "" {
		t.Fatalf("content at the CacheInitialized after CacheLost (-tree +cache):\n%s", diff)
	}
	if len(atReconnect) != 2 {
		t.Fatalf("%d reconnections seen", len(atReconnect))
	}
	if n := atReconnect[0]; len(n) != 1 {
		t.Fatalf("content at the first CacheReconnected, before the change: %+v", n)
	}
	if n := atReconnect[1]; len(n) != 2 || n[1].Path != "/app/a" || string(n[1].Data) != "1" {
		t.Fatalf("content at the second CacheReconnected, before the change: %+v", n)
	}
}

// TestCacheLostEndsWithoutReconnect: without WithReconnect, a cache whose
// session ends tells CacheLost, then ends.
func TestCacheLostEndsWithoutReconnect(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	c, err := NewTreeCache(s, "/a", WithMaxDepth(0), WithConnectionEvents())
	chMust(t, err)
	r := chStart(t, c)
	chMust(t, e.ExpireSession(chCtx(t), s.ID()))
	waitEnded(t, c, zk.ErrSessionExpired)
	sameStrings(t, "events", r.take(), []string{"Initialized", "Lost"})
}

// noStates is a CacheSession without a States channel.
type noStates struct{ CacheSession }

// TestCacheConnectionEventsNeedStates: WithConnectionEvents on a session
// without States is refused, at NewTreeCache or from WithReconnect (the
// cache then ends with the error).
func TestCacheConnectionEventsNeedStates(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	if c, err := NewTreeCache(noStates{s}, "/", WithConnectionEvents()); c != nil || !errors.Is(err, zk.ErrBadArguments) {
		t.Fatalf("NewTreeCache: %v, %v; want ErrBadArguments", c, err)
	}
	s2 := chSession(t, e)
	c, err := NewTreeCache(s, "/", WithConnectionEvents(), WithReconnect(func(ctx context.Context) (CacheSession, error) {
		return noStates{s2}, nil
	}))
	chMust(t, err)
	chStart(t, c)
	chMust(t, e.ExpireSession(chCtx(t), s.ID()))
	waitEnded(t, c, zk.ErrBadArguments)
}

// watchCounter is a session that counts the channels of states it gave
// (WatchStates) and that were not given back.
type watchCounter struct {
	*zk.Session
	live atomic.Int32
}

func (s *watchCounter) WatchStates() (<-chan zk.SessionState, func()) {
	ch, stop := s.Session.WatchStates()
	s.live.Add(1)
	var once sync.Once
	return ch, func() { once.Do(func() { s.live.Add(-1); stop() }) }
}

// TestStatesGivenBack: Clients and caches with connection events, closed
// on a session that lives on, give back the channels of states they took.
func TestStatesGivenBack(t *testing.T) {
	e := chEnsemble(t)
	s := &watchCounter{Session: chSession(t, e)}
	ctx := chCtx(t)
	for range 20 {
		cl, err := NewClient(s)
		chMust(t, err)
		cache, err := NewPathChildrenCache(s, "/x", WithConnectionEvents())
		chMust(t, err)
		chMust(t, cache.Start(ctx))
		// The cache takes its channel in its own goroutine.
		for deadline := time.Now().Add(10 * time.Second); s.live.Load() != 2; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d channels taken by one Client and one cache, want 2", s.live.Load())
			}
		}
		chMust(t, cl.Close(ctx))
		chMust(t, cache.Close())
	}
	if n := s.live.Load(); n != 0 {
		t.Fatalf("%d channels of states not given back", n)
	}
}

// heldCache is a TreeCache made WithConnectionEvents, with a buffer of
// one, on a follower's session, whose listener is held at /app/a's create
// while more changes follow: its watch overflows.
type heldCache struct {
	c       *chCluster
	f       int64
	w       *zk.Session // the writer, on the leader
	cs      *zk.Session // the cache's, on f
	r       *chRecorder
	release chan struct{}
}

// newHeldCache makes /app and the cache, on wrap's session around the
// follower's, and creates /app/a, /app/b and /app/c; it returns once the
// listener is held and the follower has queued every change.
func newHeldCache(t *testing.T, wrap func(*zk.Session) CacheSession) *heldCache {
	h := &heldCache{c: newChCluster(t, nil), release: make(chan struct{})}
	h.f = h.c.followers()[0]
	h.w = h.c.session(h.c.leader())
	h.create(t, "/app")
	h.cs = h.c.session(h.f)
	cache, err := NewTreeCache(wrap(h.cs), "/app", WithConnectionEvents(), WithCacheBuffer(1))
	chMust(t, err)
	held := make(chan struct{})
	cache.Listen(func(ev CacheEvent) {
		if ev.Type == CacheNodeCreated && ev.Node.Path == "/app/a" {
			close(held)
			<-h.release
		}
	})
	h.r = chStart(t, cache)
	sameStrings(t, "load", h.r.take(), []string{"NodeCreated /app=", "Initialized"})
	h.create(t, "/app/a", "/app/b", "/app/c")
	h.c.waitFor("the listener held", isClosed(held))
	z := lastZxid(t, h.w)
	h.c.waitFor("the follower's changes", func() bool {
		fz, err := h.cs.Zxid(chCtx(t))
		return err == nil && fz >= z
	})
	return h
}

func (h *heldCache) create(t *testing.T, paths ...string) {
	for _, p := range paths {
		chMust(t, h.c.do(func(ctx context.Context) error { _, err := h.w.Create(ctx, p, nil); return err }))
	}
}

// heal ends the follower's isolation once the cache is suspended, creates
// /app/d and returns the events told until the cache has told it.
func (h *heldCache) heal(t *testing.T) []string {
	// Waited for on the cache's events, not ticks: the cache may be
	// waiting out its backoff (real time), and ticks would expire its
	// session meanwhile.
	h.r.waitType(t, CacheSuspended)
	h.c.net.Heal()
	h.c.waitFor("the session connected", func() bool { return h.cs.State() == zk.StateConnected })
	h.create(t, "/app/d")
	h.r.waitZxid(t, lastZxid(t, h.w))
	return h.r.take()
}

// isolate cuts the follower off and waits until the cache's session is
// disconnected.
func (h *heldCache) isolate() {
	h.c.net.Isolate(h.f)
	h.c.waitFor("the session disconnected", func() bool { return h.cs.State() == zk.StateDisconnected })
}

// isClosed is the condition "ch is closed".
func isClosed(ch <-chan struct{}) func() bool {
	return func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
}

// TestCacheSuspendedOnce: a cache whose watch ends (it overflowed while a
// listener held the cache) and whose session is disconnected before the
// cache takes that state from its channel tells one CacheSuspended and
// one CacheReconnected for the one disconnection, as Curator's caches
// tell one CONNECTION_SUSPENDED and one RECONNECTED (its
// ConnectionStateManager posts a state only when it changes), then the
// changes.
func TestCacheSuspendedOnce(t *testing.T) {
	h := newHeldCache(t, func(s *zk.Session) CacheSession { return s })
	h.isolate()
	close(h.release)
	// b's event was queued before the watch ended: it comes first.
	sameStrings(t, "through the disconnection", h.heal(t), []string{"NodeCreated /app/a=", "NodeCreated /app/b=",
		"Suspended", "Reconnected", "NodeCreated /app/c=", "NodeCreated /app/d="})
}

// gatedResume is a session whose AddWatch calls after the first (the
// cache's resumes) wait for gate, once resuming has told of the first.
type gatedResume struct {
	*zk.Session
	calls    atomic.Int32
	resuming chan struct{}
	gate     chan struct{}
}

func (s *gatedResume) AddWatch(ctx context.Context, path string, recursive bool, opts ...zk.WatchOption) (*zk.Watch, error) {
	if n := s.calls.Add(1); n > 1 {
		if n == 2 {
			close(s.resuming)
		}
		<-s.gate
	}
	return s.Session.AddWatch(ctx, path, recursive, opts...)
}

// TestCacheSuspendedWhileResuming: a cache whose watch ended (it
// overflowed) while its session served, disconnected as it resumes, tells
// CacheSuspended while it retries, then CacheReconnected before the
// changes it missed, as it does when the watch lives on.
func TestCacheSuspendedWhileResuming(t *testing.T) {
	gs := &gatedResume{resuming: make(chan struct{}), gate: make(chan struct{})}
	h := newHeldCache(t, func(s *zk.Session) CacheSession { gs.Session = s; return gs })
	close(h.release)
	h.c.waitFor("the resume", isClosed(gs.resuming))
	h.isolate()
	close(gs.gate)
	got := h.heal(t)
	at := slices.Index(got, "Suspended")
	if at < 0 || !slices.Equal(got[at:at+2], []string{"Suspended", "Reconnected"}) || slices.Contains(got[at+2:], "Suspended") ||
		got[len(got)-1] != "NodeCreated /app/d=" {
		t.Fatalf("events %q: want one Suspended and Reconnected, before the changes missed", got)
	}
}
