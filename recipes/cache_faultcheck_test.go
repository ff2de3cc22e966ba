package recipes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/embedzk/zk/internal/hooks"
)

// convergeWait bounds how long TestCacheFaults waits for a cache to reach
// the tree once the faults healed: a live cache takes well under a second
// (its retries back off to half a second at most), even under -race.
const convergeWait = 15 * time.Second

// atHook is the fault test's hook on every peer: at a read's way into the
// apply lock (hooks.BeforeReadLock, on the reading goroutine), it expires
// the victim session, if one is set, through that peer. The read may be
// the victim's own (its resume's AddWatch): the session then ends between
// the read's check of it and its registration.
func (w *cacheWorld) atHook(peer int64, point string) error {
	if point != hooks.BeforeReadLock {
		return nil
	}
	id := w.victim.Swap(0)
	if id == 0 {
		return nil
	}
	e := w.peer(peer)
	if e == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if e.ExpireSession(ctx, id) == nil {
		w.lockExpired.Add(1)
	}
	return nil
}

// stuckReport says which cache did not converge and how: its zxid, its
// error and its session's state, and, for each path where it differs from
// the tree at zxid z, both versions.
func (w *cacheWorld) stuckReport(i int, c *Cache, want []CachedNode, z int64) string {
	got, gz := c.Nodes()
	w.omu.Lock()
	s, owed := w.cacheSess[i], w.initOwed[i]
	w.omu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "cache %d (%s %s) did not reach the tree at %#x within %v: it reports zxid %#x, Err %v, its session %#x is %v, a CacheInitialized after CacheLost owed: %v\n",
		i, shapeNames[c.shape], c.root, z, convergeWait, gz, c.Err(), s.ID(), s.State(), owed)
	byPath := func(ns []CachedNode) map[string]CachedNode {
		m := map[string]CachedNode{}
		for _, n := range ns {
			m[n.Path] = n
		}
		return m
	}
	tree, cache := byPath(want), byPath(got)
	describe := func(n CachedNode, ok bool) string {
		if !ok {
			return "absent"
		}
		return fmt.Sprintf("version %d mzxid %#x czxid %#x", n.Stat.Version, n.Stat.Mzxid, n.Stat.Czxid)
	}
	for _, p := range sortedUnion(tree, cache) {
		tn, tok := tree[p]
		cn, cok := cache[p]
		if tok && cok && cmp.Diff(noAversion([]CachedNode{tn}), noAversion([]CachedNode{cn})) == "" {
			continue
		}
		fmt.Fprintf(&b, "  %s: cache %s, tree %s\n", p, describe(cn, cok), describe(tn, tok))
	}
	fmt.Fprintf(&b, "(-tree +cache):\n%s", cmp.Diff(noAversion(want), noAversion(got)))
	return b.String()
}

// sortedUnion returns the keys of a and b, sorted.
func sortedUnion(a, b map[string]CachedNode) []string {
	var out []string
	for p := range a {
		out = append(out, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// connCheck returns cache i's listener that checks its connection events'
// order: CacheReconnected only after CacheSuspended or CacheLost, no
// second CacheSuspended before it (CacheLost may follow either, or come
// again when a new session ends as the cache resumes), a CacheInitialized
// after the first only from a TreeCache (cache 1 is a PathChildrenCache,
// which tells none, as Curator's) and only once CacheLost was followed by
// CacheReconnected (converge waits until none is owed), and none of these
// at all, not even the first CacheInitialized, from the NodeCache (cache
// 2), as Curator's. It counts them in the run's statistics.
func (w *cacheWorld) connCheck(i int) func(CacheEvent) {
	return func(ev CacheEvent) {
		if ev.Type < CacheInitialized {
			return
		}
		w.omu.Lock()
		defer w.omu.Unlock()
		if ev.Type == CacheInitialized && !w.inited[i] && i != 2 {
			w.inited[i] = true // the initial load's
			return
		}
		w.connCount[ev.Type.String()]++
		bad := i == 2 || (ev.Type == CacheReconnected && !w.away[i]) ||
			(ev.Type == CacheSuspended && w.away[i]) ||
			(ev.Type == CacheInitialized && (!w.initOwed[i] || w.away[i]))
		if bad {
			w.connBad = append(w.connBad, fmt.Sprintf("cache %d: %v at %#x (away %v, initialized owed %v)", i, ev.Type, ev.Zxid, w.away[i], w.initOwed[i]))
		}
		switch ev.Type {
		case CacheInitialized:
			w.initOwed[i] = false
		case CacheLost:
			w.initOwed[i] = i != 1
			w.away[i] = true
		default:
			w.away[i] = ev.Type != CacheReconnected
		}
	}
}
