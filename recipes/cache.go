package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/embedzk/zk"
)

// CacheSession is what a Cache reads through. *zk.Session and *Namespace
// implement it.
type CacheSession interface {
	AddWatch(ctx context.Context, path string, recursive bool, opts ...zk.WatchOption) (*zk.Watch, error)
	MultiRead(ctx context.Context, ops ...zk.ReadOp) ([]zk.ReadResult, error)
	Zxid(ctx context.Context) (int64, error)
	State() zk.SessionState
}

var (
	_ CacheSession = (*zk.Session)(nil)
	_ CacheSession = (*Namespace)(nil)
)

// ErrCacheClosed is what a Cache's calls return after Close. It also
// matches zk.ErrClosed.
var ErrCacheClosed error = &cacheClosedError{}

type cacheClosedError struct{}

func (*cacheClosedError) Error() string        { return "recipes: cache closed" }
func (*cacheClosedError) Is(target error) bool { return target == zk.ErrClosed }

// cacheShape is what a Cache holds.
type cacheShape uint8

const (
	shapeNode     cacheShape = iota + 1 // the node at the root
	shapeChildren                       // the root's children
	shapeTree                           // the root and everything below, to maxDepth
)

var shapeNames = [...]string{shapeNode: "NodeCache", shapeChildren: "PathChildrenCache", shapeTree: "TreeCache"}

// CachedNode is one node as a Cache holds it. Data is shared with the
// cache and its listeners: do not modify it.
//
// Stat is exact except Aversion, which changes with SetACL and no watch
// event tells of it: it is the Aversion of the node's last read or data
// change. Children-related fields (NumChildren, Cversion, Pzxid) follow the
// children's creates and deletes when the cache sees them (a tree, or the
// children of a PathChildrenCache), and are as of the node's last read or
// change otherwise.
type CachedNode struct {
	Path string
	Data []byte
	Stat zk.Stat
	// DataErr is set, and Data nil, when a cache made WithCompressedData
	// could not decompress the node's data: an error wrapping
	// ErrBadCompressedData. The node is held all the same.
	DataErr error
}

// CacheEventType is what a CacheEvent reports.
type CacheEventType uint8

// Cache event types (Curator's CuratorCacheListener types, and
// "initialized").
const (
	// CacheNodeCreated: the node is in the cache now (also for each node of
	// the initial load, before CacheInitialized).
	CacheNodeCreated CacheEventType = iota + 1
	// CacheNodeChanged: the node's data changed (Stat.Mzxid moved).
	CacheNodeChanged
	// CacheNodeDeleted: the node left the cache.
	CacheNodeDeleted
	// CacheInitialized: the initial load is complete (not from a
	// NodeCache, as Curator's NodeCache tells none); from a TreeCache
	// made WithConnectionEvents, also after CacheLost, once the cache has
	// caught up on its next session.
	CacheInitialized
)

var cacheEventNames = [...]string{CacheNodeCreated: "NodeCreated", CacheNodeChanged: "NodeChanged",
	CacheNodeDeleted: "NodeDeleted", CacheInitialized: "Initialized", CacheSuspended: "Suspended",
	CacheReconnected: "Reconnected", CacheLost: "Lost"}

func (t CacheEventType) String() string {
	if t >= CacheNodeCreated && t <= CacheLost {
		return cacheEventNames[t]
	}
	return fmt.Sprintf("CacheEventType(%d)", uint8(t))
}

// CacheEvent is one change of a Cache's content, given to its listeners.
type CacheEvent struct {
	Type CacheEventType
	// Node is the node after a create or a change, as it was before a
	// delete; zero for CacheInitialized and the connection events.
	Node CachedNode
	// Old is the node before a change (CacheNodeChanged only).
	Old CachedNode
	// Zxid is the zxid of the tree state the cache holds while the
	// listener runs: its content is exactly the watched part of the tree as
	// it was at that zxid.
	Zxid int64
}

