package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// journalBytes bounds the memory of a peer's journal (a test may set
// another bound, hooks.Hooks.JournalSize).
const journalBytes = 32 << 20

// journal keeps, in memory, the changes of the transactions this peer
// applied most recently, each with the state its transaction left the
// changed nodes (and their parents) in: a watch resuming after a zxid the
// journal still covers replays from it, under the apply lock, in time
// proportional to what it missed, instead of rebuilding the tree from a
// snapshot and the log (replay). It is what a cache resuming after a
// session expiry or a leader change usually needs.
//
// The journal starts with the first strict watch (FromZxid or
// WithEventData) of the peer, so that a peer without one pays nothing;
// from then on the apply loop records every transaction (a read of each
// changed node: the cost of a data watch's event). It covers (first, last]:
// every transaction applied in that range is in it (those that changed
// nothing take no room). It forgets the oldest transactions beyond
// journalBytes, and everything when the tree jumps to a snapshot.
type journal struct {
	mu    sync.Mutex
	on    bool
	ents  []jEntry // oldest first, from head
	head  int
	bytes int
	first int64
	last  int64
	hits  int  // resumes served, for tests
	skip  bool // tests: serve no resume, so that they use the log
	limit int  // journalBytes, or the tests' bound
}

// jEntry is one transaction's changes and the nodes as it left them
// (a path mapped to nil: no node).
type jEntry struct {
	zxid    int64
	changes []znode.Change
	nodes   map[string]*watch.NodeState
	size    int
}

// Get makes a jEntry the tree a dataSink reads.
func (e *jEntry) Get(path string) (znode.Node, error) {
	if n := e.nodes[path]; n != nil {
		return znode.Node{Data: n.Data, Stat: n.Stat}, nil
	}
	return znode.Node{}, fmt.Errorf("%w: %s", zkerr.ErrNoNode, path)
}

// start turns the journal on at zxid applied (the tree's; the caller holds
// the apply lock's read side, so no transaction is being applied).
func (j *journal) start(applied int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.on {
		j.on, j.first, j.last = true, applied, applied
	}
}

// covers reports whether the journal holds every transaction after from;
// a hint for AddWatch, which checks again under the apply lock.
func (j *journal) covers(from int64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.on && !j.skip && from >= j.first
}

// reset forgets everything: the tree jumped to zxid.
func (j *journal) reset(zxid int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.ents)
	j.ents, j.head, j.bytes = nil, 0, 0
	j.first, j.last = zxid, zxid
}

// add records the transaction zxid just applied to tree with changes; the
// caller holds the apply lock. If the tree cannot be read (it is failing),
// the journal turns off: resumes use the log.
func (j *journal) add(zxid int64, changes []znode.Change, tree nodeReader) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.on {
		return
	}
	j.last = zxid
	if len(changes) == 0 {
		return
	}
	if err := j.record(zxid, changes, tree); err != nil {
		j.on = false
		clear(j.ents)
		j.ents, j.head, j.bytes = nil, 0, 0
	}
}

// record adds one entry; j.mu is held.
func (j *journal) record(zxid int64, changes []znode.Change, tree nodeReader) error {
	e := jEntry{zxid: zxid, changes: changes, nodes: map[string]*watch.NodeState{}}
	for i := range changes {
		c := &changes[i]
		e.size += 96 + len(c.Path)
		for _, p := range [2]string{c.Path, parentPath(c.Path)} {
			if _, ok := e.nodes[p]; ok || p == "" {
				continue
			}
			n, err := tree.Get(p)
			switch {
			case errors.Is(err, zkerr.ErrNoNode):
				e.nodes[p] = nil
			case err != nil:
				return fmt.Errorf("zk: journal of %#x: %w", zxid, err)
			default:
				e.nodes[p] = &watch.NodeState{Data: n.Data, Stat: n.Stat}
				e.size += 128 + len(p) + len(n.Data)
			}
		}
	}
	j.ents = append(j.ents, e)
	j.bytes += e.size
	j.trim()
	return nil
}

// trim drops the oldest entries beyond its limit; j.mu is held.
func (j *journal) trim() {
	for j.bytes > j.limit && j.head < len(j.ents) {
		old := &j.ents[j.head]
		j.bytes -= old.size
		j.first = old.zxid
		*old = jEntry{}
		j.head++
	}
	if j.head > len(j.ents)/2 { // give the front back
		j.ents = append([]jEntry(nil), j.ents[j.head:]...)
		j.head = 0
	}
}

// replay queues in q the events a registration (session, path, kind) would
// have had for every transaction after from up to applied, and reports
// false if the journal does not cover them. The caller holds the apply
// lock's read side: nothing is applied meanwhile.
func (j *journal) replay(from, applied int64, q *watch.Queue, reg func(watch.Sink) (*watch.Manager, error), data bool, may watch.MayRead, limit int) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.on || j.skip || from < j.first || j.last != applied {
		return false, nil
	}
	col := &collector{limit: limit}
	ds := &dataSink{inner: col}
	var sink watch.Sink = col
	if data {
		sink = ds
	}
	mgr, err := reg(sink)
	if err != nil {
		return false, err
	}
	for i := j.head; i < len(j.ents); i++ {
		e := &j.ents[i]
		if e.zxid <= from {
			continue
		}
		ds.tree = e
		mgr.Trigger(e.changes, may)
		if col.over {
			return false, fmt.Errorf("zk: replay after zxid %#x: more than %d events: %w", from, limit, zkerr.ErrWatchOverflow)
		}
	}
	for _, ev := range col.evs {
		q.Deliver(ev) // fits: col holds at most limit events, q's limit
	}
	j.hits++
	return true, nil
}

// parentPath returns the parent of p ("" for the root).
func parentPath(p string) string {
	if p == "/" {
		return ""
	}
	return znode.Parent(p)
}
