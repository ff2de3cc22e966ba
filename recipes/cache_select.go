package recipes

import (
	"fmt"

	"github.com/embedzk/zk"
)

// CacheSelector chooses what a TreeCache holds below its root, as
// Curator's TreeCacheSelector. Its answers must depend on the path alone
// and never change: the cache asks again for every event and every load,
// and a path answered differently twice would make its content wrong.
type CacheSelector interface {
	// TraverseChildren reports whether the cache holds the children of the
	// node at path, a node it holds. When it says no, the node's children
	// are neither read nor held, and events under the node are dropped.
	TraverseChildren(path string) bool
	// AcceptChild reports whether the cache holds the node at path, a child
	// of a node whose children it traverses. A child not accepted is not
	// held, nor anything below it.
	AcceptChild(path string) bool
}

// WithSelector makes a TreeCache hold only what sel selects (Curator's
// TreeCache.Builder.setSelector): the root, and each node below it whose
// every ancestor below the root was accepted and traversed and which was
// itself accepted. WithMaxDepth applies as well.
func WithSelector(sel CacheSelector) CacheOption {
	return func(c *cacheConfig) {
		if sel == nil {
			c.fail(fmt.Errorf("%w: WithSelector(nil)", zk.ErrBadArguments))
		}
		c.selector = sel
	}
}

// selects reports whether the selector keeps p, a path strictly below
// the root and within the depth limit: each node from p up to the root's
// child must be accepted, and its parent traversed.
func (s *cacheState) selects(p string) bool {
	for q := p; q != s.root; q = parentOf(q) {
		if !s.sel.AcceptChild(q) || !s.sel.TraverseChildren(parentOf(q)) {
			return false
		}
	}
	return true
}

// traverses reports whether the cache holds the children of p, a node it
// holds.
func (s *cacheState) traverses(p string) bool {
	switch s.shape {
	case shapeNode:
		return false
	case shapeChildren:
		return p == s.root
	}
	if s.maxDepth >= 0 && depthBelow(p, s.root) >= s.maxDepth {
		return false
	}
	return s.sel == nil || s.sel.TraverseChildren(p)
}

// accepts reports whether the cache holds child, a child of a node it
// traverses.
func (s *cacheState) accepts(child string) bool {
	return s.shape != shapeTree || s.sel == nil || s.sel.AcceptChild(child)
}
