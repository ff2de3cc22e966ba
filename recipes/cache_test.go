package recipes

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

// TestTreeCacheFollowsTheTree: a TreeCache loads a subtree, then follows
// creates, sets, deletes, multis and a session's ephemerals going, each
// reported once; its content equals the tree, Stat included.
func TestTreeCacheFollowsTheTree(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	chCreate(t, s, "/app", "root")
	chCreate(t, s, "/app/a", "1")
	chCreate(t, s, "/app/a/x", "2")
	chCreate(t, s, "/other", "")
	c, err := NewTreeCache(s, "/app")
	chMust(t, err)
	r := chStart(t, c)
	sameStrings(t, "initial load", r.take(), []string{"NodeCreated /app=root", "NodeCreated /app/a=1", "NodeCreated /app/a/x=2", "Initialized"})
	sameContent(t, c, readTree(t, s, shapeTree, "/app"))

	chCreate(t, s, "/app/b", "3")
	chSet(t, s, "/app/a", "1'")
	chDelete(t, s, "/app/a/x")
	chCreate(t, s, "/other/y", "") // outside: nothing
	_, err = s.Multi(chCtx(t), zk.CreateOp("/app/c", []byte("4")), zk.SetOp("/app/c", []byte("5"), -1),
		zk.CreateOp("/app/tmp", nil), zk.DeleteOp("/app/tmp", -1), zk.SetOp("/app", []byte("root'"), -1))
	chMust(t, err)
	eph := chSession(t, e)
	chCreate(t, eph, "/app/e1", "", zk.WithMode(zk.ModeEphemeral))
	chCreate(t, eph, "/app/e2", "", zk.WithMode(zk.ModeEphemeral))
	chMust(t, eph.Close(chCtx(t)))
	r.waitZxid(t, lastZxid(t, s))
	sameStrings(t, "changes", r.take(), []string{
		"NodeCreated /app/b=3", "NodeChanged /app/a=1'", "NodeDeleted /app/a/x",
		"NodeCreated /app/c=5", "NodeChanged /app=root'", // one multi: one state change
		"NodeCreated /app/e1=", "NodeCreated /app/e2=", "NodeDeleted /app/e1", "NodeDeleted /app/e2",
	})
	sameContent(t, c, readTree(t, s, shapeTree, "/app"))
	sameStrings(t, "children", c.Children("/app"), []string{"a", "b", "c"})
	if n, ok := c.Get("/app/c"); !ok || string(n.Data) != "5" || n.Stat.Version != 1 {
		t.Fatalf("Get /app/c = %+v, %v", n, ok)
	}

	// The root itself goes and comes back.
	chMust(t, s.DeleteAll(chCtx(t), "/app"))
	r.waitZxid(t, lastZxid(t, s))
	if c.Len() != 0 {
		t.Fatalf("after DeleteAll the cache holds %d nodes", c.Len())
	}
	chCreate(t, s, "/app", "again")
	r.waitZxid(t, lastZxid(t, s))
	sameContent(t, c, readTree(t, s, shapeTree, "/app"))
}

// TestNodeCache: one node, absent or present, with its Stat kept exact by
// the children events of its own watch; as Curator's NodeCache, it tells
// only the node's changes (no CacheInitialized).
func TestNodeCache(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	c, err := NewNodeCache(s, "/cfg")
	chMust(t, err)
	r := chStart(t, c)
	sameStrings(t, "empty load", r.take(), nil)
	if _, ok := c.Get("/cfg"); ok {
		t.Fatal("a missing node is cached")
	}
	chCreate(t, s, "/cfg", "v1")
	chSet(t, s, "/cfg", "v2")
	chCreate(t, s, "/cfg/child", "") // the node's Stat changes, no event
	atChild := lastZxid(t, s)
	chCreate(t, s, "/cfg/child/deep", "") // nothing the cache sees
	chDelete(t, s, "/cfg/child/deep")
	r.waitZxid(t, atChild)
	sameStrings(t, "events", r.take(), []string{"NodeCreated /cfg=v1", "NodeChanged /cfg=v2"})
	sameContent(t, c, readTree(t, s, shapeNode, "/cfg"))
	chDelete(t, s, "/cfg/child")
	chDelete(t, s, "/cfg")
	r.waitZxid(t, lastZxid(t, s))
	sameStrings(t, "deleted", r.take(), []string{"NodeDeleted /cfg"})
	sameContent(t, c, nil)
}

