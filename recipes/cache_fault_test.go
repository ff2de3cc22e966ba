package recipes

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/znode"
)

var cacheSeeds = flag.Int("cache.seeds", 2, "seeds of TestCacheFaults (a campaign: -cache.seeds=50 -cache.steps=400)")
var cacheSteps = flag.Int("cache.steps", 250, "steps per seed of TestCacheFaults")

// TestCacheFaults runs caches of all three shapes, and a TreeCache with a
// selector (faultSelector), the two trees and the PathChildrenCache
// WithConnectionEvents (whose order, and each shape's rules, connCheck
// checks), on three peers under
// faults — peers stopped and restarted, a peer cut off, sessions expired,
// writers lost — while random writes change their subtree. At every step,
// each cache's content must be the committed tree's at the zxid the cache
// reports, and that zxid must never go back; at the end, once the faults
// heal and writes stop, every cache must hold the tree as it is. The
// committed history is read back from a peer's log and applied to a tree
// of the test's own, so the check does not trust the watches it tests.
func TestCacheFaults(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*cacheSeeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runCacheFaults(t, seed, *cacheSteps) })
	}
}

// cacheWorld is the fault test's cluster plus what reconnecting caches
// share with the test goroutine.
type cacheWorld struct {
	*chCluster
	rng      *rand.Rand
	mu       sync.Mutex // guards prng, used by the caches' reconnects
	prng     *rand.Rand
	vmu      sync.Mutex // guards views
	views    map[int64]hooks.View
	writers  []*zk.Session
	wake     chan struct{} // a cache changed
	stats    map[string]int
	isolated int64 // the peer cut off, or 0

	omu       sync.Mutex
	states    []observation       // every state a cache took, recorded by the cache
	cacheIDs  map[int]int64       // each cache's current session
	cacheSess map[int]*zk.Session // the same sessions, for the checker's report
	away      map[int]bool        // caches told CacheSuspended or CacheLost since their last CacheReconnected
	initOwed  map[int]bool        // caches told CacheLost since their last CacheInitialized
	inited    map[int]bool        // caches told their first CacheInitialized
	connBad   []string            // connection events out of order
	connCount map[string]int      // connection events told, by type

	// victim is a session to expire at the next read that reaches the
	// apply lock on its peer (hooks.BeforeReadLock): a cache's new session
	// is picked sometimes, so that it expires while the cache's resume
	// sets its watch.
	victim      atomic.Int64
	lockExpired atomic.Int32 // sessions expired so
}

// observation is one cache's content at one step.
type observation struct {
	cache int
	zxid  int64
	nodes []CachedNode
}

func runCacheFaults(t *testing.T, seed uint64, steps int) {
	w := &cacheWorld{rng: rand.New(rand.NewPCG(seed, 99)), prng: rand.New(rand.NewPCG(seed, 98)), views: map[int64]hooks.View{}, wake: make(chan struct{}, 1), stats: map[string]int{},
		cacheIDs: map[int]int64{}, cacheSess: map[int]*zk.Session{}, away: map[int]bool{}, connCount: map[string]int{},
		initOwed: map[int]bool{}, inited: map[int]bool{}}
	w.chCluster = newChCluster(t, func(cfg *zk.Config) {
		id := cfg.ID
		cfg.SnapCount = 50 // snapshots along the way; the log is never purged
		cfg.TestHooks = &hooks.Hooks{Attach: func(v hooks.View) {
			w.vmu.Lock()
			w.views[id] = v
			w.vmu.Unlock()
		}, Func: w.atHook}
	})
	root := w.sessionOn(t, w.anyServing)
	chMust(t, w.do(func(ctx context.Context) error {
		_, err := root.Create(ctx, "/app/n0", nil, zk.WithParents())
		return err
	}))
	caches := w.startCaches(t)
	var seen []observation
	last := make([]int64, len(caches))
	for step := 0; step < steps; step++ {
		w.step(t)
		for i, c := range caches {
			nodes, z := c.Nodes()
			if z < last[i] {
				t.Fatalf("seed %d step %d: cache %d went back from %#x to %#x", seed, step, i, last[i], z)
			}
			if z != last[i] {
				seen = append(seen, observation{cache: i, zxid: z, nodes: nodes})
			}
			last[i] = z
		}
	}
	final, treeZxid := w.heal(t)
	for i, c := range caches {
		w.converge(t, i, c, final[i], treeZxid)
		if err := c.Err(); err != nil {
			t.Fatalf("seed %d: cache %d ended: %v", seed, i, err)
		}
	}
	w.omu.Lock()
	seen = append(seen, w.states...)
	w.omu.Unlock()
	n := w.checkHistory(t, caches, seen)
	// Fatalf after Unlock: its cleanup closes the caches, whose
	// listeners (connCheck) take omu.
	w.omu.Lock()
	bad := slices.Clone(w.connBad)
	for typ, n := range w.connCount {
		w.stats[typ] = n
	}
	w.omu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("seed %d: connection events out of order: %q", seed, bad)
	}
	w.stats["expired at a read's lock"] = int(w.lockExpired.Load())
	t.Logf("seed %d: %d steps %v, %d cache states checked against the committed history, caches at %#x", seed, steps, w.stats, n, last)
}

