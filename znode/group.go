package znode

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Group applies consecutive txns and commits them to Pebble together: one
// batch (and one commit) for a commit group instead of one per txn. Each
// txn runs exactly as Apply runs it, on the tree plus the effects of the
// group's earlier txns, and its Result, Changes and the digest after it are
// known at once; nothing is visible to the tree's readers (and Applied does
// not move) until Commit. A Group is used by the one goroutine that
// applies, and no other Apply or Group may run on the tree until it is
// committed or dropped. A storage failure fails the tree (fail-stop): the
// group's txns are then lost from the tree, and the log replays them after
// a restart, as for any txn applied but not flushed.
type Group struct {
	t      *Tree
	writes map[string]write // the latest write of each key the group wrote
	cur    meta             // the tree's meta after the group's last txn
	n      int              // txns applied
	v      *view            // each txn's view, reset for the next one
	err    error            // the failure that ended the group
}

// Group starts a group on t.
func (t *Tree) Group() *Group {
	return &Group{t: t, writes: map[string]write{}, cur: *t.applied.Load()}
}

// get reads through the group's writes, then the tree.
func (g *Group) get(key []byte) ([]byte, bool, error) {
	if w, ok := g.writes[string(key)]; ok {
		return w.val, !w.del, nil
	}
	return treeReader{g.t}.get(key)
}

func (g *Group) scan(prefix []byte, fn func(key, val []byte) bool) error {
	return mergeScan(pebbleReader{g.t.db}, prefix, overlayKeys(g.writes, prefix), func(k string) write { return g.writes[k] }, fn)
}

// Apply applies txn at zxid in the group, as Tree.Apply does, and returns
// also the tree digest after it.
func (g *Group) Apply(zxid int64, txn *Txn) (Result, []Change, uint64, error) {
	if err := g.ready(zxid); err != nil {
		return Result{}, nil, 0, err
	}
	if txn == nil {
		return Result{}, nil, 0, errors.New("znode: nil txn")
	}
	if g.v == nil {
		g.v = newView(g)
	} else {
		g.v.reset()
	}
	st := &state{v: g.v, zxid: zxid, maxData: g.t.opts.MaxDataSize, wantChanges: true}
	res, err := st.exec(txn)
	if err != nil {
		g.err = g.t.fail(fmt.Errorf("znode: apply 0x%x: %w", zxid, err))
		return Result{}, nil, 0, g.err
	}
	var changes []Change
	if res.Err == nil {
		changes = st.changes
		g.add(st.v.writes, st.v.digest, st.v.nodes, st.v.sizes, st.quota.notes)
	}
	return res, changes, g.advance(zxid), nil
}

// ErrNotKept is ApplyKept's answer for a Kept txn that was not staged on
// the state the group is at: the caller applies the txn with Apply.
var ErrNotKept = errors.New("znode: kept txn staged on another state")

// ApplyKept applies a txn that a Pending over this tree staged and kept
// at zxid, without running it again: its Result, Changes and writes are
// the staged ones. That is Apply's outcome exactly when the group is at
// the state the txn was staged on, which ApplyKept checks (that state's
// zxid, and its tree digest, which covers every node and session);
// otherwise it returns ErrNotKept and changes nothing.
func (g *Group) ApplyKept(zxid int64, k *Kept) (Result, []Change, uint64, error) {
	if err := g.ready(zxid); err != nil {
		return Result{}, nil, 0, err
	}
	if k == nil || k.zxid != zxid || k.base != g.cur.zxid || k.before != g.cur.digest {
		return Result{}, nil, 0, ErrNotKept
	}
	g.add(k.writes, k.digest-k.before, k.nodes, k.sizes, k.notes)
	return k.res, k.changes, g.advance(zxid), nil
}

// ready refuses a txn at zxid if the group or the tree failed, or if zxid
// does not follow the last one applied.
func (g *Group) ready(zxid int64) error {
	t := g.t
	if err := t.health.flushErr(); err != nil {
		// Pebble cannot flush (and retries): refuse writes that would only
		// pile up in memory.
		t.fail(fmt.Errorf("znode: flush: %w", err))
	}
	switch p := t.failed.Load(); {
	case g.err != nil:
		return g.err
	case p != nil:
		return fmt.Errorf("%w: %w", ErrFailed, *p)
	case zxid <= g.cur.zxid:
		return fmt.Errorf("%w: zxid 0x%x, applied 0x%x", ErrZxidOrder, zxid, g.cur.zxid)
	}
	return nil
}