// TestPathChildrenCache: the children of a node, not the node nor its
// grandchildren; a child's NumChildren follows its own children.
func TestPathChildrenCache(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	chCreate(t, s, "/svc", "")
	chCreate(t, s, "/svc/a", "1")
	c, err := NewPathChildrenCache(s, "/svc")
	chMust(t, err)
	r := chStart(t, c)
	sameStrings(t, "load", r.take(), []string{"NodeCreated /svc/a=1", "Initialized"})
	chCreate(t, s, "/svc/b", "2")
	chCreate(t, s, "/svc/a/deep", "x")
	chSet(t, s, "/svc/a/deep", "y")
	chSet(t, s, "/svc", "parent data")
	chSet(t, s, "/svc/b", "2'")
	r.waitZxid(t, lastZxid(t, s))
	sameStrings(t, "events", r.take(), []string{"NodeCreated /svc/b=2", "NodeChanged /svc/b=2'"})
	sameContent(t, c, readTree(t, s, shapeChildren, "/svc"))
	if n, _ := c.Get("/svc/a"); n.Stat.NumChildren != 1 {
		t.Fatalf("/svc/a NumChildren = %d", n.Stat.NumChildren)
	}
	sameStrings(t, "children", c.Children("/svc"), []string{"a", "b"})
}

// TestTreeCacheMaxDepth: nodes deeper than the limit are not cached.
func TestTreeCacheMaxDepth(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	chCreate(t, s, "/t/a/b/c", "", zk.WithParents())
	c, err := NewTreeCache(s, "/t", WithMaxDepth(1))
	chMust(t, err)
	r := chStart(t, c)
	sameStrings(t, "load", r.take(), []string{"NodeCreated /t=", "NodeCreated /t/a=", "Initialized"})
	chCreate(t, s, "/t/a/b2", "")
	chCreate(t, s, "/t/z", "")
	r.waitZxid(t, lastZxid(t, s))
	sameStrings(t, "events", r.take(), []string{"NodeCreated /t/z="})
}

// TestCacheResumesAfterSessionExpiry: the cache's session expires; while it
// waits for the next one, the subtree changes. The cache resumes from its
// zxid: listeners get every change, two sets of one node as two changes (a
// reload would show one), and the content equals the tree.
func TestCacheResumesAfterSessionExpiry(t *testing.T) {
	e := chEnsemble(t)
	w := chSession(t, e)
	chCreate(t, w, "/app", "")
	cs := chSession(t, e)
	gate := make(chan struct{})
	reconnects := 0
	c, err := NewTreeCache(cs, "/app", WithReconnect(gatedReconnect(gate, func(ctx context.Context) (*zk.Session, error) {
		reconnects++
		return e.NewSession(ctx)
	})))
	chMust(t, err)
	r := chStart(t, c)
	r.take()
	chMust(t, e.ExpireSession(chCtx(t), cs.ID()))
	chCreate(t, w, "/app/a", "1")
	chSet(t, w, "/app/a", "2")
	chSet(t, w, "/app/a", "3")
	chCreate(t, w, "/app/b", "")
	chDelete(t, w, "/app/b")
	// The last change under /app: the new session's own creation, later,
	// is not one the cache sees.
	last := lastZxid(t, w)
	close(gate)
	r.waitZxid(t, last)
	sameStrings(t, "resumed", r.take(), []string{"NodeCreated /app/a=1", "NodeChanged /app/a=2", "NodeChanged /app/a=3",
		"NodeCreated /app/b=", "NodeDeleted /app/b"})
	sameContent(t, c, readTree(t, w, shapeTree, "/app"))
	if reconnects != 1 || c.Err() != nil {
		t.Fatalf("%d reconnects, err %v", reconnects, c.Err())
	}
}

