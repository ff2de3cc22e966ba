package recipes

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedzk/zk"
)

// loadChunk is how many nodes one MultiRead of a load reads: the peer
// serves each MultiRead under its apply lock, so a load of any size holds
// up the ensemble's writes for one chunk at a time only.
const loadChunk = 256

// errBehind: the session's peer is behind the state the cache already
// holds (a reconnect to a lagging peer); the load is retried.
var errBehind = errors.New("recipes: the peer is behind the cache")

// load sets the cache's watch, then reads the nodes, then applies the
// events the watch queued meanwhile, and returns the watch and a state
// equal to the tree at its zxid, not older than min.
//
// The reads are many (loadChunk nodes each) and see different states, all
// at or after the watch was set; every change after that point has an
// event, which carries the node as its transaction left it. Session.Zxid,
// called after the reads, returns a zxid Z not older than any of them, and
// by then every event up to Z is queued. Applying, in order, every event
// queued gives each node its state as of the last change to it up to Z (or
// later), and a node no event touched kept its state since the watch was
// set: the result is the tree at Z, or at the last event applied if newer.
// A parent's children counters only take events newer than its own Stat
// (childCreated), so no change is counted twice.
func (c *Cache) load(ctx context.Context, sess CacheSession, min int64) (*zk.Watch, *cacheState, error) {
	w, err := sess.AddWatch(ctx, c.root, c.shape != shapeNode, zk.WithEventData(), zk.WithWatchBuffer(c.cfg.buffer))
	if err != nil {
		return nil, nil, err
	}
	st, err := c.loadWith(ctx, sess, w, min)
	if err != nil {
		w.Remove()
		return nil, nil, err
	}
	return w, st, nil
}

func (c *Cache) loadWith(ctx context.Context, sess CacheSession, w *zk.Watch, min int64) (*cacheState, error) {
	st := c.newState()
	if err := c.readAll(ctx, sess, st); err != nil {
		return nil, err
	}
	z, err := sess.Zxid(ctx)
	if err != nil {
		return nil, err
	}
	if z < min {
		return nil, fmt.Errorf("%w: at %#x, the cache at %#x", errBehind, z, min)
	}
	st.zxid = z
	for {
		b, err := queuedBatch(c.polled, w)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return st, nil
		}
		for _, ev := range b {
			st.apply(ev, noSeen)
		}
	}
}

func noSeen(string) {}

// doneContext returns a context already done: NextBatch with it returns
// a batch only if one is queued. A cache makes one (Cache.polled) and
// drains with it at every wake-up.
func doneContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// queuedBatch returns the next batch already queued in w, or nil if none
// is; an error if the watch ended. done is a context already done
// (doneContext).
func queuedBatch(done context.Context, w *zk.Watch) ([]zk.Event, error) {
	b, err := w.NextBatch(done)
	switch {
	case errors.Is(err, context.Canceled):
		return nil, nil
	case err != nil:
		return nil, err
	case b[0].Zxid == 0:
		return nil, fmt.Errorf("recipes: the cache's watch ended: %w", watchEndErr(b[0]))
	}
	return b, nil
}

// watchEndErr is why a watch ended, from its last event.
func watchEndErr(ev zk.Event) error {
	if ev.Err != nil {
		return ev.Err
	}
	return zk.ErrNoWatcher // removed
}

// readAll reads, level by level, the nodes the cache holds into st.
func (c *Cache) readAll(ctx context.Context, sess CacheSession, st *cacheState) error {
	level := []string{c.root}
	for d := 0; len(level) > 0; d++ {
		wantData := c.shape != shapeChildren || d == 1
		var next []string
		for i := 0; i < len(level); i += loadChunk {
			chunk := level[i:min(len(level), i+loadChunk)]
			kids, err := readChunk(ctx, sess, st, chunk, wantData)
			if err != nil {
				return err
			}
			next = append(next, kids...)
		}
		level = next
	}
	return nil
}

// readChunk reads the nodes of chunk and returns the paths of the children
// the cache holds of those it traverses: one MultiRead for the data, then
// one for the children of those whose Stat says they have some (listing a
// leaf costs more than reading it). A node that is gone or that the
// session may not read is skipped. The two reads may see different states:
// a child made in between is either listed or has an event, which is all a
// load needs.
func readChunk(ctx context.Context, sess CacheSession, st *cacheState, chunk []string, wantData bool) ([]string, error) {
	parents := chunk
	if wantData {
		ops := make([]zk.ReadOp, len(chunk))
		for i, p := range chunk {
			ops[i] = zk.GetDataOp(p)
		}
		res, err := sess.MultiRead(ctx, ops...)
		if err != nil {
			return nil, err
		}
		parents = nil
		for i, r := range res {
			switch {
			case r.Err == nil:
				st.set(chunk[i], r.Data, r.Stat)
				if r.Stat.NumChildren > 0 {
					parents = append(parents, chunk[i])
				}
			case !skippable(r.Err):
				return nil, fmt.Errorf("reading %s: %w", chunk[i], r.Err)
			}
		}
	}
	ops := make([]zk.ReadOp, 0, len(parents))
	var listed []string
	for _, p := range parents {
		if st.traverses(p) {
			ops = append(ops, zk.GetChildrenOp(p))
			listed = append(listed, p)
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	res, err := sess.MultiRead(ctx, ops...)
	if err != nil {
		return nil, err
	}
	var kids []string
	for i, r := range res {
		if r.Err != nil && !skippable(r.Err) {
			return nil, fmt.Errorf("listing %s: %w", listed[i], r.Err)
		}
		for _, name := range r.Children {
			if child := joinPath(listed[i], name); st.accepts(child) {
				kids = append(kids, child)
			}
		}
	}
	return kids, nil
}

func skippable(err error) bool { return errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrNoAuth) }

// publishLoad makes st the cache's content and tells listeners what
// changed since old (nil for the first load: a create per node, then
// CacheInitialized, except from a NodeCache, as Curator's tells none).
func (c *Cache) publishLoad(st, old *cacheState) {
	var evs []CacheEvent
	c.lmu.Lock()
	listening := len(c.listeners) > 0
	c.lmu.Unlock()
	if listening {
		evs = diffStates(old, st)
		if old == nil && c.shape != shapeNode {
			evs = append(evs, CacheEvent{Type: CacheInitialized, Zxid: st.zxid})
		}
	}
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
	c.tell(evs)
}