// add records a successful txn's writes and its effect on the meta.
func (g *Group) add(writes map[string]write, digest uint64, nodes int64, sizes treeSizes, notes []quotaNote) {
	for k, w := range writes {
		g.writes[k] = w
	}
	g.cur.digest += digest
	g.cur.nodes += nodes
	g.cur.sizes = g.cur.sizes.plus(sizes)
	g.t.quota.note(notes, false, g.t.log)
}

// advance ends a txn at zxid (applied, or failed with a ZooKeeper error)
// and returns the tree digest after it.
func (g *Group) advance(zxid int64) uint64 {
	g.cur.zxid = zxid
	g.n++
	g.t.applying.store(zxid, g.cur.digest)
	return g.cur.digest
}

// Get returns the node at path as the group's txns so far left it: what
// Tree.Get will return once the group commits. For the goroutine applying
// the group, between its Apply calls (a watch event's node, a journal's).
func (g *Group) Get(path string) (Node, error) {
	if err := ValidatePath(path); err != nil {
		return Node{}, err
	}
	n, err := lookupNode(g, path, true)
	if err == nil {
		n.Data = bytes.Clone(n.Data) // keeps null (nil) apart from empty
	}
	return n, err
}

// Applying returns the zxid and digest after the last txn applied,
// counting a group's txns before it commits: what a test inspecting a peer
// between a txn's apply and its group's commit must see. Safe for
// concurrent use.
func (t *Tree) Applying() (zxid int64, digest uint64) {
	if zxid, digest, ok := t.applying.load(); ok {
		return zxid, digest
	}
	return t.Applied()
}

// applyingAt is the zxid and digest after a group's last txn until the
// group commits. A mutex rather than an atomic pointer: storing a pointer
// would allocate a meta per txn, for readers that are only tests.
type applyingAt struct {
	mu     sync.Mutex
	ok     bool // false outside a group
	zxid   int64
	digest uint64
}

func (a *applyingAt) store(zxid int64, digest uint64) {
	a.mu.Lock()
	a.ok, a.zxid, a.digest = true, zxid, digest
	a.mu.Unlock()
}

func (a *applyingAt) clear() {
	a.mu.Lock()
	a.ok = false
	a.mu.Unlock()
}

func (a *applyingAt) load() (zxid int64, digest uint64, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.zxid, a.digest, a.ok
}

// Applied returns the zxid and digest after the group's last txn.
func (g *Group) Applied() (zxid int64, digest uint64) { return g.cur.zxid, g.cur.digest }

// Commit writes the group's effects and the applied zxid in one Pebble
// batch and makes them visible. Committing an empty group does nothing.
func (g *Group) Commit() error {
	if g.err != nil {
		return g.err
	}
	if g.n == 0 {
		return nil
	}
	t := g.t
	b := t.db.NewBatch()
	defer b.Close()
	for k, w := range g.writes {
		var err error
		if w.del {
			err = b.Delete([]byte(k), nil)
		} else {
			err = b.Set([]byte(k), w.val, nil)
		}
		if err != nil {
			g.err = t.fail(err)
			return g.err
		}
	}
	if err := b.Set(metaKey, encodeMeta(g.cur), nil); err != nil {
		g.err = t.fail(err)
		return g.err
	}
	if err := t.beforeCommit(t.applied.Load().zxid, g.n, b.Len()); err != nil {
		g.err = err
		return g.err
	}
	// The filter learns the new keys before any reader can find them.
	stale := t.addToFilters(g.writes)
	t.visible.Add(1) // odd: readers leave the cache until it has the batch
	defer t.visible.Add(1)
	if err := b.Commit(pebble.NoSync); err != nil {
		g.err = t.fail(fmt.Errorf("znode: commit 0x%x: %w", g.cur.zxid, err))
		return g.err
	}
	if stale {
		t.startFilterBuild()
	}
	if t.madeVisible != nil {
		t.madeVisible()
	}
	t.cache.writeThrough(g.writes)
	t.noteQuotaTop(g.writes)
	next := g.cur
	t.applied.Store(&next)
	t.applying.clear()
	g.n = 0
	clear(g.writes)
	return nil
}