// TestCacheEndsWithItsSession: without WithReconnect the cache ends with
// its session, keeping its last content.
func TestCacheEndsWithItsSession(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	chCreate(t, s, "/a", "x")
	c, err := NewNodeCache(s, "/a")
	chMust(t, err)
	chStart(t, c)
	chMust(t, e.ExpireSession(chCtx(t), s.ID()))
	waitEnded(t, c, zk.ErrSessionExpired)
	if n, ok := c.Get("/a"); !ok || string(n.Data) != "x" {
		t.Fatal("the ended cache lost its content")
	}
	chMust(t, c.Close())
}

// TestCacheBadInput: bad arguments fail clearly and start nothing.
func TestCacheBadInput(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	cases := []struct {
		name string
		make func() (*Cache, error)
		want error
	}{
		{"nil session", func() (*Cache, error) { return NewTreeCache(nil, "/a") }, zk.ErrBadArguments},
		{"relative path", func() (*Cache, error) { return NewTreeCache(s, "a") }, zk.ErrInvalidPath},
		{"trailing slash", func() (*Cache, error) { return NewNodeCache(s, "/a/") }, zk.ErrInvalidPath},
		{"empty path", func() (*Cache, error) { return NewPathChildrenCache(s, "") }, zk.ErrInvalidPath},
		{"negative depth", func() (*Cache, error) { return NewTreeCache(s, "/a", WithMaxDepth(-1)) }, zk.ErrBadArguments},
		{"depth on a node cache", func() (*Cache, error) { return NewNodeCache(s, "/a", WithMaxDepth(1)) }, zk.ErrBadArguments},
		{"connection events on a node cache", func() (*Cache, error) { return NewNodeCache(s, "/a", WithConnectionEvents()) }, zk.ErrBadArguments},
		{"zero buffer", func() (*Cache, error) { return NewTreeCache(s, "/a", WithCacheBuffer(0)) }, zk.ErrBadArguments},
		{"nil reconnect", func() (*Cache, error) { return NewTreeCache(s, "/a", WithReconnect(nil)) }, zk.ErrBadArguments},
		{"nil option", func() (*Cache, error) { return NewTreeCache(s, "/a", nil) }, zk.ErrBadArguments},
	}
	for _, tc := range cases {
		c, err := tc.make()
		if c != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, c, err, tc.want)
		}
	}
	// A path the session rejects fails Start, and nothing runs.
	c, err := NewTreeCache(s, "/a/./b")
	chMust(t, err)
	if err := c.Start(chCtx(t)); !errors.Is(err, zk.ErrInvalidPath) {
		t.Fatalf("Start on /a/./b: %v", err)
	}
	chMust(t, c.Close())
	// Start twice, and Start after Close.
	c, _ = NewTreeCache(s, "/")
	chStart(t, c)
	if err := c.Start(chCtx(t)); !errors.Is(err, zk.ErrBadArguments) {
		t.Fatalf("second Start: %v", err)
	}
	chMust(t, c.Close())
	chMust(t, c.Close())
	if !errors.Is(c.Err(), ErrCacheClosed) || !errors.Is(c.Err(), zk.ErrClosed) {
		t.Fatalf("Err after Close = %v", c.Err())
	}
	c, _ = NewTreeCache(s, "/")
	chMust(t, c.Close())
	if err := c.Start(chCtx(t)); !errors.Is(err, ErrCacheClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

// TestCacheReloadsWhenCompacted: the cache is away (its session expired,
// the next one late) while the log is purged past its zxid: resuming fails
// with ErrCompacted, so it loads again and reports the difference — one
// change for a node set 60 times — and equals the tree. Its connection
// events frame the difference as after any CacheLost: CacheReconnected
// before, CacheInitialized after.
func TestCacheReloadsWhenCompacted(t *testing.T) {
	cfg := chConfig(vfs.NewMem())
	cfg.SnapCount = 10
	cfg.PurgeInterval = time.Nanosecond
	// A small journal: the resume falls back to the log, then to a reload.
	cfg.TestHooks = &hooks.Hooks{SegmentSize: 1 << 10, JournalSize: 4 << 10}
	e, err := zk.NewEnsemble(cfg)
	chMust(t, err)
	defer e.Close()
	w := chSession(t, e)
	chCreate(t, w, "/app", "")
	chCreate(t, w, "/app/a", "0")
	chCreate(t, w, "/app/gone", "")
	cs := chSession(t, e)
	gate := make(chan struct{})
	c, err := NewTreeCache(cs, "/app", WithConnectionEvents(), WithReconnect(func(ctx context.Context) (CacheSession, error) {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return e.NewSession(ctx)
	}))
	chMust(t, err)
	r := chStart(t, c)
	r.take()
	chMust(t, e.ExpireSession(chCtx(t), cs.ID()))
	chDelete(t, w, "/app/gone")
	chCreate(t, w, "/app/new", "n")
	// Purges run in the background after snapshots: write until the log
	// no longer holds the cache's zxid.
	sets := 0
	for ; sets < 60 || !compacted(t, w, c.Zxid()); sets++ {
		if sets == 2000 {
			t.Fatal("the log was never purged past the cache's zxid")
		}
		chSet(t, w, "/app/a", fmt.Sprint(sets+1))
	}
	last := lastZxid(t, w)
	close(gate)
	r.waitZxid(t, last)
	r.waitType(t, CacheInitialized)
	sameStrings(t, "reloaded", r.take(), []string{"Lost", "Reconnected",
		"NodeDeleted /app/gone", "NodeChanged /app/a=" + fmt.Sprint(sets), "NodeCreated /app/new=n", "Initialized"})
	sameContent(t, c, readTree(t, w, shapeTree, "/app"))
}

// compacted reports whether resuming from zxid fails with ErrCompacted.
func compacted(t testing.TB, s *zk.Session, zxid int64) bool {
	w, err := s.AddWatch(chCtx(t), "/app", true, zk.FromZxid(zxid), zk.WithWatchBuffer(1<<20))
	if err == nil {
		w.Remove()
		return false
	}
	if !errors.Is(err, zk.ErrCompacted) {
		t.Fatal(err)
	}
	return true
}

// hookedSession runs a hook before each MultiRead of the session it wraps,
// so a test can change the tree in the middle of a cache's load.
type hookedSession struct {
	*zk.Session
	before func(n int)
	n      int
}

func (h *hookedSession) MultiRead(ctx context.Context, ops ...zk.ReadOp) ([]zk.ReadResult, error) {
	h.n++
	h.before(h.n)
	return h.Session.MultiRead(ctx, ops...)
}

// TestTreeCacheLoadOverlapsWrites: children created and deleted while a
// TreeCache loads — after its watch is set, before or after the reads of
// their parents — are each counted once in their parents' Stat (no event
// carries a parent's whole Stat here): the content equals the tree's, Stat
// included, once the load is done.
func TestTreeCacheLoadOverlapsWrites(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	for i := 0; i < 4; i++ {
		chCreate(t, s, fmt.Sprintf("/t/p%d/old", i), "", zk.WithParents())
	}
	w := chSession(t, e)
	hs := &hookedSession{Session: s, before: func(n int) {
		for i := 0; i < 4; i++ { // before the first read, between the others
			p := fmt.Sprintf("/t/p%d", i)
			chCreate(t, w, fmt.Sprintf("%s/new%d", p, n), "")
			if n == 2 {
				chDelete(t, w, p+"/old")
			}
		}
	}}
	c, err := NewTreeCache(hs, "/t")
	chMust(t, err)
	chStart(t, c)
	if hs.n < 3 {
		t.Fatalf("the load took %d reads: the writes did not interleave", hs.n)
	}
	sameContent(t, c, readTree(t, s, shapeTree, "/t"))
}
