package recipes

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/embedzk/zk"
)

// pathSelector is the tests' CacheSelector: it does not traverse the nodes
// in noTraverse, rejects those in reject and every path ending in "x", and
// records what it was asked.
type pathSelector struct {
	noTraverse map[string]bool
	reject     map[string]bool

	mu    sync.Mutex
	asked []string // "traverse <path>" or "accept <path>"
}

func (s *pathSelector) TraverseChildren(p string) bool {
	s.note("traverse " + p)
	return !s.noTraverse[p]
}

func (s *pathSelector) AcceptChild(p string) bool {
	s.note("accept " + p)
	return !s.reject[p] && !strings.HasSuffix(p, "x")
}

func (s *pathSelector) note(q string) {
	s.mu.Lock()
	s.asked = append(s.asked, q)
	s.mu.Unlock()
}

// askedAbout returns the questions asked about paths at or below p.
func (s *pathSelector) askedAbout(p string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, q := range s.asked {
		if path := q[strings.IndexByte(q, ' ')+1:]; path == p || isBelow(path, p) {
			out = append(out, q)
		}
	}
	return out
}

// selectModel keeps of a whole subtree (sorted by path, root first) what a
// TreeCache on root with sel holds, as Curator's TreeCache builds it: the
// root, then each child of a kept node that sel traverses, if sel accepts
// the child.
func selectModel(nodes []CachedNode, root string, sel CacheSelector) []CachedNode {
	kept := map[string]bool{}
	var out []CachedNode
	for _, n := range nodes {
		p := n.Path
		if p != root {
			parent := parentOf(p)
			if !kept[parent] || !sel.TraverseChildren(parent) || !sel.AcceptChild(p) {
				continue
			}
		}
		kept[p] = true
		out = append(out, n)
	}
	return out
}

// TestTreeCacheSelector: the cache loads, follows and reports only what
// its selector selects; the children of a node it does not traverse are
// never listed (the selector is not even asked about them), and what is
// below a rejected child is never considered. A traversed node's Stat
// still follows its rejected children.
func TestTreeCacheSelector(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	for _, p := range []string{"/s", "/s/a", "/s/a/deep", "/s/ax", "/s/skip", "/s/skip/hidden", "/s/no", "/s/no/under"} {
		chCreate(t, s, p, "d"+p)
	}
	sel := &pathSelector{noTraverse: map[string]bool{"/s/skip": true}, reject: map[string]bool{"/s/no": true}}
	c, err := NewTreeCache(s, "/s", WithSelector(sel))
	chMust(t, err)
	r := chStart(t, c)
	sameStrings(t, "load", r.take(), []string{"NodeCreated /s=d/s", "NodeCreated /s/a=d/s/a",
		"NodeCreated /s/a/deep=d/s/a/deep", "NodeCreated /s/skip=d/s/skip", "Initialized"})
	sameStrings(t, "asked below /s/skip", sel.askedAbout("/s/skip"), []string{"accept /s/skip", "traverse /s/skip"})
	sameStrings(t, "asked about /s/no", sel.askedAbout("/s/no"), []string{"accept /s/no"})
	sameContent(t, c, selectModel(readTree(t, s, shapeTree, "/s"), "/s", sel))

	// Changes the cache does not select, then two it does.
	for _, p := range []string{"/s/no/under2", "/s/skip/new", "/s/bx", "/s/a/deepx"} {
		chCreate(t, s, p, "")
	}
	chSet(t, s, "/s/skip/hidden", "h'")
	chSet(t, s, "/s/a/deep", "deep'")
	chCreate(t, s, "/s/b", "b")
	r.waitZxid(t, lastZxid(t, s))
	sameStrings(t, "events", r.take(), []string{"NodeChanged /s/a/deep=deep'", "NodeCreated /s/b=b"})
	sameContent(t, c, selectModel(readTree(t, s, shapeTree, "/s"), "/s", sel))
	if n, _ := c.Get("/s/skip"); n.Stat.NumChildren != 2 {
		t.Fatalf("/s/skip NumChildren = %d, want 2", n.Stat.NumChildren)
	}
	if got := c.Children("/s"); !slices.Equal(got, []string{"a", "b", "skip"}) {
		t.Fatalf("Children(/s) = %q", got)
	}
}

// TestTreeCacheSelectorResumes: a selected cache resumes after its session
// expired from the log, and drops the replayed events it does not select
// as it drops live ones.
func TestTreeCacheSelectorResumes(t *testing.T) {
	sel := &pathSelector{noTraverse: map[string]bool{"/s/skip": true}, reject: map[string]bool{"/s/no": true}}
	gate := make(chan struct{}) // the next session waits for it
	e := chEnsemble(t)
	w := chSession(t, e)
	chCreate(t, w, "/s", "")
	cs := chSession(t, e)
	c, err := NewTreeCache(cs, "/s", WithSelector(sel), WithReconnect(gatedReconnect(gate, func(ctx context.Context) (*zk.Session, error) {
		return e.NewSession(ctx)
	})))
	chMust(t, err)
	r := chStart(t, c)
	r.take()
	chMust(t, e.ExpireSession(chCtx(t), cs.ID()))
	for _, p := range []string{"/s/no", "/s/no/a", "/s/skip", "/s/skip/a", "/s/kx", "/s/k", "/s/k/x", "/s/k/y"} {
		chCreate(t, w, p, "")
	}
	chSet(t, w, "/s/skip/a", "1")
	chSet(t, w, "/s/k/y", "2")
	last := lastZxid(t, w)
	close(gate)
	r.waitZxid(t, last)
	sameStrings(t, "resumed", r.take(), []string{"NodeCreated /s/skip=", "NodeCreated /s/k=", "NodeCreated /s/k/y=",
		"NodeChanged /s/k/y=2"})
	sameContent(t, c, selectModel(readTree(t, w, shapeTree, "/s"), "/s", sel))
}

// TestCacheSelectorBadInput: a nil selector, or one on a cache that is not
// a tree, is refused.
func TestCacheSelectorBadInput(t *testing.T) {
	e := chEnsemble(t)
	s := chSession(t, e)
	sel := &pathSelector{}
	for name, mk := range map[string]func() (*Cache, error){
		"nil":           func() (*Cache, error) { return NewTreeCache(s, "/a", WithSelector(nil)) },
		"node cache":    func() (*Cache, error) { return NewNodeCache(s, "/a", WithSelector(sel)) },
		"children only": func() (*Cache, error) { return NewPathChildrenCache(s, "/a", WithSelector(sel)) },
	} {
		if c, err := mk(); c != nil || !errors.Is(err, zk.ErrBadArguments) {
			t.Errorf("%s: %v, %v; want ErrBadArguments", name, c, err)
		}
	}
}
