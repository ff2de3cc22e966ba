package recipes

import (
	"cmp"
	"slices"
	"strings"

	"github.com/embedzk/zk"
)

// cnode is one cached node. base is the Pzxid of the Stat last read or
// received whole: that Stat counts every child create and delete up to
// base, and those after are counted as their events come.
type cnode struct {
	data []byte
	err  error // why data could not be decompressed (WithCompressedData)
	stat zk.Stat
	base int64
}

// cacheState is a Cache's content: the nodes it holds, an index of their
// children, and the zxid of the tree state they are. The cache's goroutine
// changes it under Cache.mu; a load builds a new one privately.
type cacheState struct {
	shape    cacheShape
	root     string
	maxDepth int
	sel      CacheSelector // nil: every node
	gunzip   bool          // data is compressed (WithCompressedData)
	nodes    map[string]*cnode
	// kids indexes the cached children of each node by name; a name is a
	// substring of the child's path, so it costs no copy.
	kids map[string]map[string]struct{}
	zxid int64
}

func (c *Cache) newState() *cacheState {
	return &cacheState{shape: c.shape, root: c.root, maxDepth: c.cfg.maxDepth, sel: c.cfg.selector, gunzip: c.cfg.gunzip,
		nodes: map[string]*cnode{}, kids: map[string]map[string]struct{}{}}
}

// parentOf returns the parent of a valid path other than "/".
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// baseName returns the last component of p (a substring: no copy).
func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// joinPath returns the path of child name under parent.
func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// isBelow reports whether p is strictly below root.
func isBelow(p, root string) bool {
	if root == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, root) && len(p) > len(root) && p[len(root)] == '/'
}

// depthBelow returns how many levels p is below root (p at or below root).
func depthBelow(p, root string) int {
	if p == root {
		return 0
	}
	rest := p[len(root):]
	if root == "/" {
		rest = p
	}
	return strings.Count(rest, "/")
}

// holds reports whether the cache keeps the node at p.
func (s *cacheState) holds(p string) bool {
	switch s.shape {
	case shapeNode:
		return p == s.root
	case shapeChildren:
		return p != "/" && p != s.root && parentOf(p) == s.root
	}
	if p == s.root {
		return true
	}
	return isBelow(p, s.root) && (s.maxDepth < 0 || depthBelow(p, s.root) <= s.maxDepth) &&
		(s.sel == nil || s.selects(p))
}

func (s *cacheState) get(p string) (CachedNode, bool) {
	n := s.nodes[p]
	if n == nil {
		return CachedNode{}, false
	}
	return CachedNode{Path: p, Data: n.data, Stat: n.stat, DataErr: n.err}, true
}

// set stores the node at p as a read or an event gives it. The data is
// copied (or decompressed): what a read returns shares its array with the
// node's whole stored value (Stat, ACL), which the cache would otherwise
// keep alive.
func (s *cacheState) set(p string, raw []byte, stat zk.Stat) {
	data, err := s.decode(raw)
	if n := s.nodes[p]; n != nil {
		n.data, n.err, n.stat, n.base = data, err, stat, stat.Pzxid
		return
	}
	s.nodes[p] = &cnode{data: data, err: err, stat: stat, base: stat.Pzxid}
	if p == s.root || s.shape == shapeNode {
		return
	}
	parent := parentOf(p)
	k := s.kids[parent]
	if k == nil {
		k = map[string]struct{}{}
		s.kids[parent] = k
	}
	k[baseName(p)] = struct{}{}
}

// remove drops the node at p and, in a tree, what is cached below it
// (ZooKeeper deletes children first, but a child the session may not read
// sends no event). seen records each node before it goes.
func (s *cacheState) remove(p string, seen func(string)) {
	if s.nodes[p] == nil {
		return
	}
	for name := range s.kids[p] {
		child := joinPath(p, name)
		seen(child)
		s.remove(child, seen)
	}
	delete(s.kids, p)
	delete(s.nodes, p)
	if p == s.root || s.shape == shapeNode {
		return
	}
	parent := parentOf(p)
	if k := s.kids[parent]; k != nil {
		delete(k, baseName(p))
		if len(k) == 0 {
			delete(s.kids, parent)
		}
	}
}

// childCreated and childDeleted keep a cached parent's Stat in step with a
// child created or deleted at zxid z, as the tree reports it: a create or
// a delete adds one to Cversion, changes NumChildren by one and raises
// Pzxid to z. A parent whose Stat was read or received at or after z (its
// base is not below z) already counts the change, so it is skipped: that
// makes events applied over a fresher read harmless, while several changes
// of one transaction all count.
func (s *cacheState) childCreated(p string, z int64, seen func(string)) {
	s.childChanged(p, z, 1, seen)
}

func (s *cacheState) childDeleted(p string, z int64, seen func(string)) {
	s.childChanged(p, z, -1, seen)
}