// CacheOption configures a Cache.
type CacheOption func(*cacheConfig)

type cacheConfig struct {
	reconnect  func(ctx context.Context) (CacheSession, error)
	maxDepth   int // tree: -1 = unlimited
	selector   CacheSelector
	gunzip     bool // WithCompressedData
	connEvents bool // WithConnectionEvents
	buffer     int
	err        error
}

// DefaultCacheBuffer is how many watch events a Cache lets pile up while it
// loads or runs its listeners: they cost memory (their nodes' data) only
// while they wait. Past it the cache resumes from its zxid, and loads again
// if even the log's replay would not fit.
const DefaultCacheBuffer = 1 << 16

// WithReconnect gives the cache a session to go on with when its own ends
// (it expired, was closed, or its peer stopped): next is called until it
// returns one, and the cache resumes from the zxid it holds, without a
// reload. Without it, the cache ends (Done, Err) with its session.
func WithReconnect(next func(ctx context.Context) (CacheSession, error)) CacheOption {
	return func(c *cacheConfig) {
		if next == nil {
			c.fail(fmt.Errorf("%w: WithReconnect(nil)", zk.ErrBadArguments))
		}
		c.reconnect = next
	}
}

// WithMaxDepth limits a TreeCache to the nodes at most depth levels below
// its root (0: the root only), as Curator's TreeCache.setMaxDepth.
func WithMaxDepth(depth int) CacheOption {
	return func(c *cacheConfig) {
		if depth < 0 {
			c.fail(fmt.Errorf("%w: WithMaxDepth(%d)", zk.ErrBadArguments, depth))
		}
		c.maxDepth = depth
	}
}

// WithCacheBuffer sets how many watch events may wait for the cache
// (default DefaultCacheBuffer); a cache that falls further behind resumes
// from the zxid it holds, or reloads.
func WithCacheBuffer(n int) CacheOption {
	return func(c *cacheConfig) {
		if n < 1 {
			c.fail(fmt.Errorf("%w: WithCacheBuffer(%d)", zk.ErrBadArguments, n))
		}
		c.buffer = n
	}
}

func (c *cacheConfig) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Cache is a local copy of part of the tree that stays in step with it,
// Apache Curator's caches in one type: NewNodeCache holds one node,
// NewPathChildrenCache the children of a node, NewTreeCache a node and
// everything below it.
//
// The copy is always a state the tree really had: Zxid says at which zxid,
// it never goes back, and once writes stop it reaches the tree's current
// state. It is built from one persistent recursive watch whose events
// carry the nodes' data (zk.WithEventData), applied a transaction at a time
// (zk.Watch.NextBatch), so no read races a change. When the watch ends
// (the session expired, the peer lost its leader or installed a snapshot,
// the cache fell too far behind), the cache resumes from its zxid
// (zk.FromZxid) on its session or the next one WithReconnect gives:
// listeners see every change in between, none twice. Only if the log no
// longer holds those changes does it load the nodes again, and then
// reports the difference.
//
// The session must be able to read the nodes it caches: a node it may not
// read is not cached (ZooKeeper filters watch events by ACL the same way).
//
// Listeners run one at a time on the cache's goroutine, in zxid order;
// while one runs, the cache holds the state at its event's Zxid. A slow
// listener delays the cache, not the ensemble (events wait in the watch's
// buffer). Methods are safe for concurrent use.
type Cache struct {
	shape cacheShape
	root  string
	cfg   cacheConfig

	mu  sync.RWMutex
	st  *cacheState // nil until loaded
	err error       // why the cache ended

	lmu       sync.Mutex
	listeners []*cacheListener

	startMu sync.Mutex
	started bool
	sess    CacheSession // the run goroutine's once started
	away    bool         // the run goroutine's: CacheSuspended or CacheLost told, CacheReconnected owed
	// initOwed is the run goroutine's: CacheLost told, CacheInitialized
	// owed once the cache has caught up.
	initOwed bool
	// statesCh and statesStop are the run goroutine's: sess's states,
	// with WithConnectionEvents, once taken, and the function that gives
	// them back (cache_conn.go).
	statesCh   <-chan zk.SessionState
	statesStop func()
	polled     context.Context // done: the watch's queue is drained with it (queuedBatch)
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{}

	testBatch func() // tests: called after each change of content
}

