package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/embedzk/zk"
)

// chCtx bounds a test's waits so that a hang fails instead.
func chCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// chConfig is a standalone, manually clocked peer on an in-memory disk.
func chConfig(fs vfs.FS) zk.Config {
	return zk.Config{DataDir: "/zk", FS: fs, ManualClock: true, TickTime: 100 * time.Millisecond}
}

func chEnsemble(t testing.TB) *zk.Ensemble {
	t.Helper()
	e, err := zk.NewEnsemble(chConfig(vfs.NewMem()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func chSession(t testing.TB, e *zk.Ensemble) *zk.Session {
	t.Helper()
	s, err := e.NewSession(chCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func chMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// chRecorder records a cache's listener events and wakes waiters after
// every transaction the cache applies.
type chRecorder struct {
	mu    sync.Mutex
	evs   []CacheEvent
	wake  chan struct{}
	c     *Cache
	strip bool  // record Type and Path only
	told  int64 // the cache's zxid after the last batch its listeners were told
}

// chStart starts c with a recorder listening from the first event.
func chStart(t testing.TB, c *Cache) *chRecorder {
	t.Helper()
	r := &chRecorder{wake: make(chan struct{}, 1), c: c}
	c.Listen(r.record)
	c.testBatch = r.batchDone
	chMust(t, c.Start(chCtx(t)))
	t.Cleanup(func() { c.Close() })
	return r
}

func (r *chRecorder) record(ev CacheEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	r.poke()
}

// batchDone runs after the listeners were told of a change of content:
// the cache's zxid then is one whose events are all recorded.
func (r *chRecorder) batchDone() {
	z := r.c.Zxid()
	r.mu.Lock()
	r.told = max(r.told, z)
	r.mu.Unlock()
	r.poke()
}

func (r *chRecorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take returns the events recorded since the last take, as "Type path".
func (r *chRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.evs {
		s := ev.Type.String() + " " + ev.Node.Path
		if ev.Type == CacheNodeCreated || ev.Type == CacheNodeChanged {
			s += "=" + string(ev.Node.Data)
		}
		out = append(out, strings.TrimSuffix(s, " "))
	}
	r.evs = nil
	return out
}

// waitZxid waits until the cache holds a state at or after z and its
// listeners were told of it (the cache takes a state before it tells).
func (r *chRecorder) waitZxid(t testing.TB, z int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for r.toldZxid() < z {
		select {
		case <-r.wake:
		case <-ctx.Done():
			t.Fatalf("the cache stayed at %#x, waiting for %#x (err %v); events %q", r.c.Zxid(), z, r.c.Err(), r.take())
		}
	}
}

// waitType waits until an event of type typ is recorded (since the last
// take).
func (r *chRecorder) waitType(t testing.TB, typ CacheEventType) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !r.has(typ) {
		select {
		case <-r.wake:
		case <-ctx.Done():
			t.Fatalf("no %v told (err %v); events %q", typ, r.c.Err(), r.take())
		}
	}
}

func (r *chRecorder) has(typ CacheEventType) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.evs, func(ev CacheEvent) bool { return ev.Type == typ })
}

func (r *chRecorder) toldZxid() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.told
}

// lastZxid returns the session's Zxid: the state its next reads see.
func lastZxid(t testing.TB, s CacheSession) int64 {
	t.Helper()
	z, err := s.Zxid(chCtx(t))
	chMust(t, err)
	return z
}

// readTree reads, through s, what a cache of shape on root holds now.
func readTree(t testing.TB, s CacheSession, shape cacheShape, root string) []CachedNode {
	t.Helper()
	ctx := chCtx(t)
	var out []CachedNode
	level := []string{root}
	for d := 0; len(level) > 0; d++ {
		var next []string
		for _, p := range level {
			res, err := s.MultiRead(ctx, zk.GetDataOp(p), zk.GetChildrenOp(p))
			chMust(t, err)
			if res[0].Err != nil {
				continue
			}
			if shape != shapeChildren || d == 1 {
				out = append(out, CachedNode{Path: p, Data: res[0].Data, Stat: res[0].Stat})
			}
			if shape == shapeTree || (shape == shapeChildren && d == 0) {
				for _, name := range res[1].Children {
					next = append(next, joinPath(p, name))
				}
			}
		}
		level = next
	}
	slices.SortFunc(out, func(a, b CachedNode) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// sameContent fails unless the cache holds want (Aversion aside: no event
// tells of ACL changes).
func sameContent(t testing.TB, c *Cache, want []CachedNode) {
	t.Helper()
	got, _ := c.Nodes()
	if diff := cmp.Diff(noAversion(want), noAversion(got)); diff != "" {
		t.Fatalf("cache content (-tree +cache):\n%s", diff)
	}
}

func noAversion(ns []CachedNode) []CachedNode {
	out := make([]CachedNode, len(ns))
	for i, n := range ns {
		n.Stat.Aversion = 0
		if len(n.Data) == 0 {
			n.Data = nil
		}
		out[i] = n
	}
	return out
}

func chCreate(t testing.TB, s CacheSession, path, data string, opts ...zk.CreateOption) {
	t.Helper()
	type creator interface {
		Create(ctx context.Context, path string, data []byte, opts ...zk.CreateOption) (string, error)
	}
	if _, err := s.(creator).Create(chCtx(t), path, []byte(data), opts...); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

func chSet(t testing.TB, s *zk.Session, path, data string) {
	t.Helper()
	if _, err := s.Set(chCtx(t), path, []byte(data), -1); err != nil {
		t.Fatalf("set %s: %v", path, err)
	}
}

func chDelete(t testing.TB, s *zk.Session, path string) {
	t.Helper()
	if err := s.Delete(chCtx(t), path, -1); err != nil {
		t.Fatalf("delete %s: %v", path, err)
	}
}

func sameStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

func nodeName(i int) string { return fmt.Sprintf("n%03d", i) }

// gatedReconnect is a WithReconnect function that waits for gate to close,
// then returns next's session.
func gatedReconnect(gate <-chan struct{}, next func(ctx context.Context) (*zk.Session, error)) func(ctx context.Context) (CacheSession, error) {
	return func(ctx context.Context) (CacheSession, error) {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return next(ctx)
	}
}

// waitEnded waits for the cache to end, and fails unless its Err is want.
func waitEnded(t testing.TB, c *Cache, want error) {
	t.Helper()
	select {
	case <-c.Done():
	case <-chCtx(t).Done():
		t.Fatalf("the cache did not end (want %v)", want)
	}
	if !errors.Is(c.Err(), want) {
		t.Fatalf("Err = %v, want %v", c.Err(), want)
	}
}