func (s *cacheState) childChanged(p string, z int64, delta int32, seen func(string)) {
	if p == "/" {
		return
	}
	parent := parentOf(p)
	n := s.nodes[parent]
	if n == nil || n.base >= z {
		return
	}
	seen(parent)
	n.stat.Cversion++
	n.stat.NumChildren += delta
	n.stat.Pzxid = max(n.stat.Pzxid, z)
}

// apply applies one event of a watch set WithEventData; seen is called
// with each path before it changes.
func (s *cacheState) apply(ev zk.Event, seen func(string)) {
	switch ev.Type {
	case zk.EventNodeCreated, zk.EventNodeDataChanged:
		if ev.Node != nil && s.holds(ev.Path) {
			seen(ev.Path)
			s.set(ev.Path, ev.Node.Data, ev.Node.Stat)
		}
		if ev.Type == zk.EventNodeCreated {
			s.childCreated(ev.Path, ev.Zxid, seen)
		}
	case zk.EventNodeDeleted:
		if s.holds(ev.Path) {
			seen(ev.Path)
			s.remove(ev.Path, seen)
		}
		s.childDeleted(ev.Path, ev.Zxid, seen)
	case zk.EventNodeChildrenChanged:
		// A NodeCache's own watch: the node's Stat rides along.
		if ev.Node != nil && s.holds(ev.Path) {
			seen(ev.Path)
			s.set(ev.Path, ev.Node.Data, ev.Node.Stat)
		}
	}
	if ev.Zxid > s.zxid {
		s.zxid = ev.Zxid
	}
}

// changeLog records the nodes a batch touches, as they were before it, to
// tell listeners what changed between two states.
type changeLog struct {
	before map[string]*CachedNode // nil value: absent before
	order  []string
}

func (l *changeLog) reset() {
	clear(l.before)
	l.order = l.order[:0]
}

// seen returns the callback that records p's state in s before a change.
func (l *changeLog) seen(s *cacheState) func(string) {
	return func(p string) {
		if l.before == nil {
			l.before = map[string]*CachedNode{}
		}
		if _, ok := l.before[p]; ok {
			return
		}
		var old *CachedNode
		if n, ok := s.get(p); ok {
			old = &n
		}
		l.before[p] = old
		l.order = append(l.order, p)
	}
}

// events returns what changed for listeners, in the order nodes were first
// touched (see transition).
func (l *changeLog) events(s *cacheState) []CacheEvent {
	var out []CacheEvent
	for _, p := range l.order {
		out = transition(out, l.before[p], p, s)
	}
	return out
}

// transition appends what happened to the node at p, from old (nil:
// absent) to its state in s: a node present only after is created, only
// before deleted; present in both with a new Mzxid, changed (deleted then
// created if it is another node: its Czxid moved). Stat changes from
// children alone are not events.
func transition(out []CacheEvent, old *CachedNode, p string, s *cacheState) []CacheEvent {
	now, ok := s.get(p)
	switch {
	case old == nil && ok:
		out = append(out, CacheEvent{Type: CacheNodeCreated, Node: now, Zxid: s.zxid})
	case old != nil && !ok:
		out = append(out, CacheEvent{Type: CacheNodeDeleted, Node: *old, Zxid: s.zxid})
	case old == nil || !ok:
	case old.Stat.Czxid != now.Stat.Czxid:
		out = append(out, CacheEvent{Type: CacheNodeDeleted, Node: *old, Zxid: s.zxid},
			CacheEvent{Type: CacheNodeCreated, Node: now, Zxid: s.zxid})
	case old.Stat.Mzxid != now.Stat.Mzxid:
		out = append(out, CacheEvent{Type: CacheNodeChanged, Node: now, Old: *old, Zxid: s.zxid})
	}
	return out
}

// diffStates returns the events that take listeners from old (nil: empty)
// to s: the deletions deepest first, then the other events by path.
func diffStates(old, s *cacheState) []CacheEvent {
	paths := make([]string, 0, len(s.nodes))
	for p := range s.nodes {
		paths = append(paths, p)
	}
	if old != nil {
		for p := range old.nodes {
			if s.nodes[p] == nil {
				paths = append(paths, p)
			}
		}
	}
	slices.Sort(paths)
	out := make([]CacheEvent, 0, len(paths))
	for _, p := range paths {
		var was *CachedNode
		if old != nil {
			if n, ok := old.get(p); ok {
				was = &n
			}
		}
		out = transition(out, was, p, s)
	}
	// Deletions go first, deepest first (children before their parent, as
	// the live events and Curator's do), then the rest in path order
	// (parents first): a replaced node's old children go before it, its
	// new ones after.
	dels := slices.DeleteFunc(slices.Clone(out), func(ev CacheEvent) bool { return ev.Type != CacheNodeDeleted })
	rest := slices.DeleteFunc(out, func(ev CacheEvent) bool { return ev.Type == CacheNodeDeleted })
	slices.SortStableFunc(dels, func(a, b CacheEvent) int {
		return cmp.Compare(strings.Count(b.Node.Path, "/"), strings.Count(a.Node.Path, "/"))
	})
	return append(dels, rest...)
}