type cacheListener struct{ fn func(CacheEvent) }

// NewNodeCache returns a cache of the node at path (Curator's NodeCache):
// present or not, its data and Stat. As Curator's, it tells only the
// node's changes: no CacheInitialized, and WithConnectionEvents is
// refused.
func NewNodeCache(s CacheSession, path string, opts ...CacheOption) (*Cache, error) {
	return newCache(shapeNode, s, path, opts)
}

// NewPathChildrenCache returns a cache of the children of the node at path
// (Curator's PathChildrenCache): each child's data and Stat, not the node
// itself nor anything deeper.
func NewPathChildrenCache(s CacheSession, path string, opts ...CacheOption) (*Cache, error) {
	return newCache(shapeChildren, s, path, opts)
}

// NewTreeCache returns a cache of the node at path and every node below it
// (Curator's TreeCache), to WithMaxDepth levels.
func NewTreeCache(s CacheSession, path string, opts ...CacheOption) (*Cache, error) {
	return newCache(shapeTree, s, path, opts)
}

func newCache(shape cacheShape, s CacheSession, path string, opts []CacheOption) (*Cache, error) {
	name := shapeNames[shape]
	if s == nil {
		return nil, fmt.Errorf("recipes: %s: %w: nil session", name, zk.ErrBadArguments)
	}
	if err := checkAbsolute(path); err != nil {
		return nil, fmt.Errorf("recipes: %s: %w", name, err)
	}
	cfg := cacheConfig{maxDepth: -1, buffer: DefaultCacheBuffer}
	for _, o := range opts {
		if o == nil {
			cfg.fail(fmt.Errorf("%w: nil CacheOption", zk.ErrBadArguments))
			continue
		}
		o(&cfg)
	}
	if cfg.err == nil && cfg.maxDepth >= 0 && shape != shapeTree {
		cfg.fail(fmt.Errorf("%w: WithMaxDepth applies to a TreeCache", zk.ErrBadArguments))
	}
	if cfg.err == nil && cfg.connEvents && shape == shapeNode {
		cfg.fail(fmt.Errorf("%w: WithConnectionEvents applies to a TreeCache or a PathChildrenCache (Curator's NodeCache tells none; a TreeCache WithMaxDepth(0) holds the same node)", zk.ErrBadArguments))
	}
	if cfg.err == nil && cfg.selector != nil && shape != shapeTree {
		cfg.fail(fmt.Errorf("%w: WithSelector applies to a TreeCache", zk.ErrBadArguments))
	}
	if cfg.err == nil {
		cfg.err = cfg.checkStates(s)
	}
	if cfg.err != nil {
		return nil, fmt.Errorf("recipes: %s %s: %w", name, path, cfg.err)
	}
	return &Cache{shape: shape, root: path, cfg: cfg, sess: s, done: make(chan struct{}), polled: doneContext()}, nil
}

// checkAbsolute rejects what is certainly not a znode path; the session
// checks the rest.
func checkAbsolute(path string) error {
	if path == "" || path[0] != '/' || (len(path) > 1 && strings.HasSuffix(path, "/")) {
		return fmt.Errorf("%w: %q", zk.ErrInvalidPath, path)
	}
	return nil
}