// faultSelector is the selected TreeCache's: it does not traverse
// /app/n2, and rejects /app/n1 and the multis' "x" nodes.
func faultSelector() CacheSelector {
	return &pathSelector{noTraverse: map[string]bool{"/app/n2": true}, reject: map[string]bool{"/app/n1": true}}
}

// startCaches starts a TreeCache, a PathChildrenCache, a NodeCache and a
// selected TreeCache, each on a session of its own that is replaced, when it ends, by one on any
// peer that serves.
func (w *cacheWorld) startCaches(t *testing.T) []*Cache {
	reconnect := func(i int) func(ctx context.Context) (CacheSession, error) {
		return func(ctx context.Context) (CacheSession, error) {
			e := w.anyServing()
			if e == nil {
				return nil, zk.ErrNotServing
			}
			ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			s, err := e.NewSession(ctx)
			if err == nil {
				w.omu.Lock()
				w.cacheIDs[i], w.cacheSess[i] = s.ID(), s
				w.omu.Unlock()
				w.mu.Lock()
				if w.prng.IntN(3) == 0 {
					w.victim.Store(s.ID()) // its first read is the resume's AddWatch
				}
				w.mu.Unlock()
			}
			return s, err
		}
	}
	makers := []func(CacheSession, string, ...CacheOption) (*Cache, error){NewTreeCache, NewPathChildrenCache, NewNodeCache, NewTreeCache}
	paths := []string{"/app", "/app", "/app/n0", "/app"}
	var caches []*Cache
	for i, mk := range makers {
		s := w.sessionOn(t, w.anyServing)
		w.cacheIDs[i], w.cacheSess[i] = s.ID(), s
		opts := []CacheOption{WithReconnect(reconnect(i))}
		if i == 3 {
			opts = append(opts, WithSelector(faultSelector()))
		}
		if i != 2 { // a NodeCache refuses them
			opts = append(opts, WithConnectionEvents())
		}
		c, err := mk(s, paths[i], opts...)
		chMust(t, err)
		c.Listen(w.connCheck(i))
		c.testBatch = func() {
			// Every state the cache takes is checked, not only those the
			// steps happen to see.
			nodes, z := c.Nodes()
			w.omu.Lock()
			w.states = append(w.states, observation{cache: i, zxid: z, nodes: nodes})
			w.omu.Unlock()
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
		chMust(t, w.do(c.Start))
		t.Cleanup(func() { c.Close() })
		caches = append(caches, c)
	}
	return caches
}

// sessionOn opens a session on a serving peer (pick chooses it), trying
// again while elections run.
func (w *cacheWorld) sessionOn(t *testing.T, pick func() *zk.Ensemble) *zk.Session {
	t.Helper()
	for i := 0; i < 100; i++ {
		if e := pick(); e != nil {
			var s *zk.Session
			if err := w.do(func(ctx context.Context) (err error) { s, err = e.NewSession(ctx); return err }); err == nil {
				return s
			}
		}
		for j := 0; j < 10; j++ {
			w.tick()
		}
	}
	t.Fatal("no session could be opened")
	return nil
}

// anyServing returns a running peer that serves, or nil.
func (w *cacheWorld) anyServing() *zk.Ensemble {
	var ok []*zk.Ensemble
	for _, e := range w.peers() {
		if e.Status().Serving {
			ok = append(ok, e)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return ok[w.prng.IntN(len(ok))]
}

// step makes one random move: mostly writes, sometimes a fault or a cure.
func (w *cacheWorld) step(t *testing.T) {
	switch k := w.rng.IntN(100); {
	case k < 70:
		w.write(t)
	case k < 74 && len(w.running()) == 3:
		// At most one peer away at a time: the other two keep a quorum.
		// An isolated peer may stop too: caches on it then resume
		// elsewhere from behind.
		w.stats["stop"]++
		id := w.pick()
		if w.isolated != 0 {
			id = w.isolated
		}
		w.stopPeer(id)
		w.net.Heal()
		w.isolated = 0
	case k < 80 && len(w.running()) < 3:
		w.stats["restart"]++
		w.startStopped(t)
	case k < 84 && len(w.running()) == 3 && w.isolated == 0:
		w.stats["isolate"]++
		w.isolated = w.pick()
		w.net.Isolate(w.isolated)
	case k < 88:
		w.net.Heal()
		w.isolated = 0
	case k < 92:
		w.stats["expire"]++
		w.expireSomeone()
	default:
		for i := 0; i < 1+w.rng.IntN(30); i++ {
			w.tick()
		}
	}
}

func (w *cacheWorld) pick() int64 {
	ids := w.running()
	return ids[w.rng.IntN(len(ids))]
}

func (w *cacheWorld) stopPeer(id int64) { w.stop(id) }

func (w *cacheWorld) startStopped(t *testing.T) {
	for _, s := range w.servers {
		if w.peer(s.ID) == nil {
			w.start(s.ID)
			return
		}
	}
}

// write makes one random change under /app through a writer session (one
// is opened on a serving peer when needed); a write that cannot complete
// soon (no quorum) is abandoned: its outcome, if any, is in the log.
func (w *cacheWorld) write(t *testing.T) {
	w.writers = slices.DeleteFunc(w.writers, func(s *zk.Session) bool { return ended(s.State()) })
	if len(w.writers) < 2 {
		e := w.anyServing()
		if e == nil {
			w.stats["no serving peer"]++
			for i := 0; i < 30; i++ {
				w.tick()
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		var s *zk.Session
		err := w.do(func(context.Context) (err error) { s, err = e.NewSession(ctx); return err })
		cancel()
		if err == nil {
			w.writers = append(w.writers, s)
		} else {
			w.stats["new writer: "+errClass(err)]++
		}
		return
	}
	s := w.writers[w.rng.IntN(len(w.writers))]
	p := fmt.Sprintf("/app/n%d", w.rng.IntN(5))
	if w.rng.IntN(3) == 0 {
		p += fmt.Sprintf("/c%d", w.rng.IntN(3))
	}
	data := []byte(fmt.Sprint(w.rng.IntN(1000)))
	var op func(ctx context.Context) error
	switch w.rng.IntN(6) {
	case 0, 1:
		op = func(ctx context.Context) error { _, err := s.Set(ctx, p, data, -1); return err }
	case 2:
		op = func(ctx context.Context) error { return s.Delete(ctx, p, -1) }
	case 3:
		op = func(ctx context.Context) error {
			_, err := s.Create(ctx, p, data, zk.WithMode(zk.ModeEphemeral))
			return err
		}
	case 4:
		op = func(ctx context.Context) error {
			_, err := s.Multi(ctx, zk.CreateOp(p, data), zk.SetOp(p, data, -1), zk.CreateOp(p+"x", nil))
			return err
		}
	default:
		op = func(ctx context.Context) error { _, err := s.Create(ctx, p, data); return err }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := w.do(func(context.Context) error { return op(ctx) }); err == nil {
		w.stats["write"]++
	} else {
		w.stats[errClass(err)]++
		if errors.Is(err, zk.ErrNotServing) {
			// Its peer is cut off or electing: write elsewhere for now.
			w.writers = slices.DeleteFunc(w.writers, func(x *zk.Session) bool { return x == s })
			for i := 0; i < 5; i++ {
				w.tick()
			}
		}
	}
}

// expireSomeone expires a random cache's or writer's session.
func (w *cacheWorld) expireSomeone() {
	e := w.anyServing()
	if e == nil {
		return
	}
	var ids []int64
	for _, s := range w.writers {
		ids = append(ids, s.ID())
	}
	w.omu.Lock()
	for _, id := range w.cacheIDs {
		ids = append(ids, id, id) // twice: caches are what the test is about
	}
	w.omu.Unlock()
	slices.Sort(ids)
	if len(ids) == 0 {
		return
	}
	id := ids[w.rng.IntN(len(ids))]
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_ = w.do(func(context.Context) error { return e.ExpireSession(ctx, id) })
}

// heal ends the faults, waits for all three peers to serve, and returns
// the tree each cache must reach and its zxid.
func (w *cacheWorld) heal(t *testing.T) ([][]CachedNode, int64) {
	w.net.Heal()
	for len(w.running()) < 3 {
		w.startStopped(t)
	}
	w.waitFor("every peer serving", func() bool { return w.leader() != 0 && w.allServing() })
	s := w.sessionOn(t, w.anyServing)
	chMust(t, w.do(func(ctx context.Context) error { return s.Sync(ctx, "/") }))
	var z int64
	chMust(t, w.do(func(ctx context.Context) (err error) { z, err = s.Zxid(ctx); return err }))
	return [][]CachedNode{
		readTree(t, s, shapeTree, "/app"), readTree(t, s, shapeChildren, "/app"), readTree(t, s, shapeNode, "/app/n0"),
		selectModel(readTree(t, s, shapeTree, "/app"), "/app", faultSelector()),
	}, z
}

// converge waits until cache i holds want, the tree at zxid z, and owes
// no CacheInitialized (the one after a CacheLost is told once the cache
// has caught up, after the content it follows: a cache that holds want
// may not have told it yet), ticking while the cache retries (its backoff
// runs on real time). Once every peer serves, a live cache is there within
// a second or so; one that is not after convergeWait is stuck, and the
// failure says where.
func (w *cacheWorld) converge(t *testing.T, i int, c *Cache, want []CachedNode, z int64) {
	ctx, cancel := context.WithTimeout(context.Background(), convergeWait)
	defer cancel()
	for {
		got, _ := c.Nodes()
		w.omu.Lock()
		owed := w.initOwed[i]
		w.omu.Unlock()
		if !owed && cmp.Diff(noAversion(want), noAversion(got)) == "" {
			return
		}
		select {
		case <-w.wake:
		case <-time.After(10 * time.Millisecond):
			w.tick()
		case <-ctx.Done():
			t.Fatal(w.stuckReport(i, c, want, z))
		}
	}
}

// checkHistory replays the committed log of a peer that holds all of it,
// and checks each observation against the tree at its zxid.
func (w *cacheWorld) checkHistory(t *testing.T, caches []*Cache, seen []observation) int {
	w.vmu.Lock()
	var view hooks.View
	for _, v := range w.views {
		if v.LogBase() == 0 {
			view = v
		}
	}
	w.vmu.Unlock()
	if view == nil {
		t.Fatal("no peer holds the whole log")
	}
	applied, _ := view.Applied()
	var log []hooks.LogEntry
	for at := int64(0); at < applied; {
		ents, err := view.LogEntries(at, 1<<20)
		chMust(t, err)
		if len(ents) == 0 {
			break
		}
		log = append(log, ents...)
		at = ents[len(ents)-1].Zxid
	}
	ref, err := znode.Open(znode.Options{FS: vfs.NewMem(), Dir: "/ref"})
	chMust(t, err)
	defer ref.Close()
	slices.SortStableFunc(seen, func(a, b observation) int { return cmpInt(a.zxid, b.zxid) })
	next := 0
	for _, o := range seen {
		if o.zxid > applied {
			t.Fatalf("cache %d reports %#x, beyond the committed %#x", o.cache, o.zxid, applied)
		}
		for ; next < len(log) && log[next].Zxid <= o.zxid; next++ {
			applyRef(t, ref, log[next])
		}
		want := refNodes(t, ref, caches[o.cache])
		if diff := cmp.Diff(noAversion(want), noAversion(o.nodes)); diff != "" {
			t.Fatalf("cache %d at %#x is not the committed tree at that zxid (-tree +cache):\n%s", o.cache, o.zxid, diff)
		}
	}
	return len(seen)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// applyRef applies one logged entry to the reference tree, as a peer does.
func applyRef(t *testing.T, ref *znode.Tree, le hooks.LogEntry) {
	data := le.Data
	if _, payload, ok, _ := zab.DecodeConfigEntry(data); ok {
		data = payload // a configuration entry carries a setData of /zookeeper/config
	}
	en, err := entry.Decode(data)
	chMust(t, err)
	txn := en.Txn
	if len(en.Failure) > 0 {
		txn = &znode.Txn{Type: znode.TxnNoop, Session: txn.Session, Time: txn.Time}
	}
	if _, _, err := ref.Apply(le.Zxid, txn); err != nil {
		t.Fatalf("reference apply %#x: %v", le.Zxid, err)
	}
}

// refNodes reads what cache c holds from the reference tree.
func refNodes(t *testing.T, ref *znode.Tree, c *Cache) []CachedNode {
	var out []CachedNode
	level := []string{c.root}
	for d := 0; len(level) > 0; d++ {
		var next []string
		for _, p := range level {
			n, err := ref.Get(p)
			if errors.Is(err, zk.ErrNoNode) {
				continue
			}
			chMust(t, err)
			if c.shape != shapeChildren || d == 1 {
				out = append(out, CachedNode{Path: p, Data: n.Data, Stat: n.Stat})
			}
			if c.shape == shapeTree || (c.shape == shapeChildren && d == 0) {
				names, _, err := ref.Children(p)
				chMust(t, err)
				for _, name := range names {
					next = append(next, joinPath(p, name))
				}
			}
		}
		level = next
	}
	slices.SortFunc(out, func(a, b CachedNode) int { return strings.Compare(a.Path, b.Path) })
	if c.cfg.selector != nil {
		out = selectModel(out, c.root, faultSelector())
	}
	return out
}

// errClass names the kind of a refused write, for the run's statistics.
func errClass(err error) string {
	for _, e := range []error{zk.ErrNoNode, zk.ErrNodeExists, zk.ErrNotEmpty, zk.ErrNoChildrenForEphemerals,
		zk.ErrSessionExpired, zk.ErrClosed, zk.ErrNotServing, zk.ErrOutcomeUnknown, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "zk: ")
		}
	}
	return err.Error()
}