// Start loads the cache and keeps it in step until Close: it returns once
// the initial load is complete (listeners already added have seen a
// CacheNodeCreated per node, then, but from a NodeCache, CacheInitialized:
// Curator's PathChildrenCache StartMode.POST_INITIALIZED_EVENT; add them
// after Start for BUILD_INITIAL_CACHE's silence), or with the error
// that prevented it (ctx bounds the wait). A cache starts once.
func (c *Cache) Start(ctx context.Context) error {
	c.startMu.Lock()
	defer c.startMu.Unlock()
	if c.started {
		return fmt.Errorf("recipes: %s %s: %w: already started", shapeNames[c.shape], c.root, zk.ErrBadArguments)
	}
	select {
	case <-c.done:
		return ErrCacheClosed
	default:
	}
	w, st, err := c.load(ctx, c.sess, 0)
	if err != nil {
		return fmt.Errorf("recipes: %s %s: %w", shapeNames[c.shape], c.root, err)
	}
	c.started = true
	c.publishLoad(st, nil)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run(w)
	return nil
}

// Close stops the cache: its watch is removed and its goroutine gone when
// Close returns. It keeps its last content. Closing twice is harmless.
func (c *Cache) Close() error {
	c.startMu.Lock()
	defer c.startMu.Unlock()
	if !c.started {
		select {
		case <-c.done:
		default:
			c.endWith(ErrCacheClosed)
			close(c.done)
		}
		return nil
	}
	c.cancel()
	<-c.done
	return nil
}

// Done is closed when the cache stops: Close, or a session end it could not
// recover from (Err says why).
func (c *Cache) Done() <-chan struct{} { return c.done }

// Err returns why the cache stopped: ErrCacheClosed after Close, the
// session's end (zk.ErrSessionExpired, zk.ErrClosed) without WithReconnect,
// or nil while it runs.
func (c *Cache) Err() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.err
}

func (c *Cache) endWith(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// Listen adds a listener; the returned func removes it (after it returns,
// the listener is not called again, unless it is running now).
func (c *Cache) Listen(fn func(CacheEvent)) (remove func()) {
	if fn == nil {
		return func() {}
	}
	l := &cacheListener{fn: fn}
	c.lmu.Lock()
	c.listeners = append(slices.Clone(c.listeners), l)
	c.lmu.Unlock()
	return func() {
		c.lmu.Lock()
		defer c.lmu.Unlock()
		c.listeners = slices.DeleteFunc(slices.Clone(c.listeners), func(x *cacheListener) bool { return x == l })
	}
}

// tell calls the listeners with evs, in order.
func (c *Cache) tell(evs []CacheEvent) {
	defer c.changed()
	if len(evs) == 0 {
		return
	}
	c.lmu.Lock()
	ls := c.listeners
	c.lmu.Unlock()
	for _, ev := range evs {
		for _, l := range ls {
			l.fn(ev)
		}
	}
}

// changed runs the test hook after a change of content.
func (c *Cache) changed() {
	if c.testBatch != nil {
		c.testBatch()
	}
}

// Zxid returns the zxid of the tree state the cache holds (0 before Start).
func (c *Cache) Zxid() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return 0
	}
	return c.st.zxid
}

// Get returns the cached node at path. For a NodeCache, path is its root;
// for a PathChildrenCache, one of the children (a full path).
func (c *Cache) Get(path string) (CachedNode, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return CachedNode{}, false
	}
	return c.st.get(path)
}

// Children returns the names of the cached children of path, sorted.
func (c *Cache) Children(path string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return nil
	}
	names := make([]string, 0, len(c.st.kids[path]))
	for name := range c.st.kids[path] {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Nodes returns every cached node, sorted by path, and the zxid of the
// state they are from, taken together.
func (c *Cache) Nodes() ([]CachedNode, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return nil, 0
	}
	out := make([]CachedNode, 0, len(c.st.nodes))
	for p := range c.st.nodes {
		n, _ := c.st.get(p)
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b CachedNode) int { return strings.Compare(a.Path, b.Path) })
	return out, c.st.zxid
}

// Len returns the number of cached nodes.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return 0
	}
	return len(c.st.nodes)
}

// sessionEnded reports whether err means the session is gone for good.
func sessionEnded(err error) bool {
	return errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrClosed)
}
